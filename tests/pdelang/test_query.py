"""Expressions asked of a solution (pdelang.query): the language's own parser and names,
with its positioned errors."""

import pytest
import sympy as sp

import pdelang as pl
from pdelang.errors import PdeSemanticError, PdeSyntaxError
from pdelang.query import parse_query

SYSTEM = pl.parse("""
space x in [0, 1], y in [0, 1]
field psi(x, y), w(x, y)
param Re = 100
pde w = -laplace(psi)
pde d(psi, y)*d(w, x) - d(psi, x)*d(w, y) = laplace(w)/Re
bc psi = 0 at x = 0
bc psi = 0 at x = 1
bc psi = 0 at y = 0
bc psi = 0 at y = 1
bc w = 0 at x = 0
bc w = 0 at x = 1
bc w = 0 at y = 0
bc w = 0 at y = 1
""")
x, y = sp.symbols("x y")
psi, w = sp.Function("psi")(x, y), sp.Function("w")(x, y)


def test_an_expression_reads_as_in_a_spec():
    query = parse_query("psi_y^2 + Re*d(w, x, 2) - laplace(psi)", SYSTEM)
    expected = (psi.diff(y) ** 2 + sp.Symbol("Re") * w.diff(x, 2)
                - psi.diff(x, 2) - psi.diff(y, 2))
    assert sp.simplify(query.expr - expected) == 0
    assert query.at == {}


def test_a_probe_fixes_coordinates_after_at():
    query = parse_query("d(psi, y) at x = 0.5", SYSTEM, allow_at=True)
    assert query.expr == psi.diff(y) and query.at == {"x": 0.5}
    assert parse_query("w at x = 1/4, y = Re/200", SYSTEM, allow_at=True).at == {
        "x": 0.25, "y": 0.5}


@pytest.mark.parametrize("text, probe, error, column, words", [
    ("psi + q", False, PdeSemanticError, 7, "unknown name `q`"),
    ("d(psi, t)", False, PdeSemanticError, 8, "coordinates"),
    ("psi *", False, PdeSyntaxError, 6, "expected an expression"),
    ("psi at x = 0.5", False, PdeSemanticError, 5, "belongs to a probe"),
    ("psi at Re = 1", True, PdeSemanticError, 8, "`at` names a coordinate"),
])
def test_bad_expressions_are_refused_at_their_column(text, probe, error, column, words):
    with pytest.raises(error) as caught:
        parse_query(text, SYSTEM, allow_at=probe)
    assert caught.value.span.column == column and words in str(caught.value)
