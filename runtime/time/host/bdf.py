"""Variable-order BDF (orders 1-5) for stiff method-of-lines systems and index-1 DAEs,
driven from the host with a sparse Jacobian and a sparse LU.

The system is `M dy/dt = f(t, y)` with M diagonal: 1 on the differential unknowns, 0 on the
algebraic ones (the rows of equations without a time derivative, whose f is their residual),
so an index-1 differential-algebraic system is integrated as it stands, as MATLAB's ode15s
and SUNDIALS' IDA do.

The method is the quasi-constant step size BDF of Shampine and Reichelt (the MATLAB ODE
suite, 1997) in the modified-divided-difference form SciPy's `BDF` uses: a step size change
rescales the difference array D, the predictor is the sum of D, the corrector solves

    M (d + psi) = c f(t_new, y_pred + d),    c = h / alpha_k,

by a simplified Newton iteration with the matrix M - c J. The order and step are chosen
from the error estimates of orders k-1, k and k+1 after k+1 equal steps.

Where this differs from SciPy, it follows CVODE (Hindmarsh et al., 2005), because on a grid
the LU of M - c J is the dominant cost: the Jacobian is computed only when Newton fails to
converge with the current one (or after `JACOBIAN_AGE` steps); the LU is kept while
c stays within `LU_BAND` of the c it was factorised at, with the correction scaled by
2 / (1 + c / c_lu) (CVODE's gamma-ratio correction: the simplified Newton iteration then
contracts by |r - 1| / (r + 1) at worst, r = c / c_lu, both for stiff and non-stiff modes,
so a band of 0.6 keeps it below 0.43 (0.23 where the step grew); CVODE's 0.3, with a new
Jacobian every 50 steps, refactorised the 128^2 Brusselator's matrix 76 times where this
does 64); and a proposed step increase below 1.5x is not taken (CVODE's fixed-step band),
which keeps D and the LU unchanged. The Newton iteration's convergence test is CVODE's too
(`common.kept_rate_newton`): the contraction rate is kept with the LU, so a step whose
first correction is small enough ends after one solve, and the iteration stops when the
correction's contribution to the error estimate is below NEWTON_COEF (a tenth of CVODE's
nlscoef: on the 2-D Brusselator the errors then stay at SciPy's, with 1.8 solves a step
where SciPy's test, a correction below min(0.03, sqrt(rtol)) after at least two, took 2.5).
Output times are not stepped onto: values there come from the BDF interpolating
polynomial, of the method's order.

The Jacobian comes from the stencil colouring (`runtime.algebra.sparse_jacobian`) and the
LU from `runtime.algebra.sparse_lu` (MKL PARDISO where installed, which reuses its analysis
of the pattern, else SciPy's SuperLU): no sparse direct solver runs in JAX on the CPU. The
right-hand side and the Jacobian's jvps run jitted on the device.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from runtime.algebra.border import Border
from runtime.algebra.sparse_jacobian import Sparsity
from runtime.algebra.sparse_lu import factorizer

from ..base import Rhs
from ..loop import Trajectory, output_times
from ..pytree import PyTree
from .common import (
    NEWTON_MAXITER,
    NewtonMatrix,
    first_step,
    host_failure,
    host_stats,
    kept_rate_newton,
    mass_system,
    stack_outputs,
    weighted_norm,
)

Observer = Callable[[float, PyTree, object], object]

MAX_ORDER = 5
MIN_FACTOR, MAX_FACTOR = 0.2, 10.0
KEEP_BAND = 1.5        # a proposed step increase below this factor is not taken (CVODE)
LU_BAND = 0.6          # the LU is kept while |c / c_lu - 1| stays below this
JACOBIAN_AGE = 200     # steps after which the Jacobian is recomputed anyway
NEWTON_COEF = 0.01     # Newton stops when its correction's share of the error estimate
                       # is below this (CVODE's nlscoef is 0.1)

# The NDF's kappa would gain stability for orders 1-4 (Shampine and Reichelt); CVODE's plain
# BDF is used here (kappa = 0), whose error constants are the textbook ones.
_GAMMA = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, MAX_ORDER + 1))])
_ALPHA = _GAMMA.copy()
_ERROR_CONST = 1.0 / np.arange(1, MAX_ORDER + 2)


def _scaled_steps(order: int, factor: float) -> np.ndarray:
    """The matrix that rescales the first order+1 differences to step size factor * h."""
    i = np.arange(1, order + 1)[:, None]
    j = np.arange(1, order + 1)
    M = np.zeros((order + 1, order + 1))
    M[1:, 1:] = (i - 1 - factor * j) / i
    M[0] = 1
    return np.cumprod(M, axis=0)


def change_step(D: np.ndarray, order: int, factor: float) -> None:
    """Rescale the difference array D in place for a step size changed by `factor`."""
    RU = _scaled_steps(order, factor) @ _scaled_steps(order, 1.0)
    D[:order + 1] = RU.T @ D[:order + 1]


def interpolate(D: np.ndarray, order: int, t_now: float, h: float, t: float) -> np.ndarray:
    """The BDF polynomial through the last order+1 solution values, at t."""
    shifts = t_now - h * np.arange(order)
    p = np.cumprod((t - shifts) / (h * (1 + np.arange(order))))
    return D[0] + p @ D[1:order + 1]


def integrate_bdf(
    rhs: Rhs, U0: PyTree, t_eval: Sequence[float] | np.ndarray, sparsity: Sparsity, *,
    mass: PyTree | None = None, rtol: float = 1e-6, atol: float = 1e-8,
    max_steps: int = 100_000, observers: Sequence[Observer] = (), report: dict | None = None,
    linear_solver: str = "auto", border: Border | None = None, border_params: object = None,
) -> Trajectory:
    """Integrate `M dU/dt = rhs(t, U, {})` from U0 at t_eval[0], saving every t_eval.

    `mass`: like U0, 1 where the entry has a time derivative and 0 on algebraic entries
    (None: all 1, an ODE system); U0's algebraic entries are a first guess, replaced by
    values that satisfy their equations (`runtime.time.host.dae.consistent_start`). `border`:
    scalar conditions with a Lagrange multiplier each (`runtime.algebra.border`: an
    algebraic field fixed up to a constant), evaluated with `border_params`. Error
    control by the weighted RMS norm with weights `atol + rtol * |y|`. Raises SolveError
    when the solution turns NaN/Inf, the step collapses or `max_steps` steps are spent; its
    `trajectory` holds the outputs so far. `linear_solver`: the sparse LU backend
    (`runtime.algebra.sparse_lu`: auto, superlu, pardiso). `report`, when given, receives
    the counts of steps, rejected steps, Newton iterations, Jacobians and LU factorisations.
    """
    start = time.perf_counter()
    times = output_times(t_eval)
    t, t_end = float(times[0]), float(times[-1])
    system = mass_system(rhs, U0, t, sparsity, mass, border, border_params, rtol, atol)
    f, M, y, unravel = system.f, system.mass, system.y0, system.unravel
    counts = report if report is not None else {}
    counts.update({"steps": 0, "rejected": 0, "newton": 0, "jacobians": 0, "lus": 0})
    matrix = NewtonMatrix(system, factorizer(linear_solver, y.size), counts, LU_BAND,
                          JACOBIAN_AGE)
    f0 = f(t, y)
    h = first_step(lambda s, v: M * f(s, v), t, y, M * f0, rtol, atol, 1, t_end - t)
    D = np.zeros((MAX_ORDER + 3, y.size))
    D[0], D[1] = y, h * M * f0
    order, equal_steps = 1, 0
    matrix.refresh(t, y)
    outputs, next_out = [unravel(y)], 1
    dt_min, dt_max = math.inf, 0.0

    def fail(message: str, detail: str = "") -> Exception:
        return host_failure("bdf", f"{message} at t = {t:.6g}{detail}", times[:len(outputs)],
                            outputs, counts["steps"])

    while next_out < len(times):
        if counts["steps"] + counts["rejected"] >= max_steps:
            raise fail(f"bdf used up max_steps = {max_steps} steps")
        min_step = 10 * np.finfo(float).eps * max(abs(t), 1.0)
        if t + h >= t_end - min_step:             # the last step ends on t_end exactly
            change_step(D, order, (t_end - t) / h)
            h, equal_steps = t_end - t, 0
        accepted = False
        while not accepted:
            if h < min_step:
                raise fail(f"bdf's step size collapsed to {h:.3g}", matrix.describe_failure())
            # the step clipped to t_end lands there exactly (t + h may round below it)
            t_new = t_end if h >= t_end - t - min_step else t + h
            y_predict = D[:order + 1].sum(axis=0)
            scale = atol + rtol * np.abs(y_predict)
            psi = (_GAMMA[1:order + 1] @ D[1:order + 1]) / _ALPHA[order]
            c = h / _ALPHA[order]
            while True:
                if matrix.prepare(c, t_new):
                    converged, iters, y_new, d = kept_rate_newton(
                        f, M, t_new, y_predict, c, M * psi, matrix, scale,
                        NEWTON_COEF / _ERROR_CONST[order])
                else:
                    converged, iters = False, 0
                counts["newton"] += iters
                if converged or matrix.fresh:
                    break
                matrix.refresh(t_new, y_predict)
            if not converged:
                counts["rejected"] += 1
                change_step(D, order, 0.5)
                h, equal_steps = h * 0.5, 0
                continue
            safety = 0.9 * (2 * NEWTON_MAXITER + 1) / (2 * NEWTON_MAXITER + iters)
            scale = atol + rtol * np.abs(y_new)
            error_norm = weighted_norm(_ERROR_CONST[order] * d / scale)
            if error_norm > 1:
                counts["rejected"] += 1
                factor = max(MIN_FACTOR, safety * error_norm ** (-1 / (order + 1)))
                change_step(D, order, factor)
                h, equal_steps = h * factor, 0
            else:
                accepted = True
        counts["steps"] += 1
        equal_steps += 1
        dt_min, dt_max = min(dt_min, h), max(dt_max, h)
        t, y = t_new, y_new
        D[order + 2] = d - D[order + 1]
        D[order + 1] = d
        for i in reversed(range(order + 1)):
            D[i] += D[i + 1]
        while next_out < len(times) and times[next_out] <= t:
            value = y if times[next_out] == t else interpolate(D, order, t, h,
                                                               float(times[next_out]))
            outputs.append(unravel(value))
            stats = host_stats("bdf", counts["steps"], counts["rejected"], h, dt_min,
                               dt_max, start, counts["newton"])
            for observe in observers:
                observe(float(times[next_out]), outputs[-1], stats)
            next_out += 1
        if not np.all(np.isfinite(y)):
            raise fail("the solution turned NaN or Inf")
        matrix.step_taken(t, y)
        if equal_steps < order + 1:
            continue
        order, factor = _next_order(D, order, error_norm, scale, safety)
        if 1.0 <= factor < KEEP_BAND:
            factor = 1.0
        change_step(D, order, factor)
        h, equal_steps = h * factor, 0

    stats = host_stats("bdf", counts["steps"], counts["rejected"], h, dt_min, dt_max, start,
                       counts["newton"])
    return Trajectory(t=times, U=stack_outputs(outputs), stats=stats)


def _next_order(D: np.ndarray, order: int, error_norm: float, scale: np.ndarray,
                safety: float) -> tuple[int, float]:
    """The order (k-1, k or k+1) whose error estimate allows the largest next step, and that
    step's factor."""
    below = (weighted_norm(_ERROR_CONST[order - 1] * D[order] / scale) if order > 1 else math.inf)
    above = (weighted_norm(_ERROR_CONST[order + 1] * D[order + 2] / scale) if order < MAX_ORDER
             else math.inf)
    norms = np.array([below, error_norm, above])
    with np.errstate(divide="ignore"):
        factors = norms ** (-1.0 / np.arange(order, order + 3))
    change = int(np.argmax(factors)) - 1
    return order + change, min(MAX_FACTOR, safety * float(np.max(factors)))
