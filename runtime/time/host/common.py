"""What the host-driven integrators share (sparse Rodas4, BDF, ESDIRK): the right-hand side
on flat vectors, jitted on the device and returned to the host as numpy; the mass-matrix
system with its sparse Jacobian and consistent start (`mass_system`); the Newton matrix
M - c J kept over many steps (`NewtonMatrix`); Hairer's starting step; their `Stats`; and
the `SolveError` that keeps the outputs reached so far.

These integrators keep the step control and the sparse LU (SciPy's SuperLU) on the host and
send only the right-hand side and the Jacobian's coloured jvps to the device: a sparse
direct solve has no JAX counterpart on the CPU.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sps
from jax.flatten_util import ravel_pytree

from runtime.algebra.border import Border, bordered
from runtime.algebra.sparse_jacobian import Sparsity, make_sparse_jacobian
from runtime.algebra.sparse_lu import Factor
from runtime.errors import SolveError
from runtime.reuse import Remembered

from ..base import Rhs
from ..loop import Stats, Trajectory
from .dae import consistent_start


@dataclass(frozen=True)
class FlatRhs:
    """`f(t, y)` and `f_t(t, y)` (df/dt) on flat numpy vectors, jitted on the device."""

    f: Callable[[float, np.ndarray], np.ndarray]
    f_t: Callable[[float, np.ndarray], np.ndarray]


def flat_rhs(rhs: Rhs, unravel, dtype) -> FlatRhs:
    """`rhs(t, U, {})` and its time derivative on flat vectors, jitted."""
    def flat(t, y):
        return ravel_pytree(rhs(t, unravel(y), {}))[0].astype(dtype)

    def time_derivative(t, y):
        return jax.jvp(lambda s: flat(s, y), (t,), (jnp.ones_like(t),))[1].astype(dtype)

    f, f_t = jax.jit(flat), jax.jit(time_derivative)
    return FlatRhs(lambda t, y: np.asarray(f(jnp.asarray(t, dtype), y)),
                   lambda t, y: np.asarray(f_t(jnp.asarray(t, dtype), y)))


def first_step(f: Callable[[float, np.ndarray], np.ndarray], t0: float, y0: np.ndarray,
               f0: np.ndarray, rtol: float, atol: float, order: int, span: float) -> float:
    """A first trial step from the size of y0, of f0 and of the change of f over a tiny
    Euler step (Hairer, Norsett and Wanner, Solving ODEs I, section II.4), never more than
    the span: the host twin of `adaptive.initial_step`."""
    scale = atol + rtol * np.abs(y0)
    d0 = float(np.sqrt(np.mean((y0 / scale) ** 2)))
    d1 = float(np.sqrt(np.mean((f0 / scale) ** 2)))
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    d2 = float(np.sqrt(np.mean(((f(t0 + h0, y0 + h0 * f0) - f0) / scale) ** 2))) / h0
    dmax = max(d1, d2)
    h1 = max(1e-6, h0 * 1e-3) if dmax <= 1e-15 else (0.01 / dmax) ** (1.0 / (order + 1))
    return min(100 * h0, h1, span)


def host_stats(method: str, steps: int, rejected: int, h: float, dt_min: float,
               dt_max: float, start: float, newton_iters: int = 0) -> Stats:
    return Stats(method=method, steps=steps, rejected=rejected, dt=h, dt_min=dt_min,
                 dt_max=dt_max, newton_iters=newton_iters,
                 wall_time=time.perf_counter() - start)


def host_failure(method: str, message: str, times: np.ndarray, outputs: list, steps: int,
                 hint: str | None = None) -> SolveError:
    """A SolveError whose `trajectory` holds the outputs reached before the failure."""
    error = SolveError(message, hint=hint or (
        "the solution may blow up or turn singular there (check the equations and the "
        "initial values near that time); or the tolerances are too tight for the "
        "arithmetic: loosen rtol=, atol="))
    U = jax.tree.map(lambda *xs: jnp.stack(xs), *outputs)
    error.trajectory = Trajectory(t=np.asarray(times), U=U, stats=host_stats(
        method, steps, 0, math.nan, math.nan, math.nan, time.perf_counter()))
    return error


def stack_outputs(outputs: list):
    return jax.tree.map(lambda *xs: jnp.stack(xs), *outputs)


@dataclass
class MassSystem:
    """`M dy/dt = f(t, y)` on flat float64 vectors, for the implicit host integrators: the
    state's fields raveled (`ravel_pytree` order), then one Lagrange multiplier per border
    condition (algebraic, M = 0). `y0` already has consistent algebraic entries."""

    f: Callable[[float, np.ndarray], np.ndarray]
    jacobian: Callable[[float, np.ndarray], sps.csr_matrix]
    mass: np.ndarray
    y0: np.ndarray
    unravel: Callable[[np.ndarray], dict]
    flatten: Callable[[Rhs], Callable[[float, np.ndarray], np.ndarray]]   # another rhs,
                                                                        # on these vectors

    @property
    def mass_matrix(self) -> sps.csr_matrix:
        return sps.diags(self.mass, format="csr")


def mass_system(rhs: Rhs, U0: dict, t0: float, sparsity: Sparsity, mass: dict | None,
                border: Border | None, border_params, rtol: float, atol: float
                ) -> MassSystem:
    """The flat system of `M dU/dt = rhs(t, U, {})` (mass: per key of U0, 1 or 0, or
    arrays like U0; None: all 1), its sparse Jacobian by the stencil colouring, the
    border's multipliers appended, and consistent initial values
    (`runtime.time.host.dae.consistent_start`)."""
    U0 = {k: jnp.asarray(v) for k, v in dict(U0).items()}
    y, unravel_fields = ravel_pytree(U0)
    dtype = y.dtype
    n = y.size
    M = np.ones(n) if mass is None else np.asarray(ravel_pytree(
        {k: jnp.broadcast_to(jnp.asarray(mass[k], dtype), jnp.shape(v))
         for k, v in U0.items()})[0], float)
    jacobian, fun = _compiled(rhs, U0, sparsity, unravel_fields, dtype)
    extra = bordered(border, jacobian) if border is not None and border.size else None
    y = np.asarray(y, dtype=np.float64)
    if extra is not None:                  # the multipliers: algebraic unknowns after y
        y = np.concatenate([y, np.zeros(extra.B.shape[1])])
        M = np.concatenate([M, np.zeros(extra.B.shape[1])])

    def f(t: float, v: np.ndarray) -> np.ndarray:
        r = fun(t, v[:n]).astype(np.float64)
        return r if extra is None else extra.residual(r, v, border_params)

    def jacobian_at(t: float, v: np.ndarray) -> sps.csr_matrix:
        J = jacobian.linearize(v[:n], jnp.asarray(t, dtype))[1]
        return J if extra is None else extra.jacobian(J, v, border_params)

    def names(mask: np.ndarray) -> str:
        """The fields with an entry in `mask` (flat, in ravel order: a dict by its keys)."""
        found, start = [], 0
        for name in sorted(U0):
            size = int(np.size(U0[name]))
            if mask[start:start + size].any():
                found.append(f"`{name}`")
            start += size
        return ", ".join(found) or "the multipliers"

    def flatten(other: Rhs):
        flat = flat_rhs(other, unravel_fields, dtype).f
        return lambda t, v: flat(t, v[:n]).astype(np.float64)

    y = consistent_start(f, jacobian_at, t0, y, M == 0, rtol, atol, names)
    return MassSystem(f, jacobian_at, M, y,
                      lambda v: unravel_fields(jnp.asarray(v[:n], dtype)), flatten)


_COMPILED = Remembered(8)


def _compiled(rhs: Rhs, U0: dict, sparsity: Sparsity, unravel, dtype):
    """The coloured Jacobian and the flat rhs of `rhs` for states shaped like U0: kept for
    the same rhs (a repeated solve of one lowered problem, `runtime.fd.forward.lowered`),
    so that their jitted functions are not traced and compiled again."""
    key = (rhs, tuple((k, tuple(np.shape(v)), str(v.dtype)) for k, v in sorted(U0.items())),
           sparsity.reach, tuple(sorted(sparsity.periodic.items())))

    def make():
        jacobian = make_sparse_jacobian(lambda U, t: rhs(t, U, {}), U0, sparsity)
        return jacobian, flat_rhs(rhs, unravel, dtype).f

    return _COMPILED.get(key, make)


@dataclass
class NewtonMatrix:
    """M - c J for a simplified Newton iteration, kept over many steps: J until Newton
    fails to converge with it (or `max_age` steps), the LU while c stays within `band` of
    the c it was factorised at. `solve(r, c)` applies CVODE's gamma-ratio correction
    2 / (1 + c / c_lu), with which the iteration contracts by |r - 1| / (r + 1) at worst
    (r = c / c_lu) on stiff and non-stiff modes alike."""

    system: MassSystem
    factorize: Callable
    counts: dict
    band: float = 0.6
    max_age: int = 200
    J: sps.csr_matrix | None = None
    fresh: bool = False
    age: int = 0
    c: float = math.nan
    lu: Factor | None = None
    failure: tuple[float, float, float] | None = None   # (t, weighted correction, the
                                                        # tolerance) of the last Newton
                                                        # iteration that did not converge

    singular_at: float | None = None          # where M - c J was last found singular
    rate: float = 1.0                         # the Newton contraction rate last seen with
                                              # this LU (CVODE's crate; 1 after each LU)

    def describe_failure(self) -> str:
        """What to tell the user about the last Newton failure, if any."""
        if self.singular_at is not None:
            return (f"; the Newton matrix M - c J was singular at t = {self.singular_at:.6g} "
                    "(for a DAE: its algebraic equations no longer determine their fields "
                    "there)")
        if self.failure is None:
            return ""
        t, norm, tol = self.failure
        return (f"; the last Newton iteration that failed (at t = {t:.6g}) ended with a "
                f"weighted correction of {norm:.3g}, where it needs {tol:.3g}")

    def refresh(self, t: float, y: np.ndarray) -> None:
        """A new Jacobian at (t, y); the LU follows on the next `prepare`."""
        self.counts["jacobians"] = self.counts.get("jacobians", 0) + 1
        self.J, self.fresh, self.age, self.lu = self.system.jacobian(t, y), True, 0, None

    def prepare(self, c: float, t: float) -> bool:
        """Factorise M - c J unless the kept LU is close enough; False when the matrix is
        singular (recorded as a failure: the caller shrinks the step, as for a Newton
        iteration that does not converge)."""
        if self.lu is None or abs(c / self.c - 1) > self.band:
            self.counts["lus"] = self.counts.get("lus", 0) + 1
            try:
                self.lu = self.factorize(self.system.mass_matrix - c * self.J)
            except RuntimeError:             # SuperLU: "Factor is exactly singular"
                self.lu, self.singular_at = None, t
                return False
            self.c, self.singular_at, self.rate = c, None, 1.0
        return True

    def solve(self, r: np.ndarray, c: float) -> np.ndarray:
        return 2.0 / (1.0 + c / self.c) * self.lu.solve(r)

    def step_taken(self, t: float, y: np.ndarray) -> None:
        """After an accepted step: J is no longer fresh; renew it when too old."""
        self.fresh = False
        self.age += 1
        if self.age >= self.max_age:
            self.refresh(t, y)


def weighted_norm(v: np.ndarray) -> float:
    return float(np.sqrt(np.mean(v * v)))


NEWTON_MAXITER = 4


def simplified_newton(f: Callable[[float, np.ndarray], np.ndarray], M: np.ndarray, t: float,
                      start: np.ndarray, c: float, q: np.ndarray, matrix: NewtonMatrix,
                      scale: np.ndarray, tol: float, max_iter: int = NEWTON_MAXITER
                      ) -> tuple[bool, int, np.ndarray, np.ndarray]:
    """Solve c f(t, start + d) - M d - q = 0 for d with the kept Newton matrix M - c J:
    (converged, iterations, start + d, d). The implicit stage of BDF (q = M psi) and of an
    ESDIRK stage (q from the earlier stages) both take this form. Stops early when the
    contraction rate says the weighted correction will not fall below `tol` in `max_iter`
    iterations (Shampine and Reichelt's test, as SciPy's BDF)."""
    d = np.zeros_like(start)
    y = start.copy()
    norm_old, converged, k, norm = None, False, 0, math.inf
    for k in range(max_iter):
        value = f(t, y)
        if not np.all(np.isfinite(value)):
            break
        dy = matrix.solve(c * value - M * d - q, c)
        norm = weighted_norm(dy / scale)
        rate = None if norm_old is None else norm / norm_old
        if rate is not None and (rate >= 1 or
                                 rate ** (max_iter - k) / (1 - rate) * norm > tol):
            break
        y += dy
        d += dy
        if norm == 0 or (rate is not None and rate / (1 - rate) * norm < tol):
            converged = True
            break
        norm_old = norm
    if not converged:
        matrix.failure = (t, norm, tol)
    return converged, k + 1, y, d


CVODE_MAXITER = 3         # CVODE's maxcor
RATE_DECAY = 0.3          # CVODE's CRDOWN: the kept rate falls at most this fast
DIVERGING = 2.0           # CVODE's RDIV: a correction this much larger than the last fails


def kept_rate_newton(f: Callable[[float, np.ndarray], np.ndarray], M: np.ndarray, t: float,
                     start: np.ndarray, c: float, q: np.ndarray, matrix: NewtonMatrix,
                     scale: np.ndarray, tol: float, max_iter: int = CVODE_MAXITER
                     ) -> tuple[bool, int, np.ndarray, np.ndarray]:
    """`simplified_newton` with CVODE's convergence test (Hindmarsh et al., 2005): the
    contraction rate is kept with the LU across steps (`matrix.rate`, 1 after each new
    LU), so an iteration may stop after one correction, when that correction times
    min(1, rate) is at most `tol`; the rate is updated from each pair of corrections (at
    most RATE_DECAY-fold down at a time), and a correction DIVERGING times the last fails."""
    d = np.zeros_like(start)
    y = start.copy()
    norm_old, converged, iterations, norm = None, False, 0, math.inf
    while iterations < max_iter:
        iterations += 1
        value = f(t, y)
        if not np.all(np.isfinite(value)):
            break
        dy = matrix.solve(c * value - M * d - q, c)
        norm = weighted_norm(dy / scale)
        if norm_old is not None:
            if norm > DIVERGING * norm_old:
                break
            matrix.rate = max(RATE_DECAY * matrix.rate, norm / norm_old)
        y += dy
        d += dy
        if norm * min(1.0, matrix.rate) <= tol:
            converged = True
            break
        norm_old = norm
    if not converged:
        matrix.failure = (t, norm, tol)
    return converged, iterations, y, d


def newton_tolerance(rtol: float) -> float:
    """The weighted correction size at which the stage equations count as solved."""
    return max(10 * np.finfo(float).eps / rtol, min(0.03, rtol ** 0.5))
