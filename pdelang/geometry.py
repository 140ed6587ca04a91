"""Shaped domains: the region inside the bounding box where a problem lives.

A region is a tree of shapes (`rect`, `disk`, `ellipse`, `polygon`; `box`, `ball`,
`cylinder` in 3-D; a region given by an inequality of the coordinates) combined by union
(`+`), difference (`-`) and intersection (`&`). Every region has a level function of the
space coordinates, negative inside, zero on the boundary and positive outside; the
combinations take the minimum (union) and maximum (intersection, difference with the
complement) of their parts' levels, so the sign, which is all the solvers rely on, is exact
for any combination, and the level is the signed distance near smooth parts of the boundary
of rects, disks, balls, cylinders and polygons.

Levels are evaluated on arrays of coordinates by `level(points, xp)`, with `xp` numpy or
jax.numpy, so the same shape serves the grid masks of fd and odil and the sampling and
distance functions of pinn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

Points = Sequence[Any]       # one array per space coordinate, all of one shape


@dataclass(frozen=True)
class Shape:
    """A region of space; subclasses give `level` and their bounding box."""

    def level(self, points: Points, xp=np) -> Any:
        """Negative inside, zero on the boundary, positive outside (see the module)."""
        raise NotImplementedError

    @property
    def dims(self) -> int:
        raise NotImplementedError

    def bounds(self) -> tuple[tuple[float, float], ...]:
        """A box (lo, hi) per coordinate that holds the region."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def __add__(self, other: Shape) -> Shape:
        return Union(self, other)

    def __sub__(self, other: Shape) -> Shape:
        return Difference(self, other)

    def __and__(self, other: Shape) -> Shape:
        return Intersection(self, other)

    def __str__(self) -> str:
        return self.describe()

    def contains(self, points: Points) -> np.ndarray:
        """True at the points strictly inside (numpy)."""
        return np.asarray(self.level(points, np)) < 0


def _number(value: float) -> str:
    """Short where that is exact, else every digit: printed specs keep their geometry."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


@dataclass(frozen=True)
class Rect(Shape):
    """An axis-aligned box from corner `lo` to corner `hi` (`rect` in 2-D, `box` in 3-D)."""

    lo: tuple[float, ...]
    hi: tuple[float, ...]

    @property
    def dims(self) -> int:
        return len(self.lo)

    def level(self, points: Points, xp=np):
        parts = []
        for p, a, b in zip(points, self.lo, self.hi):
            parts += [a - p, p - b]
        return _fold(xp.maximum, parts)

    def bounds(self):
        return tuple(zip(self.lo, self.hi))

    def describe(self) -> str:
        name = "rect" if self.dims == 2 else "box"
        return f"{name}({', '.join(_number(v) for v in self.lo + self.hi)})"


@dataclass(frozen=True)
class Ball(Shape):
    """A disk (2-D) or ball (3-D) of `radius` around `centre`."""

    centre: tuple[float, ...]
    radius: float

    @property
    def dims(self) -> int:
        return len(self.centre)

    def level(self, points: Points, xp=np):
        square = sum((p - c) ** 2 for p, c in zip(points, self.centre))
        return xp.sqrt(square) - self.radius

    def bounds(self):
        return tuple((c - self.radius, c + self.radius) for c in self.centre)

    def describe(self) -> str:
        name = "disk" if self.dims == 2 else "ball"
        return f"{name}({', '.join(_number(v) for v in self.centre + (self.radius,))})"


@dataclass(frozen=True)
class Ellipse(Shape):
    """An axis-aligned ellipse with semi-axes (a, b) around (cx, cy). Its level is the
    scaled radial distance times the smaller semi-axis (the sign is exact, the size is the
    distance to within the ratio of the axes)."""

    centre: tuple[float, float]
    axes: tuple[float, float]

    @property
    def dims(self) -> int:
        return 2

    def level(self, points: Points, xp=np):
        x, y = points
        (cx, cy), (a, b) = self.centre, self.axes
        return (xp.sqrt(((x - cx) / a) ** 2 + ((y - cy) / b) ** 2) - 1) * min(a, b)

    def bounds(self):
        return tuple((c - r, c + r) for c, r in zip(self.centre, self.axes))

    def describe(self) -> str:
        return f"ellipse({', '.join(_number(v) for v in self.centre + self.axes)})"


@dataclass(frozen=True)
class Cylinder(Shape):
    """A circular cylinder along z: radius `radius` around (cx, cy), from z0 to z1."""

    centre: tuple[float, float]
    radius: float
    z: tuple[float, float]

    @property
    def dims(self) -> int:
        return 3

    def level(self, points: Points, xp=np):
        x, y, z = points
        (cx, cy), (z0, z1) = self.centre, self.z
        radial = xp.sqrt((x - cx) ** 2 + (y - cy) ** 2) - self.radius
        return xp.maximum(radial, xp.maximum(z0 - z, z - z1))

    def bounds(self):
        (cx, cy), r = self.centre, self.radius
        return ((cx - r, cx + r), (cy - r, cy + r), self.z)

    def describe(self) -> str:
        values = self.centre + (self.radius,) + self.z
        return f"cylinder({', '.join(_number(v) for v in values)})"


@dataclass(frozen=True)
class Polygon(Shape):
    """A simple polygon through `vertices` (in either orientation, closed automatically):
    the signed distance, its sign from the crossing number."""

    vertices: tuple[tuple[float, float], ...]

    @property
    def dims(self) -> int:
        return 2

    def level(self, points: Points, xp=np):
        x, y = points
        distance, inside = None, None
        n = len(self.vertices)
        for i in range(n):
            (ax, ay), (bx, by) = self.vertices[i], self.vertices[(i + 1) % n]
            ex, ey = bx - ax, by - ay
            along = xp.clip(((x - ax) * ex + (y - ay) * ey) / (ex * ex + ey * ey), 0.0, 1.0)
            d = (x - ax - along * ex) ** 2 + (y - ay - along * ey) ** 2
            distance = d if distance is None else xp.minimum(distance, d)
            # the edge crosses the horizontal line through the point, right of it
            straddles = (ay > y) != (by > y)
            right = x < ax + (y - ay) * ex / xp.where(ey == 0, 1.0, ey)
            crossing = straddles & right
            inside = crossing if inside is None else inside != crossing
        return xp.where(inside, -1.0, 1.0) * xp.sqrt(distance)

    def bounds(self):
        xs, ys = zip(*self.vertices)
        return ((min(xs), max(xs)), (min(ys), max(ys)))

    def describe(self) -> str:
        return "polygon(" + ", ".join(f"({_number(a)}, {_number(b)})"
                                      for a, b in self.vertices) + ")"


@dataclass(frozen=True)
class Inequality(Shape):
    """The points where `expr < 0` (`domain x^2 + y^2/4 < 1` gives expr x^2 + y^2/4 - 1),
    over the box `box`. Its level is expr itself: the sign is exact, the size is not a
    distance."""

    expr: sp.Expr
    coordinates: tuple[str, ...]
    box: tuple[tuple[float, float], ...]
    text: str = ""

    @property
    def dims(self) -> int:
        return len(self.coordinates)

    def level(self, points: Points, xp=np):
        values = dict(zip((sp.Symbol(c) for c in self.coordinates), points))
        shape = np.broadcast_shapes(*(np.shape(p) for p in points))
        return xp.broadcast_to(xp.asarray(evaluate(self.expr, values, xp), dtype=float),
                               shape)

    def bounds(self):
        return self.box

    def describe(self) -> str:
        return self.text or f"{sp.sstr(self.expr)} < 0"


@dataclass(frozen=True)
class Combination(Shape):
    """Two regions combined; subclasses say how (union, intersection, difference)."""

    first: Shape
    second: Shape

    @property
    def dims(self) -> int:
        return self.first.dims


@dataclass(frozen=True)
class Union(Combination):
    def level(self, points: Points, xp=np):
        return xp.minimum(self.first.level(points, xp), self.second.level(points, xp))

    def bounds(self):
        return tuple((min(a[0], b[0]), max(a[1], b[1]))
                     for a, b in zip(self.first.bounds(), self.second.bounds()))

    def describe(self) -> str:
        return f"{_first(self.first)} + {_grouped(self.second)}"


@dataclass(frozen=True)
class Intersection(Combination):
    def level(self, points: Points, xp=np):
        return xp.maximum(self.first.level(points, xp), self.second.level(points, xp))

    def bounds(self):
        return tuple((max(a[0], b[0]), min(a[1], b[1]))
                     for a, b in zip(self.first.bounds(), self.second.bounds()))

    def describe(self) -> str:
        return f"{_grouped(self.first)} & {_grouped(self.second)}"


@dataclass(frozen=True)
class Difference(Combination):
    def level(self, points: Points, xp=np):
        return xp.maximum(self.first.level(points, xp), -self.second.level(points, xp))

    def bounds(self):
        return self.first.bounds()

    def describe(self) -> str:
        return f"{_first(self.first)} - {_grouped(self.second)}"


@dataclass(frozen=True)
class Extruded(Shape):
    """`shape` continued unchanged along one more coordinate, `name`, at `position` of the
    points: the space-time cylinder of a region when ODIL makes time a grid axis. Its
    boundary is the region's boundary at every value of that coordinate (the ends of the
    coordinate's interval are faces of the box, not of the region)."""

    shape: Shape
    position: int
    name: str

    @property
    def dims(self) -> int:
        return self.shape.dims + 1

    def level(self, points: Points, xp=np):
        points = list(points)
        along = points.pop(self.position)
        return xp.broadcast_to(self.shape.level(points, xp),
                               np.broadcast_shapes(np.shape(along), *map(np.shape, points)))

    def bounds(self):
        box = list(self.shape.bounds())
        box.insert(self.position, (-np.inf, np.inf))
        return tuple(box)

    def describe(self) -> str:
        return f"{self.shape.describe()} at every {self.name}"


def _first(shape: Shape) -> str:
    """The left operand of + or -: bracketed if an intersection (`&` binds loosest)."""
    text = shape.describe()
    return f"({text})" if isinstance(shape, Intersection) else text


def _grouped(shape: Shape) -> str:
    text = shape.describe()
    return f"({text})" if isinstance(shape, Combination) else text


def _fold(combine: Callable, parts: list) -> Any:
    out = parts[0]
    for part in parts[1:]:
        out = combine(out, part)
    return out


_ARRAY_FUNCTIONS = {sp.sin: "sin", sp.cos: "cos", sp.tan: "tan", sp.exp: "exp",
                    sp.log: "log", sp.tanh: "tanh", sp.sinh: "sinh", sp.cosh: "cosh",
                    sp.Abs: "abs", sp.sign: "sign"}
_COMPARISONS = {"<": "less", "<=": "less_equal", ">": "greater", ">=": "greater_equal"}


def evaluate(expr: sp.Expr, values: dict, xp=np):
    """The value of a SymPy expression of the language (numbers, symbols given in
    `values`, + * ^, its functions, where()) on arrays, with numpy or jax.numpy: a walk of
    the tree, since text is never turned into code (no lambdify)."""
    if expr in values:
        return values[expr]
    if expr.is_Number or isinstance(expr, sp.NumberSymbol):
        return float(expr)
    if isinstance(expr, sp.Symbol):
        raise ValueError(f"no value for {expr}")
    args = [evaluate(a, values, xp) for a in expr.args] if not isinstance(
        expr, sp.Piecewise) else None
    if isinstance(expr, sp.Add):
        return _fold(lambda a, b: a + b, args)
    if isinstance(expr, sp.Mul):
        return _fold(lambda a, b: a * b, args)
    if isinstance(expr, sp.Pow):
        return args[0] ** args[1]
    if isinstance(expr, (sp.Min, sp.Max)):
        return _fold(xp.minimum if isinstance(expr, sp.Min) else xp.maximum, args)
    if expr.func in _ARRAY_FUNCTIONS:
        return getattr(xp, _ARRAY_FUNCTIONS[expr.func])(args[0])
    if isinstance(expr, sp.core.relational.Relational):
        return getattr(xp, _COMPARISONS[expr.rel_op])(args[0], args[1])
    if isinstance(expr, sp.Piecewise):
        out = evaluate(expr.args[-1][0], values, xp)
        for value, condition in reversed(expr.args[:-1]):
            out = xp.where(evaluate(condition, values, xp), evaluate(value, values, xp), out)
        return out
    raise ValueError(f"cannot evaluate {expr} on arrays")


# -- shapes by name, as the language writes them ------------------------------------------

@dataclass(frozen=True)
class ShapeKind:
    """A shape function of the language: its name, dimension, argument count and maker."""

    name: str
    dims: int
    arguments: str                       # for error messages: "(x0, y0, x1, y1)"
    make: Callable[[list[float]], Shape]
    count: int | None                    # None: any number of points (polygon)


def _rect(v):
    return Rect((v[0], v[1]), (v[2], v[3]))


def _box(v):
    return Rect((v[0], v[1], v[2]), (v[3], v[4], v[5]))


SHAPES: dict[str, ShapeKind] = {
    "rect": ShapeKind("rect", 2, "(x0, y0, x1, y1)", _rect, 4),
    "disk": ShapeKind("disk", 2, "(cx, cy, r)", lambda v: Ball((v[0], v[1]), v[2]), 3),
    "ellipse": ShapeKind("ellipse", 2, "(cx, cy, a, b)",
                         lambda v: Ellipse((v[0], v[1]), (v[2], v[3])), 4),
    "polygon": ShapeKind("polygon", 2, "((x1, y1), (x2, y2), (x3, y3), ...)",
                         lambda v: Polygon(tuple(v)), None),
    "box": ShapeKind("box", 3, "(x0, y0, z0, x1, y1, z1)", _box, 6),
    "ball": ShapeKind("ball", 3, "(cx, cy, cz, r)",
                      lambda v: Ball((v[0], v[1], v[2]), v[3]), 4),
    "cylinder": ShapeKind("cylinder", 3, "(cx, cy, r, z0, z1)",
                          lambda v: Cylinder((v[0], v[1]), v[2], (v[3], v[4])), 5),
}


def rect(x0: float, y0: float, x1: float, y1: float) -> Shape:
    """The rectangle [x0, x1] x [y0, y1] (the language's `rect`)."""
    return Rect((float(x0), float(y0)), (float(x1), float(y1)))


def disk(cx: float, cy: float, r: float) -> Shape:
    return Ball((float(cx), float(cy)), float(r))


def ellipse(cx: float, cy: float, a: float, b: float) -> Shape:
    return Ellipse((float(cx), float(cy)), (float(a), float(b)))


def polygon(*points: tuple[float, float]) -> Shape:
    return Polygon(tuple((float(x), float(y)) for x, y in points))


def box(x0: float, y0: float, z0: float, x1: float, y1: float, z1: float) -> Shape:
    return Rect((float(x0), float(y0), float(z0)), (float(x1), float(y1), float(z1)))


def ball(cx: float, cy: float, cz: float, r: float) -> Shape:
    return Ball((float(cx), float(cy), float(cz)), float(r))


def cylinder(cx: float, cy: float, r: float, z0: float, z1: float) -> Shape:
    return Cylinder((float(cx), float(cy)), float(r), (float(z0), float(z1)))


def probe_grid(box: Sequence[tuple[float, float]], per_axis: int) -> list[np.ndarray]:
    """A regular grid of `per_axis` points per coordinate over `box` (ends included)."""
    axes = [np.linspace(lo, hi, per_axis) for lo, hi in box]
    return list(np.meshgrid(*axes, indexing="ij"))


def area_fraction(shape: Shape, box: Sequence[tuple[float, float]],
                  per_axis: int | None = None) -> float:
    """The share of a regular probe grid over `box` strictly inside `shape`."""
    per_axis = per_axis or (257 if len(box) <= 2 else 65)
    inside = shape.contains(probe_grid(box, per_axis))
    return float(np.mean(inside))


ON_BOUNDARY = 1e-13      # |level| below this share of the largest |level| on a grid: on it


def closed_mask(shape: Shape, lines: Sequence[np.ndarray]) -> np.ndarray:
    """The nodes of the grid with these coordinate lines (one per axis, in the shape's
    coordinate order) inside the region or on its boundary next to a node inside: the
    `mask` of output files."""
    values = np.asarray(shape.level(np.meshgrid(*lines, indexing="ij"), np), dtype=float)
    scale = float(np.max(np.abs(values))) or 1.0
    inside = values < -ON_BOUNDARY * scale
    return inside | ((values <= ON_BOUNDARY * scale) & next_to(inside))


def next_to(mask: np.ndarray) -> np.ndarray:
    """The nodes with a neighbour in `mask` along some axis (the grid's own neighbours: a
    zero of the level that no node inside touches, such as the edge a difference of two
    shapes shares with its box, is not part of the region)."""
    out = np.zeros_like(mask)
    for k in range(mask.ndim):
        lower = [slice(None)] * mask.ndim
        upper = [slice(None)] * mask.ndim
        lower[k], upper[k] = slice(0, -1), slice(1, None)
        out[tuple(lower)] |= mask[tuple(upper)]
        out[tuple(upper)] |= mask[tuple(lower)]
    return out
