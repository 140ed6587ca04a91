"""`method="fd"` with unknown constants in a steady system: fitted through the solver by
implicit differentiation.

At every trial value theta the discrete equations R(U, theta) = 0 are solved as in a
forward solve (`runtime.algebra.newton`, warm-started from the last solution), and the data
misfit is taken at that exact discrete solution. Its sensitivity follows from the
implicit function theorem, dU/dtheta = -(dR/dU)^-1 dR/dtheta: one sparse LU of the
stencil Jacobian (the one a Newton step factorises) and one jvp per unknown constant. The
misfit and Levenberg-Marquardt are those of time-dependent fits (`runtime.fd.fit`).
Unknown coefficient fields of steady systems are left to odil, whose sparse least squares
treat every grid value as an unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sps
import scipy.sparse.linalg as spla

from compiler.common.observations import FieldObservations
from compiler.errors import LoweringError
from compiler.fd import FDProgram

from ..algebra.least_squares import LeastSquaresResult, levenberg_marquardt
from ..algebra.newton import solve_steady
from ..algebra.sparse_jacobian import make_sparse_jacobian
from ..algebra.steady_program import program_sparsity
from ..errors import SolveError
from .observed import ScaledData, Unknowns

LM_TOL = 1e-12


class SteadyFit:
    """The scaled misfit of a steady program's solution as a function of the unknowns."""

    def __init__(self, program: FDProgram, observations: tuple[FieldObservations, ...],
                 tol: float, max_iter: int, misfit: str = "scaled") -> None:
        system = program.system
        fields = [p.name for p in system.unknown_params if p.is_field]
        if fields:
            raise LoweringError(f"the fd method fits unknown constants of steady systems; "
                                f"for the unknown coefficient field `{fields[0]}` use "
                                "--method odil", system.param(fields[0]).span)
        self.program = program
        self.tol, self.max_iter = tol, max_iter
        self.unknowns = Unknowns.of(program)
        self.data = ScaledData.on(observations, program.output_coordinates(), program, misfit)
        self.sparsity = program_sparsity(program)
        self.U = program.initial(self.params(self.unknowns.theta0))
        self.jacobian = make_sparse_jacobian(program.residual, self.U, self.sparsity)
        self.solved: dict = {}
        ravel = self.jacobian.ravel
        self._residual_by_theta = jax.jit(jax.jacfwd(
            lambda th, U: ravel(program.residual(U, self.params(th)))))

    def params(self, theta) -> dict:
        """The prepared parameters at `theta`."""
        return self.program.prepare(self.unknowns.params(theta))

    def sampled(self, U: dict) -> jax.Array:
        """The observed fields at the observation points, weighted like the data."""
        return self.data.sampled({o.field: self.program.to_output(o.field, U[o.field])
                                  for o in self.data.observations})

    def evaluate(self, theta: np.ndarray) -> np.ndarray:
        """The scaled misfit at the discrete solution for `theta` (NaN where the solver
        fails, so that Levenberg-Marquardt rejects the trial)."""
        params = self.params(theta)
        try:
            result = solve_steady(self.program.residual, self.U, params, self.sparsity,
                                  linear=self.program.linear, tol=self.tol,
                                  max_iter=self.max_iter)
        except SolveError:
            return np.full(len(self.data.values), np.nan)
        self.solved = {"theta": theta, "U": result.U}
        return np.asarray(self.sampled(result.U), np.float64) - self.data.values

    def linearize(self, theta: np.ndarray) -> tuple[np.ndarray, sps.csr_matrix]:
        """The misfit and its Jacobian dmisfit/dU dU/dtheta, dU/dtheta by the implicit
        function theorem at the solution for `theta`."""
        r = self.evaluate(theta) if self.solved.get("theta") is not theta else None
        U = self.solved["U"]
        self.U = U                                   # the next solve starts here
        params = self.params(theta)
        jac = self.jacobian
        _, A = jac.linearize(jac.ravel(U), params)
        by_theta = self._residual_by_theta(jnp.asarray(theta), U)
        dU = -spla.splu(A.tocsc()).solve(np.asarray(by_theta, np.float64))
        J = jax.vmap(lambda column: self.sampled(jac.unravel(column)), in_axes=1,
                     out_axes=1)(jnp.asarray(dU))
        if r is None:
            r = np.asarray(self.sampled(U), np.float64) - self.data.values
        return r, sps.csr_matrix(np.asarray(J, np.float64))

    def fit(self, max_steps: int, observers: Sequence[Callable]) -> LeastSquaresResult:
        return levenberg_marquardt(self.evaluate, self.linearize, self.unknowns.theta0,
                                   max_steps=max_steps, tol=LM_TOL, observers=observers)
