"""Timing helpers shared by the benchmark scripts: first call (with compilation) and the
best of repeated calls after it."""

from __future__ import annotations

import time
from collections.abc import Callable

import jax
import numpy as np


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
