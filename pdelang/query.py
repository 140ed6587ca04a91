"""Expressions asked of a solution: `sol("d(psi, y) + u^2")`, `sol.integral("u^2")`,
`pdelang solve ... --probe "d(psi, y) at x = 0.5"`.

The text is an expression of the `.pde` language, read by the same parser and checked
against the system's own names, so an unknown name or a derivative by a coordinate a field
does not depend on is reported at its column, as in a spec file. Nothing is evaluated here:
the result is SymPy, which runtime.evaluate turns into numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from lark import Tree

from .errors import PdeSemanticError
from .ir import System
from .scope import Scope
from .syntax import parse_tree
from .transform import TextFrontEnd


@dataclass(frozen=True)
class Query:
    """An expression, and the coordinates that a probe fixes (`at x = 0.5`: {"x": 0.5})."""

    text: str
    expr: sp.Expr
    at: dict[str, float]


def parse_query(text: str, system: System, source: str = "<expression>",
                allow_at: bool = False) -> Query:
    """`text` (an expression, with `at x = ..., y = ...` where `allow_at`) as SymPy over the
    system's fields, coordinates and parameters; a PdeError at the offending column."""
    tree = parse_tree(text, source, start="query")
    reader = TextFrontEnd(text, source, None)
    reader.scope = Scope(system.coordinates, system.fields, system.params, system.nets)
    expr_node, *rest = tree.children
    at: dict[str, float] = {}
    if rest:
        location: Tree = rest[0]
        if not allow_at:
            raise reader.error("`at` belongs to a probe (--probe \"EXPR at x = 0.5\"); give "
                               "the coordinates as arguments here: sol(EXPR, x=0.5)", location)
        for name, value in reader._location(location):
            number = value.xreplace(reader.scope.constants())
            if not number.is_number:
                raise reader.error(f"`{name}` must be given a number", location)
            at[name] = float(number)
    expr = reader.expr(expr_node)
    if isinstance(expr, sp.Eq) or not isinstance(expr, sp.Expr):
        raise PdeSemanticError("an expression of the fields is expected", reader.span(expr_node))
    return Query(text, expr, at)
