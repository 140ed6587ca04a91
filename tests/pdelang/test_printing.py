"""Showing a system: `.pde` text that parses back to the same IR, LaTeX, the check summary."""

import numpy as np
import pytest
import sympy as sp

import pdelang as pl
from pdelang.printing import system_summary, system_to_latex

from .helpers import EXAMPLES, expect_api_error, parse, t, u, x, y


def test_heat_example_text():
    assert pl.load(EXAMPLES / "heat1d.pde").to_pde() == (
        'problem "heat 1d"\n'
        "param alpha = 0.1\n"
        "space x in [0, 1]\n"
        "time  t in [0, 0.5]\n"
        "field u(t, x)\n"
        "pde   u_t = alpha*u_xx\n"
        "bc    u_x = 0 at x = 0\n"
        "bc    u_x = 0 at x = 1\n"
        "ic    u = cos(pi*x) at t = 0\n"
        "exact u = exp(-pi**2*alpha*t)*cos(pi*x)\n")


@pytest.mark.parametrize("expr, text", [
    (x**-2, "x**(-2)"),
    (x**sp.Rational(3, 2), "x**(3/2)"),
    (-x**2, "-x**2"),
    (sp.Rational(-3, 2) * x, "-3*x/2"),
    (sp.sqrt(x), "sqrt(x)"),
    (sp.E, "exp(1)"),
    (sp.pi, "pi"),
    (sp.Float(1e-300), "1e-300"),
    (sp.Float(0.1) * x, "0.1*x"),
    (sp.Abs(x) + sp.Min(x, 1) + sp.Max(x, y), "abs(x) + max(x, y) + min(1, x)"),
    (sp.Piecewise((1, x < 0.5), (2, x > 0.7), (3, True)),
     "where(x < 0.5, 1, where(x > 0.7, 2, 3))"),
    (u(t, x).diff(x, 2), "d(u(t, x), x, 2)"),
    (u(t, x).diff(t, x), "d(u(t, x), t, x)"),
    (sp.Subs(u(t, x).diff(x), x, 0), "d(u(t, 0), x)"),
])
def test_expression_to_pde(expr, text):
    assert pl.expression_to_pde(expr) == text


def test_expression_to_pde_with_field_signatures():
    fields = {"u": ("t", "x")}
    assert pl.expression_to_pde(u(t, x)**2 + u(t, 0), fields) == "u(t, 0) + u**2"
    assert pl.expression_to_pde(u(t, x).diff(x, 2), fields) == "d(u, x, 2)"
    assert pl.expression_to_pde(u(t, x).diff(x, 2), fields, shorthand=True) == "u_xx"
    assert pl.expression_to_pde(sp.Derivative(u(t, x)**2, x), fields) == "d(u**2, x)"


def test_long_coordinate_names_print_without_shorthand():
    system = parse("""
        space r in [0, 1], th in [0, 1]
        field u(r, th)
        pde u_rr + u_thth = 0
        bc periodic r, th
        bc mean(u) = 0
        """)
    text = system.to_pde()
    assert "d(u, r, 2) + d(u, th, 2)" in text
    assert pl.parse(text) == system


def test_every_statement_prints_and_parses_back(tmp_path):
    np.save(tmp_path / "c.npy", np.ones((3, 3)))
    (tmp_path / "obs.csv").write_text("t,x,y,u\n0.1,0.5,0.0,0.2\n")
    system = parse("""
        problem "all of it"
        param a = 2
        param b = a/4
        param k ~ 0.5
        param c(x, y) = load("c.npy")
        param w(x) = where(x < 0.5, 1, 2)
        space x in [0, 1], y in [-1, 1]
        time t in [0, 2]
        field u(t, x, y), v(t, x, y)
        pde d(u, t, 2) = a*laplace(u) + c*v + w + k*u_xy
        pde d(v, t) = b*d(v, y, 2) + sin(u) - abs(v)^1.5
        bc u(t, 0, y) = 0
        bc d(u, x) + u = 1 at x = 1
        bc periodic y
        bc v = 0 at x = 0
        bc v = 0 at x = 1
        ic u = cos(pi*x) at t = 0
        ic d(u, t) = 0 at t = 0
        ic v = exp(-x) at t = 0
        exact v = exp(-x - t)
        data "obs.csv"
        """, base=tmp_path)
    text = system.to_pde()
    assert pl.parse(text) == system
    for part in ('problem "all of it"', "param k ~ 0.5", f'load("{tmp_path / "c.npy"}")',
                 "bc    periodic y", "ic    u_t = 0 at t = 0", f'data  "{tmp_path / "obs.csv"}"'):
        assert part in text


def test_conditions_print_at_their_face_in_residual_form_when_needed():
    system = pl.PDESystem([sp.Eq(u(x).diff(x, 2), 1)], [u(0), u(x).diff(x).subs(x, 1) - 2],
                          {x: (0, 1)})
    text = system.to_pde()
    assert "bc    u = 0 at x = 0" in text
    assert "bc    u_x - 2 = 0 at x = 1" in text
    assert pl.parse(text) == system


def test_summary_and_str():
    system = pl.load(EXAMPLES / "wave1d.pde")
    summary = system_summary(system)
    assert summary.splitlines()[0] == "# wave 1d: hyperbolic, linear, 1 field, 1D + time"
    assert str(system) == summary
    unnamed = parse("space x in [0, 1]\nfield u(x)\npde d(u, x, 2) = 1\nbc u(0) = 0\n"
                    "bc u(1) = 0\n", file="some.pde")
    assert str(unnamed).startswith("# some.pde: elliptic")


def test_latex():
    latex = system_to_latex(pl.load(EXAMPLES / "heat1d.pde"))
    assert latex.startswith(r"$$\begin{aligned}") and latex.endswith(r"\end{aligned}$$")
    assert r"\frac{\partial}{\partial t} u" in latex
    assert r"\text{at } x = 0" in latex
    assert r"x \in [0, 1]" in latex
    assert pl.load(EXAMPLES / "advection1d.pde")._repr_latex_().count("periodic") == 1


def test_names_that_cannot_be_printed_are_refused():
    expect_api_error(pl.PdeSemanticError, "without double quotes", name='say "hi"')
    expect_api_error(pl.PdeSemanticError, "line breaks", name="two\nlines")


def test_piecewise_without_otherwise_is_refused():
    expect_api_error(pl.PdeSemanticError, "without a last (value, True) branch",
                     equations=[sp.Eq(u(x).diff(x, 2), sp.Piecewise((1, x < 0.5)))])
