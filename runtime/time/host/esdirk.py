"""ESDIRK with error control for stiff method-of-lines systems and index-1 DAEs, driven
from the host with a sparse Jacobian and a sparse LU: Kennedy and Carpenter's ESDIRK4(3)6L
(the implicit half of their ARK4(3)6L[2]SA, "KenCarp4" in DifferentialEquations.jl and
diffrax): six stages, the first explicit, the others with one diagonal gamma = 1/4,
order 4 with an embedded order 3, L-stable and stiffly accurate.

Every implicit stage solves

    M (Z_i - y) = h sum_{j<i} a_ij F_j + h gamma f(t + c_i h, Z_i),   F_j = f(t_j, Z_j),

by the simplified Newton iteration of BDF (`common.simplified_newton`) with the matrix
M - h gamma J: one matrix for all stages, kept over steps while h gamma stays in its band
and the Jacobian while Newton converges with it (`common.NewtonMatrix`). The stage
derivative is taken from the stage equation, F_i = (M (Z_i - y) - h sum a_ij F_j) /
(h gamma), not from another call of f (Hairer and Wanner's advice for stiff problems: it
does not amplify the Newton error). Stiffly accurate: y_new = Z_6. The error estimate is
h sum (b_j - bhat_j) F_j on the differential unknowns. Shampine's filtered estimate
(M - h gamma J)^-1 M of it is used only on a DAE's algebraic unknowns, where the raw one
is zero: on stiff ODEs it damps the stiff components so much that the steps grow past the
tolerance (Prothero-Robinson at rtol 1e-6: error 5.8e-6 filtered, 6.7e-8 raw), since
the method's stage order is 2. Steps land on the output times.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from runtime.algebra.border import Border
from runtime.algebra.sparse_jacobian import Sparsity
from runtime.algebra.sparse_lu import factorizer

from ..base import Rhs
from ..loop import Trajectory, output_times
from ..pytree import PyTree
from .common import (
    NewtonMatrix,
    first_step,
    host_failure,
    host_stats,
    mass_system,
    newton_tolerance,
    simplified_newton,
    stack_outputs,
    weighted_norm,
)

Observer = Callable[[float, PyTree, object], object]

SAFETY, MIN_FACTOR, MAX_FACTOR = 0.9, 0.2, 5.0
KEEP_BAND = 1.2        # a proposed step increase below this factor is not taken
LU_BAND = 0.6
JACOBIAN_AGE = 200
NEWTON_ITER = 7        # a stage's predictor is rougher than BDF's: more iterations allowed


@dataclass(frozen=True)
class ESDIRKTableau:
    """An explicit-first-stage SDIRK: `a` lower triangular with the diagonal `gamma` from
    the second row on (a[0] is all zero), `b` (= the last row: stiffly accurate), the
    embedded `b_hat`, stage times `c`, the order of `b` and of `b_hat`."""

    name: str
    gamma: float
    a: tuple[tuple[float, ...], ...]
    b_hat: tuple[float, ...]
    c: tuple[float, ...]
    order: int
    embedded_order: int
    explicit: tuple[tuple[float, ...], ...] | None = None   # an ARK's explicit rows

    @property
    def stages(self) -> int:
        return len(self.c)

    @property
    def b(self) -> tuple[float, ...]:
        return self.a[-1]


_G = 0.25
KENCARP4 = ESDIRKTableau(
    name="kencarp4",
    gamma=_G,
    a=((0.0,) * 6,
       (_G, _G, 0, 0, 0, 0),
       (8611 / 62500, -1743 / 31250, _G, 0, 0, 0),
       (5012029 / 34652500, -654441 / 2922500, 174375 / 388108, _G, 0, 0),
       (15267082809 / 155376265600, -71443401 / 120774400, 730878875 / 902184768,
        2285395 / 8070912, _G, 0),
       (82889 / 524892, 0, 15625 / 83664, 69875 / 102672, -2260 / 8211, _G)),
    b_hat=(4586570599 / 29645900160, 0, 178811875 / 945068544, 814220225 / 1159782912,
           -3700637 / 11593932, 61727 / 225920),
    c=(0.0, 0.5, 83 / 250, 31 / 50, 17 / 20, 1.0),
    order=4,
    embedded_order=3,
    explicit=((0.0,) * 6,
              (0.5, 0, 0, 0, 0, 0),
              (13861 / 62500, 6889 / 62500, 0, 0, 0, 0),
              (-116923316275 / 2393684061468, -2731218467317 / 15368042101831,
               9408046702089 / 11113171139209, 0, 0, 0),
              (-451086348788 / 2902428689909, -2682348792572 / 7519795681897,
               12662868775082 / 11960479115383, 3355817975965 / 11060851509271, 0, 0),
              (647845179188 / 3216320057751, 73281519250 / 8382639484533,
               552539513391 / 3454668386233, 3354512671639 / 8306763924573, 4040 / 17871,
               0)),
)


def integrate_esdirk(
    rhs: Rhs, U0: PyTree, t_eval: Sequence[float] | np.ndarray, sparsity: Sparsity, *,
    mass: PyTree | None = None, rtol: float = 1e-6, atol: float = 1e-8,
    max_steps: int = 100_000, observers: Sequence[Observer] = (), report: dict | None = None,
    linear_solver: str = "auto", border: Border | None = None, border_params: object = None,
    tableau: ESDIRKTableau = KENCARP4, explicit: Rhs | None = None,
) -> Trajectory:
    """Integrate `M dU/dt = rhs(t, U, {})` from U0 at t_eval[0], saving every t_eval; the
    arguments are those of `runtime.time.host.bdf.integrate_bdf`. With `explicit`, the
    system is dU/dt = rhs + explicit, `rhs` stepped implicitly and `explicit` by the
    tableau's explicit rows (IMEX: Kennedy and Carpenter's additive Runge-Kutta; an ODE
    system, M = I)."""
    if explicit is not None and (tableau.explicit is None or mass is not None):
        raise ValueError("IMEX needs an additive tableau and an ODE system")
    start = time.perf_counter()
    times = output_times(t_eval)
    t, t_end = float(times[0]), float(times[-1])
    system = mass_system(rhs, U0, t, sparsity, mass, border, border_params, rtol, atol)
    f, M, y, unravel = system.f, system.mass, system.y0, system.unravel
    f_explicit = None if explicit is None else system.flatten(explicit)
    counts = report if report is not None else {}
    counts.update({"steps": 0, "rejected": 0, "newton": 0, "jacobians": 0, "lus": 0})
    matrix = NewtonMatrix(system, factorizer(linear_solver, y.size), counts, LU_BAND,
                          JACOBIAN_AGE)
    matrix.refresh(t, y)
    tol = newton_tolerance(rtol)
    f_y = f(t, y)
    total = f if f_explicit is None else (lambda s, v: f(s, v) + f_explicit(s, v))
    h = first_step(lambda s, v: M * total(s, v), t, y, M * total(t, y), rtol, atol,
                   tableau.order, t_end - t)
    outputs = [unravel(y)]
    dt_min, dt_max = math.inf, 0.0
    name = tableau.name
    err_bound = np.array(tableau.b) - np.array(tableau.b_hat)
    algebraic = (M == 0) if np.any(M == 0) else None

    def fail(message: str, at: float, detail: str = "") -> Exception:
        return host_failure(name, f"{message} at t = {at:.6g}{detail}", times[:len(outputs)],
                            outputs, counts["steps"])

    for i in range(1, len(times)):
        t_to = float(times[i])
        while t < t_to:
            if counts["steps"] + counts["rejected"] >= max_steps:
                raise fail(f"{name} used up max_steps = {max_steps} steps", t)
            if h < 10 * np.finfo(float).eps * max(abs(t), 1.0):
                raise fail(f"{name}'s step size collapsed to {h:.3g}", t,
                           matrix.describe_failure())
            lands = h >= t_to - t
            step = t_to - t if lands else h
            stages = _stages(tableau, f, f_explicit, M, t, y, f_y, step, matrix, atol, rtol,
                             tol, counts)
            if stages is None:                          # Newton failed with a fresh J
                counts["rejected"] += 1
                h = step * 0.25
                continue
            y_new, F = stages
            scale = atol + rtol * np.maximum(np.abs(y), np.abs(y_new))
            raw = step * np.tensordot(err_bound, F, axes=1)
            error = raw if algebraic is None or matrix.lu is None else np.where(
                algebraic, matrix.solve(M * raw, step * tableau.gamma), raw)
            err = weighted_norm(error / scale)
            err = err if math.isfinite(err) and np.all(np.isfinite(y_new)) else math.inf
            factor = SAFETY * err ** (-1 / (tableau.embedded_order + 1)) if err > 0 \
                else MAX_FACTOR
            if err > 1:
                counts["rejected"] += 1
                h = step * max(MIN_FACTOR, min(factor, 0.9))
                continue
            counts["steps"] += 1
            dt_min, dt_max = min(dt_min, step), max(dt_max, step)
            t = t_to if lands else t + step
            y = y_new
            f_y = F[-1] if f_explicit is None else f(t, y)    # IMEX: y_new is not Z_s
            matrix.step_taken(t, y)
            factor = min(MAX_FACTOR, factor)
            if 1.0 <= factor < KEEP_BAND:
                factor = 1.0
            h_next = step * factor
            h = max(h_next, h) if lands else h_next
        outputs.append(unravel(y))
        stats = host_stats(name, counts["steps"], counts["rejected"], h, dt_min, dt_max,
                           start, counts["newton"])
        for observe in observers:
            observe(t_to, outputs[-1], stats)
    stats = host_stats(name, counts["steps"], counts["rejected"], h, dt_min, dt_max, start,
                       counts["newton"])
    return Trajectory(t=times, U=stack_outputs(outputs), stats=stats)


def _stages(tab: ESDIRKTableau, f, f_explicit, M: np.ndarray, t: float, y: np.ndarray,
            f_y: np.ndarray, h: float, matrix: NewtonMatrix, atol: float, rtol: float,
            tol: float, counts: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """The stages of one step: (y_new, the stage derivatives F stacked, both parts' where
    IMEX), or None when a stage's Newton iteration fails even with a fresh Jacobian.
    Implicit only, y_new is the last stage (stiffly accurate); IMEX, y + h sum b_j F_j."""
    c = h * tab.gamma
    F = np.empty((tab.stages, y.size))                       # the implicit part's
    E = None if f_explicit is None else np.empty((tab.stages, y.size))
    F[0] = f_y
    if E is not None:
        E[0] = f_explicit(t, y)
    Z = y
    for i in range(1, tab.stages):
        known = h * np.tensordot(np.array(tab.a[i][:i]), F[:i], axes=1)
        if E is not None:
            known = known + h * np.tensordot(np.array(tab.explicit[i][:i]), E[:i], axes=1)
        # predictor: the line from y through the last stage, to this stage's time
        start = y + (tab.c[i] / tab.c[i - 1]) * (Z - y) if tab.c[i - 1] > 0 else Z
        scale = atol + rtol * np.abs(start)
        q = M * (start - y) - known
        while True:
            if matrix.prepare(c, t):
                converged, iters, Z, d = simplified_newton(f, M, t + tab.c[i] * h, start, c,
                                                           q, matrix, scale, tol, NEWTON_ITER)
            else:
                converged, iters = False, 0
            counts["newton"] += iters
            if converged or matrix.fresh:
                break
            matrix.refresh(t + tab.c[i] * h, start)
        if not converged:
            return None
        F[i] = (M * (Z - y) - known) / c
        if E is not None:
            E[i] = f_explicit(t + tab.c[i] * h, Z)
    if E is None:
        return Z, F
    F = F + E
    return y + h * np.tensordot(np.array(tab.b), F, axes=1), F
