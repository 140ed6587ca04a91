"""Levenberg-Marquardt for sparse nonlinear least squares: minimise ||F(z)||^2.

Each step linearises F = F(z) + A dz with A sparse, and solves the damped problem
min ||F + A dz||^2 + mu ||D dz||^2, D^2 = diag(A^T A) (Marquardt's scaling, so that
unknowns of different units, grid values and parameters, are damped alike), by the normal
equations (B^T B + mu I) y = -B^T F in the scaled unknowns y = D dz, B = A D^-1 (unit
diagonal), factorised by SuperLU with a symmetric ordering and diagonal pivots (the matrix
is symmetric positive definite). Measured on the heat inverse problem (ODIL on a 129 x 129
space-time grid, 16642 unknowns): 0.22 s per factorisation; the augmented system
[[I, B], [B^T, -mu I]], which does not square the condition number, took 0.40 s with
diagonal pivots (it then eliminates the identity block first: the normal equations in
disguise) and 8 to 30 s with threshold pivoting; partial pivoting on the normal equations
took 32 s. The squared condition number (about 1e9 there) costs a few digits of the step,
which the next Gauss-Newton step recovers.

The damping follows Nielsen (1999): a step is taken when it lowers the loss, and mu shrinks
by how well the linear model predicted the decrease (gain ratio rho); otherwise mu grows
and the step is tried again with the same linearisation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sps
import scipy.sparse.linalg as spla

from pdelang.errors import Span

from ..errors import SolveError
from ..observe.stopwatch import Stopwatch

Linearize = Callable[[np.ndarray], tuple[np.ndarray, sps.csr_matrix]]
Evaluate = Callable[[np.ndarray], np.ndarray]
StepSolver = Callable[[object, np.ndarray], Callable[[float], np.ndarray]]

_SPAN = Span(label="fit")
_MU0 = 1e-6          # first damping, relative to the unit scaled diagonal
_SHRINK = 1.0 / 3.0  # the most a good step divides mu by (Nielsen: 3)
_MU_MAX = 1e16       # beyond this no step lowers the loss: a minimum to roundoff
_DIAGONAL_FLOOR = 1e-12  # columns of A below this fraction of the largest: damped at that
_STAGES = ("evaluate", "jacobian", "factor")


@dataclass(frozen=True)
class LeastSquaresResult:
    """`z` the minimiser; `loss` ||F(z)||^2; `history` the loss at the start and after each
    accepted step; `iterations` linearisations; `factorizations` linear solves (rejected
    steps included); `converged` and `reason` say why it stopped."""

    z: np.ndarray
    loss: float
    history: tuple[float, ...]
    iterations: int
    factorizations: int
    converged: bool
    reason: str
    timings: dict[str, float] = field(default_factory=dict)


def _scaling(A: sps.csr_matrix) -> np.ndarray:
    """D: the column norms of A, floored so that empty columns are still damped."""
    norms = np.sqrt(np.asarray(A.multiply(A).sum(axis=0)).ravel())
    return np.maximum(norms, _DIAGONAL_FLOOR * max(float(norms.max(initial=0.0)), 1e-300))


def make_step_solver(A: sps.csr_matrix, F: np.ndarray) -> Callable[[float], np.ndarray]:
    """A function mu -> dz minimising ||F + A dz||^2 + mu ||D dz||^2 (one LU per mu)."""
    d = _scaling(A)
    B = (A @ sps.diags(1.0 / d)).tocsr()
    H = (B.T @ B).tocsr()
    g = B.T @ F
    identity = sps.identity(H.shape[0], format="csr")

    def step(mu: float) -> np.ndarray:
        M = (H + mu * identity).tocsc()
        try:
            lu = spla.splu(M, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0)
        except RuntimeError as err:
            raise SolveError(f"a Levenberg-Marquardt step could not be factorised ({err})",
                             span=_SPAN) from err
        return -lu.solve(g) / d

    return step


def levenberg_marquardt(evaluate: Evaluate, linearize: Linearize, z0: np.ndarray, *,
                        max_steps: int = 50, tol: float = 1e-10,
                        observers: Sequence[Callable[[dict], None]] = (),
                        step_solver: StepSolver = None) -> LeastSquaresResult:
    """Minimise ||F(z)||^2 from z0 (`evaluate` gives F, `linearize` F and its sparse
    Jacobian; with `step_solver`, any Jacobian A with `A @ dz` that `step_solver(A, F)`
    turns into a function mu -> dz, as `make_step_solver` does for a sparse one). Stops
    when an accepted step lowers the loss by at most `tol` of it or moves z by at most
    `tol` of max|z| (converged), when no damping finds a lower loss (a minimum to
    roundoff: converged), or after `max_steps` linearisations (not converged).
    Observers get {"iteration", "loss", "damping"} at the start and after each step."""
    clock = Stopwatch.of(_STAGES)
    z = np.asarray(z0, dtype=np.float64)
    with clock.timed("evaluate"):
        F = evaluate(z)
    loss = float(F @ F)
    _check_finite(loss, "at the start")
    history, factorizations, mu, nu = [loss], 0, _MU0, 2.0
    _notify(observers, 0, loss, mu)
    for k in range(1, max_steps + 1):
        with clock.timed("jacobian"):
            F, A = linearize(z)
        step = (step_solver or make_step_solver)(A, F)
        while True:
            with clock.timed("factor"):
                dz = step(mu)
            factorizations += 1
            trial = z + dz
            with clock.timed("evaluate"):
                F_trial = evaluate(trial)
            with np.errstate(over="ignore", invalid="ignore"):   # a blown-up trial
                trial_loss = float(F_trial @ F_trial)
            predicted = loss - float(np.sum(np.square(F + A @ dz)))
            if np.isfinite(trial_loss) and trial_loss < loss and predicted > 0:
                rho = (loss - trial_loss) / predicted
                mu *= max(_SHRINK, 1.0 - (2.0 * rho - 1.0) ** 3)
                nu = 2.0
                break
            mu *= nu
            nu *= 2.0
            if mu > _MU_MAX:
                return _result(z, history, k, factorizations, True,
                               "no step lowers the loss (a minimum to roundoff)", clock)
        decrease = loss - trial_loss
        z, loss = trial, trial_loss
        history.append(loss)
        _notify(observers, k, loss, mu)
        if decrease <= tol * history[-2]:
            return _result(z, history, k, factorizations, True,
                           f"relative loss decrease below {tol:g}", clock)
        if np.max(np.abs(dz)) <= tol * max(float(np.max(np.abs(z))), 1e-300):
            return _result(z, history, k, factorizations, True,
                           f"relative step below {tol:g}", clock)
    return _result(z, history, max_steps, factorizations, False,
                   f"stopped after {max_steps} steps", clock)


def _result(z, history, iterations, factorizations, converged, reason, clock):
    return LeastSquaresResult(z, history[-1], tuple(history), iterations, factorizations,
                              converged, reason, dict(clock.timings))


def _notify(observers, k: int, loss: float, mu: float) -> None:
    for observe in observers:
        observe({"iteration": k, "loss": loss, "damping": mu})


def _check_finite(loss: float, where: str) -> None:
    if not np.isfinite(loss):
        raise SolveError(f"the loss is not finite {where} ({loss})", span=_SPAN,
                         hint="check the first guesses of the unknown parameters and the data")
