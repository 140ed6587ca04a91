"""The shape every integrator shares: `init(rhs, t0, U0, params, options) -> State` and
`step(State) -> State`, both pure and jittable (jax-cfd / py-pde style).

`State` is a pytree: the time, the fields `U`, the step size, the pass-through `params`, the
numeric options, counters and whatever one scheme carries from step to step. The right-hand
side `rhs(t, U, params) -> dU/dt` rides along as static data, so `step` needs nothing else and
`jax.jit(integrator.step)` works as it is.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from .pytree import PyTree

Rhs = Callable[[Any, PyTree, PyTree], PyTree]


def float_dtype() -> jnp.dtype:
    """The default float dtype: float64 when x64 is on, else float32 (used for t and dt)."""
    return jnp.result_type(float)


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Options:
    """Numeric options of an integrator, one frozen object.

    `dt`: the fixed step (rk4, ssprk3, sdirk2, leapfrog) or the first trial step (dopri5;
    None lets the controller choose). `rtol`, `atol`: error tolerances of dopri5 and the
    Newton tolerance of sdirk2. Numbers are pytree leaves, so changing them does not
    recompile; only the Krylov space sizes, which fix array shapes, are static.
    """

    dt: float | None = None
    rtol: float = 1e-6
    atol: float = 1e-8
    krylov_tol: float = 1e-6
    max_steps: int = 100_000
    newton_max_iter: int = 10
    krylov_restart: int = field(default=30, metadata=dict(static=True))
    krylov_max_restarts: int = field(default=10, metadata=dict(static=True))


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Counters:
    """What the steps so far did; scalars on the device, read by the loop between chunks.

    `failures`: nonlinear stage solves that missed their tolerance (implicit schemes).
    `nonfinite`: rejected steps whose error estimate was NaN or Inf (adaptive schemes).
    """

    steps: jax.Array
    rejected: jax.Array
    failures: jax.Array
    nonfinite: jax.Array
    newton_iters: jax.Array
    dt_min: jax.Array
    dt_max: jax.Array

    @classmethod
    def zeros(cls) -> Counters:
        count = jnp.zeros((), jnp.int32)
        dtype = float_dtype()
        return cls(count, count, count, count, count,
                   jnp.asarray(jnp.inf, dtype), jnp.zeros((), dtype))

    def record(self, accepted: Any, dt: Any, nonfinite: Any = False) -> Counters:
        """Count one attempted step of size `dt`, accepted or rejected."""
        accepted = jnp.asarray(accepted)
        return replace(
            self,
            steps=self.steps + accepted.astype(jnp.int32),
            rejected=self.rejected + (~accepted).astype(jnp.int32),
            nonfinite=self.nonfinite + (~accepted & jnp.asarray(nonfinite)).astype(jnp.int32),
            dt_min=jnp.where(accepted, jnp.minimum(self.dt_min, dt), self.dt_min),
            dt_max=jnp.where(accepted, jnp.maximum(self.dt_max, dt), self.dt_max),
        )

    def fixed(self, n: Any, dt: Any) -> Counters:
        """Count `n` accepted steps of the fixed size `dt`."""
        return replace(self, steps=self.steps + jnp.asarray(n, jnp.int32),
                       dt_min=jnp.minimum(self.dt_min, dt), dt_max=jnp.maximum(self.dt_max, dt))

    def solved(self, iterations: Any, converged: Any) -> Counters:
        """Count one nonlinear stage solve."""
        return replace(
            self,
            newton_iters=self.newton_iters + iterations,
            failures=self.failures + (~jnp.asarray(converged)).astype(jnp.int32),
        )


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class State:
    """Everything one step needs and returns.

    `t_stop`: steps never pass this time; the loop sets it to the next output time so that
    adaptive schemes land on it exactly (fixed-step schemes are handed a step that divides
    the interval instead). `carry`: what a scheme keeps between steps (dopri5's first-same-
    as-last derivative and last error), `()` when nothing.
    """

    t: jax.Array
    U: PyTree
    dt: jax.Array
    t_stop: jax.Array
    params: PyTree
    options: Options
    counters: Counters
    carry: PyTree
    rhs: Rhs = field(metadata=dict(static=True))


def initial_state(rhs: Rhs, t0: Any, U0: PyTree, params: PyTree, options: Options,
                  dt: Any, carry: PyTree = ()) -> State:
    """A fresh state at `t0` with step `dt` and zeroed counters."""
    dtype = float_dtype()
    return State(
        t=jnp.asarray(t0, dtype), U=U0, dt=jnp.asarray(dt, dtype),
        t_stop=jnp.asarray(jnp.inf, dtype), params=params, options=options,
        counters=Counters.zeros(), carry=carry, rhs=rhs,
    )


class AbstractIntegrator(abc.ABC):
    """A time-stepping scheme for `dU/dt = rhs(t, U, params)`.

    Concrete integrators are frozen, hashable dataclasses (static under `jit`); change a
    scheme by giving it another tableau, not by subclassing a concrete class.
    """

    name: str
    adaptive: ClassVar[bool]

    @property
    @abc.abstractmethod
    def order(self) -> int:
        """The order of accuracy of the scheme (of the solution it propagates)."""

    @abc.abstractmethod
    def init(self, rhs: Rhs, t0: Any, U0: PyTree, params: PyTree, options: Options) -> State:
        """The state at `t0`."""

    @abc.abstractmethod
    def step(self, state: State) -> State:
        """One step (for an adaptive scheme: one attempt, accepted or rejected)."""

    def chunk_context(self, state: State, dt: Any) -> Any:
        """What the steps of one compiled chunk share, built once at its start (inside the
        trace): None for most; sdirk2's stage preconditioner where it has one."""
        return None

    def advance(self, state: State, n: Any, dt: jax.Array) -> State:
        """`n` steps of the fixed size `dt` (inside a compiled chunk; t is set by the caller
        after): `step` in a loop, sharing the chunk's context. A scheme may fuse its steps
        (leapfrog keeps half-step velocities inside the chunk)."""
        context = self.chunk_context(state, dt)
        if context is None:
            return jax.lax.fori_loop(0, n, lambda _, s: self.step(replace(s, dt=dt)), state)
        return jax.lax.fori_loop(
            0, n, lambda _, s: self.step(replace(s, dt=dt), context), state)

    def check(self, rhs: Rhs, t0: Any, U0: PyTree, params: PyTree) -> None:
        """Raise an OptionError when the scheme cannot integrate this system (run once,
        outside `jit`, before the first step); every system is fine by default."""
        return None


class AbstractFixedStep(AbstractIntegrator):
    """A tableau scheme taking the fixed step `options.dt`: the order is the tableau's, and
    the state starts with that step (an OptionError says how to give one when missing)."""

    tableau: Any

    @property
    def order(self) -> int:
        return self.tableau.order

    def init(self, rhs: Rhs, t0: Any, U0: PyTree, params: PyTree, options: Options) -> State:
        return initial_state(rhs, t0, U0, params, options, require_dt(self.name, options))


def require_dt(name: str, options: Options) -> float:
    """The fixed step from the options, or an OptionError saying how to give one."""
    if options.dt is None:
        from runtime.errors import OptionError

        raise OptionError(
            f"method {name!r} takes a fixed step, but no dt was given",
            hint="pass dt=... (runtime.integrate picks one itself from the stability limit)",
        )
    return options.dt
