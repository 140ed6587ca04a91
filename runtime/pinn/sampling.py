"""Collocation points: in the interior, on a face, or on the initial slice of the domain.

Kinds: "uniform" (random), "sobol" and "halton" (quasi-random, scrambled, from
scipy.stats.qmc), "grid" (a tensor grid). Points are (n, d) arrays with one column per
coordinate of the system; coordinates in `fixed` take their face value.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
from scipy.stats import qmc

from ..errors import OptionError

SAMPLERS = ("uniform", "sobol", "halton", "grid")


def sample_points(kind: str, n: int, coordinates: tuple[str, ...],
                  bounds: Mapping[str, tuple[float, float]], fixed: Mapping[str, float],
                  seed: int) -> np.ndarray:
    """`n` points (fewer or more for "grid": the nearest full grid) in the region."""
    free = [c for c in coordinates if c not in fixed]
    unit = _unit(kind, n, len(free), seed)
    points = np.empty((len(unit), len(coordinates)))
    for j, c in enumerate(coordinates):
        if c in fixed:
            points[:, j] = fixed[c]
        else:
            lo, hi = bounds[c]
            points[:, j] = lo + (hi - lo) * unit[:, free.index(c)]
    return points


def _unit(kind: str, n: int, d: int, seed: int) -> np.ndarray:
    if kind not in SAMPLERS:
        raise OptionError(f"sampler {kind!r} is not available; choose one of "
                          f"{', '.join(SAMPLERS)}")
    if d == 0:
        return np.zeros((n, 0))
    if kind == "uniform":
        return np.random.default_rng(seed).random((n, d))
    if kind == "grid":
        per_axis = max(int(round(n ** (1.0 / d))), 2)
        axes = [np.linspace(0.0, 1.0, per_axis)] * d
        return np.stack([m.ravel() for m in np.meshgrid(*axes, indexing="ij")], axis=1)
    engine = qmc.Sobol(d, scramble=True, seed=seed) if kind == "sobol" else \
        qmc.Halton(d, scramble=True, seed=seed)
    with warnings.catch_warnings():   # Sobol prefers powers of two; any n is still fine
        warnings.simplefilter("ignore", UserWarning)
        return engine.random(n)
