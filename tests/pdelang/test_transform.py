"""Every statement and expression form of the `.pde` language, asserted on the IR."""

import numpy as np
import pytest
import sympy as sp

import pdelang as pl

from .helpers import c, parse, poisson1d, rhs_of, t, u, v, x, y

D = sp.Derivative

# -- statements ---------------------------------------------------------------------------


def test_problem_name_and_source():
    system = parse("""
        problem "heat 1d"
        space x in [0, 1]
        field u(x)
        pde d(u, x, 2) = 0
        bc u = 0 at x = 0
        bc u = 0 at x = 1
        """, file="named.pde")
    assert system.name == "heat 1d"
    assert system.source == "named.pde"


def test_problem_is_optional():
    assert poisson1d("1").name == ""


def test_known_constant_and_constant_from_earlier_constants():
    system = parse("""
        param a = 2
        param b = 0.5
        param k = a^2 + b/2      # built from the constants above
        space x in [0, 1]
        field u(x)
        pde d(u, x, 2) = k*a
        bc u = 0 at x = 0
        bc u = 0 at x = 1
        """)
    a, b, k = sp.symbols("a b k")
    assert [p.name for p in system.params] == ["a", "b", "k"]   # sorted by name
    assert system.param("a") == pl.Param("a", value=sp.Integer(2))
    assert system.param("b").value == sp.Float(0.5)
    assert system.param("k").value == sp.Integer(4) + sp.Float(0.5) / 2
    assert not system.param("k").is_unknown and not system.param("k").is_field
    # expressions keep the parameter symbols; values live in the params
    assert system.equations[0].residual == D(u(x), (x, 2)) - k * a


def test_unknown_constant_with_guess(tmp_path):
    (tmp_path / "obs.csv").write_text("x,u\n0.5,0.1\n0.25,0.05\n")
    system = parse("""
        param k ~ 0.5
        space x in [0, 1]
        field u(x)
        pde d(u, x, 2) = k
        bc u = 0 at x = 0
        bc u = 0 at x = 1
        data "obs.csv"
        """, base=tmp_path)
    k = system.param("k")
    assert k.is_unknown and k.guess == sp.Float(0.5) and k.value is None
    assert system.unknown_params == (k,)
    assert "1 unknown parameter" in system.classification()


def test_coefficient_field_by_expression():
    system = parse("""
        param c(x, y) = 1 + 0.5*exp(-((x-0.5)^2 + (y-0.5)^2)/0.01)
        space x in [0, 1], y in [0, 1]
        field u(x, y)
        pde c*laplace(u) = 1
        bc u = 0 at x = 0
        bc u = 0 at x = 1
        bc u = 0 at y = 0
        bc u = 0 at y = 1
        """)
    param = system.param("c")
    assert param.is_field and param.args == ("x", "y")
    half = sp.Float(0.5)
    assert param.value == 1 + half * sp.exp(-((x - half)**2 + (y - half)**2) / sp.Float(0.01))
    assert param.symbol == c(x, y)
    residual = c(x, y) * (D(u(x, y), (x, 2)) + D(u(x, y), (y, 2))) - 1
    assert system.equations[0].residual == residual


def test_coefficient_field_by_load(tmp_path):
    array = np.linspace(0.0, 1.0, 12).reshape(3, 4)
    np.save(tmp_path / "velocity.npy", array)
    system = parse("""
        param v(x, y) = load("velocity.npy")
        space x in [0, 1], y in [0, 2]
        field u(x, y)
        pde laplace(u) = v
        bc u = 0 at x = 0
        bc u = 0 at x = 1
        bc u = 0 at y = 0
        bc u = 0 at y = 2
        """, base=tmp_path)
    samples = system.param("v").samples
    assert samples is not None and samples.path == str(tmp_path / "velocity.npy")
    np.testing.assert_array_equal(samples.array, array)
    assert not samples.array.flags.writeable
    assert system.equations[0].residual == D(u(x, y), (x, 2)) + D(u(x, y), (y, 2)) - v(x, y)


def test_load_path_is_relative_to_the_file(tmp_path):
    (tmp_path / "sub").mkdir()
    np.save(tmp_path / "sub" / "c.npy", np.ones(5))
    (tmp_path / "p.pde").write_text(
        'param c(x) = load("sub/c.npy")\nspace x in [0, 1]\nfield u(x)\n'
        "pde d(u, x, 2) = c\nbc u = 0 at x = 0\nbc u = 0 at x = 1\n")
    assert pl.load(tmp_path / "p.pde").param("c").samples.array.shape == (5,)


def test_space_with_one_and_two_intervals():
    one = poisson1d("1")
    assert one.coordinates == (pl.Coordinate("x", sp.Integer(0), sp.Integer(1)),)
    two = parse("""
        space x in [0, 1], y in [-1, 2.5]
        field u(x, y)
        pde laplace(u) = 0
        bc periodic x, y
        bc mean(u) = 0
        """)
    assert [(cd.name, cd.lower, cd.upper) for cd in two.coordinates] == [
        ("x", 0, 1), ("y", -1, sp.Float(2.5))]
    assert two.space == two.coordinates and two.time is None and two.is_steady


def test_two_space_statements_and_interval_ends_from_constants():
    system = parse("""
        param L = 2
        space x in [0, L]
        space y in [-L/2, pi]
        field u(x, y)
        pde laplace(u) = 0
        bc periodic x
        bc periodic y
        bc mean(u) = 0
        """)
    assert system.coordinate("x").upper == 2
    assert system.coordinate("y").lower == -1 and system.coordinate("y").upper == sp.pi


def test_time_coordinate_comes_first_whatever_the_order():
    system = parse("""
        space x in [0, 1]
        time t in [0, 0.5]
        field u(t, x)
        pde d(u, t) = d(u, x, 2)
        bc u = 0 at x = 0
        bc u = 0 at x = 1
        ic u = 0 at t = 0
        """)
    assert [cd.name for cd in system.coordinates] == ["t", "x"]
    assert system.time == pl.Coordinate("t", sp.Integer(0), sp.Float(0.5), is_time=True)
    assert system.coordinate("t").bounds == (0.0, 0.5)
    assert not system.is_steady


def test_several_fields_in_one_statement_and_in_two():
    text = """
        space x in [0, 1]
        time t in [0, 1]
        field u(t, x), v(t, x)
        field w(x)
        pde d(u, t) = d(u, x, 2) + v
        pde d(v, t) = d(v, x, 2) - u*w
        pde d(w, x, 2) = 1
        bc u = 0 at x = 0
        bc u = 0 at x = 1
        bc v = 0 at x = 0
        bc v = 0 at x = 1
        bc w = 0 at x = 0
        bc w = 0 at x = 1
        ic u = 1 at t = 0
        ic v = 0 at t = 0
        """
    system = parse(text)
    w = sp.Function("w")
    assert system.fields == (pl.Field("u", ("t", "x")), pl.Field("v", ("t", "x")),
                             pl.Field("w", ("x",)))
    assert system.field("w").applied == w(x)
    assert system.equations[1].residual == D(v(t, x), t) - D(v(t, x), (x, 2)) + u(t, x) * w(x)


def test_pde_keeps_lhs_rhs_and_residual():
    system = parse("""
        param alpha = 0.1
        space x in [0, 1]
        time t in [0, 0.5]
        field u(t, x)
        pde d(u, t) = alpha * d(u, x, 2)
        bc d(u, x) = 0 at x = 0
        bc d(u, x) = 0 at x = 1
        ic u = cos(pi*x) at t = 0
        """)
    alpha = sp.Symbol("alpha")
    equation = system.equations[0]
    assert equation.lhs == D(u(t, x), t)
    assert equation.rhs == alpha * D(u(t, x), (x, 2))
    assert equation.residual == D(u(t, x), t) - alpha * D(u(t, x), (x, 2))
    assert equation.span.line == 6


BC_SYSTEM = """
    space x in [0, 2]
    field u(x)
    pde d(u, x, 2) = 1
    bc {lower} at x = 0
    bc {upper} at x = 2
    """


@pytest.mark.parametrize("text, residual", [
    ("u = 3", u(x) - 3),                                        # Dirichlet
    ("d(u, x) = 1", D(u(x), x) - 1),                            # Neumann
    ("d(u, x) + 2*u = 1", D(u(x), x) + 2 * u(x) - 1),           # Robin
    ("u = x^2", u(x) - 4),                                      # x becomes the face value
    ("u_x = x", D(u(x), x) - 2),
])
def test_boundary_conditions(text, residual):
    system = parse(BC_SYSTEM.format(lower="u = 0", upper=text))
    lower, upper = system.conditions
    assert (lower.kind, lower.coordinate, lower.side, lower.residual) == (
        "boundary", "x", "lower", u(x))
    assert (upper.kind, upper.coordinate, upper.side, upper.residual) == (
        "boundary", "x", "upper", residual)
    assert upper.fields == ("u",)


def test_condition_face_may_use_constants():
    system = parse("""
        param L = 2
        space x in [0, L]
        field u(x)
        pde d(u, x, 2) = 1
        bc u = 0 at x = 0
        bc u = 1 at x = L
        """)
    assert system.conditions[1].side == "upper"


def test_periodic_in_one_and_two_coordinates():
    one = parse("""
        space x in [0, 1], y in [0, 1]
        field u(x, y)
        pde laplace(u) = sin(2*pi*y)
        bc u = 0 at x = 0
        bc u = 0 at x = 1
        bc periodic y
        """)
    assert one.conditions[2] == pl.Condition("periodic", "y", None)
    assert one.periodic == ("y",)
    two = parse("""
        space x in [0, 1], y in [0, 1]
        field u(x, y)
        pde laplace(u) - u = sin(2*pi*y)
        bc periodic x, y
        """)
    assert two.conditions == (pl.Condition("periodic", "x", None),
                              pl.Condition("periodic", "y", None))
    assert two.conditions[0].residual == 0


WAVE = """
    space x in [0, 1]
    time t in [0, 1]
    field u(t, x)
    pde d(u, t, 2) = d(u, x, 2)
    bc u = 0 at x = 0
    bc u = 0 at x = 1
    {ic1}
    {ic2}
    """


def test_initial_conditions_of_a_second_order_problem():
    system = parse(WAVE.format(ic1="ic u = sin(pi*x) at t = 0", ic2="ic d(u, t) = 0 at t = 0"))
    first, second = system.conditions[2:]
    assert (first.kind, first.coordinate, first.side) == ("initial", "t", "lower")
    assert first.residual == u(t, x) - sp.sin(sp.pi * x)
    assert (second.kind, second.coordinate, second.side) == ("initial", "t", "lower")
    assert second.residual == D(u(t, x), t)
    assert system.field_info("u").time_order == 2


def test_ic_without_at_holds_at_the_start_of_time():
    with_at = parse(WAVE.format(ic1="ic u = 0 at t = 0", ic2="ic d(u, t) = 0 at t = 0"))
    without = parse(WAVE.format(ic1="ic u = 0", ic2="ic d(u, t) = 0"))
    assert with_at == without


def test_data_statement(tmp_path):
    (tmp_path / "obs.csv").write_text("t,x,u\n0.1,0.5,0.9\n0.2,0.25,0.7\n")
    system = parse("""
        space x in [0, 1]
        time t in [0, 1]
        field u(t, x)
        pde d(u, t) = d(u, x, 2)
        bc u = 0 at x = 0
        bc u = 0 at x = 1
        ic u = sin(pi*x) at t = 0
        data "obs.csv"
        """, base=tmp_path)
    (obs,) = system.data
    assert obs.columns == ("t", "x", "u")
    np.testing.assert_array_equal(obs.column("u"), [0.9, 0.7])
    assert obs.path == str(tmp_path / "obs.csv")


def test_exact_solution():
    system = parse("""
        space x in [0, 1]
        field u(x)
        pde d(u, x, 2) = -pi^2*sin(pi*x)
        bc u = 0 at x = 0
        bc u = 0 at x = 1
        exact u = sin(pi*x)
        """)
    assert system.exact == (pl.Exact("u", sp.sin(sp.pi * x)),)
    assert system.exact_solution("u") == sp.sin(sp.pi * x)
    assert system.exact_solution("nope") is None


# -- expressions --------------------------------------------------------------------------


@pytest.mark.parametrize("name, function", [
    ("sin", sp.sin), ("cos", sp.cos), ("tan", sp.tan), ("exp", sp.exp), ("log", sp.log),
    ("sqrt", sp.sqrt), ("tanh", sp.tanh), ("sinh", sp.sinh), ("cosh", sp.cosh),
    ("abs", sp.Abs), ("sign", sp.sign),
])
def test_one_argument_functions(name, function):
    assert rhs_of(poisson1d(f"{name}(x + 2)")) == function(x + 2)


@pytest.mark.parametrize("text, expected", [
    ("abs(exp(x))", sp.exp(x)),                     # not exp(re(x)): everything is real
    ("abs(2^x)", 2**x),
    ("d(abs(x), x)", sp.sign(x)),
    ("d(abs(u), x)", sp.sign(u(x)) * D(u(x), x)),
    ("d(abs(u)*u, x)", (u(x) * sp.sign(u(x)) + sp.Abs(u(x))) * D(u(x), x)),
])
def test_expressions_are_real_valued(text, expected):
    got = rhs_of(poisson1d(text))
    assert sp.expand(got) == sp.expand(expected)
    assert not got.has(sp.re, sp.im)


def test_sympy_front_end_is_real_valued_too():
    system = pl.PDESystem([sp.Eq(u(x).diff(x, 2), sp.Abs(sp.exp(x)) + sp.re(x))],
                          [sp.Eq(u(0), 0), sp.Eq(u(1), 0)], {x: (0, 1)})
    assert system.equations[0].rhs == sp.exp(x) + x


def test_min_and_max_take_two_or_more_arguments():
    assert rhs_of(poisson1d("min(x, 0.5)")) == sp.Min(x, sp.Float(0.5))
    assert rhs_of(poisson1d("max(x, 0.5, 1 - x)")) == sp.Max(x, sp.Float(0.5), 1 - x)


@pytest.mark.parametrize("op, relation", [("<", sp.Lt), ("<=", sp.Le), (">", sp.Gt),
                                          (">=", sp.Ge)])
def test_where_with_each_comparison(op, relation):
    got = rhs_of(poisson1d(f"where(x {op} 0.5, 1, x^2)"))
    assert got == sp.Piecewise((1, relation(x, sp.Float(0.5))), (x**2, True))


def test_nested_where_and_comparison_of_expressions():
    got = rhs_of(poisson1d("where(2*x >= 1 - x, where(x < 0.9, 1, 2), 0)"))
    inner = sp.Piecewise((1, x < sp.Float(0.9)), (2, True))
    assert got == sp.Piecewise((inner, 2 * x >= 1 - x), (0, True))


DERIVATIVES = """
    space x in [0, 1], y in [0, 1]
    time t in [0, 1]
    field u(t, x, y)
    pde {lhs} = 0
    bc periodic x, y
    ic u = 0 at t = 0
    """


@pytest.mark.parametrize("text, expected", [
    ("d(u, t)", D(u(t, x, y), t)),
    ("d(u, t) + d(u, x)", D(u(t, x, y), t) + D(u(t, x, y), x)),
    ("d(u, t) + d(u, x, 2)", D(u(t, x, y), t) + D(u(t, x, y), (x, 2))),
    ("d(u, t) + d(u, x, y)", D(u(t, x, y), t) + D(u(t, x, y), x, y)),
    ("d(u, t) + d(u, y, x)", D(u(t, x, y), t) + D(u(t, x, y), x, y)),   # argument order
    ("d(u, t) + d(u, x, 2, y)", D(u(t, x, y), t) + D(u(t, x, y), (x, 2), y)),
    ("d(u, t) + laplace(u)", D(u(t, x, y), t) + D(u(t, x, y), (x, 2)) + D(u(t, x, y), (y, 2))),
    ("u_t", D(u(t, x, y), t)),
    ("u_t + u_x", D(u(t, x, y), t) + D(u(t, x, y), x)),
    ("u_t + u_xx", D(u(t, x, y), t) + D(u(t, x, y), (x, 2))),
    ("u_t + u_xy", D(u(t, x, y), t) + D(u(t, x, y), x, y)),
    ("u_t + u_yx", D(u(t, x, y), t) + D(u(t, x, y), x, y)),
    ("u_t + u_xxy", D(u(t, x, y), t) + D(u(t, x, y), (x, 2), y)),
    ("d(u, t) + d(u*u, x)", D(u(t, x, y), t) + 2 * u(t, x, y) * D(u(t, x, y), x)),
    ("d(u, t) + d(x*u, x)", D(u(t, x, y), t) + u(t, x, y) + x * D(u(t, x, y), x)),
    ("d(u, t) + d(d(u, x), x)", D(u(t, x, y), t) + D(u(t, x, y), (x, 2))),
])
def test_derivatives(text, expected):
    assert parse(DERIVATIVES.format(lhs=text)).equations[0].residual == expected


def test_laplace_covers_the_space_coordinates_of_its_field():
    system = parse("""
        space x in [0, 1], y in [0, 1]
        field u(x, y), w(x)
        pde laplace(u) = w
        pde laplace(w) = 1
        bc periodic x, y
        bc mean(u) = 0
        """)
    w = sp.Function("w")
    assert system.equations[1].residual == D(w(x), (x, 2)) - 1


def test_positional_conditions():
    system = parse("""
        space x in [0, 1]
        time t in [0, 1]
        field u(t, x)
        pde d(u, t) = d(u, x, 2)
        bc u(t, 0) = 0
        bc d(u(t, 1), x) = 2
        ic u(0, x) = cos(pi*x)
        """)
    left, right, initial = system.conditions
    assert (left.kind, left.coordinate, left.side, left.residual) == (
        "boundary", "x", "lower", u(t, x))
    assert (right.coordinate, right.side, right.residual) == ("x", "upper", D(u(t, x), x) - 2)
    assert (initial.kind, initial.side, initial.residual) == (
        "initial", "lower", u(t, x) - sp.cos(sp.pi * x))


def test_positional_forms_equal_at_forms():
    positional = parse("""
        space x in [0, 1]
        field u(x)
        pde d(u, x, 2) = 1
        bc u(0) = 0
        bc d(u(1), x) + u(1) = 0
        """)
    with_at = parse("""
        space x in [0, 1]
        field u(x)
        pde d(u, x, 2) = 1
        bc u = 0 at x = 0
        bc d(u, x) + u = 0 at x = 1
        """)
    assert positional == with_at and hash(positional) == hash(with_at)


def test_positional_face_from_a_constant():
    system = parse("""
        param L = 3
        space x in [0, L]
        field u(x)
        pde d(u, x, 2) = 1
        bc u(0) = 0
        bc u(L) = 0
        """)
    assert [cd.side for cd in system.conditions] == ["lower", "upper"]


def test_conditions_may_use_coefficient_fields_and_constants():
    system = parse("""
        param h = 2
        param k(x) = 1 + x
        space x in [0, 1]
        field u(x)
        pde d(k*d(u, x), x) = 0
        bc u = 0 at x = 0
        bc k*d(u, x) + h*u = 0 at x = 1
        """)
    h = sp.Symbol("h")
    k = sp.Function("k")
    assert system.conditions[1].residual == k(x) * D(u(x), x) + h * u(x)


def test_block_indentation_is_irrelevant():
    flat = "space x in [0, 1]\nfield u(x)\npde d(u, x, 2) = 1\nbc u(0) = 0\nbc u(1) = 0\n"
    indented = ("  space x in [0, 1]\n\tfield u(x)\n   pde d(u, x, 2) = 1\n"
                " bc u(0) = 0\nbc u(1) = 0\n")
    assert pl.parse(flat) == pl.parse(indented)
