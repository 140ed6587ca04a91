"""Points of a shaped domain for the pinn method: collocation points inside the region, and
points on its boundary with outward unit normals and quadrature weights.

Inside: scrambled Sobol points of the region's bounding box, kept where the level is
negative, drawn until there are enough. On the boundary, as DeepXDE and PhysicsNeMo sample
it, by measure: each primitive of the region's tree is sampled exactly on its own boundary
(`PRIMITIVES`: circles and ellipses by angle, the faces of rects and boxes, polygon edges,
sphere and cylinder surfaces; a region `expr < 0` by Newton projection of box points onto
expr = 0, `implicit`), the counts in proportion to each primitive's boundary measure. For a
combination the points on the whole region's boundary are kept: those where the whole's
level changes sign within a hair along the normal (inside one side, outside the other:
the level-zero test made scale-free, which also drops the stretches where two parts'
boundaries coincide with the region on neither side); the normals of a subtracted shape
are flipped. A point's weight is the boundary length (area in 3-D) it stands for, so the
weights sum to the boundary's measure and a weighted mean is a mean per unit length.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

from pdelang.geometry import (
    Ball,
    Cylinder,
    Difference,
    Ellipse,
    Inequality,
    Intersection,
    Polygon,
    Rect,
    Shape,
    Union,
)

from .implicit import sample_implicit

SIDE_STEP = 1e-7        # the hair, times the region's size, on either side of a point
MOST_DRAWS = 12         # rounds of drawing before giving up on reaching the count
MIN_PER_PART = 4        # points on every primitive part at least


@dataclass(frozen=True)
class BoundarySample:
    """Points on a boundary (n, d), their outward unit normals (n, d), and the length
    (area) each stands for (n,)."""

    points: np.ndarray
    normals: np.ndarray
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.weights)

    def subset(self, keep: np.ndarray) -> BoundarySample:
        return BoundarySample(self.points[keep], self.normals[keep], self.weights[keep])

    def flipped(self) -> BoundarySample:
        return BoundarySample(self.points, -self.normals, self.weights)

    @staticmethod
    def join(parts: list[BoundarySample]) -> BoundarySample:
        return BoundarySample(*(np.concatenate([getattr(p, k) for p in parts])
                                for k in ("points", "normals", "weights")))


def size(shape: Shape) -> float:
    """The largest extent of the region's bounding box: its length scale."""
    return max(hi - lo for lo, hi in shape.bounds())


def unit_points(m: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """`m` points of [0, 1)^d, low-discrepancy: in 1-D evenly spaced with a random shift
    (a shifted lattice), else scrambled Sobol."""
    if d == 1:
        return ((np.arange(m) + rng.random()) / m)[:, None]
    engine = qmc.Sobol(d, scramble=True, seed=rng)
    with warnings.catch_warnings():        # Sobol prefers powers of two; any m is fine
        warnings.simplefilter("ignore", UserWarning)
        return engine.random(m)


# -- inside -------------------------------------------------------------------------------

def sample_inside(shape: Shape, n: int, seed: int,
                  extra: tuple[tuple[float, float], ...] = ()) -> np.ndarray:
    """`n` points strictly inside the region (n, dims + len(extra)): Sobol points of its
    bounding box (and of the intervals `extra`, e.g. time, appended as columns), the first
    `n` of the sequence with a negative level."""
    box = np.asarray(tuple(shape.bounds()) + tuple(extra), dtype=float)
    engine = qmc.Sobol(len(box), scramble=True, seed=seed)
    kept: list[np.ndarray] = []
    count = 0
    for _ in range(MOST_DRAWS):
        batch = 1 << max(int(math.ceil(math.log2(max(2 * (n - count), 64)))), 6)
        points = box[:, 0] + (box[:, 1] - box[:, 0]) * engine.random(batch)
        inside = np.asarray(shape.level(list(points[:, :shape.dims].T), np)) < 0
        kept.append(points[inside])
        count += int(inside.sum())
        if count >= n:
            return np.concatenate(kept)[:n]
    raise ValueError(f"the region {shape} fills too little of its bounding box to draw "
                     f"{n} points inside it ({count} found)")


# -- on the boundary ----------------------------------------------------------------------

def sample_boundary(shape: Shape, n: int, seed: int) -> BoundarySample:
    """About `n` points on the region's boundary (a primitive's faces or edges round their
    shares; a combination keeps at least `n`), with outward normals and weights summing to
    the boundary's length (area); see the module docstring."""
    rng = np.random.default_rng(seed)
    parts = leaves(shape)
    if len(parts) == 1:
        return PRIMITIVES[type(shape)](shape, n, rng)
    measures = np.asarray([boundary_measure(p) for p, _ in parts])
    total = n
    for _ in range(MOST_DRAWS):
        counts = np.maximum(np.ceil(total * measures / measures.sum()), MIN_PER_PART)
        drawn = [PRIMITIVES[type(p)](p, int(m), rng) for (p, _), m in zip(parts, counts)]
        joined = BoundarySample.join([s if sign > 0 else s.flipped()
                                      for s, (_, sign) in zip(drawn, parts)])
        kept = joined.subset(on_boundary(shape, joined))
        if len(kept) >= n:
            return kept
        total = int(math.ceil(total * 1.2 * n / max(len(kept), 1)))
    raise ValueError(f"found only {len(kept)} of {n} points on the boundary of {shape}")


def leaves(shape: Shape, sign: int = 1) -> list[tuple[Shape, int]]:
    """The primitive shapes of a region's tree, each with -1 where it is subtracted (an odd
    number of times) and +1 elsewhere."""
    if isinstance(shape, (Union, Intersection)):
        return leaves(shape.first, sign) + leaves(shape.second, sign)
    if isinstance(shape, Difference):
        return leaves(shape.first, sign) + leaves(shape.second, -sign)
    if type(shape) not in PRIMITIVES:
        raise TypeError(f"no boundary sampler for the shape {shape} ({type(shape).__name__})")
    return [(shape, sign)]


def on_boundary(shape: Shape, sample: BoundarySample) -> np.ndarray:
    """Which points of a primitive's sample lie on the whole region's boundary: inside a
    hair behind them (against the normal), outside a hair ahead."""
    step = SIDE_STEP * size(shape)
    behind = sample.points - step * sample.normals
    ahead = sample.points + step * sample.normals
    return (np.asarray(shape.level(list(behind.T), np)) < 0) & \
        (np.asarray(shape.level(list(ahead.T), np)) > 0)


def boundary_measure(shape: Shape) -> float:
    """A primitive's boundary length (area): exact, or for an ellipse and an implicit
    region from a fine sample."""
    if isinstance(shape, (Ellipse, Inequality)):
        return float(PRIMITIVES[type(shape)](shape, 4096, np.random.default_rng(0))
                     .weights.sum())
    return float(PRIMITIVES[type(shape)](shape, MIN_PER_PART, np.random.default_rng(0))
                 .weights.sum())


# -- the primitives -----------------------------------------------------------------------

def _rect(shape: Rect, n: int, rng: np.random.Generator) -> BoundarySample:
    """Every face of a rect (box), points in proportion to the face's length (area)."""
    lo, hi = np.asarray(shape.lo, float), np.asarray(shape.hi, float)
    d = len(lo)
    faces = [(k, side) for k in range(d) for side in (0, 1)]
    extent = hi - lo
    measures = [float(np.prod(np.delete(extent, k))) for k, _ in faces]
    total = sum(measures)
    parts = []
    for (k, side), measure in zip(faces, measures):
        m = max(int(round(n * measure / total)), 1)
        unit = unit_points(m, d - 1, rng)
        points = np.empty((m, d))
        points[:, np.arange(d) != k] = np.delete(lo, k) + np.delete(extent, k) * unit
        points[:, k] = hi[k] if side else lo[k]
        normals = np.zeros((m, d))
        normals[:, k] = 1.0 if side else -1.0
        parts.append(BoundarySample(points, normals, np.full(m, measure / m)))
    return BoundarySample.join(parts)


def _ball(shape: Ball, n: int, rng: np.random.Generator) -> BoundarySample:
    """A circle by angle; a sphere by (z, angle), uniform in area."""
    centre, r = np.asarray(shape.centre, float), shape.radius
    if shape.dims == 2:
        theta = 2 * np.pi * unit_points(n, 1, rng)[:, 0]
        normals = np.stack([np.cos(theta), np.sin(theta)], axis=1)
        measure = 2 * np.pi * r
    else:
        u, v = unit_points(n, 2, rng).T
        z, phi = 1 - 2 * u, 2 * np.pi * v
        rho = np.sqrt(np.maximum(1 - z * z, 0.0))
        normals = np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=1)
        measure = 4 * np.pi * r * r
    return BoundarySample(centre + r * normals, normals, np.full(n, measure / n))


def _ellipse(shape: Ellipse, n: int, rng: np.random.Generator) -> BoundarySample:
    """By the angle parameter t: (cx + a cos t, cy + b sin t), each point weighted by its
    arc length |dx/dt| 2 pi / n."""
    (cx, cy), (a, b) = shape.centre, shape.axes
    t = 2 * np.pi * unit_points(n, 1, rng)[:, 0]
    c, s = np.cos(t), np.sin(t)
    points = np.stack([cx + a * c, cy + b * s], axis=1)
    normal = np.stack([b * c, a * s], axis=1)
    speed = np.hypot(a * s, b * c)
    return BoundarySample(points, normal / np.linalg.norm(normal, axis=1, keepdims=True),
                          speed * 2 * np.pi / n)


def _cylinder(shape: Cylinder, n: int, rng: np.random.Generator) -> BoundarySample:
    """The side by (angle, z) and the two end disks (uniform in area), by their areas."""
    (cx, cy), r, (z0, z1) = shape.centre, shape.radius, shape.z
    side_area, cap_area = 2 * np.pi * r * (z1 - z0), np.pi * r * r
    total = side_area + 2 * cap_area
    m = max(int(round(n * side_area / total)), 1)
    u, v = unit_points(m, 2, rng).T
    theta = 2 * np.pi * u
    radial = np.stack([np.cos(theta), np.sin(theta), np.zeros(m)], axis=1)
    points = np.stack([cx + r * radial[:, 0], cy + r * radial[:, 1], z0 + (z1 - z0) * v], 1)
    parts = [BoundarySample(points, radial, np.full(m, side_area / m))]
    for z, sign in ((z0, -1.0), (z1, 1.0)):
        k = max(int(round(n * cap_area / total)), 1)
        u, v = unit_points(k, 2, rng).T
        rho, theta = r * np.sqrt(u), 2 * np.pi * v
        points = np.stack([cx + rho * np.cos(theta), cy + rho * np.sin(theta),
                           np.full(k, z)], axis=1)
        normals = np.zeros((k, 3))
        normals[:, 2] = sign
        parts.append(BoundarySample(points, normals, np.full(k, cap_area / k)))
    return BoundarySample.join(parts)


def _polygon(shape: Polygon, n: int, rng: np.random.Generator) -> BoundarySample:
    """Every edge, points in proportion to its length; the outward normal from the
    orientation (the sign of the signed area)."""
    vertices = np.asarray(shape.vertices, float)
    ends = np.roll(vertices, -1, axis=0)
    edges = ends - vertices
    lengths = np.linalg.norm(edges, axis=1)
    area2 = float(np.sum(vertices[:, 0] * ends[:, 1] - ends[:, 0] * vertices[:, 1]))
    turn = 1.0 if area2 > 0 else -1.0           # counter-clockwise: the normal is (ey, -ex)
    parts = []
    for start, edge, length in zip(vertices, edges, lengths):
        if length == 0:
            continue
        m = max(int(round(n * length / lengths.sum())), 1)
        s = unit_points(m, 1, rng)
        normal = turn * np.asarray([edge[1], -edge[0]]) / length
        parts.append(BoundarySample(start + s * edge, np.tile(normal, (m, 1)),
                                    np.full(m, length / m)))
    return BoundarySample.join(parts)


def _inequality(shape: Inequality, n: int, rng: np.random.Generator) -> BoundarySample:
    points, normals, weights = sample_implicit(shape, n, rng)
    return BoundarySample(points, normals, weights)


PRIMITIVES: dict[type, Callable[[Shape, int, np.random.Generator], BoundarySample]] = {
    Rect: _rect, Ball: _ball, Ellipse: _ellipse, Cylinder: _cylinder, Polygon: _polygon,
    Inequality: _inequality,
}
