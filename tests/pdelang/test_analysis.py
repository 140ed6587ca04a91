"""What the equations say about each field: orders, linearity, and the one-line classification."""

import pytest
import sympy as sp

import pdelang as pl
from pdelang.analysis import derivative_orders, is_linear_in, occurrences

from .helpers import EXAMPLES, parse, t, u, v, x

CLASSIFICATIONS = {
    "advection1d": "hyperbolic, linear, 1 field, 1D + time",
    "burgers1d": "parabolic, nonlinear, 1 field, 1D + time",
    "heat1d": "parabolic, linear, 1 field, 1D + time",
    "poisson2d": "elliptic, linear, 1 field, 2D",
    "reaction_diffusion2d": "parabolic, linear, 2 fields, 2D + time",
    "wave1d": "hyperbolic, linear, 1 field, 1D + time",
    "wave2d_acoustic": "hyperbolic, linear, 1 field, 2D + time",
}


@pytest.mark.parametrize("name", sorted(CLASSIFICATIONS))
def test_classification_of_the_examples(name):
    path = EXAMPLES / f"{name}.pde"
    if not path.exists():
        pytest.skip(f"{path.name} is not in this checkout")
    assert pl.load(path).classification() == CLASSIFICATIONS[name]


def test_field_info_of_the_examples():
    heat = pl.load(EXAMPLES / "heat1d.pde")
    assert heat.info == (pl.FieldInfo("u", (("t", 1), ("x", 2)), 1, True, False),)
    assert heat.field_info("u").order("x") == 2 and heat.field_info("u").order("y") == 0
    wave = pl.load(EXAMPLES / "wave1d.pde")
    assert wave.field_info("u").time_order == 2
    burgers = pl.load(EXAMPLES / "burgers1d.pde")
    assert not burgers.field_info("u").linear


SYSTEM = """
    space x in [0, 1], y in [0, 1]
    {time}
    field {fields}
    {pdes}
    bc periodic x, y
    {ics}
    """
MEAN = "bc mean(u) = 0"  # a steady u seen only through derivatives is fixed up to a constant


def classify(pdes, fields="u(x, y)", time="", ics=""):
    return parse(SYSTEM.format(pdes=pdes, fields=fields, time=time, ics=ics))


@pytest.mark.parametrize("pde, expected", [
    ("pde laplace(u) = sin(2*pi*x)", "elliptic, linear, 1 field, 2D"),
    ("pde d(u, x) + d(u, y) = 1", "first-order steady, linear, 1 field, 2D"),
    ("pde u = sin(x)", "algebraic, linear, 1 field, 2D"),
    ("pde laplace(u) = u^2", "elliptic, nonlinear, 1 field, 2D"),
    ("pde laplace(u) = sin(u)", "elliptic, nonlinear, 1 field, 2D"),
    ("pde laplace(u) + u_x^2 = 0", "elliptic, nonlinear, 1 field, 2D"),
    ("pde laplace(u) = x^2*u + exp(x)", "elliptic, linear, 1 field, 2D"),
    ("pde d(u, x, 4) + d(u, y, 4) = 1", "elliptic, linear, 1 field, 2D"),
])
def test_steady_classification(pde, expected):
    only_derivatives = pde in ("pde laplace(u) = sin(2*pi*x)", "pde d(u, x) + d(u, y) = 1",
                               "pde laplace(u) + u_x^2 = 0", "pde d(u, x, 4) + d(u, y, 4) = 1")
    assert classify(pde, ics=MEAN if only_derivatives else "").classification() == expected


@pytest.mark.parametrize("pde, ics, expected", [
    ("pde u_t = laplace(u)", "ic u = 0", "parabolic, linear, 1 field, 2D + time"),
    ("pde u_t = -d(u, x, 4)", "ic u = 0",
     "parabolic, order 4 in space, linear, 1 field, 2D + time"),
    ("pde u_t + u*u_x = 0", "ic u = 0", "hyperbolic, nonlinear, 1 field, 2D + time"),
    ("pde u_tt = laplace(u)", "ic u = 0\nic u_t = 0", "hyperbolic, linear, 1 field, 2D + time"),
    ("pde u_t = -u + x", "ic u = 0", "ODE at each point, linear, 1 field, 2D + time"),
])
def test_time_dependent_classification(pde, ics, expected):
    system = classify(pde, fields="u(t, x, y)", time="time t in [0, 1]", ics=ics)
    assert system.classification() == expected


def test_linearity_is_per_field_in_coupled_systems():
    system = classify("pde laplace(u) = v\npde laplace(v) = u*v", fields="u(x, y), v(x, y)")
    assert [i.linear for i in system.info] == [False, False]
    system = classify("pde laplace(u) = v\npde laplace(v) = u", fields="u(x, y), v(x, y)")
    assert [i.linear for i in system.info] == [True, True]
    assert system.classification() == "elliptic, linear, 2 fields, 2D"


def test_mixed_derivatives_are_noted():
    assert classify("pde laplace(u) + u_xy = 0", ics=MEAN).field_info("u").mixed
    assert not classify("pde laplace(u) = 0", ics=MEAN).field_info("u").mixed


def test_unknown_parameters_are_counted(tmp_path):
    (tmp_path / "obs.csv").write_text("x,y,u\n0.5,0.5,1\n")
    system = parse("""
        param a ~ 1
        param b ~ 2
        space x in [0, 1], y in [0, 1]
        field u(x, y)
        pde a*laplace(u) = b
        bc periodic x, y
        data "obs.csv"
        """, base=tmp_path)
    assert system.classification() == "elliptic, linear, 1 field, 2D, 2 unknown parameter(s)"


def test_helpers():
    expr = u(t, x).diff(t) + u(t, x) * u(t, x).diff(x) + v(t, x)
    found = occurrences(expr, {"u"})
    assert len(found) == 3 and set(found) == {u(t, x).diff(t), u(t, x), u(t, x).diff(x)}
    among = occurrences(expr, {"u", "v"})
    assert not is_linear_in(expr, occurrences(expr, {"u"}), among)
    assert is_linear_in(expr, [v(t, x)], among)
    assert is_linear_in(sp.S.One, [], [])
    equations = (pl.Equation(u(t, x).diff(x, 3) + u(t, x).diff(t, x)),)
    assert dict(derivative_orders("u", equations)) == {"x": 3, "t": 1}
