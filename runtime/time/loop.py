"""The time loop: many integrator steps per jitted chunk, observers in Python between chunks.

`integrate` runs one chunk per output interval (jax-cfd's `repeated`/`trajectory`): fixed-
step schemes take `n = ceil(interval / dt)` steps of `interval / n` in a `lax.fori_loop`,
adaptive ones a `lax.while_loop` that lands on the output time. The chunk functions are jitted once
per integrator, right-hand side and state shapes, and reused for every interval. Between
chunks, on the host: a NaN/Inf check (the reduction is computed inside the chunk), solver
failure checks, then the observers (py-pde's trackers).

With a `Placement` (runtime.parallel.sharding) the state is split over a device mesh: between chunks
it is stored padded to equal blocks per device, and each chunk cuts it back to its nodes
first and pads it again last, so the steps themselves are those of a one-device run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import OptionError, SolveError
from ..observe.checkpoint import Checkpointing
from ..parallel.sharding import Placement
from .base import AbstractIntegrator, Counters, Options, Rhs, State, float_dtype
from .integrators import get_integrator
from .pytree import PyTree, all_finite
from .stability import check_dt, has_limit, spectral_radius, stable_dt

MIN_STEPS = 100  # automatic explicit dt: at least this many steps over the whole span
IMPLICIT_STEPS = 200  # automatic sdirk2 dt: the span in this many steps


@dataclass(frozen=True)
class Stats:
    """What the integration did so far. `dt`: the nominal step of a fixed-step scheme (each
    interval is cut into equal steps no larger), the current proposal of an adaptive one;
    `dt_min`, `dt_max`: over accepted steps; `spectral_radius`: the Jacobian estimate at U0
    behind an explicit scheme's dt (None when not estimated)."""

    method: str
    steps: int
    rejected: int
    dt: float
    dt_min: float
    dt_max: float
    newton_iters: int
    wall_time: float
    spectral_radius: float | None = None


@dataclass(frozen=True)
class Trajectory:
    """The solution at the output times: `U` has the structure of U0 with a leading time axis
    (one entry per time in `t`, the first being U0)."""

    t: np.ndarray
    U: PyTree
    stats: Stats


Observer = Callable[[float, PyTree, Stats], Any]


def integrate(
    rhs: Rhs,
    U0: PyTree,
    params: PyTree,
    t_eval: Sequence[float] | np.ndarray,
    *,
    method: str = "rk4",
    dt: float | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    max_steps: int = 100_000,
    newton_max_iter: int = 10,
    krylov_tol: float = 1e-6,
    observers: Sequence[Observer] = (),
    key: jax.Array | None = None,
    checkpoint: Checkpointing | None = None,
    placement: Placement | None = None,
    precondition: Any = None,
) -> Trajectory:
    """Integrate `dU/dt = rhs(t, U, params)` from `U0` at `t_eval[0]`, saving every `t_eval`.

    `rhs` must be pure and jittable; `U0` and `params` are pytrees of arrays (`params` is
    passed through unchanged). `method`: "rk4", "ssprk3", "dopri5", "sdirk2" or "leapfrog"
    (states of (u, u_t) pairs). `dt`: the fixed step (rk4, ssprk3, sdirk2, leapfrog) or the
    first trial step (dopri5); None chooses one:
    explicit schemes 0.9 x their stability limit for the spectral radius of the Jacobian at
    U0 (power iteration seeded by `key`), at most span / 100; sdirk2 span / 200; dopri5 its
    controller. A dt given to an explicit scheme is checked against its stability limit.
    Each output interval is cut into equal steps no larger than dt. `rtol`, `atol`: dopri5's
    error tolerances and sdirk2's Newton tolerance. `observers` are called as
    `observer(t, U, stats)` after each output interval.

    With `checkpoint`, the integrator state and the outputs so far are saved at every
    `checkpoint.every`-th output time, and after the current interval when a signal tripped
    its latch (then `Interrupted` is raised); `checkpoint.resume` goes on from the saved
    output time with the saved state, to the same result as an uninterrupted run.

    `precondition` (sdirk2 only): (t, U, h) -> v -> ~(I - h J)^-1 v, the preconditioner of
    its Newton-Krylov stage solves (`runtime.algebra.multigrid.stage_preconditioner`).

    With `placement`, the state is split over its device mesh (U0 may be an unsplit
    array, the same on every process) and the trajectory's arrays come back as stored:
    split and padded (`placement.gather` gives them whole).

    Raises SolveError when the solution turns NaN/Inf, a Newton solve fails, dopri5 exceeds
    `max_steps` or its step collapses; the error's `trajectory` attribute holds the outputs
    up to the last good one.
    """
    start = time.perf_counter()
    integrator = get_integrator(method)
    if precondition is not None:
        if not hasattr(integrator, "precondition"):
            raise OptionError(f"{method} solves no linear systems to precondition")
        integrator = replace(integrator, precondition=precondition)
    times = output_times(t_eval)
    U0 = _as_arrays(U0)
    check_tolerances(rtol, atol, max_steps, newton_max_iter, krylov_tol)
    key = jax.random.PRNGKey(0) if key is None else key
    integrator.check(rhs, jnp.asarray(times[0], float_dtype()), U0, params)
    dt, radius = choose_dt(integrator, rhs, times, U0, params, dt, key)
    options = Options(dt=dt, rtol=rtol, atol=atol, krylov_tol=krylov_tol,
                      max_steps=max_steps, newton_max_iter=newton_max_iter)
    state = _start(integrator, rhs, placement, jnp.asarray(times[0], float_dtype()), U0,
                   params, options)
    counts = None if integrator.adaptive else step_counts(times, dt)
    steps = None if counts is None else chunk_steps(times, counts)

    outputs = [U0 if placement is None else placement.put(U0)]
    if checkpoint is not None and checkpoint.resume:
        state, outputs = _resume(checkpoint, state, outputs[0], len(times))
    for i in range(len(outputs), len(times)):
        t_from, t_to = float(times[i - 1]), float(times[i])
        n, step = (None, None) if counts is None else (counts[i - 1], steps[i - 1])
        state, U, finite = _advance(integrator, placement, state, t_to, n, step)
        counters, finite, t_now = jax.device_get((state.counters, finite, state.t))
        stats = _stats(integrator, options, counters, state, radius, start)
        failure = _diagnose(integrator, options, counters, bool(finite), float(t_now),
                            t_from, t_to, stats)
        if failure is not None:
            failure.trajectory = _trajectory(times[:i], outputs, stats)
            raise failure
        outputs.append(U)
        for observe in observers:
            observe(t_to, U, stats)
        if checkpoint is not None:
            _save(checkpoint, state, outputs, t_to, i == len(times) - 1)
    stats = _stats(integrator, options, jax.device_get(state.counters), state, radius, start)
    return _trajectory(times, outputs, stats)


@partial(jax.jit, static_argnums=(0, 1, 2))
def _start(integrator: AbstractIntegrator, rhs: Rhs, placement: Placement | None,
           t0: jax.Array, U0: PyTree, params: PyTree, options: Options) -> State:
    """The initial state, compiled (not op by op) and owning every buffer, each once: the
    chunks donate it, so it must share nothing with the caller's U0 or params, nor hold one
    buffer in two leaves."""
    state = jax.tree.map(jnp.copy, integrator.init(rhs, t0, U0, params, options))
    return _store(placement, state)


def _store(placement: Placement | None, state: State) -> State:
    return state if placement is None else placement.store(state)


def _load(placement: Placement | None, state: State) -> State:
    return state if placement is None else placement.load(state)


@partial(jax.jit, static_argnums=(0, 1, 4, 5), donate_argnums=(2,))
def _advance_fixed(integrator: AbstractIntegrator, placement: Placement | None, state: State,
                   t_to: jax.Array, n: int, dt: float) -> tuple[State, PyTree, jax.Array]:
    """`n` equal steps of `dt` to `t_to`. Both are static: the step is a constant of the
    compiled chunk (a traced dt kept XLA from folding it into the stencil coefficients and
    cost 1.9x on the 2-D heat benchmark), and a `lax.scan` of known length lets XLA update
    the state in place, where a `while_loop` of traced length copied it every step (about
    15% of a stencil step at 1024 x 1024). Equal output intervals, the usual case, share one
    compiled chunk (`chunk_steps`)."""
    state = _store(placement, fixed_steps(integrator, _load(placement, state), t_to, n, dt))
    return state, state.U, all_finite(state.U)


def fixed_steps(integrator: AbstractIntegrator, state: State, t_to: Any, n: Any,
                dt: Any) -> State:
    """`n` steps of `dt` landing on `t_to` exactly (t set to it, not n rounded steps);
    pure, for a compiled chunk or a vmapped member (`runtime.fd.ensemble`)."""
    step = jnp.asarray(dt, state.t.dtype)
    state = integrator.advance(replace(state, dt=step, t_stop=t_to), n, step)
    return replace(state, t=t_to)


def chunk_steps(times: np.ndarray, counts: list[int]) -> list[float]:
    """The step of each interval's equal steps. An interval whose step equals the one
    before to 1e-12 takes that step, so equal output intervals whose ends differ in the
    last bits share one compiled chunk (each chunk still ends on its output time exactly)."""
    steps: list[float] = []
    for span, n in zip(np.diff(times), counts):
        step = float(span) / n
        if steps and abs(step - steps[-1]) <= 1e-12 * steps[-1]:
            step = steps[-1]
        steps.append(step)
    return steps


@partial(jax.jit, static_argnums=(0, 1), donate_argnums=(2,))
def _advance_adaptive(integrator: AbstractIntegrator, placement: Placement | None,
                      state: State, t_to: jax.Array) -> tuple[State, PyTree, jax.Array]:
    """Steps until `t_to` (landed on exactly), `max_steps` attempts in all, or a step size
    too small to move t."""
    state = _store(placement, adaptive_steps(integrator, _load(placement, state), t_to))
    return state, state.U, all_finite(state.U)


def adaptive_steps(integrator: AbstractIntegrator, state: State, t_to: Any) -> State:
    """Adaptive steps until `t_to` (landed on exactly), `max_steps` attempts in all, or a
    step size too small to move t; pure, as `fixed_steps`."""
    state = replace(state, t_stop=t_to)

    def going(s: State) -> jax.Array:
        attempts = s.counters.steps + s.counters.rejected
        floor = 10 * jnp.finfo(s.t.dtype).eps * jnp.abs(s.t)
        return (s.t < t_to) & (attempts < s.options.max_steps) & (s.dt > floor)

    return jax.lax.while_loop(going, integrator.step, state)


def _advance(integrator: AbstractIntegrator, placement: Placement | None, state: State,
             t_to: float, n: int | None, dt: float | None) -> tuple[State, PyTree, jax.Array]:
    """One chunk to `t_to`: `n` fixed steps of `dt`, or adaptive steps when `n` is None."""
    end = jnp.asarray(t_to, float_dtype())
    if n is None:
        return _advance_adaptive(integrator, placement, state, end)
    return _advance_fixed(integrator, placement, state, end, int(n), dt)


def step_counts(times: np.ndarray, dt: float) -> list[int]:
    """Steps per output interval: the fewest of size at most dt (a step a hair above dt,
    from rounding, is not worth one more)."""
    counts = np.maximum(np.ceil(np.diff(times) / dt - 1e-9), 1)
    return [int(n) for n in counts]


def choose_dt(
    integrator: AbstractIntegrator, rhs: Rhs, times: np.ndarray, U0: PyTree, params: PyTree,
    dt: float | None, key: jax.Array,
) -> tuple[float | None, float | None]:
    """The step (None: dopri5's controller picks) and the spectral radius behind it."""
    if dt is not None:
        dt = _positive_number(dt)
    span = float(times[-1] - times[0]) if len(times) > 1 else 1.0
    if has_limit(integrator.name) and not integrator.adaptive:
        radius = spectral_radius(rhs, times[0], U0, params, key)
        if dt is None:
            return min(stable_dt(integrator.name, radius), span / MIN_STEPS), radius
        check_dt(integrator.name, dt, radius)
        return dt, radius
    if dt is None and not integrator.adaptive:
        return span / IMPLICIT_STEPS, None
    return dt, None


def _positive_number(dt: Any) -> float:
    try:
        value = float(dt)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise OptionError(f"dt must be a positive number, got {dt!r}",
                          hint="pass e.g. dt=1e-3, or leave dt out to have one chosen")
    return value


def _diagnose(integrator: AbstractIntegrator, options: Options, counters: Counters,
              finite: bool, t_now: float, t_from: float, t_to: float,
              stats: Stats) -> SolveError | None:
    """The SolveError a finished chunk calls for, or None when it went well."""
    name, where = integrator.name, f"between t = {t_from:.6g} and t = {t_to:.6g}"
    if not finite:
        return SolveError(
            f"the solution became NaN or Inf {where} ({name}, dt = {stats.dt:.4g})",
            hint="the step is likely unstable or the equations blow up: try a smaller step "
            "(--dt), or for a stiff problem the implicit integrator (--integrator sdirk2; "
            "integrator=\"sdirk2\" in Python)",
        )
    if int(counters.failures) > 0:
        return SolveError(
            f"Newton's method did not converge within {options.newton_max_iter} iterations "
            f"in {int(counters.failures)} stage solve(s) {where} ({name}, dt = {stats.dt:.4g})",
            hint="try a smaller step (--dt); with an adaptive integrator, looser tolerances "
            "(rtol=, atol= in Python)",
        )
    if t_now >= t_to:
        return None
    if int(counters.steps) + int(counters.rejected) >= options.max_steps:
        return SolveError(
            f"{name} used up max_steps = {options.max_steps} steps at t = {t_now:.6g}, "
            f"{where}",
            hint="the problem may be stiff: try the implicit integrator (--integrator "
            "sdirk2; integrator=\"sdirk2\" in Python), or looser tolerances (rtol=, atol= in "
            "Python)",
        )
    cause = (" (the right-hand side returned NaN or Inf there)"
             if int(counters.nonfinite) > 0 else "")
    return SolveError(
        f"{name}'s step size collapsed to {stats.dt:.3g} at t = {t_now:.6g}, {where}{cause}",
        hint="check the right-hand side near that time; for a stiff problem try the "
        "implicit integrator (--integrator sdirk2; integrator=\"sdirk2\" in Python)",
    )


def _stats(integrator: AbstractIntegrator, options: Options, counters: Counters, state: State,
           radius: float | None, start: float) -> Stats:
    dt = float(state.dt) if integrator.adaptive else float(options.dt)
    return Stats(
        method=integrator.name, steps=int(counters.steps), rejected=int(counters.rejected),
        dt=dt, dt_min=float(counters.dt_min), dt_max=float(counters.dt_max),
        newton_iters=int(counters.newton_iters), wall_time=time.perf_counter() - start,
        spectral_radius=radius,
    )


def _save(checkpoint: Checkpointing, state: State, outputs: list[PyTree], t: float,
          last: bool) -> None:
    """Save at an output time when due, or when a signal asks to stop (then raise)."""
    stop = checkpoint.stop_signal() is not None and not last
    if not (stop or checkpoint.due(len(outputs) - 1)):
        return
    stacked = jax.tree.leaves(jax.tree.map(lambda *xs: jnp.stack(xs), *outputs))
    extra = {f"outputs_{j}": np.asarray(x) for j, x in enumerate(stacked)}
    info = {"outputs": len(outputs), "t": t}
    if stop:
        raise checkpoint.stop({"state": state}, info, extra, f"at t = {t:.6g}")
    checkpoint.save({"state": state}, info, extra)


def _resume(checkpoint: Checkpointing, state: State, U0: PyTree,
            frames: int) -> tuple[State, list[PyTree]]:
    """The state and outputs saved in the checkpoint, in the structure of a fresh start's."""
    restored, manifest, extra = checkpoint.load({"state": state})
    count = int(manifest["outputs"])
    leaves, treedef = jax.tree.flatten(U0)
    stacked = [jnp.asarray(extra.get(f"outputs_{j}", np.zeros(0))) for j in range(len(leaves))]
    if not 1 <= count <= frames or any(x.shape != (count, *np.shape(u))
                                       for x, u in zip(stacked, leaves)):
        raise OptionError(f"the checkpoint in {str(checkpoint.folder)!r} does not fit this "
                          "run (its outputs differ)", hint="leave out --resume to start over")
    outputs = [jax.tree.unflatten(treedef, [x[k] for x in stacked]) for k in range(count)]
    return restored["state"], outputs


def _trajectory(times: np.ndarray, outputs: list[PyTree], stats: Stats) -> Trajectory:
    U = jax.tree.map(lambda *xs: jnp.stack(xs), *outputs)
    return Trajectory(t=np.asarray(times), U=U, stats=stats)


def output_times(t_eval: Any) -> np.ndarray:
    times = np.asarray(t_eval, dtype=np.float64)
    if times.ndim != 1 or times.size == 0:
        raise OptionError(
            f"t_eval must be a 1-D array of output times, got shape {times.shape}",
            hint="pass e.g. t_eval=np.linspace(t0, t_end, 11); the first time is t0",
        )
    if not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
        raise OptionError(
            f"t_eval must be finite and strictly increasing, got {times.tolist()[:6]}"
            + ("..." if times.size > 6 else ""),
            hint="sort the output times and drop duplicates; the first one is t0",
        )
    return times


def _as_arrays(U0: PyTree) -> PyTree:
    leaves = jax.tree.leaves(U0)
    if not leaves:
        raise OptionError("the initial state U0 holds no arrays",
                          hint="pass a dict of arrays, one per field, e.g. {'u': u0}")
    dtype = float_dtype()

    def as_array(x: Any) -> jax.Array:
        x = jnp.asarray(x)
        return x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(dtype)

    return jax.tree.map(as_array, U0)


def check_tolerances(rtol: float, atol: float, max_steps: int, newton_max_iter: int,
                      krylov_tol: float) -> None:
    checks = [
        ("rtol", rtol, rtol > 0, "a positive number such as 1e-6"),
        ("atol", atol, atol >= 0, "a number >= 0 such as 1e-8"),
        ("max_steps", max_steps, max_steps >= 1, "a positive integer"),
        ("newton_max_iter", newton_max_iter, newton_max_iter >= 1, "a positive integer"),
        ("krylov_tol", krylov_tol, 0 < krylov_tol < 1, "a number in (0, 1) such as 1e-6"),
    ]
    for name, value, ok, legal in checks:
        if not ok:
            raise OptionError(f"{name} = {value!r} is out of range", hint=f"use {legal}")
