"""Points on the boundary of a region given by an inequality, expr < 0 of the coordinates.

Quasi-random points of the bounding box (widened by the band's half-width h) are kept
where the first-order distance s = f / |grad f| to the zero level is below h, then
projected onto f = 0 by Newton steps along the gradient, x <- x - f grad f / |grad f|^2;
the normal is grad f / |grad f| (f grows outward). By the coarea formula the boundary's
length (area) is the volume integral of K(s / h) / h for a kernel K of unit integral, so
each projected point stands for V K(s / h) / (h N) of N points drawn over a volume V (to
second order in h times the curvature); with the smooth biweight kernel the quasi-random
sum converges fast (a plain band count, an indicator, jitters by a percent). The points are
then resampled systematically by weight to n of equal weight. The gradient is JAX's, of
the shape's own level evaluated with jax.numpy, in float64.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from scipy.stats import qmc

from pdelang.geometry import Shape

BAND = 0.02             # the band's half-width, times the region's size
NEWTON_STEPS = 16
CONVERGED = 1e-10       # |f| / |grad f| at most this, times the size, after the steps
MOST_DRAWS = 12
FIRST_DRAW = 1 << 14     # box points first drawn at least (then doubled until enough),
PER_CELL = 4             # and at least this many per cube of side h (the kernel must be
MOST_FIRST = 1 << 20     # wider than the points' spacing), up to this many
OVERSAMPLE = 4          # points projected per point returned (few repeats in resampling)


def level_gradient(shape: Shape) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """points (n, d) -> (level (n,), its gradient (n, d)), in float64."""
    d = shape.dims

    def level(p: jax.Array) -> jax.Array:
        return jnp.asarray(shape.level([p[i] for i in range(d)], jnp), p.dtype)

    both = jax.jit(jax.vmap(jax.value_and_grad(level)))

    def evaluate(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with jax.enable_x64(True):
            f, g = both(jnp.asarray(points, jnp.float64))
            return np.asarray(f), np.asarray(g)

    return evaluate


def project(evaluate, points: np.ndarray, steps: int = NEWTON_STEPS) -> np.ndarray:
    """Newton steps towards f = 0 along the gradient."""
    for _ in range(steps):
        f, g = evaluate(points)
        points = points - (f / np.sum(g * g, axis=1))[:, None] * g
    return points


def sample_implicit(shape: Shape, n: int, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`n` points on the zero level of `shape.level` in its bounding box (fewer only where
    too few are found): points, outward unit normals, weights (see the module docstring)."""
    box = np.asarray(shape.bounds(), dtype=float)
    width = float(np.max(box[:, 1] - box[:, 0]))
    h = BAND * width
    lo, hi = box[:, 0] - h, box[:, 1] + h
    volume = float(np.prod(hi - lo))
    evaluate = level_gradient(shape)
    engine = qmc.Sobol(len(box), scramble=True, seed=rng)
    wanted = PER_CELL * volume / h ** len(box)
    batch = min(max(FIRST_DRAW, 1 << int(np.ceil(np.log2(wanted)))), MOST_FIRST)
    found, drawn = [], 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(MOST_DRAWS):
            points = lo + (hi - lo) * engine.random(batch)
            drawn += batch
            f0, g0 = evaluate(points)
            norm0 = np.linalg.norm(g0, axis=1)
            near = np.abs(f0) < h * norm0
            start = points[near]
            end = project(evaluate, start)
            f, g = evaluate(end)
            norm = np.linalg.norm(g, axis=1)
            good = np.isfinite(f) & (np.abs(f) <= CONVERGED * width * norm) & \
                np.all((end >= box[:, 0] - CONVERGED * width) &
                       (end <= box[:, 1] + CONVERGED * width), axis=1) & \
                (np.linalg.norm(end - start, axis=1) <= 2 * h)
            kernel = biweight(np.abs(f0[near][good]) / norm0[near][good] / h)
            found.append((end[good], g[good] / norm[good, None], kernel))
            if sum(len(p) for p, _, _ in found) >= OVERSAMPLE * n:
                break
            batch = drawn            # totals stay powers of two: balanced Sobol sets
    points = np.concatenate([p for p, _, _ in found])
    if not len(points):
        raise ValueError(f"found no point on the boundary of {shape}")
    normals = np.concatenate([m for _, m, _ in found])
    weights = np.concatenate([k for _, _, k in found]) * volume / (h * drawn)
    pick = systematic(weights, min(n, len(points)), rng)
    return points[pick], normals[pick], np.full(len(pick), weights.sum() / len(pick))


def biweight(s: np.ndarray) -> np.ndarray:
    """15/16 (1 - s^2)^2 on |s| < 1: a smooth kernel of unit integral."""
    return np.where(np.abs(s) < 1, 15 / 16 * (1 - s * s) ** 2, 0.0)


def systematic(weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n indices drawn in proportion to `weights` by systematic resampling: one random
    shift, then evenly spaced on the cumulative weights (the least jitter of any)."""
    cumulative = np.cumsum(weights) / weights.sum()
    marks = (np.arange(n) + rng.random()) / n
    return np.minimum(np.searchsorted(cumulative, marks), len(weights) - 1)
