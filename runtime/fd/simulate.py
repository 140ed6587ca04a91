"""A differentiable fixed-step time integration whose memory does not grow with the steps.

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
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from runtime.time.explicit import rk_stages
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
