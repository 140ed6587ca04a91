"""What a front end hands to the builder: declarations as the user wrote them.

Coordinates, fields, parameters, exact solutions and observations are already IR nodes;
equations and conditions are raw `lhs = rhs` pairs that the builder still has to check and
bring into normal form (faces found, derivatives ordered).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .errors import Span
from .geometry import Shape
from .ir import Coordinate, Exact, Field, Net, Observations, Param


@dataclass(frozen=True)
class EquationDecl:
    lhs: sp.Expr
    rhs: sp.Expr
    span: Span


@dataclass(frozen=True)
class ConditionDecl:
    """`lhs = rhs`, optionally `at coordinate = value` (or at a point, several of them); or
    `periodic` in a coordinate.

    `keyword` is "bc" or "ic" when the text said which, None from SymPy.
    """

    lhs: sp.Expr
    rhs: sp.Expr
    span: Span
    at: tuple[str, sp.Expr] | None = None
    keyword: str | None = None
    periodic: str | None = None
    point: tuple[tuple[str, sp.Expr], ...] | None = None  # `at x = 0, y = 0`
    on_boundary: bool = False            # `on boundary` of the shaped domain
    where: sp.Expr | None = None         # `on boundary where x > 0`: the part it holds on


@dataclass
class Declarations:
    name: str = ""
    file: str = ""
    coordinates: list[Coordinate] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    equations: list[EquationDecl] = field(default_factory=list)
    conditions: list[ConditionDecl] = field(default_factory=list)
    exact: list[Exact] = field(default_factory=list)
    data: list[Observations] = field(default_factory=list)
    span: Span | None = None  # where errors about the whole system point (text: line 1)
    domain: Shape | None = None        # `domain ...`: the shaped region inside the box
    domain_span: Span | None = None
    nets: list[Net] = field(default_factory=list)   # `net` lines: learned functions
