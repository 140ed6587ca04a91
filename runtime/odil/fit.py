"""ODIL for inverse problems: the discrete residual and the data misfit as one loss.

The unknowns are every field on the whole grid (space-time for evolution problems) and the
unknown parameters (constants; coefficient fields on the grid of their arguments). With
N residual entries, M observations and K difference rows per regularised field axis,

    loss = mean(R(U, theta)^2) + data_weight * mean((S U - d)^2)
           + regularization * sum over fields and axes of mean((d_a c)^2),

means rather than sums so that the balance of the terms does not move with the grid.
A bounded constant (`param D ~ 0.3 in [0, 10]`) enters z as its free variable phi,
theta = lo + (hi - lo) sigmoid(phi) (compiler/common/bounds.py), its Jacobian column scaled
by the slope of that map, so no step leaves the interval.
The loss is a sum of squares, minimised by Levenberg-Marquardt (`least_squares`) with
the Jacobian assembled sparse: dR/dU by stencil colouring (`runtime.algebra.sparse_jacobian`),
dR/dtheta by jvps (`param_jacobian`), S and the smoothness rows as they are (linear).
With a `Placement` the fields are split over its device mesh for the residual and every
jvp; the minimiser and its sparse LU run on the host (`runtime.algebra.field_vector`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sps

from compiler.common.bounds import Bounds, param_bounds, slope, to_bounded, to_free
from compiler.common.observations import FieldObservations
from compiler.fd import FDProgram

from ..algebra.least_squares import LeastSquaresResult, levenberg_marquardt
from ..algebra.newton import _check_finite, solve_steady
from ..algebra.sparse_jacobian import SparseJacobian, Sparsity, make_sparse_jacobian
from ..algebra.steady_program import program_sparsity
from ..errors import SolveError
from ..parallel.sharding import Placement
from .misfit import DataRows, data_rows, smoothness_rows
from .param_jacobian import ParamJacobian, ParamLayout, make_param_jacobian


@dataclass(frozen=True)
class FitSettings:
    """`data_weight`, `regularization`: the loss's weights; `max_steps`, `tol`: the
    minimiser's limits (see `levenberg_marquardt`); `newton_steps`: the most iterations of
    the forward solve that gives the first fields."""

    data_weight: float = 1.0
    regularization: float = 0.0
    max_steps: int = 50
    tol: float = 1e-10
    newton_steps: int = 50


@dataclass(frozen=True)
class FitOutcome:
    """Fields on the stored grid, the inferred parameters, and what the fit did."""

    U: dict[str, np.ndarray]
    params: dict[str, np.ndarray]
    result: LeastSquaresResult
    residual_rms: float
    misfit_rms: dict[str, float]
    start: str
    notes: dict = field(default_factory=dict)    # what else the minimiser did, for `meta`


@dataclass(frozen=True, eq=False)
class _Loss:
    """The loss of one fit as F(z) with z = [ravel(U), ravel(theta)]."""

    jac: SparseJacobian
    pjac: ParamJacobian
    data: DataRows
    smooth: sps.csr_matrix
    known: dict[str, jax.Array]
    weights: tuple[float, float]   # on the residual, on the data rows
    bounds: Bounds                 # bounded constants: z holds phi, theta = T(phi)

    def split(self, z: np.ndarray) -> tuple[np.ndarray, dict[str, jax.Array]]:
        free = self.pjac.unravel(z[self.jac.size:])
        return z[: self.jac.size], {k: to_bounded(v, *self.bounds[k]) if k in self.bounds
                                    else v for k, v in free.items()}

    def free(self, theta: Mapping[str, jax.Array]) -> np.ndarray:
        """The tail of z for the parameters `theta`: phi for the bounded constants."""
        return self.pjac.ravel({k: jnp.asarray(to_free(v, *self.bounds[k]), jnp.asarray(v).dtype)
                                if k in self.bounds else v for k, v in theta.items()})

    def chain(self, z: np.ndarray) -> sps.dia_matrix:
        """d theta / d z-tail: 1, or the slope of the transform for bounded constants."""
        free = self.pjac.unravel(z[self.jac.size:])
        return sps.diags(self.pjac.ravel({
            k: jnp.asarray(slope(v, *self.bounds[k]), jnp.asarray(v).dtype)
            if k in self.bounds else jnp.ones_like(v) for k, v in free.items()}))

    def evaluate(self, z: np.ndarray, fixed: Mapping[str, jax.Array] | None = None
                 ) -> np.ndarray:
        """F(z); `fixed`: parameters outside z the residual reads (learned weights)."""
        u, theta = self.split(z)
        r = self.jac.residual(u, {**theta, **(fixed or {})})
        return self._stack(r, u, z[self.jac.size:])

    def linearize(self, z: np.ndarray, fixed: Mapping[str, jax.Array] | None = None
                  ) -> tuple[np.ndarray, sps.csr_matrix]:
        """F(z) and dF/dz (sparse), `fixed` as in `evaluate`."""
        u, theta = self.split(z)
        r, J = self.jac.linearize(u, {**theta, **(fixed or {})})
        w_r, w_d = self.weights
        A = sps.bmat([[w_r * J, w_r * self.pjac(u, theta, fixed) @ self.chain(z)],
                      [w_d * self.data.matrix, None],
                      [None, self.smooth]], format="csr")
        return self._stack(r, u, z[self.jac.size:]), A

    def _stack(self, r: np.ndarray, u: np.ndarray, t: np.ndarray) -> np.ndarray:
        w_r, w_d = self.weights
        misfit = self.data.matrix @ u - self.data.values
        return np.concatenate([w_r * r, w_d * misfit, self.smooth @ t])


def _theta_residual(program: FDProgram, known: dict) -> Callable:
    """R(U, theta) with the known parameters fixed; `prepare` runs inside, so the hoisted
    invariant arrays follow theta under differentiation."""
    return lambda U, theta: program.residual(U, program.prepare({**known, **theta}))


def make_loss(program: FDProgram, observations: Sequence[FieldObservations],
              settings: FitSettings, theta0: Mapping[str, np.ndarray] | None = None,
              placement: Placement | None = None) -> tuple[_Loss, np.ndarray, Sparsity]:
    """The loss of `program` against `observations`, its starting point z0 (fields at the
    program's first guess, parameters at `theta0` or their guesses) and the fields'
    sparsity; with `placement`, evaluated with the fields split over its mesh."""
    system = program.system
    unknown = {p.name: p for p in system.unknown_params}
    theta = {k: jnp.asarray((theta0 or {}).get(k, v), program.dtype)
             for k, v in program.params.items() if k in unknown}
    known = {k: jnp.asarray(v, program.dtype) for k, v in program.params.items()
             if k not in unknown}
    periodic = {a.name: a.periodic for a in program.grid.axes}
    sparsity = program_sparsity(program)
    residual = _theta_residual(program, known)
    U0 = program.initial(program.params)
    jac = make_sparse_jacobian(residual, U0, sparsity, placement=placement)
    starts = np.cumsum([0] + [int(np.prod(s, dtype=np.int64)) for s in jac.shapes])
    fields = tuple((name, program.axes_of(name), shape, int(start))
                   for name, shape, start in zip(jac.names, jac.shapes, starts))
    layout = ParamLayout(fields, {k: unknown[k].args for k in theta if unknown[k].is_field},
                         periodic, program.reach)
    pjac = make_param_jacobian(residual, theta, layout, jac.vector)
    data = data_rows(program.grid, observations, [(n, a, s) for n, a, _, s in fields],
                     jac.size, program.shaped.cut if program.shaped is not None else None)
    smooth = smoothness_rows(program.grid, {k: tuple(np.shape(v)) for k, v in theta.items()},
                             layout.param_axes, settings.regularization)
    weights = (1.0 / np.sqrt(jac.size), np.sqrt(settings.data_weight / data.count))
    loss = _Loss(jac, pjac, data, smooth, known, weights, param_bounds(system))
    z0 = np.concatenate([np.asarray(jac.ravel(U0)), loss.free(theta)])
    return loss, z0, sparsity


def forward_start(program: FDProgram, loss: _Loss, z0: np.ndarray, sparsity: Sparsity,
                  settings: FitSettings) -> tuple[np.ndarray, str]:
    """z0 with the fields replaced by the forward solution at the guessed parameters, which
    puts the fit on the manifold R = 0 (the fit then moves far less astray than from
    zeros); z0 as it is, and why, when that solve fails."""
    u, theta = loss.split(z0)
    try:
        result = solve_steady(_theta_residual(program, loss.known), loss.jac.unravel(u),
                              theta, sparsity, linear=program.linear, tol=settings.tol,
                              max_iter=settings.newton_steps,
                              placement=loss.jac.vector.placement)
    except SolveError as err:
        reason = err.message.split(":")[0]
        return z0, f"zeros (the forward solve at the guesses failed: {reason})"
    z = z0.copy()
    z[: loss.jac.size] = np.asarray(loss.jac.ravel(result.U))
    return z, f"the forward solution at the guesses ({result.iterations} iterations)"


def fit_odil(program: FDProgram, observations: Sequence[FieldObservations],
             settings: FitSettings, observers: Sequence[Callable] = (),
             start: tuple[Mapping[str, np.ndarray], Mapping[str, np.ndarray]] | None = None,
             placement: Placement | None = None) -> FitOutcome:
    """Minimise the ODIL loss of `program` (see the module docstring), from `start` =
    (fields, unknown parameters) when given (a coarser fit), else from the forward solution
    at the guessed parameters; with `placement`, the fields split over its device mesh."""
    loss, z0, sparsity = make_loss(program, observations, settings,
                                   start[1] if start else None, placement)
    if start is not None:
        z0[: loss.jac.size] = np.asarray(loss.jac.ravel(
            {k: jnp.asarray(v, program.dtype) for k, v in start[0].items()}))
    u0, theta0 = loss.split(z0)
    _check_finite(loss.jac.residual(u0, theta0), loss.jac, "at the first guesses", ())
    if start is None:
        z0, how = forward_start(program, loss, z0, sparsity, settings)
    else:
        how = "the fit on the coarser grid, interpolated"
    result = levenberg_marquardt(loss.evaluate, loss.linearize, z0,
                                 max_steps=settings.max_steps, tol=settings.tol,
                                 observers=observers)
    u, theta = loss.split(result.z)
    r = loss.jac.residual(u, theta)
    misfit = loss.data.matrix @ u - loss.data.values
    per_field = {str(name): float(np.sqrt(np.mean(np.square(misfit[loss.data.field == name]))))
                 for name in dict.fromkeys(loss.data.field)}
    U = {k: np.asarray(v) for k, v in loss.jac.unravel(u).items()}
    params = {k: np.asarray(v) for k, v in theta.items()}
    return FitOutcome(U, params, result, float(np.sqrt(np.mean(np.square(r)))), per_field,
                      how)
