"""Steady solves of finite-difference systems R(U) = 0: a sparse direct solve, or Newton.

The Jacobian comes from `runtime.algebra.sparse_jacobian` (one jvp per stencil colour), the linear
systems from SuperLU with row equilibration and a fill-reducing ordering of A^T + A, which
suits the structurally symmetric patterns of FD stencils (1.5-2 s to factorise 2-D Poisson
on 513 x 513 with two cores). Newton damps its steps with a backtracking line search on ||R||.

With a `Placement` the residual evaluations and the colour jvps run with the fields split
over its device mesh; the Jacobian comes to the host in one gather and the LU stays there,
on one host (a distributed sparse direct solver is outside JAX), redone identically by
every process of a multi-host run.

Residual norms are root-mean-square over all unknowns, so they do not grow with the grid.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sps
import scipy.sparse.linalg as spla

from pdelang.errors import Span
from runtime.algebra.border import Border, BorderedSystem, bordered, extend, split
from runtime.algebra.sparse_jacobian import (
    Fields,
    Residual,
    SparseJacobian,
    Sparsity,
    make_sparse_jacobian,
)
from runtime.algebra.sparse_lu import NESTED_FROM, nested_superlu
from runtime.errors import OptionError, SolveError
from runtime.observe.stopwatch import Stopwatch
from runtime.parallel.sharding import Placement

_EPS = float(np.finfo(np.float64).eps)  # the LU runs in float64 whatever the fields' dtype
_ARMIJO = 1e-4  # sufficient decrease: accept t when ||R(u + t du)|| <= (1 - _ARMIJO t) ||R(u)||
_HALVINGS = 12  # line search: smallest step 2**-12
_ROUNDOFF_ULPS = 64  # rounding of a residual row: this many ulps of |J| |u| (see _roundoff)
_STEP_ULPS = 4096  # a full Newton step below this many ulps of max|u|: the roundoff floor
# An estimated cond beyond this (4.5e12) means singular up to roundoff. Measured estimates:
# 2-D Poisson 513^2 ~1e2, 1-D biharmonic on 4097 points ~8e10; a fully periodic Laplacian
# (fixed only up to a constant) 8e13 to 3e18.
_SINGULAR_CONDITION = 1e-3 / _EPS
_STAGES = ("setup", "residual", "jacobian", "factor", "solve")
_SPAN = Span(label="steady solve")
_SINGULAR_HINT = (
    "check the boundary conditions: a problem determined only up to a constant "
    "(pure Neumann or fully periodic) needs that constant fixed, e.g. by `bc mean(u) = 0` "
    "or `bc u = 0 at x = 0, y = 0` (solved with a Lagrange multiplier)"
)
_HINT = (
    "try a better initial guess U0 (for instance the solution of a nearby, easier problem), "
    "a finer grid, or continuation: solve with a parameter where the problem is mild and "
    "step it towards the wanted value, each solve starting from the last solution"
)


@dataclass(frozen=True)
class SteadyResult:
    """The outcome of a steady solve.

    `U`: the solution, one array per field; `residual_norm`: RMS of R at U; `iterations`:
    Newton steps taken (linear solves: factorisations); `wall_time`: seconds, compilation
    included; `method`: "direct" or "newton"; `history`: RMS of R before each step and at U;
    `timings`: seconds per stage ("setup": colouring and pattern; "residual": evaluations
    for the line search and checks; "jacobian": jitted jvps and CSR assembly; "factor":
    sparse LU; "solve": triangular solves); the first call of each jitted function
    includes its compilation. `converged`: the residual reached `target` (or roundoff);
    `reason` says how it stopped (False only with `raise_unconverged=False`);
    `multipliers`: the Lagrange multipliers of a `border`.
    """

    U: dict[str, jax.Array]
    residual_norm: float
    iterations: int
    wall_time: float
    method: str
    history: tuple[float, ...]
    timings: Mapping[str, float]
    converged: bool = True
    target: float = 0.0
    reason: str = ""
    multipliers: tuple[float, ...] = ()


@dataclass(frozen=True)
class SteadyProgress:
    """What observers see after each step (iteration 0: the initial guess)."""

    iteration: int
    residual_norm: float
    step_length: float
    U: dict[str, jax.Array]


Observer = Callable[[SteadyProgress], None]


def _rms(r: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(r)))) if r.size else 0.0


def _history_text(history: Sequence[float]) -> str:
    return ", ".join(f"{h:.3e}" for h in history)


def _locate(jac: SparseJacobian, k: int) -> tuple[str, tuple[int, ...]]:
    """The field and grid index of entry k; past the fields, the bordered conditions."""
    if k >= jac.size:
        return "(point or mean condition)", (k - jac.size,)
    return jac.locate(k)


def _check_finite(r: np.ndarray, jac: SparseJacobian, where: str, history: Sequence[float]) -> None:
    bad = np.flatnonzero(~np.isfinite(r))
    if bad.size:
        name, index = _locate(jac, int(bad[0]))
        raise SolveError(
            f"the residual is not finite {where}: {r[bad[0]]} in field {name!r} at grid "
            f"index {index} ({bad.size} non-finite entries); residual history: "
            f"{_history_text(history) or 'none'}",
            span=_SPAN,
            hint=_HINT,
        )


def _check_not_empty(J: sps.csr_matrix, jac: SparseJacobian) -> None:
    """Raise, naming the place, if a row or a column of J is all zero."""
    rows = np.diff(J.indptr)
    cols = np.bincount(J.indices, minlength=J.shape[1])
    for counts, what in ((rows, "the equation of"), (cols, "the unknown")):
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            name, index = _locate(jac, int(empty[0]))
            role = "depends on no unknown" if counts is rows else "appears in no equation"
            raise SolveError(
                f"the Jacobian is singular: {what} field {name!r} at grid index {index} "
                f"{role} ({empty.size} such entries)",
                span=_SPAN,
                hint="check that every boundary point has a condition and every field an "
                "equation that involves it",
            )


def _condition_estimate(A: sps.csc_matrix, lu: spla.SuperLU) -> float:
    """A lower bound on cond_inf(A) from one solve with a random right-hand side.

    A singular matrix leaves a tiny pivot that this solve blows up by 1/pivot; reading
    the pivots from `lu.U` instead would copy the whole factor (a third of the factor time).
    """
    probe = np.random.default_rng(0).standard_normal(A.shape[0])
    growth = np.max(np.abs(lu.solve(probe))) / np.max(np.abs(probe))
    return float(growth * abs(A).sum(axis=1).max())


_NESTED = nested_superlu()


def _three_dimensional(jac: SparseJacobian) -> bool:
    return any(len(shape) >= 3 for shape in jac.shapes)


def _factorize(J: sps.csr_matrix, jac: SparseJacobian) -> Callable[[np.ndarray], np.ndarray]:
    """A solver for J x = b: rows scaled to unit max, then SuperLU (see the module doc)."""
    _check_not_empty(J, jac)
    scale = 1.0 / np.asarray(abs(J).max(axis=1).todense()).ravel()
    A = (sps.diags(scale) @ J).astype(np.result_type(J.dtype, np.float64)).tocsc()
    try:
        if _three_dimensional(jac) and A.shape[0] >= NESTED_FROM:
            lu = _NESTED(A)           # METIS's order: a third of the fill on 3-D grids
        else:
            lu = spla.splu(A, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.1)
    except RuntimeError as err:
        raise SolveError(
            f"the Jacobian is singular ({err}) on {jac.size} unknowns",
            span=_SPAN,
            hint=_SINGULAR_HINT,
        ) from err
    condition = _condition_estimate(A, lu)
    if not condition < _SINGULAR_CONDITION:
        raise SolveError(
            f"the Jacobian is numerically singular: its condition number is about "
            f"{condition:.1e} on {jac.size} unknowns",
            span=_SPAN,
            hint=_SINGULAR_HINT,
        )
    return lambda b: lu.solve(scale * b)


@dataclass
class _Run:
    """One solve's functions, observers and stopwatch; lives only inside solve_steady."""

    jac: SparseJacobian
    params: Any
    observers: Sequence[Observer]
    eps: float  # machine epsilon of the fields' dtype
    watch: Stopwatch = field(default_factory=lambda: Stopwatch.of(_STAGES))
    border: BorderedSystem | None = None

    @property
    def floor(self) -> float:
        """||R|| / ||R0|| below which a step that cannot lower ||R|| is put down to roundoff."""
        return float(np.sqrt(self.eps))

    def timed(self, stage: str):
        return self.watch.timed(stage)

    def residual(self, u: np.ndarray) -> np.ndarray:
        with self.timed("residual"):
            if self.border is None:
                return self.jac.residual(u, self.params)
            r = self.jac.residual(u[:self.jac.size], self.params)
            return self.border.residual(r, u, self.params)

    def linearize(self, u: np.ndarray) -> tuple[np.ndarray, sps.csr_matrix]:
        with self.timed("jacobian"):
            if self.border is None:
                return self.jac.linearize(u, self.params)
            r, J = self.jac.linearize(u[:self.jac.size], self.params)
            return (self.border.residual(r, u, self.params),
                    self.border.jacobian(J, u, self.params))

    def factorize(self, J: sps.csr_matrix) -> Callable[[np.ndarray], np.ndarray]:
        with self.timed("factor"):
            lu_solve = _factorize(J, self.jac)

        def solve(b: np.ndarray) -> np.ndarray:
            with self.timed("solve"):
                return lu_solve(b)

        return solve

    def check_finite(self, r: np.ndarray, where: str, history: Sequence[float]) -> None:
        _check_finite(r, self.jac, where, history)

    def notify(self, k: int, norm: float, t: float, u: np.ndarray) -> None:
        if self.observers:
            progress = SteadyProgress(k, norm, t, self.jac.unravel(u[:self.jac.size]))
            for observe in self.observers:
                observe(progress)

    def line_search(
        self, u: np.ndarray, du: np.ndarray, norm: float
    ) -> tuple[float, np.ndarray, float] | None:
        """Backtrack t = 1, 1/2, ... until ||R(u + t du)|| decreases enough; None if never."""
        t = 1.0
        for _ in range(_HALVINGS + 1):
            trial = u + t * du
            trial_norm = _rms(self.residual(trial))
            if np.isfinite(trial_norm) and trial_norm <= (1.0 - _ARMIJO * t) * norm:
                return t, trial, trial_norm
            t *= 0.5
        return None


def _solve_linear(run: _Run, u: np.ndarray, tol: float, atol: float) -> tuple[np.ndarray, list]:
    """One factorisation; up to two refinement sweeps with it if roundoff leaves R above target."""
    r, J = run.linearize(u)
    history = [_rms(r)]
    target = _target(history, tol, atol)
    run.check_finite(r, "at the initial guess", history)
    run.notify(0, history[0], 0.0, u)
    solve = run.factorize(J)
    u = u + solve(-r)
    r = run.residual(u)
    history.append(_rms(r))
    run.check_finite(r, "after the direct solve", history)
    for _ in range(2):
        if history[-1] <= target:
            break
        refined = u + solve(-r)
        r_refined = run.residual(refined)
        if not _rms(r_refined) < history[-1]:
            break
        u, r = refined, r_refined
        history[-1] = _rms(r)
    if history[-1] > max(target, run.floor * history[0], _roundoff(J, u, run.eps)):
        raise SolveError(
            f"a direct solve left the residual at {history[-1]:.3e} (initial "
            f"{history[0]:.3e}): the system does not look linear",
            span=_SPAN,
            hint="solve it with linear=False (Newton), or leave linear=None to let the "
            "solver decide",
        )
    run.notify(1, history[-1], 1.0, u)
    return u, history


def _target(history: Sequence[float], tol: float, atol: float) -> float:
    """The residual a solve aims for: `tol` times the first one, or `atol` if larger."""
    return max(tol * history[0], atol)


def _roundoff(J: sps.csr_matrix, u: np.ndarray, eps: float) -> float:
    """The residual that rounding alone leaves: the rms of eps * |J| |u| times the
    _ROUNDOFF_ULPS that summing and solving cost. Rows scaled by 1/h^4 (a plate or beam
    equation) reach it well above sqrt(eps) of the initial residual."""
    return _ROUNDOFF_ULPS * eps * _rms(abs(J) @ np.abs(u))


def _newton(
    run: _Run, u: np.ndarray, tol: float, atol: float, max_iter: int, raise_unconverged: bool
) -> tuple[np.ndarray, list, bool, str]:
    """Damped Newton on R(u) = 0 with the Jacobian re-assembled at every step: (u, the
    residual history, whether it converged, how it stopped); not converged only when
    `raise_unconverged` is False."""
    r = run.residual(u)
    history = [_rms(r)]
    run.check_finite(r, "at the initial guess", history)
    run.notify(0, history[0], 0.0, u)
    target = _target(history, tol, atol)
    for k in range(1, max_iter + 1):
        if history[-1] <= target:
            return u, history, True, f"residual {history[-1]:.3e} at or below the target"
        r, J = run.linearize(u)
        du = run.factorize(J)(-r)
        at_floor = np.max(np.abs(du)) <= _STEP_ULPS * run.eps * max(np.max(np.abs(u)), 1e-300)
        found = run.line_search(u, du, history[-1])
        if found is None and (at_floor or history[-1] <= run.floor * history[0]):
            return u, history, True, f"residual {history[-1]:.3e} at roundoff"
        if found is None:
            error = SolveError(
                f"Newton's method stalled at iteration {k}: no step along the Newton "
                f"direction (down to 2**-{_HALVINGS} of it) reduced the residual "
                f"{history[-1]:.3e}; residual history: {_history_text(history)}",
                span=_SPAN,
                hint=_HINT,
            )
            if raise_unconverged:
                raise error
            return u, history, False, error.message
        t, u, norm = found
        history.append(norm)
        run.notify(k, norm, t, u)
        if at_floor:
            return u, history, True, f"residual {norm:.3e}: the Newton step is at roundoff"
    if history[-1] <= target:
        return u, history, True, f"residual {history[-1]:.3e} at or below the target"
    message = (f"Newton's method did not converge in {max_iter} iterations: the residual "
               f"went {_history_text(history)} (target {target:.3e})")
    if raise_unconverged:
        raise SolveError(message, span=_SPAN, hint=f"{_HINT}; or allow more iterations (max_iter)")
    return u, history, False, message


def _as_float_fields(U0: Fields) -> dict[str, jax.Array]:
    """U0 with every field a floating-point JAX array (integers would have no tangents)."""
    if not hasattr(U0, "items"):
        raise OptionError(f"U0 must be a dict of field name -> array, got {type(U0).__name__}")
    out = {}
    for name, value in U0.items():
        a = jnp.asarray(value)
        out[name] = a if jnp.issubdtype(a.dtype, jnp.inexact) else a.astype(float)
    return out


def _check_options(tol: float, atol: float | None, max_iter: int) -> None:
    if not tol > 0 or (atol is not None and not atol >= 0):
        raise OptionError(f"tolerances must be positive, got tol={tol!r}, atol={atol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise OptionError(f"max_iter must be an int >= 1, got {max_iter!r}")


def solve_steady(
    residual: Residual,
    U0: Fields,
    params: Any,
    sparsity: Sparsity,
    *,
    linear: bool | None = None,
    tol: float = 1e-10,
    atol: float | None = None,
    max_iter: int = 50,
    observers: Sequence[Observer] = (),
    placement: Placement | None = None,
    raise_unconverged: bool = True,
    border: Border | None = None,
) -> SteadyResult:
    """Solve residual(U, params) = 0 for U, starting from U0.

    `sparsity` describes the stencil (see `Sparsity`). `linear=True`: one sparse LU solve
    (plus refinement sweeps if roundoff calls for them); `False` or `None`: Newton with a
    line search, which takes a single step on a linear system. Newton stops when the RMS
    residual is at most `tol` times its initial value or at most `atol` (default `tol`),
    or at roundoff: a full step below 4096 ulps of max|u| (about 1e-12 in float64), or
    no step able to lower a residual already below sqrt(eps) of its start. Observers are
    called after every step with a `SteadyProgress`. `placement` splits the fields over
    its device mesh for the residual and the jvps (the LU stays on the host). `border`
    adds scalar conditions with a Lagrange multiplier each (`runtime.algebra.border`),
    returned in `multipliers`. Raises
    `SolveError` on divergence, non-finite residuals, a singular Jacobian or no
    convergence in `max_iter` steps; with `raise_unconverged=False`, Newton's running out
    of iterations or stalling returns the last iterate with `converged=False` instead (the
    caller reports the verdict).
    """
    start = time.perf_counter()
    _check_options(tol, atol, max_iter)
    atol = tol if atol is None else atol
    U0 = _as_float_fields(U0)
    setup = time.perf_counter()
    jac = make_sparse_jacobian(residual, U0, sparsity, placement=placement)
    u = np.asarray(jac.ravel(U0))
    eps = float(np.finfo(u.dtype).eps)
    flat_border = bordered(border, jac) if border is not None and border.size else None
    if flat_border is not None:
        u = extend(u, border.size)
    run = _Run(jac, params, tuple(observers), eps=eps, border=flat_border)
    run.watch.timings["setup"] = time.perf_counter() - setup
    if linear:
        u, history = _solve_linear(run, u, tol, atol)
        converged, how = True, f"direct solve: residual {history[-1]:.3e}"
    else:
        u, history, converged, how = _newton(run, u, tol, atol, max_iter, raise_unconverged)
    u, multipliers = split(np.asarray(u), jac.size)
    U = run.jac.unravel(u)
    return SteadyResult(
        U=U,
        residual_norm=history[-1],
        iterations=len(history) - 1,
        wall_time=time.perf_counter() - start,
        method="direct" if linear else "newton",
        history=tuple(history),
        timings=dict(run.watch.timings),
        converged=converged,
        target=_target(history, tol, atol),
        reason=how,
        multipliers=multipliers,
    )
