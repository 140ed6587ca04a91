"""Approximate distance functions of shaped domains, for hard Dirichlet conditions.

phi(x) is smooth inside the region, positive there, zero on its boundary, and normalised to
first order (|grad phi| = 1 on smooth parts of the boundary, grad phi the inward normal),
built as Sukumar and Srivastava build them (CMAME 389, 2022) from R-functions:

    disk, ball          (r^2 - |x - c|^2) / (2 r)
    rect, box           R-conjunction of the slabs (x - lo)(hi - x) / (hi - lo), one per axis
    cylinder            R-conjunction of its disk in (x, y) and its slab in z
    ellipse, `expr < 0` f / sqrt(f^2 + |grad f|^2) of f = 1 - X^2/a^2 - Y^2/b^2 or f = -expr
    polygon             R-equivalence 1 / sum(1 / phi_i) of its trimmed segments' distances
                        phi_i, signed by the polygon's level (positive inside)
    union               phi1 + phi2 + sqrt(phi1^2 + phi2^2)      (R0 disjunction)
    intersection        phi1 + phi2 - sqrt(phi1^2 + phi2^2)      (R0 conjunction)
    difference          the conjunction of phi1 and -phi2

A function takes one point (d,) and returns phi there, so the networks' nested jvp see it.
The square roots are guarded (zero gradient where their argument is zero), so phi has
finite derivatives everywhere, corners included (at the boundary points themselves a
polygon's, whose sign comes from its level, are one-sided).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce

import jax
import jax.numpy as jnp

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

Distance = Callable[[jax.Array], jax.Array]       # a point (d,) -> phi there


def distance_function(shape: Shape) -> Distance:
    """phi of `shape` (see the module docstring)."""
    rule = RULES.get(type(shape))
    if rule is None:
        raise TypeError(f"no distance function for the shape {shape} "
                        f"({type(shape).__name__})")
    return rule(shape)


def root(a: jax.Array, b: jax.Array) -> jax.Array:
    """sqrt(a^2 + b^2), with zero gradient (not NaN) where a = b = 0."""
    square = a * a + b * b
    positive = square > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, square, 1.0)), 0.0)


def conjunction(a: jax.Array, b: jax.Array) -> jax.Array:
    """R0 conjunction: positive where both are, zero where one is zero and the other not
    negative."""
    return a + b - root(a, b)


def disjunction(a: jax.Array, b: jax.Array) -> jax.Array:
    """R0 disjunction: positive where either is."""
    return a + b + root(a, b)


def _ball(shape: Ball) -> Distance:
    centre, r = shape.centre, shape.radius

    def phi(z: jax.Array) -> jax.Array:
        return (r * r - sum((z[i] - c) ** 2 for i, c in enumerate(centre))) / (2 * r)

    return phi


def _slab(z: jax.Array, lo: float, hi: float) -> jax.Array:
    return (z - lo) * (hi - z) / (hi - lo)


def _rect(shape: Rect) -> Distance:
    def phi(z: jax.Array) -> jax.Array:
        return reduce(conjunction, [_slab(z[i], lo, hi)
                                    for i, (lo, hi) in enumerate(zip(shape.lo, shape.hi))])

    return phi


def _cylinder(shape: Cylinder) -> Distance:
    disk = _ball(Ball(shape.centre, shape.radius))

    def phi(z: jax.Array) -> jax.Array:
        return conjunction(disk(z[:2]), _slab(z[2], *shape.z))

    return phi


def normalised(f: jax.Array, gradient: jax.Array) -> jax.Array:
    """f / sqrt(f^2 + |grad f|^2): f's sign and zeros, slope 1 where f = 0."""
    return f / jnp.sqrt(f * f + jnp.sum(gradient * gradient))


def _ellipse(shape: Ellipse) -> Distance:
    (cx, cy), (a, b) = shape.centre, shape.axes

    def phi(z: jax.Array) -> jax.Array:
        x, y = (z[0] - cx) / a, (z[1] - cy) / b
        return normalised(1 - x * x - y * y, jnp.stack([2 * x / a, 2 * y / b]))

    return phi


def _inequality(shape: Inequality) -> Distance:
    def f(z: jax.Array) -> jax.Array:
        return -jnp.asarray(shape.level([z[i] for i in range(shape.dims)], jnp), z.dtype)

    def phi(z: jax.Array) -> jax.Array:
        value, gradient = jax.value_and_grad(f)(z)
        return normalised(value, gradient)

    return phi


def segment(z: jax.Array, a: tuple[float, float], b: tuple[float, float]) -> jax.Array:
    """The trimmed distance to the segment from a to b: sqrt(f^2 + ((sqrt(t^2 + f^4) -
    t) / 2)^2), f the signed distance to its line, t = ((L/2)^2 - |z - centre|^2) / L the
    trimming disk; zero on the segment only, about the distance near it."""
    (ax, ay), (bx, by) = a, b
    length = ((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5
    f = ((z[0] - ax) * (by - ay) - (z[1] - ay) * (bx - ax)) / length
    cx, cy = (ax + bx) / 2, (ay + by) / 2
    t = ((length / 2) ** 2 - (z[0] - cx) ** 2 - (z[1] - cy) ** 2) / length
    trim = (root(t, f * f) - t) / 2
    return root(f, trim)


def _polygon(shape: Polygon) -> Distance:
    vertices = shape.vertices
    edges = [(vertices[i], vertices[(i + 1) % len(vertices)]) for i in range(len(vertices))]
    edges = [(a, b) for a, b in edges if a != b]

    def phi(z: jax.Array) -> jax.Array:
        parts = jnp.stack([segment(z, a, b) for a, b in edges])
        touching = jnp.any(parts == 0)              # on an edge: 0, not 1 / inf
        inverse = jnp.sum(1.0 / jnp.where(parts == 0, 1.0, parts))
        unsigned = jnp.where(touching, 0.0, 1.0 / jnp.where(touching, 1.0, inverse))
        inside = shape.level([z[0], z[1]], jnp) < 0
        return jnp.where(inside, unsigned, -unsigned)

    return phi


def _combined(combine: Callable, flip: bool) -> Callable[[Shape], Distance]:
    def rule(shape: Shape) -> Distance:
        first, second = distance_function(shape.first), distance_function(shape.second)
        sign = -1.0 if flip else 1.0
        return lambda z: combine(first(z), sign * second(z))

    return rule


RULES: dict[type, Callable[[Shape], Distance]] = {
    Ball: _ball, Rect: _rect, Cylinder: _cylinder, Ellipse: _ellipse, Inequality: _inequality,
    Polygon: _polygon,
    Union: _combined(disjunction, False),
    Intersection: _combined(conjunction, False),
    Difference: _combined(conjunction, True),
}
