"""What the host-driven integrators share (sparse Rodas4, BDF): the right-hand side on flat
vectors, jitted on the device and returned to the host as numpy; Hairer's starting step;
their `Stats`; and the `SolveError` that keeps the outputs reached so far.

These integrators keep the step control and the sparse LU (SciPy's SuperLU) on the host and
send only the right-hand side and the Jacobian's coloured jvps to the device: a sparse
direct solve has no JAX counterpart on the CPU.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from runtime.errors import SolveError

from ..base import Rhs
from ..loop import Stats, Trajectory


@dataclass(frozen=True)
class FlatRhs:
    """`f(t, y)` and `f_t(t, y)` (df/dt) on flat numpy vectors, jitted on the device."""

    f: Callable[[float, np.ndarray], np.ndarray]
    f_t: Callable[[float, np.ndarray], np.ndarray]


def flat_rhs(rhs: Rhs, unravel, dtype) -> FlatRhs:
    """`rhs(t, U, {})` and its time derivative on flat vectors, jitted."""
    def flat(t, y):
        return ravel_pytree(rhs(t, unravel(y), {}))[0].astype(dtype)

    def time_derivative(t, y):
        return jax.jvp(lambda s: flat(s, y), (t,), (jnp.ones_like(t),))[1].astype(dtype)

    f, f_t = jax.jit(flat), jax.jit(time_derivative)
    return FlatRhs(lambda t, y: np.asarray(f(jnp.asarray(t, dtype), y)),
                   lambda t, y: np.asarray(f_t(jnp.asarray(t, dtype), y)))


def first_step(f: Callable[[float, np.ndarray], np.ndarray], t0: float, y0: np.ndarray,
               f0: np.ndarray, rtol: float, atol: float, order: int, span: float) -> float:
    """A first trial step from the size of y0, of f0 and of the change of f over a tiny
    Euler step (Hairer, Norsett and Wanner, Solving ODEs I, section II.4), never more than
    the span: the host twin of `adaptive.initial_step`."""
    scale = atol + rtol * np.abs(y0)
    d0 = float(np.sqrt(np.mean((y0 / scale) ** 2)))
    d1 = float(np.sqrt(np.mean((f0 / scale) ** 2)))
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    d2 = float(np.sqrt(np.mean(((f(t0 + h0, y0 + h0 * f0) - f0) / scale) ** 2))) / h0
    dmax = max(d1, d2)
    h1 = max(1e-6, h0 * 1e-3) if dmax <= 1e-15 else (0.01 / dmax) ** (1.0 / (order + 1))
    return min(100 * h0, h1, span)


def host_stats(method: str, steps: int, rejected: int, h: float, dt_min: float,
               dt_max: float, start: float, newton_iters: int = 0) -> Stats:
    return Stats(method=method, steps=steps, rejected=rejected, dt=h, dt_min=dt_min,
                 dt_max=dt_max, newton_iters=newton_iters,
                 wall_time=time.perf_counter() - start)


def host_failure(method: str, message: str, times: np.ndarray, outputs: list, steps: int,
                 hint: str | None = None) -> SolveError:
    """A SolveError whose `trajectory` holds the outputs reached before the failure."""
    error = SolveError(message, hint=hint or (
        "the problem may need looser tolerances (rtol=, atol=) or has a singularity there; "
        "--integrator sdirk2 takes fixed steps"))
    U = jax.tree.map(lambda *xs: jnp.stack(xs), *outputs)
    error.trajectory = Trajectory(t=np.asarray(times), U=U, stats=host_stats(
        method, steps, 0, math.nan, math.nan, math.nan, time.perf_counter()))
    return error


def stack_outputs(outputs: list):
    return jax.tree.map(lambda *xs: jnp.stack(xs), *outputs)
