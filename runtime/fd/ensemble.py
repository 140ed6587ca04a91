"""Many members of one system integrated at once: the same integrator, `jax.vmap`ped over
stacked parameters and initial states, in one compiled program (parameter sweeps).

Every integrator of `runtime.time.integrators` is a pure `init` / `step` pair, so one
member's whole integration (a `lax.scan` over the output intervals, each a fixed-step loop
or an adaptive `while_loop`) vmaps as it is: fixed-step members march in lockstep, adaptive
members each keep their own step size (the batched loop runs until the slowest member has
landed, the others idle). Implicit Newton-Krylov members (`IN_TURN`) run one after
another inside the same compiled program instead. Members share the fixed step: the one
the stiffest member needs, chosen at its initial state as `integrate` chooses it for a
single solve; every member is checked as fit for the integrator (`check`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ..time.base import AbstractIntegrator, Options, Rhs, State, float_dtype
from ..time.integrators import get_integrator
from ..time.loop import (
    adaptive_steps,
    check_tolerances,
    choose_dt,
    chunk_steps,
    fixed_steps,
    output_times,
    step_counts,
)
from ..time.pytree import PyTree

IN_TURN = {"sdirk2"}   # members one after another in the program (lax.map), not batched:
#                       batched Newton-Krylov iterations make every member wait for the
#                       slowest one's (16 heat members at 129 points: 10.9 s batched,
#                       3.7 s in turn, 5.3 s as 16 warm separate solves)


@dataclass(frozen=True)
class EnsembleTrajectory:
    """The states of every member at the output times `t`: each leaf of `U` has axes
    (member, time, ...). Per member: accepted and rejected steps, failed nonlinear solves,
    the time reached, and whether each output was finite (member, time)."""

    t: np.ndarray
    U: PyTree
    steps: np.ndarray
    rejected: np.ndarray
    failures: np.ndarray
    reached: np.ndarray
    finite: np.ndarray
    integrator: str
    dt: float | None
    wall_time_s: float


def integrate_ensemble(rhs: Rhs, U0: PyTree, params: PyTree, member_axes: PyTree,
                       t_eval: Any, *, method: str, dt: float | None = None,
                       stiffest: int = 0, rtol: float = 1e-6, atol: float = 1e-8,
                       max_steps: int = 100_000, newton_max_iter: int = 10,
                       krylov_tol: float = 1e-6, key: jax.Array | None = None,
                       devices: Sequence[jax.Device] = ()) -> EnsembleTrajectory:
    """Integrate `dU/dt = rhs(t, U, params)` for every member: `U0` has a leading member
    axis on every leaf, `params` on the leaves whose `member_axes` entry is 0 (None: shared).

    `method`, `dt`, `rtol`, `atol` as for `integrate`; a dt left out is chosen (and a dt
    given is checked) at the initial state of member `stiffest`, the one with the largest
    spectral radius, so that it serves every member. Non-finite states and failed steps are
    reported per member in the result, not raised: the caller names the member.

    With several `devices` the members are split between them (the member axis sharded,
    padded with copies of the last member to a multiple of their number): each device
    integrates its own members, with no communication between them."""
    start = time.perf_counter()
    integrator = get_integrator(method)
    times = output_times(t_eval)
    check_tolerances(rtol, atol, max_steps, newton_max_iter, krylov_tol)
    key = jax.random.PRNGKey(0) if key is None else key
    U0 = jax.tree.map(jnp.asarray, U0)
    count = len(jax.tree.leaves(U0)[0])
    U_worst, p_worst = member(U0, stiffest), member(params, stiffest, member_axes)
    t0 = jnp.asarray(times[0], float_dtype())
    for index in range(count):
        integrator.check(rhs, t0, member(U0, index), member(params, index, member_axes))
    dt, _ = choose_dt(integrator, rhs, times, U_worst, p_worst, dt, key)
    options = Options(dt=dt, rtol=rtol, atol=atol, krylov_tol=krylov_tol,
                      max_steps=max_steps, newton_max_iter=newton_max_iter)
    counts = None if integrator.adaptive else step_counts(times, dt)
    steps = None if counts is None else chunk_steps(times, counts)
    plan = _plan(times, counts, steps)
    if len(devices) > 1:
        U0, params = _split(U0, params, member_axes, devices)
    U, counters, reached, finite = _program(integrator, rhs, plan, _static_axes(member_axes),
                                            U0, params, options)
    U, counters, reached, finite = jax.tree.map(
        lambda a: np.asarray(a)[:count], jax.device_get((U, counters, reached, finite)))
    return EnsembleTrajectory(
        times, U, np.asarray(counters.steps), np.asarray(counters.rejected),
        np.asarray(counters.failures), np.asarray(reached), np.asarray(finite),
        integrator.name, None if integrator.adaptive else float(dt),
        time.perf_counter() - start)


@dataclass(frozen=True)
class _Plan:
    """The output times and, for fixed-step schemes, each interval's step count and step;
    `uniform`: one count and step for all (the usual case: they compile as constants)."""

    times: tuple[float, ...]
    counts: tuple[int, ...] | None
    steps: tuple[float, ...] | None

    @property
    def uniform(self) -> bool:
        return self.counts is not None and len(set(self.counts)) == 1 \
            and len(set(self.steps)) == 1


def _plan(times: np.ndarray, counts, steps) -> _Plan:
    return _Plan(tuple(float(t) for t in times), None if counts is None else tuple(counts),
                 None if steps is None else tuple(steps))


def _static_axes(member_axes: PyTree) -> tuple:
    """`member_axes` as a hashable (flattened) form for the compiled program's cache."""
    leaves, tree = jax.tree.flatten(member_axes, is_leaf=lambda x: x is None)
    return tree, tuple(leaves)


def _split(U0: PyTree, params: PyTree, member_axes: PyTree, devices):
    """The members padded to a multiple of the devices and their axis sharded over them;
    shared parameters replicated."""
    mesh = Mesh(np.asarray(devices), ("member",))
    count = len(jax.tree.leaves(U0)[0])
    pad = -count % len(devices)

    def place(a, axis=0):
        if axis is None:
            return jax.device_put(a, NamedSharding(mesh, PartitionSpec()))
        a = jnp.concatenate([a, jnp.repeat(a[-1:], pad, axis=0)]) if pad else a
        return jax.device_put(a, NamedSharding(mesh, PartitionSpec("member")))

    return jax.tree.map(place, U0), jax.tree.map(place, params, member_axes,
                                                  is_leaf=lambda x: x is None)


def member(tree: PyTree, index: int, axes: PyTree | None = None) -> PyTree:
    """Member `index` of a stacked tree (leaves with axis None in `axes` are shared)."""
    if axes is None:
        return jax.tree.map(lambda a: a[index], tree)
    return jax.tree.map(lambda a, axis: a if axis is None else a[index], tree, axes,
                        is_leaf=lambda x: x is None)


@partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _program(integrator: AbstractIntegrator, rhs: Rhs, plan: _Plan, axes: tuple,
             U0: PyTree, params: PyTree, options: Options):
    member_axes = jax.tree.unflatten(axes[0], axes[1])
    single = partial(_integrate_member, integrator, rhs, plan, options=options)
    if integrator.name not in IN_TURN:
        return jax.vmap(single, in_axes=(0, member_axes))(U0, params)
    mapped = jax.tree.map(lambda a, axis: a if axis == 0 else None, params, member_axes,
                          is_leaf=lambda x: x is None)
    shared = jax.tree.map(lambda a, axis: None if axis == 0 else a, params, member_axes,
                          is_leaf=lambda x: x is None)

    def one(inputs):
        U, own = inputs
        merged = jax.tree.map(lambda a, b: b if a is None else a, own, shared,
                              is_leaf=lambda x: x is None)
        return single(U, merged)

    return jax.lax.map(one, (U0, mapped))


def _integrate_member(integrator: AbstractIntegrator, rhs: Rhs, plan: _Plan, U0: PyTree,
                      params: PyTree, options: Options):
    """One member from t0 through every output time: (states at every output time,
    counters, time reached, whether each output is finite)."""
    dtype = float_dtype()
    times = jnp.asarray(plan.times, dtype)
    state = integrator.init(rhs, times[0], U0, params, options)

    def interval(state: State, inputs):
        t_to, n, step = inputs
        if plan.counts is None:
            state = adaptive_steps(integrator, state, t_to)
        elif plan.uniform:                   # one count and step: compiled as constants
            state = fixed_steps(integrator, state, t_to, plan.counts[0], plan.steps[0])
        else:
            state = fixed_steps(integrator, state, t_to, n, step)
        finite = jnp.all(jnp.asarray([jnp.all(jnp.isfinite(leaf))
                                      for leaf in jax.tree.leaves(state.U)]))
        return state, (state.U, finite)

    count = len(plan.times) - 1
    counts = jnp.asarray(plan.counts or (0,) * count, jnp.int32)
    steps = jnp.asarray(plan.steps or (0.0,) * count, dtype)
    state, (U, finite) = jax.lax.scan(interval, state, (times[1:], counts, steps))
    U = jax.tree.map(lambda first, rest: jnp.concatenate([first[None], rest]), U0, U)
    finite = jnp.concatenate([jnp.asarray([True]), finite])
    return U, state.counters, state.t, finite      # an adaptive member may stop short
