"""Timing helpers shared by the benchmark scripts: first call (with compilation) and the
best of repeated calls after it."""

from __future__ import annotations

import time
from collections.abc import Callable

import jax
import numpy as np


def warm_up() -> None:
    """Start JAX's CPU backend before timing, so that no case pays for it."""
    with jax.enable_x64(True):
        jax.jit(lambda v: v + 1.0)(1.0).block_until_ready()


def first_and_best(run: Callable[[], object], repeats: int) -> tuple[object, float, float]:
    """(result of the first call, seconds of that call, best seconds of `repeats` more)."""
    start = time.perf_counter()
    result = jax.block_until_ready(run())
    first = time.perf_counter() - start
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(run())
        best = min(best, time.perf_counter() - start)
    return result, first, best


def time_generated(system, n: int, T: float, dt: float, field: str, repeats: int,
                   devices: int | None = 1, mesh: dict[str, int] | None = None,
                   method: str = "rk4", dtype: str = "float64"):
    """The generated fd solver as `runtime.solve` runs a forward solve (parameters bound
    into the rhs, `method` with a fixed step, in `dtype`), on `devices` devices split as
    `mesh` says: (program, U0, final field, first s, best s). Call it with x64 on for
    float64 and off for float32, as `runtime.solve` does."""
    import jax.numpy as jnp

    from compiler.fd import FDOptions, lower_fd
    from runtime.parallel.fd_program import place_fd
    from runtime.time.loop import integrate

    program = lower_fd(system, FDOptions(grid=n, dtype=dtype))
    params = program.prepare({k: jnp.asarray(v, program.dtype)
                              for k, v in program.params.items()})
    U0 = program.initial(params)
    rhs = program.bind(params)
    placement = place_fd(program, devices, mesh)
    rhs = rhs if placement is None else placement.bind(rhs)

    def generated():
        U = integrate(rhs, U0, {}, [0.0, T], method=method, dt=dt, placement=placement).U
        return U[field][-1]

    final, first, best = first_and_best(generated, repeats)
    if placement is not None:
        final = placement.gather({field: final})[field]
    return program, U0, final, first, best
