"""Leapfrog (velocity Verlet, Stormer-Verlet) for second-order-in-time systems.

A system `u_tt = a(t, u)` reaches the loop in first-order form, the state holding `u` and
its velocity `u_t` (`compiler.fd.accesses.time_key`), the right-hand side returning
(`u_t`, `a`). One step of size dt is kick-drift-kick:

    v_half = v + dt/2 a(t, u);   u' = u + dt v_half;   v' = v_half + dt/2 a(t + dt, u')

and the last acceleration is carried to the next step's first kick, so a step costs one
evaluation of the right-hand side where RK4 costs four. Inside a compiled chunk of n steps
the velocity is kept at half steps (kick-drift: v_half += dt a(t, u); u += dt v_half), one
whole kick of dt where two half kicks met, and turned back into the velocity at the
chunk's end; the same scheme with two fewer arrays carried from step to step (1.3x faster
on the acoustic wave at 300^2). The scheme is second order,
symplectic (no numerical damping or growth of a wave's energy) and stable while
dt * omega <= 2 for the largest frequency omega, the spectral radius of the first-order
system's Jacobian. It is exact only where the acceleration does not depend on the
velocity (no damping term): `check` refuses other systems, and every state entry must be
one half of a (u, u_t) pair.

The drift takes the `u` part of the right-hand side at (u, v_half): the padded interior
velocity with the boundary closures applied, as RK4 would see it; XLA drops the unused
acceleration from that call.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Any, ClassVar, final

import jax
import jax.numpy as jnp

from compiler.fd.accesses import time_key
from runtime.errors import OptionError

from .base import AbstractIntegrator, Options, Rhs, State, initial_state, require_dt
from .pytree import PyTree


def velocity_pairs(U: PyTree) -> tuple[tuple[str, str], ...]:
    """The (position, velocity) keys of a first-order state of second-order fields; an
    OptionError when the state is not a dict made only of such pairs."""
    keys = list(U) if isinstance(U, dict) else []
    pairs = tuple((k, time_key(k, 1)) for k in keys if time_key(k, 1) in keys)
    paired = {k for pair in pairs for k in pair}
    lone = [k for k in keys if k not in paired]
    if not pairs or lone:
        what = f"{', '.join(repr(k) for k in lone)} {'has' if len(lone) == 1 else 'have'} " \
               "no second time derivative" if lone else "its state has no (u, u_t) pair"
        raise OptionError(f"the leapfrog integrator takes equations of second order in time "
                          f"(d(u, t, 2) = ...), and {what}",
                          hint="use --integrator rk4 (or auto) for first-order equations")
    return pairs


@final
@dataclass(frozen=True)
class Leapfrog(AbstractIntegrator):
    """Velocity Verlet with a fixed step, for states of (u, u_t) pairs whose acceleration
    does not depend on the velocity."""

    name: str = "leapfrog"
    adaptive: ClassVar[bool] = False

    @property
    def order(self) -> int:
        return 2

    def init(self, rhs: Rhs, t0: Any, U0: PyTree, params: PyTree, options: Options) -> State:
        """The state at `t0`, carrying the acceleration there for the first kick."""
        pairs = velocity_pairs(U0)
        rates = rhs(t0, U0, params)
        return initial_state(rhs, t0, U0, params, options, require_dt(self.name, options),
                             carry={v: rates[v] for _, v in pairs})

    def step(self, state: State) -> State:
        """One kick-drift-kick step of `state.dt`: a chunk of one step."""
        return self.advance(state, 1, state.dt)

    def advance(self, state: State, n: Any, dt: jax.Array) -> State:
        """`n` steps in kick-drift form: a half kick with the carried acceleration, a
        drift, n - 1 whole kicks each followed by a drift, the closing half kick."""
        pairs = velocity_pairs(state.U)
        rhs, params, t0 = state.rhs, state.params, state.t

        def kick(U: PyTree, size: Any, rates: PyTree) -> PyTree:
            return {**U, **{v: _ahead(U[v], size, rates[v]) for _, v in pairs}}

        def drift(t: Any, U: PyTree) -> PyTree:
            moving = rhs(t, U, params)
            return {**U, **{u: _ahead(U[u], dt, moving[u]) for u, _ in pairs}}

        def kick_drift(i: Any, U: PyTree) -> PyTree:
            t = t0 + i * dt
            return drift(t, kick(U, dt, rhs(t, U, params)))

        U = drift(t0, kick(state.U, dt / 2, state.carry))
        U = jax.lax.fori_loop(1, n, kick_drift, U)
        t = t0 + n * dt
        rates = rhs(t, U, params)
        return replace(state, t=t, U=kick(U, dt / 2, rates),
                       carry={v: rates[v] for _, v in pairs},
                       counters=state.counters.fixed(n, dt))

    def check(self, rhs: Rhs, t0: Any, U0: PyTree, params: PyTree) -> None:
        """An OptionError unless the state is made of (u, u_t) pairs and the acceleration
        does not move with the velocity (a damping term makes kick-drift-kick inexact):
        one Jacobian-vector product along a random velocity direction, exactly zero for
        a velocity-free acceleration."""
        if not velocity_dependent(rhs, t0, U0, params):
            return
        raise OptionError("the leapfrog integrator needs accelerations free of the velocity, "
                          "and d(u, t, 2) here depends on d(u, t) (a damping term)",
                          hint="use --integrator rk4 (or auto)")


def _ahead(x: jax.Array, dt: Any, rate: jax.Array) -> jax.Array:
    """x + dt * rate in the dtype of x (a float64 step or rate must not promote a float32
    state)."""
    return (x + jnp.asarray(dt, x.dtype) * rate).astype(x.dtype)


def velocity_dependent(rhs: Rhs, t0: Any, U0: PyTree, params: PyTree) -> bool:
    """True when the acceleration of `rhs` at (t0, U0) changes with the velocity (checked
    along a random direction; an OptionError when U0 is not made of (u, u_t) pairs)."""
    pairs = velocity_pairs(U0)
    return bool(_acceleration_moves(rhs, tuple(v for _, v in pairs), t0, U0, params))


@partial(jax.jit, static_argnums=(0, 1))
def _acceleration_moves(rhs: Rhs, velocities: tuple[str, ...], t0: Any, U0: PyTree,
                        params: PyTree) -> jax.Array:
    """One compiled call (a few ms saved on each solve): the largest change of the
    accelerations along a random velocity direction is above zero."""
    key = jax.random.PRNGKey(0)
    tangent = {k: jnp.zeros_like(x) for k, x in U0.items()}
    for i, v in enumerate(velocities):
        x = U0[v]
        tangent[v] = jax.random.normal(jax.random.fold_in(key, i), jnp.shape(x),
                                       jnp.result_type(x))
    _, change = jax.jvp(lambda U: rhs(t0, U, params), (U0,), (tangent,))
    return jnp.any(jnp.stack([jnp.max(jnp.abs(change[v]), initial=0.0) > 0
                              for v in velocities]))


LEAPFROG = Leapfrog()
