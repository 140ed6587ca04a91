"""Bounds on unknown constants: `param D ~ 0.3 in [0, 10]` and `pl.Unknown(0.3, bounds=...)`
give the same IR; misplaced or impossible bounds are errors at the `param` line."""

import pytest
import sympy as sp

import pdelang as pl
from pdelang import PdeSemanticError, PdeSyntaxError

TEXT = """
param D ~ {guess} in [{lo}, {hi}]
param r ~ 0.5
space x in [0, 1]
time t in [0, 1]
field u(t, x)
pde d(u, t) = D*d(u, x, 2) + r*u*(1 - u)
bc d(u, x) = 0 at x = 0
bc d(u, x) = 0 at x = 1
ic u = cos(pi*x) at t = 0
data "obs.csv"
"""


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "obs.csv").write_text("t,x,u\n0.5,0.5,0.1\n")
    return tmp_path


def parse(folder, guess="0.3", lo="0", hi="10"):
    return pl.parse(TEXT.format(guess=guess, lo=lo, hi=hi), "kpp.pde", base=folder)


def test_bounds_in_the_ir_and_printed_back(folder):
    system = parse(folder, lo="1/10", hi="2*5")
    D = system.param("D")
    assert D.bounds == (sp.Rational(1, 10), 10) and D.interval == (0.1, 10.0)
    assert system.param("r").bounds is None
    assert "param D ~ 0.3 in [1/10, 10]" in system.to_pde()
    assert pl.parse(system.to_pde(), base=folder) == system


def test_sympy_unknown_with_bounds_equals_the_text(folder):
    x, t = sp.symbols("x t")
    u = sp.Function("u")(t, x)
    D, r = sp.symbols("D r")
    system = pl.PDESystem(
        [sp.Eq(u.diff(t), D * u.diff(x, 2) + r * u * (1 - u))],
        [pl.At(sp.Eq(u.diff(x), 0), x, 0), pl.At(sp.Eq(u.diff(x), 0), x, 1),
         pl.At(sp.Eq(u, sp.cos(sp.pi * x)), t, 0)],
        {x: (0, 1), t: (0, 1)},
        params={D: pl.Unknown(0.3, bounds=(0, 10)), r: pl.Unknown(0.5)},
        data=str(folder / "obs.csv"))
    assert system == parse(folder)


@pytest.mark.parametrize("guess, lo, hi, match", [
    ("20", "0", "10", r"guess 20 of `D` is not strictly inside its bounds \[0, 10\]"),
    ("0", "0", "10", "not strictly inside"),
    ("0.3", "10", "0", r"empty interval: \[10, 0\]"),
    ("0.3", "1", "1", "empty interval"),
    ("0.3", "0", "x", "must be numbers|unknown name|not declared"),
])
def test_impossible_bounds_are_errors_at_the_param_line(folder, guess, lo, hi, match):
    with pytest.raises(PdeSemanticError, match=match) as err:
        parse(folder, guess, lo, hi)
    assert "kpp.pde:2:" in str(err.value)


def test_bounds_belong_to_unknown_constants(folder):
    text = TEXT.format(guess="0.3", lo="0", hi="1")
    with pytest.raises(PdeSyntaxError):
        pl.parse(text.replace("param D ~", "param D ="), "kpp.pde", base=folder)
    field = text.replace("param D ~ 0.3 in [0, 1]", "param D(x) ~ 0.3 in [0, 1]")
    with pytest.raises(PdeSemanticError, match="coefficient field"):
        pl.parse(field, "kpp.pde", base=folder)
    with pytest.raises(PdeSemanticError, match=r"bounds are \(lower, upper\)"):
        pl.PDESystem([sp.Eq(sp.Function("u")(sp.Symbol("x")).diff(sp.Symbol("x"), 2),
                            sp.Symbol("k"))], [], {sp.Symbol("x"): (0, 1)},
                     params={sp.Symbol("k"): pl.Unknown(1, bounds=(0,))})
