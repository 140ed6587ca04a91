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
static at the price of some idle work when the times are very uneven.
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
    starts = jnp.asarray(plan.times[:-1], dtype)
    dts = jnp.asarray(plan.dt, dtype)
    counts = jnp.asarray(plan.steps, jnp.int32)

    def step(carry, index):
        U, t0, dt, count = carry
        t = t0 + index.astype(dtype) * dt
        ks = rk_stages(tableau, rhs, t, U, dt, params)
        U = where(index < count, combine(U, dt, tableau.b, ks), U)
        return (U, t0, dt, count), None

    def chunk(carry, first):
        indices = first + jnp.arange(plan.chunk_steps, dtype=jnp.int32)
        carry, _ = jax.lax.scan(step, carry, indices)
        return carry, None

    def interval(U, inputs):
        t0, dt, count = inputs
        firsts = jnp.arange(plan.chunks, dtype=jnp.int32) * plan.chunk_steps
        (U, *_), _ = jax.lax.scan(chunk, (U, t0, dt, count), firsts)
        return U, U

    if remat:
        chunk, interval = jax.checkpoint(chunk), jax.checkpoint(interval)

    _, states = jax.lax.scan(interval, U0, (starts, dts, counts))
    return jax.tree_util.tree_map(lambda first, rest: jnp.concatenate([first[None], rest]),
                                  U0, states)
