"""The `domain` line and `on boundary` conditions of the text front end: parse trees to
shapes (pdelang.geometry), and the checks that a region fits its box and is not empty."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy as sp
from lark import Tree
from sympy.core.function import AppliedUndef

from . import expressions as ex
from .errors import PdeSemanticError, Span
from .geometry import (
    SHAPES,
    Difference,
    Inequality,
    Intersection,
    Shape,
    Union,
    area_fraction,
    probe_grid,
)
from .ir import Coordinate
from .validate import numeric

COMBINE = {"add": Union, "sub": Difference, "intersection": Intersection}
FIT = 1e-9            # how far (relative to the box) a shape may reach past its box


class RegionReader:
    """Reads the region of a `domain` statement; `expr` and `span` are the front end's."""

    def __init__(self, expr: Callable[[Tree], sp.Expr], span: Callable[[Tree], Span],
                 constants: dict, space: tuple[Coordinate, ...]) -> None:
        self.expr, self.span, self.constants, self.space = expr, span, constants, space

    def error(self, message: str, node, hint: str = "") -> PdeSemanticError:
        return PdeSemanticError(message, self.span(node), hint)

    def statement(self, st: Tree) -> Shape:
        """The region of `domain REGION` or `domain LEFT < RIGHT`, checked against the box."""
        if not self.space:
            raise self.error("a `domain` needs space coordinates: declare them with "
                             "`space x in [a, b], ...` first", st)
        if len(st.children) == 3:
            shape = self.inequality(st)
        else:
            shape = self.region(st.children[0])
        check_region(shape, self.space, self.span(st))
        return shape

    def region(self, node) -> Shape:
        if isinstance(node, Tree) and node.data in COMBINE:
            first, second = node.children
            return COMBINE[node.data](self.region(first), self.region(second))
        if isinstance(node, Tree) and node.data == "call" and str(node.children[0]) in SHAPES:
            return self.shape(node)
        raise self.error(
            "a domain is made of shapes combined with + (union), - (difference) and & "
            "(intersection), or is one inequality of the coordinates", node,
            hint="shapes: " + ", ".join(f"{k.name}{k.arguments}" for k in SHAPES.values()))

    def shape(self, node: Tree) -> Shape:
        token, args_node = node.children
        kind = SHAPES[str(token)]
        dims = len(self.space)
        if kind.dims != dims:
            raise self.error(f"`{kind.name}` is a {kind.dims}-D shape, and this problem has "
                             f"{dims} space coordinate(s)", node)
        args = list(args_node.children)
        if kind.count is None:                       # polygon: points
            if len(args) < 3:
                raise self.error(f"a polygon needs at least 3 points, got {len(args)}", node,
                                 hint=f"write {kind.name}{kind.arguments}")
            values = [self.point(a) for a in args]
        else:
            if len(args) != kind.count:
                raise self.error(f"`{kind.name}` takes {kind.count} numbers {kind.arguments}, "
                                 f"got {len(args)}", node)
            values = [self.number(a) for a in args]
        shape = kind.make(values)
        for (lo, hi), name in zip(shape.bounds(), "xyz"):
            if not hi > lo:
                raise self.error(f"`{kind.name}` is empty: its extent along its {name} axis "
                                 f"is {lo:g} to {hi:g}", node)
        return shape

    def number(self, node) -> float:
        if isinstance(node, Tree) and node.data == "pair":
            raise self.error("a point (x, y) is an argument of polygon() only", node)
        value = numeric(ex.substitute(self.expr(node), self.constants, self.span(node)))
        if value is None:
            raise self.error("a shape's arguments are numbers (constants declared above "
                             "may be used)", node)
        return value

    def point(self, node) -> tuple[float, float]:
        if not (isinstance(node, Tree) and node.data == "pair"):
            raise self.error("polygon() takes points (x, y)", node)
        return self.number(node.children[0]), self.number(node.children[1])

    def inequality(self, st: Tree) -> Shape:
        left, compare, right = st.children
        lhs, rhs = (ex.substitute(self.expr(n), self.constants, self.span(n))
                    for n in (left, right))
        level = lhs - rhs if str(compare) in ("<", "<=") else rhs - lhs
        names = tuple(c.name for c in self.space)
        stray = sorted({str(s) for s in level.free_symbols if str(s) not in names} |
                       {f.func.__name__ for f in level.atoms(AppliedUndef)})
        if stray or level.has(sp.Derivative):
            raise self.error("an inequality domain uses the space coordinates and constants"
                             + (f"; it uses {', '.join(stray)}" if stray else ""), st)
        box = tuple((float(c.lower), float(c.upper)) for c in self.space)
        text = f"{sp.sstr(lhs)} {compare} {sp.sstr(rhs)}"
        return Inequality(level, names, box, text)


def check_region(shape: Shape, space: tuple[Coordinate, ...], span: Span) -> None:
    """A shape reaching outside the box, or a region with no point inside: errors at the
    `domain` line."""
    box = tuple((float(c.lower), float(c.upper)) for c in space)
    for (lo, hi), (a, b), c in zip(shape.bounds(), box, space):
        slack = FIT * (b - a)
        if lo < a - slack or hi > b + slack:
            raise PdeSemanticError(
                f"the domain reaches outside the box: along `{c.name}` it spans {lo:g} to "
                f"{hi:g}, and `{c.name}` is declared in [{a:g}, {b:g}]", span,
                hint=f"widen `space {c.name} in [...]` or move the shape inside it")
    if area_fraction(shape, box) == 0.0:
        raise PdeSemanticError("the domain is empty: no point of the box is inside it", span,
                               hint="check the shapes' signs: a - b removes b from a, a & b "
                                    "keeps what both cover")
    if isinstance(shape, Inequality):
        edge = _box_edge(box)
        if np.any(shape.contains(edge)):
            raise PdeSemanticError(
                "the domain reaches outside the box: the inequality holds on the box's edge",
                span, hint="write the region so that it lies inside `space ...`, or "
                "intersect it with a shape: a domain ends at its own boundary")


def _box_edge(box) -> list[np.ndarray]:
    """Points on the faces of the box (a regular grid of each face)."""
    grid = probe_grid(box, 65 if len(box) <= 2 else 17)
    on_face = np.zeros(grid[0].shape, bool)
    for k, (lo, hi) in enumerate(box):
        on_face |= (grid[k] == lo) | (grid[k] == hi)
    return [g[on_face] for g in grid]

