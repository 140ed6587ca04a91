"""A differentiable time integration whose memory grows like the square root of the steps.

`trajectory` steps an explicit Runge-Kutta scheme from t0 through given output times and
returns the state at each. Everything is `lax.scan` of static length, so forward-mode
(`jacfwd`) and reverse-mode (`grad`) derivatives both work. Output intervals and chunks of
steps inside them are rematerialised (`jax.checkpoint`): reverse mode keeps the state at
each output time, recomputes one interval's chunk starts while going back through it, then
one chunk's steps; m intervals of n steps cost about m + 2 sqrt(n) states of memory instead
of m n (two levels of Griewank's checkpointing), for two extra forward passes.

Output intervals of unequal length take the same number of scan steps; an interval
needing fewer steps masks the rest (they leave the state unchanged), which keeps shapes
static at the price of some idle work when the times are very uneven. Windows of a series
(multiple shooting) march side by side (`window_trajectories`, vmapped), each from its own
state through its own times.

`adaptive_trajectory` does the same with an embedded pair under error control (dopri5,
`runtime.time.adaptive`): a fixed number of step attempts per output interval, planned by
an undifferentiated run (`count_attempts`) with some slack, attempts and chunks of them
after the interval's end no-ops (`lax.cond`), and a flag saying whether every output time
was reached. The step sizes and accept decisions are not differentiated (as Diffrax's PID
controller does): derivatives are those of the Runge-Kutta map along the steps taken,
which differ from those of the whole computation by the order of the tolerances.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import jax
import jax.numpy as jnp
import numpy as np

from runtime.time.base import AbstractIntegrator, Counters, Options
from runtime.time.explicit import rk_stages
from runtime.time.integrators import DOPRI5
from runtime.time.loop import adaptive_steps
from runtime.time.pytree import PyTree, combine, where
from runtime.time.tableaus import Tableau

Rhs = Callable[[jax.Array, PyTree, PyTree], PyTree]


@dataclass(frozen=True)
class StepPlan:
    """How `trajectory` steps between output times: `steps[k]` steps of `dt[k]` in interval
    k, padded to `chunks * chunk_steps` scan steps per interval."""

    times: np.ndarray
    steps: np.ndarray
    dt: np.ndarray
    chunk_steps: int
    chunks: int

    @property
    def total_steps(self) -> int:
        return int(self.steps.sum())

    @property
    def padded_steps(self) -> int:
        return len(self.steps) * self.chunks * self.chunk_steps


def plan_steps(times: np.ndarray, dt_max: float, chunk_steps: int | None = None) -> StepPlan:
    """Steps of at most `dt_max` that land on every output time in `times` (increasing,
    the first being t0), grouped in chunks of about sqrt(steps per interval)."""
    times = np.asarray(times, dtype=np.float64)
    lengths = np.diff(times)
    steps = np.maximum(1, np.ceil(lengths / dt_max - 1e-9)).astype(np.int64)
    widest = int(steps.max()) if len(steps) else 1
    chunk = chunk_steps or max(1, math.isqrt(widest))
    chunks = -(-widest // chunk)
    return StepPlan(times, steps, lengths / steps, chunk, chunks)


def trajectory(rhs: Rhs, U0: PyTree, params: PyTree, plan: StepPlan, tableau: Tableau,
               remat: bool = True) -> PyTree:
    """The states at `plan.times` (leading axis: time), integrating dU/dt = rhs(t, U, params)
    with the explicit scheme `tableau`. `remat=False` stores every step (for comparison)."""
    dtype = jax.tree_util.tree_leaves(U0)[0].dtype
    return _march(rhs, U0, params, jnp.asarray(plan.times[:-1], dtype),
                  jnp.asarray(plan.dt, dtype), jnp.asarray(plan.steps, jnp.int32),
                  plan.chunk_steps, plan.chunks, tableau, remat)


def window_trajectories(rhs: Rhs, U0s: PyTree, params: PyTree, plans: list[StepPlan],
                        tableau: Tableau, remat: bool = True,
                        select: jax.Array | None = None) -> PyTree:
    """`trajectory` of several windows at once (vmapped): window k from the states
    `U0s[k]` (leading axis: window) through `plans[k].times`, all of one length. Leaves
    get axes (window, time, ...). `select`: only the windows of these indices (a
    mini-batch), in that order."""
    dtype = jax.tree_util.tree_leaves(U0s)[0].dtype
    chunk_steps = max(p.chunk_steps for p in plans)
    chunks = max(-(-int(p.steps.max()) // chunk_steps) for p in plans)
    starts = jnp.asarray(np.stack([p.times[:-1] for p in plans]), dtype)
    dts = jnp.asarray(np.stack([p.dt for p in plans]), dtype)
    counts = jnp.asarray(np.stack([p.steps for p in plans]), jnp.int32)
    if select is not None:
        U0s, starts, dts, counts = jax.tree.map(lambda a: a[select],
                                                (U0s, starts, dts, counts))
    return jax.vmap(lambda U0, t, h, n: _march(rhs, U0, params, t, h, n, chunk_steps, chunks,
                                               tableau, remat))(U0s, starts, dts, counts)


def _march(rhs: Rhs, U0: PyTree, params: PyTree, starts: jax.Array, dts: jax.Array,
           counts: jax.Array, chunk_steps: int, chunks: int, tableau: Tableau,
           remat: bool) -> PyTree:
    """The states at the start of the first interval and the end of each: `counts[k]`
    steps of `dts[k]` from `starts[k]`, padded to `chunks * chunk_steps` scan steps."""
    dtype = jax.tree_util.tree_leaves(U0)[0].dtype

    def step(carry, index):
        U, t0, dt, count = carry
        t = t0 + index.astype(dtype) * dt
        ks = rk_stages(tableau, rhs, t, U, dt, params)
        U = where(index < count, combine(U, dt, tableau.b, ks), U)
        return (U, t0, dt, count), None

    def chunk(carry, first):
        indices = first + jnp.arange(chunk_steps, dtype=jnp.int32)
        carry, _ = jax.lax.scan(step, carry, indices)
        return carry, None

    def interval(U, inputs):
        t0, dt, count = inputs
        firsts = jnp.arange(chunks, dtype=jnp.int32) * chunk_steps
        (U, *_), _ = jax.lax.scan(chunk, (U, t0, dt, count), firsts)
        return U, U

    if remat:
        chunk, interval = jax.checkpoint(chunk), jax.checkpoint(interval)

    _, states = jax.lax.scan(interval, U0, (starts, dts, counts))
    return jax.tree_util.tree_map(lambda first, rest: jnp.concatenate([first[None], rest]),
                                  U0, states)


@dataclass(frozen=True)
class FixedSteps:
    """A fit's stepping: `plan_steps(times, dt)` with the explicit scheme `tableau`."""

    dt: float
    tableau: Tableau


@dataclass(frozen=True)
class AttemptPlan:
    """How `adaptive_trajectory` steps: at most `attempts` step attempts in every output
    interval, scanned as `chunks` chunks of `chunk` attempts."""

    times: np.ndarray = field(compare=False)
    attempts: int
    chunk: int
    chunks: int


def plan_attempts(times: np.ndarray, attempts: int) -> AttemptPlan:
    """`attempts` per interval of `times`, in chunks of about their square root."""
    attempts = max(1, int(attempts))
    chunk = max(1, math.isqrt(attempts))
    return AttemptPlan(np.asarray(times, np.float64), attempts, chunk, -(-attempts // chunk))


@dataclass(frozen=True)
class AdaptiveSteps:
    """A fit's stepping under error control: `integrator` (an embedded pair) with the
    tolerances in `options` (`options.dt`: the first trial step, None to choose one)
    within `plan`; a fit re-plans up to `most_attempts` per interval."""

    plan: AttemptPlan
    options: Options = field(compare=False)
    integrator: AbstractIntegrator = DOPRI5
    most_attempts: int = 100_000


Stepping = FixedSteps | AdaptiveSteps


def count_attempts(integrator: AbstractIntegrator, rhs: Rhs, U0: PyTree, params: PyTree,
                   times: np.ndarray, options: Options
                   ) -> tuple[jax.Array, jax.Array, Counters]:
    """Not differentiated: the attempts each output interval of `times` takes, whether the
    last time was reached (within `options.max_steps` attempts in all, the step not
    collapsing), and the counters."""
    state = integrator.init(rhs, float(times[0]), U0, params, options)
    t = jnp.asarray(times, state.t.dtype)

    def interval(state, t_stop):
        before = state.counters.steps + state.counters.rejected
        state = adaptive_steps(integrator, state, t_stop)
        spent = state.counters.steps + state.counters.rejected - before
        return state, (spent, state.t >= t_stop)

    state, (spent, landed) = jax.lax.scan(interval, state, t[1:])
    return spent, jnp.all(landed), state.counters


def adaptive_trajectory(rhs: Rhs, U0: PyTree, params: PyTree, steps: AdaptiveSteps,
                        remat: bool = True) -> tuple[PyTree, jax.Array, Counters]:
    """The states at `steps.plan.times` (leading axis: time) of dU/dt = rhs(t, U, params)
    by `steps.integrator` under error control, whether every output time was reached
    within the planned attempts (where not, the states after the first missed time are
    at wrong times), and the counters. `remat=False` stores every attempt."""
    plan, integrator = steps.plan, steps.integrator
    state = integrator.init(rhs, float(plan.times[0]), U0, params, steps.options)
    t = jnp.asarray(plan.times, state.t.dtype)

    def attempt(state, _):
        def go(s):
            s = replace(s, dt=jax.lax.stop_gradient(s.dt),
                        carry=replace(s.carry, err_prev=jax.lax.stop_gradient(s.carry.err_prev)))
            return integrator.step(s)
        return jax.lax.cond(state.t < state.t_stop, go, lambda s: s, state), None

    def chunk(state, _):                # skipped whole once the interval has landed
        def attempts(s):
            return jax.lax.scan(attempt, s, None, length=plan.chunk)[0]
        return jax.lax.cond(state.t < state.t_stop, attempts, lambda s: s, state), None

    def interval(state, t_stop):
        state, _ = jax.lax.scan(chunk, replace(state, t_stop=t_stop), None,
                                length=plan.chunks)
        return state, (state.U, state.t >= t_stop)

    if remat:
        chunk, interval = jax.checkpoint(chunk), jax.checkpoint(interval)

    state, (states, landed) = jax.lax.scan(interval, state, t[1:])
    states = jax.tree_util.tree_map(lambda first, rest: jnp.concatenate([first[None], rest]),
                                    U0, states)
    return states, jnp.all(landed), state.counters
