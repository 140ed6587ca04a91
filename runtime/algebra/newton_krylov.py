"""Newton-Krylov for nonlinear steady fd programs, preconditioned by the generated multigrid.

Each Newton step solves J(u) du = -R(u) by GMRES (`jax.scipy.sparse.linalg.gmres`) to a
relative tolerance LINEAR_TOL (inexact Newton: the outer iteration sets the accuracy), with
one V-cycle of `runtime.algebra.multigrid` as the right preconditioner: every level's operator is
the residual's Jacobian at the iterate, injected to that level's grid, so the cycle follows
the nonlinearity. A backtracking line search on the RMS residual keeps each step a descent.
The step is one jitted program (Jacobians by `jax.linearize`, no matrix assembled), run on
the device; the Newton loop itself is on the host, a few numbers per step.

Stops at Newton's target (`tol` times the initial residual, or `atol`), converged; at
roundoff when the line search cannot lower a residual within ROUNDOFF_ULPS ulps of the
rows, converged; otherwise (no descent, `max_iter` steps, NaN) not converged, with why.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from compiler.fd import FDProgram

from ..reuse import Remembered
from .multigrid import (
    Operator,
    Outcome,
    fixed_rows,
    flatten,
    inject,
    level_parameters,
    rms,
    roundoff,
    unflatten,
    v_cycle,
)

LINEAR_TOL = 1e-3        # GMRES's relative residual each Newton step
RESTART = 20             # GMRES's Krylov space
RESTARTS = 5             # and its restarts
HALVINGS = 8             # the line search's tries: steps 1, 1/2, ... 1/128
SUFFICIENT = 1e-4        # Armijo: the residual falls at least this fraction of the step


def solve_newton_krylov(levels: tuple[FDProgram, ...], params: Mapping[str, jax.Array],
                        tol: float, atol: float, max_iter: int) -> Outcome:
    """Solve the finest level's nonlinear `residual(U, params) = 0` (see the module
    docstring); `params`: the finest program's, unprepared."""
    start, norm, direction = _programs(levels)
    level_params = level_parameters(levels, params)
    u, initial = start(level_params)
    target = max(tol * float(initial), atol)
    history = [float(norm(level_params, u))]
    linear = []                      # GMRES's relative residual each step
    reason = None
    for _ in range(max_iter):
        if history[-1] <= target or not np.isfinite(history[-1]):
            break
        step, achieved, floor = direction(level_params, u)
        linear.append(float(achieved))
        accepted = None
        for k in range(HALVINGS):
            trial = u + 0.5**k * step
            residual = float(norm(level_params, trial))
            if residual <= (1 - SUFFICIENT * 0.5**k) * history[-1]:
                accepted = trial, residual
                break
        if accepted is None:
            if history[-1] <= float(floor):
                reason = (f"Newton-Krylov: residual {history[-1]:.3e} at roundoff "
                          f"({float(floor):.3e}; target {target:.3e})")
            else:
                reason = "no step along the Newton direction lowered the residual"
            break
        u, residual = accepted
        history.append(residual)
    U = unflatten(levels[0], u)
    history = np.asarray(history)
    steps = len(history) - 1
    where = (f"after {steps} Newton steps (GMRES to a relative residual of at most "
             f"{max(linear, default=0.0):.1e})")
    if history[-1] <= target:
        return Outcome(U, history, steps, True,
                       f"Newton-Krylov: residual {history[-1]:.3e} at or below the target "
                       f"{target:.3e} {where}", target)
    if reason is not None and "at roundoff" in reason:
        return Outcome(U, history, steps, True, f"{reason} {where}", target)
    why = reason or ("the residual became NaN or Inf" if not np.isfinite(history[-1])
                     else f"{max_iter} Newton steps (max_iter) did not reach it")
    return Outcome(U, history, steps, False,
                   f"Newton-Krylov stopped at residual {history[-1]:.3e} (target "
                   f"{target:.3e}): {why} {where}", target)


_PROGRAMS = Remembered(4)


def _programs(levels: tuple[FDProgram, ...]):
    """The jitted start, residual norm and Newton direction for these levels (kept: a
    repeated solve with new parameter values reuses their compilations)."""
    def make():
        return (jax.jit(partial(_start, levels)), jax.jit(partial(_norm, levels)),
                jax.jit(partial(_direction, levels)))

    return _PROGRAMS.get((id(levels[0]), len(levels)), lambda: (levels, make()))[1]


def _residual(levels, level_params, u) -> jax.Array:
    program = levels[0]
    R = program.residual(unflatten(program, u), program.prepare(level_params[0]))
    return flatten(program, R)


def _start(levels, level_params):
    """The initial guess with its Dirichlet rows solved, and the residual before that."""
    program = levels[0]
    prepared = program.prepare(level_params[0])
    u = flatten(program, program.initial(prepared))
    r = _residual(levels, level_params, u)
    return u - fixed_rows(Operator.make(program, prepared, u)) * r, rms(r)


def _norm(levels, level_params, u):
    return rms(_residual(levels, level_params, u))


def _direction(levels, level_params, u):
    """GMRES on J(u) du = -R(u), one V-cycle per preconditioning; (du, the relative
    residual GMRES reached, the roundoff level of the residual at u)."""
    states = [u]
    ops = [Operator.make(levels[0], levels[0].prepare(level_params[0]), u)]
    for program, p in zip(levels[1:], level_params[1:]):
        coarse = inject(ops[-1], states[-1], program)
        states.append(coarse)
        ops.append(Operator.make(program, program.prepare(p), coarse))
    fine = ops[0]
    r = fine.residual_flat(u)
    coarse_lu = jax.scipy.linalg.lu_factor(ops[-1].dense())

    def precondition(v):
        return v_cycle(ops, coarse_lu, 0, jnp.zeros_like(v), v)

    # right-preconditioned (J M y = -R, du = M y), so that GMRES's tolerance is on the true
    # residual: jax's M= preconditions from the left and measures M's residual against
    # tol |R|, which a V-cycle (~h^2 times smaller) meets at once on fine grids
    y, _ = jax.scipy.sparse.linalg.gmres(lambda v: fine.apply(precondition(v)), -r,
                                         tol=LINEAR_TOL, restart=RESTART, maxiter=RESTARTS,
                                         solve_method="batched")
    step = precondition(y)
    achieved = rms(fine.apply(step) + r) / jnp.maximum(rms(r), jnp.finfo(r.dtype).tiny)
    return step, achieved, roundoff(fine, u)
