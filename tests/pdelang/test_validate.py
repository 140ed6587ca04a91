"""Checks shared by both front ends: names, coordinates, expressions, well-posedness."""

import pytest
import sympy as sp

import pdelang as pl
from pdelang.ir import Coordinate, Field
from pdelang.validate import check_names, numeric, shorthand_suffix, split_coordinates

from .helpers import (
    POISSON1D,
    expect_api_error,
    expect_error,
    parse,
    poisson1d,
    rhs_of,
    t,
    u,
    x,
    y,
)

# -- names ------------------------------------------------------------------------------


def test_shorthand_suffix_and_splitting():
    field = Field("u", ("t", "x", "y"))
    assert shorthand_suffix("u_xy", field) == "xy"
    assert shorthand_suffix("u_", field) is None
    assert shorthand_suffix("v_x", field) is None
    assert split_coordinates("xxy", {"x", "y"}) == ["x", "x", "y"]
    assert split_coordinates("xz", {"x", "y"}) is None
    assert split_coordinates("rr", {"r", "rr"}) == ["rr"]          # longest name first
    assert split_coordinates("rrr", {"r", "rr"}) == ["rr", "r"]


def test_long_coordinate_names_in_shorthand():
    system = parse("""
        space r in [0, 1], th in [0, 1]
        field u(r, th)
        pde u_rr + u_thth = 0
        bc periodic r, th
        bc mean(u) = 0
        """)
    r, th = sp.symbols("r th")
    assert system.equations[0].residual == (sp.Derivative(u(r, th), (r, 2))
                                           + sp.Derivative(u(r, th), (th, 2)))


def test_a_name_that_only_looks_like_shorthand_is_fine():
    system = parse("""
        param u_z = 2          # z is no coordinate of u, so this is an ordinary name
        space x in [0, 1]
        field u(x)
        pde d(u, x, 2) = u_z
        bc u = 0 at x = 0
        bc u = 0 at x = 1
        """)
    assert system.param("u_z").value == 2


def test_shorthand_of_a_coordinate_the_field_lacks_is_unknown():
    expect_error(POISSON1D.format(rhs="u_t"), pl.PdeSemanticError, 3, 18,
                 "unknown name `u_t`")


def test_check_names_limits():
    coordinates = [Coordinate("x", sp.S.Zero, sp.S.One)]
    fields = [Field(f"f{i}", ("x",)) for i in range(65)]
    with pytest.raises(pl.PdeLimitError, match="65 fields are declared; at most 64"):
        check_names(coordinates, fields, [])


def test_names_of_every_kind_must_be_unique():
    expect_error("space x in [0, 1]\nfield x(x)\n", pl.PdeSemanticError, 2, 7,
                 "`x` is declared twice")
    expect_error("param u = 1\nspace x in [0, 1]\nfield u(x)\n", pl.PdeSemanticError, 3, 7,
                 "`u` is declared twice (first declared at line 1)")


@pytest.mark.parametrize("name", ["d", "laplace", "where", "load", "exp", "min", "abs"])
def test_builtin_names_cannot_be_declared(name):
    expect_error(f"param {name} = 1\nspace x in [0, 1]\n", pl.PdeSemanticError, 1, 1,
                 f"`{name}` is a built-in name")


def test_sympy_names_are_checked_too():
    expect_api_error(pl.PdeSemanticError, "`sin` is a built-in name",
                     params={sp.Symbol("sin"): 1})
    expect_api_error(pl.PdeSemanticError, "`u_x` is both a declared parameter",
                     params={sp.Symbol("u_x"): 1})
    expect_api_error(pl.PdeSemanticError, "not a valid name",
                     params={sp.Symbol("my k"): 1})


# -- coordinates, fields, params ------------------------------------------------------


def test_field_arguments_must_be_coordinates_once_each():
    expect_error("space x in [0, 1]\nfield u(x, x)\n", pl.PdeSemanticError, 2, 7,
                 "names a coordinate twice")
    expect_error("param c(z) = 1\nspace x in [0, 1]\n", pl.PdeSemanticError, 1, 1,
                 "parameter `c` has the argument `z`")


def test_interval_ends_must_be_numbers():
    expect_error("space x in [0, a]\n", pl.PdeSemanticError, 1, 16, "unknown name `a`")
    expect_error("space x in [0, x]\n", pl.PdeSemanticError, 1, 16,
                 "end of the interval of `x` must be a number")
    expect_error("space x in [0, log(0)]\n", pl.PdeSemanticError, 1, 16, "no finite value")


def test_time_only_system_is_an_ode():
    system = parse("""
        time t in [0, 1]
        field u(t)
        pde d(u, t) = -u
        ic u = 1 at t = 0
        """)
    assert system.space == () and system.classification() == "ODE, linear, 1 field, time only"


def test_coefficient_field_values_use_only_their_coordinates():
    expect_error("param c(x) = y\nspace x in [0, 1], y in [0, 1]\n", pl.PdeSemanticError, 1, 1,
                 "uses the coordinate `y`")


def test_unknown_coefficient_field(tmp_path):
    (tmp_path / "obs.csv").write_text("x,u\n0.5,1\n")
    system = parse("""
        param c(x) ~ 1 + x
        space x in [0, 1]
        field u(x)
        pde d(c*d(u, x), x) = 1
        bc u = 0 at x = 0
        bc u = 0 at x = 1
        data "obs.csv"
        """, base=tmp_path)
    assert system.param("c").guess == 1 + x and system.param("c").is_field


# -- expressions ----------------------------------------------------------------------


def test_bare_field_name_where_a_call_is_needed():
    expect_api_error(pl.PdeSemanticError, "`u` is a function of (x); write `u(x)`",
                     equations=[sp.Eq(u(x).diff(x, 2), sp.Symbol("u"))])


def test_field_on_a_face_belongs_in_a_condition():
    expect_error(POISSON1D.format(rhs="u(0)"), pl.PdeSemanticError, 3, 1,
                 "declared as u(x) but is used as u(0)", "belongs in a condition")


def test_coordinate_or_constant_called_like_a_function():
    expect_error(POISSON1D.format(rhs="x(1)"), pl.PdeSemanticError, 3, 18,
                 "`x` is a coordinate, not a function")
    expect_error("param k = 1\n" + POISSON1D.format(rhs="k(x)"), pl.PdeSemanticError, 4, 18,
                 "`k` is a constant, not a function")


def test_function_name_without_call():
    expect_error(POISSON1D.format(rhs="exp"), pl.PdeSemanticError, 3, 18,
                 "`exp` is a function: call it as exp(...)")


def test_comparison_and_string_only_where_allowed():
    expect_error(POISSON1D.format(rhs="sin(x < 1)"), pl.PdeSemanticError, 3, 22,
                 "only allowed as the first argument of where()")
    expect_error(POISSON1D.format(rhs='max(x, "a")'), pl.PdeSemanticError, 3, 25,
                 'only allowed in load("file.npy")')


def test_min_max_need_two_arguments():
    expect_error(POISSON1D.format(rhs="min(x)"), pl.PdeSemanticError, 3, 18,
                 "min() takes at least 2 arguments, got 1")


def test_derivative_forms_that_are_refused():
    expect_error(POISSON1D.format(rhs="d(u)"), pl.PdeSemanticError, 3, 18,
                 "d() needs an expression and a coordinate")
    expect_error(POISSON1D.format(rhs="d(u, 2)"), pl.PdeSemanticError, 3, 23,
                 "coordinates, each optionally followed by its order")
    expect_error(POISSON1D.format(rhs="d(u, x, 0)"), pl.PdeSemanticError, 3, 26,
                 "whole number from 1 to 8")
    expect_error(POISSON1D.format(rhs="d(u, x, 1.5)"), pl.PdeSemanticError, 3, 26,
                 "whole number from 1 to 8")
    expect_error("time t in [0, 1]\nfield u(t)\npde d(u, t) = laplace(t)\n",
                 pl.PdeSemanticError, 3, 15,
                 "laplace() of an expression that depends on no space coordinate")
    expect_error(POISSON1D.format(rhs="laplace(u, u)"), pl.PdeSemanticError, 3, 18,
                 "laplace() takes 1 argument, got 2")


def test_derivatives_of_expressions_without_fields():
    assert rhs_of(poisson1d("laplace(x^3)")) == 6 * x
    assert rhs_of(poisson1d("d(sin(x), x)")) == sp.cos(x)


def test_derivative_order_limit_from_sympy():
    expect_api_error(pl.PdeLimitError, "order 9",
                     equations=[sp.Eq(u(x).diff(x, 9), 1)])


def test_numeric():
    assert numeric(sp.pi) == pytest.approx(3.141592653589793)
    assert numeric(sp.sqrt(2) + 1) == pytest.approx(2.414213562373095)
    assert numeric(x) is None
    assert numeric(sp.I) is None
    assert numeric(sp.zoo) is None
    assert numeric(u(0)) is None
    assert numeric(sp.Subs(sp.Derivative(u(t, x), x), x, 0)) is None   # used to recurse


# -- well-posedness --------------------------------------------------------------------


def test_dirichlet_only_on_the_inflow_is_enough_for_first_order():
    system = parse("""
        space x in [0, 1]
        time t in [0, 1]
        field u(t, x)
        pde d(u, t) + d(u, x) = 0
        bc u = 0 at x = 0
        ic u = sin(pi*x) at t = 0
        """)
    assert system.classification() == "hyperbolic, linear, 1 field, 1D + time"


def test_periodic_covers_both_faces():
    assert parse("""
        space x in [0, 1]
        field u(x)
        pde d(u, x, 2) - u = sin(2*pi*x)
        bc periodic x
        """).periodic == ("x",)


def test_each_field_needs_its_own_initial_condition():
    expect_error("""\
        space x in [0, 1]
        time t in [0, 1]
        field u(t, x), v(t, x)
        pde d(u, t) = d(u, x, 2) + v
        pde d(v, t) = d(v, x, 2) - u
        bc periodic x
        ic u = 1 at t = 0
        """, pl.PdeSemanticError, 3, 16, "`v` is of order 1 in time",
                 "initial condition for v at t = 0")


def test_each_field_needs_its_own_boundary_conditions():
    expect_error("""\
        space x in [0, 1]
        field u(x), v(x)
        pde d(u, x, 2) = v
        pde d(v, x, 2) = u
        bc u = 0 at x = 0
        bc u = 0 at x = 1
        """, pl.PdeSemanticError, 2, 13, "`v` has derivatives of order 2 in `x`",
                 "lower and upper end")


def test_observations_let_faces_stay_open(tmp_path):
    (tmp_path / "obs.csv").write_text("x,u\n0.5,1\n")
    system = parse("""
        param k ~ 1
        space x in [0, 1]
        field u(x)
        pde d(u, x, 2) = k
        data "obs.csv"
        """, base=tmp_path)
    assert system.conditions == ()


def test_steady_field_in_a_time_dependent_system_needs_no_ic():
    system = parse("""
        space x in [0, 1]
        time t in [0, 1]
        field u(t, x), p(x)
        pde d(u, t) = d(u, x, 2) + p
        pde d(p, x, 2) = 1
        bc periodic x
        ic u = 0 at t = 0
        """)
    assert [i.time_order for i in system.info] == [1, 0]


def test_multiple_faces_of_a_two_dimensional_field():
    system = parse("""
        space x in [0, 1], y in [0, 2]
        field u(x, y)
        pde laplace(u) = 0
        bc u(0, y) = sin(pi*y)
        bc u = 0 at x = 1
        bc d(u, y) = 0 at y = 0
        bc d(u(x, 2), y) = 0
        """)
    assert [(c.coordinate, c.side) for c in system.conditions] == [
        ("x", "lower"), ("x", "upper"), ("y", "lower"), ("y", "upper")]
    assert system.conditions[0].residual == u(x, y) - sp.sin(sp.pi * y)
    assert system.conditions[3].residual == sp.Derivative(u(x, y), y)


def test_condition_mixing_two_faces_of_one_coordinate():
    expect_error(POISSON1D.format(rhs="1") + "bc u(0) = u(1)\n", pl.PdeSemanticError, 6, 1,
                 "mixes both ends of `x`")


def test_condition_value_uses_face_coordinate_and_other_coordinates():
    system = parse("""
        space x in [0, 1], y in [0, 1]
        field u(x, y)
        pde laplace(u) = 0
        bc u = x*y at x = 1
        bc u = 0 at x = 0
        bc periodic y
        """)
    assert system.conditions[0].residual == u(x, y) - y


def test_poisson1d_helper_is_well_posed():
    assert poisson1d("1").classification() == "elliptic, linear, 1 field, 1D"
