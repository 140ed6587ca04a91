"""Embedded Runge-Kutta pairs with error control: Dormand-Prince 5(4) and a PI controller.

Each `step` is one attempt: the local error estimate, scaled by `atol + rtol * |U|`, decides
whether it is accepted, and the controller proposes the next step size either way. A step
never passes `state.t_stop` and lands on it exactly, so output times are hit without
interpolation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar, final

import jax
import jax.numpy as jnp

from . import pytree as tree
from . import tableaus
from .base import AbstractIntegrator, Options, Rhs, State, float_dtype, initial_state
from .explicit import rk_stages
from .pytree import PyTree
from .tableaus import Tableau


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class AdaptiveCarry:
    """`k1`: rhs at the current state (reused, FSAL); `err_prev`: last accepted error norm;
    `rejected_last`: the previous attempt failed (then the next step may not grow)."""

    k1: PyTree
    err_prev: jax.Array
    rejected_last: jax.Array


@dataclass(frozen=True)
class PIController:
    """Hairer and Wanner's PI step-size control (DOPRI5's `beta = 0.04`).

    New step = dt * clip(safety * err^-alpha * err_prev^beta, factor_min, factor_max),
    with alpha = 1/(order + 1) - 0.75 beta, order being that of the error estimate.
    """

    safety: float = 0.9
    beta: float = 0.04
    factor_min: float = 0.2
    factor_max: float = 10.0

    def factor(self, err: jax.Array, err_prev: jax.Array, accepted: jax.Array,
               rejected_last: jax.Array, error_order: int) -> jax.Array:
        alpha = 1.0 / (error_order + 1) - 0.75 * self.beta
        err = jnp.maximum(err, 1e-10)
        grow = self.safety * err ** (-alpha) * err_prev**self.beta
        grow = jnp.clip(grow, self.factor_min, self.factor_max)
        grow = jnp.where(rejected_last, jnp.minimum(grow, 1.0), grow)
        shrink = jnp.clip(self.safety * err ** (-alpha), self.factor_min, 1.0)
        return jnp.where(accepted, grow, shrink)


def initial_step(rhs: Rhs, t0: Any, U0: PyTree, params: PyTree, f0: PyTree,
                 options: Options, order: int) -> jax.Array:
    """A first trial step from the size of U0, of f0 and of the change of f over a tiny
    Euler step (Hairer, Norsett and Wanner, Solving ODEs I, section II.4)."""
    w = tree.weights(U0, U0, options.rtol, options.atol)
    d0, d1 = tree.rms_norm(U0, w), tree.rms_norm(f0, w)
    h0 = jnp.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / jnp.maximum(d1, 1e-300))
    f1 = rhs(t0 + h0, tree.combine(U0, h0, (1.0,), (f0,)), params)
    d2 = tree.rms_norm(tree.sub(f1, f0), w) / h0
    dmax = jnp.maximum(d1, d2)
    h1 = jnp.where(dmax <= 1e-15, jnp.maximum(1e-6, h0 * 1e-3),
                   (0.01 / jnp.maximum(dmax, 1e-300)) ** (1.0 / (order + 1)))
    return jnp.minimum(100.0 * h0, h1)


@final
@dataclass(frozen=True)
class EmbeddedRK(AbstractIntegrator):
    """An explicit embedded pair with error control; propagates the higher-order solution."""

    name: str
    tableau: Tableau
    controller: PIController = PIController()
    adaptive: ClassVar[bool] = True

    @property
    def order(self) -> int:
        return self.tableau.order

    def init(self, rhs: Rhs, t0: Any, U0: PyTree, params: PyTree, options: Options) -> State:
        dtype = float_dtype()
        t0 = jnp.asarray(t0, dtype)
        k1 = rhs(t0, U0, params)
        dt = options.dt
        if dt is None:
            dt = initial_step(rhs, t0, U0, params, k1, options, self.order)
        carry = AdaptiveCarry(k1, jnp.asarray(1e-4, dtype), jnp.asarray(False))
        return initial_state(rhs, t0, U0, params, options, dt, carry)

    def step(self, state: State) -> State:
        tab, carry, opts = self.tableau, state.carry, state.options
        remaining = state.t_stop - state.t
        lands = state.dt >= remaining
        dt = jnp.minimum(state.dt, remaining)
        ks = rk_stages(tab, state.rhs, state.t, state.U, dt, state.params, k1=carry.k1)
        U_new = tree.combine(state.U, dt, tab.b, ks)
        error = tree.linear_combination(dt, tab.error_weights, ks)
        err = tree.rms_norm(error, tree.weights(state.U, U_new, opts.rtol, opts.atol))
        finite = jnp.isfinite(err)
        err = jnp.where(finite, err, jnp.inf)

        t_new = jnp.where(lands, state.t_stop, state.t + dt)
        k1_new = ks[-1] if tab.fsal else state.rhs(t_new, U_new, state.params)
        # The embedded solution is one order lower: the estimate is O(dt^order).
        moved, accepted, err_prev = settle(state, self.controller, tab.order - 1, dt, lands,
                                           U_new, err, finite, carry.err_prev,
                                           carry.rejected_last)
        return replace(moved, carry=AdaptiveCarry(
            k1=tree.where(accepted, k1_new, carry.k1), err_prev=err_prev,
            rejected_last=~accepted))


def settle(state: State, controller: PIController, error_order: int, dt: jax.Array,
           lands: jax.Array, U_new: PyTree, err: jax.Array, finite: jax.Array,
           err_prev: jax.Array, rejected_last: jax.Array
           ) -> tuple[State, jax.Array, jax.Array]:
    """The state after an attempt of size `dt` with error norm `err` (inf when not
    `finite`): moved to `U_new` (and to `t_stop` when it `lands`) if accepted, the next
    step from `controller`, counted; with whether it was accepted and the error norm the
    controller remembers. Shared by every adaptive scheme here."""
    accepted = err <= 1.0
    factor = controller.factor(err, err_prev, accepted, rejected_last, error_order)
    dt_next = dt * factor
    # A step shortened to land on t_stop says little about the step size; keep the
    # controller's earlier proposal if it was larger.
    dt_next = jnp.where(accepted & lands, jnp.maximum(dt_next, state.dt), dt_next)
    t_new = jnp.where(lands, state.t_stop, state.t + dt)
    moved = replace(
        state,
        t=jnp.where(accepted, t_new, state.t),
        U=tree.where(accepted, U_new, state.U),
        dt=dt_next,
        counters=state.counters.record(accepted, dt, nonfinite=~finite),
    )
    return moved, accepted, jnp.where(accepted, jnp.maximum(err, 1e-4), err_prev)


DOPRI5 = EmbeddedRK("dopri5", tableaus.DOPRI5)
