"""Each fd pass on a small system: its input, its output IR, checked against values worked
out by hand (not end-to-end solves)."""

import numpy as np
import pytest
import sympy as sp

import pdelang as pl
from compiler.common.grid import make_grid
from compiler.common.stages import Stage
from compiler.fd import FDOptions, lower_fd
from compiler.fd.accesses import collect
from compiler.fd.boundaries.conditions import apply_conditions
from compiler.fd.equations import assign_equations
from compiler.fd.expand import expand_stencils
from compiler.fd.ir import Layout, Region
from compiler.fd.stages import ClosureRow, OwnedEquation, Spacing, StencilUse

t, x, y = sp.symbols("t x y")
u, v, c = sp.Function("u"), sp.Function("v"), sp.Function("c")


def parse(body: str, space: str = "space x in [0, 1]", time: str = "time t in [0, 1]"):
    return pl.parse(f"{space}\n{time}\n{body}\n")


HEAT_ROBIN = parse("""field u(t, x)
pde d(u, t) = d(u, x, 2)
bc d(u, x) + 2*u = 1 at x = 0
bc u = 0 at x = 1
ic u = 0 at t = 0""")

POISSON_MIXED = parse("""field u(x, y)
pde laplace(u) = 1
bc u = 0 at x = 0
bc u = 0 at x = 1
bc d(u, y) = 0 at y = 0
bc d(u, y) = 0 at y = 1""", space="space x in [0, 1]\nspace y in [0, 1]", time="")


def grid_layout(system, points=9, accuracy=2):
    grid = make_grid(system, points)
    return grid, Layout({a.name: a.info() for a in grid.axes},
                        {a.name: a.node_coordinates() for a in grid.axes}, accuracy)


# -- make_grid ----------------------------------------------------------------------------

def test_make_grid_periodic_axis_stores_one_point_less():
    system = parse("""field u(t, x)
pde d(u, t) = d(u, x, 2)
bc periodic x
ic u = sin(2*pi*x) at t = 0""", space="space x in [0, 2]")
    grid = make_grid(system, 9)
    (axis,) = grid.axes
    assert (axis.name, axis.points, axis.nodes, axis.periodic) == ("x", 9, 8, True)
    assert axis.h == 0.25                                 # (2 - 0) / (9 - 1)
    assert grid.shape(("x",)) == (8,)
    np.testing.assert_allclose(axis.node_coordinates(), np.arange(8) * 0.25)


def test_make_grid_points_per_axis():
    grid = make_grid(POISSON_MIXED, {"x": 5, "y": 3})
    assert [(a.name, a.points, a.h) for a in grid.axes] == [("x", 5, 0.25), ("y", 3, 0.5)]
    assert grid.shape(("y", "x")) == (3, 5)


# -- parameters ---------------------------------------------------------------------------

def test_parameter_stage_holds_constants_and_coefficient_fields_on_the_grid():
    system = parse("""param alpha = 0.5
param c(x) = 1 + x^2
field u(t, x)
pde d(u, t) = alpha * d(c * d(u, x), x)
bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = 0 at t = 0""")
    items = lower_fd(system, FDOptions(5)).stage("parameters").items
    values = {i.name: i.value for i in items}
    assert float(values["alpha"]) == 0.5
    np.testing.assert_allclose(values["c"], [1, 1.0625, 1.25, 1.5625, 2])   # 1 + x^2, h = 1/4


# -- assign_equations ---------------------------------------------------------------------

def test_assign_equations_two_fields_solved_for_their_time_derivatives():
    system = parse("""field u(t, x)
field v(t, x)
pde 2*d(v, t) = d(u, x, 2) - v
pde d(u, t) = v
bc u = 0 at x = 0
bc u = 0 at x = 1
bc v = 0 at x = 0
bc v = 0 at x = 1
ic u = 0 at t = 0
ic v = 0 at t = 0""")
    by_field = {a.field: a for a in assign_equations(system)}
    assert set(by_field) == {"u", "v"}
    assert by_field["u"].time_order == 1 and by_field["u"].rhs == v(t, x)
    expected = (sp.Derivative(u(t, x), (x, 2)) - v(t, x)) / 2
    assert sp.simplify(by_field["v"].rhs - expected) == 0


def test_assign_equations_second_order_in_time():
    system = parse("""param c = 3
field u(t, x)
pde d(u, t, 2) = c^2 * d(u, x, 2)
bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = 0 at t = 0
ic d(u, t) = 0 at t = 0""")
    (a,) = assign_equations(system)
    assert a.time_order == 2
    assert sp.simplify(a.rhs - sp.Symbol("c") ** 2 * sp.Derivative(u(t, x), (x, 2))) == 0


def test_assign_equations_steady_keeps_residuals():
    (a,) = assign_equations(POISSON_MIXED)
    assert a.field == "u" and a.rhs is None and a.time_order == 0
    assert a.equation.residual.has(sp.Derivative(u(x, y), (y, 2)))


# -- apply_conditions ---------------------------------------------------------------------

def test_apply_conditions_robin_and_dirichlet_faces():
    nodes = apply_conditions(HEAT_ROBIN, {"u": (9,)}, set())["u"]
    assert nodes.interior == Region(("x",), ((1, 8),))
    # Dirichlet first: it owns its node before the Robin face
    assert [(f.axis, f.side, f.dirichlet) for f in nodes.faces] == [
        ("x", "upper", True), ("x", "lower", False)]
    assert nodes.slabs == (Region(("x",), ((8, 9),)), Region(("x",), ((0, 1),)))


def test_apply_conditions_dirichlet_faces_own_the_corners():
    nodes = apply_conditions(POISSON_MIXED, {"u": (5, 4)}, set())["u"]
    assert nodes.interior.ranges == ((1, 4), (1, 3))
    slabs = {(f.axis, f.side): s.ranges for f, s in zip(nodes.faces, nodes.slabs)}
    assert slabs == {("x", "lower"): ((0, 1), (0, 4)), ("x", "upper"): ((4, 5), (0, 4)),
                     ("y", "lower"): ((1, 4), (0, 1)), ("y", "upper"): ((1, 4), (3, 4))}
    # a closure sets the whole face, corners included
    y_lower = next(f for f in nodes.faces if (f.axis, f.side) == ("y", "lower"))
    assert nodes.face_region(y_lower, whole=True).ranges == ((0, 5), (0, 1))


def test_apply_conditions_periodic_axis_has_no_faces():
    system = parse("""field u(t, x, y)
pde d(u, t) = laplace(u)
bc periodic x
bc u = 0 at y = 0
bc u = 0 at y = 1
ic u = 0 at t = 0""", space="space x in [0, 1]\nspace y in [0, 1]")
    nodes = apply_conditions(system, {"u": (8, 9)}, {"x"})["u"]
    assert nodes.interior.ranges == ((0, 8), (1, 8))
    assert [(f.axis, f.side) for f in nodes.faces] == [("y", "lower"), ("y", "upper")]


# -- collect_derivatives ------------------------------------------------------------------

def test_collect_mixed_derivative_and_coefficient_field():
    system = parse("""param c(x, y) = 1 + x*y
field u(x, y)
pde c * d(u, x, y) + u = 0
bc u = 0 at x = 0
bc u = 0 at x = 1
bc u = 0 at y = 0
bc u = 0 at y = 1""", space="space x in [0, 1]\nspace y in [0, 1]", time="")
    collected = collect(system.equations[0].residual, system, FDOptions(accuracy=2))
    accesses = {(a.source, a.key, tuple(s.axis for s in a.steps)): a
                for a in collected.accesses.values()}
    assert set(accesses) == {("params", "c", ()), ("state", "u", ("x", "y")),
                             ("state", "u", ())}
    mixed = accesses[("state", "u", ("x", "y"))]
    assert [(s.stencil.order, s.stencil.offsets) for s in mixed.steps] == [
        (1, (-1, 0, 1)), (1, (-1, 0, 1))]
    assert mixed.steps[0].stencil.weights == (-0.5, 0.0, 0.5)
    # the expression now reads c*p + q in the placeholders
    assert not collected.expr.atoms(sp.Derivative)
    assert len(collected.expr.free_symbols) == 3


def test_collect_upwind_first_derivative_gets_its_velocity():
    system = parse("""param a = 2
field u(t, x)
pde d(u, t) = -a * d(u, x)
bc u = 0 at x = 0
ic u = 0 at t = 0""")
    (assigned,) = assign_equations(system)
    collected = collect(assigned.rhs, system, FDOptions(scheme="upwind"), upwind_terms=True)
    (symbol, velocity), = collected.velocities.items()
    assert velocity == sp.Symbol("a")                   # minus d(rhs)/d(u_x)
    step = collected.accesses[symbol].steps[0]
    assert step.scheme.name == "upwind"
    assert step.scheme.backward.offsets == (-1, 0) and step.scheme.forward.offsets == (0, 1)


# -- expand_stencils ----------------------------------------------------------------------

def _expanded(system, expr, region, points=9):
    _, layout = grid_layout(system, points)
    collected = collect(expr, system, FDOptions(accuracy=2))
    return expand_stencils(collected.expr, collected.accesses, region, layout)


def _weights(expr, accesses):
    """{(key, shift): coefficient} of a kernel linear in shifted values."""
    return {(accesses[s].key, accesses[s].shift): expr.diff(s) for s in accesses
            if s in expr.free_symbols}


def test_expand_laplacian_merges_into_the_five_point_stencil():
    alpha = sp.Symbol("alpha")
    expr = alpha * (sp.Derivative(u(x, y), (x, 2)) + sp.Derivative(u(x, y), (y, 2)))
    out, accesses = _expanded(POISSON_MIXED, expr, Region(("x", "y"), ((1, 8), (1, 8))))
    weights = _weights(sp.expand(out), accesses)
    # h = 1/8: 1/h^2 = 64
    assert weights == {("u", (0, 0)): -256 * alpha, ("u", (-1, 0)): 64 * alpha,
                       ("u", (1, 0)): 64 * alpha, ("u", (0, -1)): 64 * alpha,
                       ("u", (0, 1)): 64 * alpha}


def test_expand_mixed_derivative_reads_the_four_corners():
    expr = sp.Derivative(u(x, y), x, y)
    out, accesses = _expanded(POISSON_MIXED, expr, Region(("x", "y"), ((1, 4), (1, 4))),
                              points=5)
    # (u[+1,+1] - u[+1,-1] - u[-1,+1] + u[-1,-1]) / (4 h^2), h = 1/4
    assert _weights(sp.expand(out), accesses) == {
        ("u", (1, 1)): 4, ("u", (-1, -1)): 4, ("u", (1, -1)): -4, ("u", (-1, 1)): -4}


def test_expand_leaves_a_region_at_the_edge_unexpanded():
    expr = sp.Derivative(u(x, y), (x, 2))
    system = POISSON_MIXED
    _, layout = grid_layout(system, 9)
    collected = collect(expr, system, FDOptions(accuracy=2))
    region = Region(("x", "y"), ((0, 9), (1, 8)))       # the stencil would leave the grid
    out, accesses = expand_stencils(collected.expr, collected.accesses, region, layout)
    assert out == collected.expr and accesses == collected.accesses


# -- stages of the driver -----------------------------------------------------------------

def test_equation_stage_holds_fields_and_owned_nodes():
    program = lower_fd(HEAT_ROBIN, FDOptions(9))
    (eq,) = program.stage("equations").items
    assert isinstance(eq, OwnedEquation)
    assert (eq.field, eq.time_order) == ("u", 1)
    assert eq.rhs == sp.Derivative(u(t, x), (x, 2))
    assert eq.nodes == Region(("x",), ((1, 8),))


def test_closure_of_a_robin_condition_by_hand():
    # (-3/2 u0 + 2 u1 - 1/2 u2) / h + 2 u0 = 1 with h = 1/8 gives u0 = 1.6 u1 - 0.4 u2 - 0.1
    program = lower_fd(HEAT_ROBIN, FDOptions(9))
    rows = {r.face.side: r for r in program.stage("boundary closures").items}
    assert all(isinstance(r, ClosureRow) for r in rows.values())
    robin = rows["lower"].equation
    u0, u1, u2 = sp.symbols("u[0] u[1] u[2]")
    assert robin.lhs == u0
    formula = sp.expand(robin.rhs)
    assert float(formula.coeff(u1)) == pytest.approx(1.6)
    assert float(formula.coeff(u2)) == pytest.approx(-0.4)
    assert float(formula.subs({u1: 0, u2: 0})) == pytest.approx(-0.1)
    assert rows["upper"].equation == sp.Eq(sp.Symbol("u[8]"), 0)


def test_boundary_rows_of_a_steady_system():
    program = lower_fd(POISSON_MIXED, FDOptions({"x": 5, "y": 4}))
    rows = {(r.face.axis, r.face.side): r for r in program.stage("boundary rows").items}
    assert rows[("y", "upper")].nodes.ranges == ((1, 4), (3, 4))
    assert rows[("y", "upper")].residual == sp.Derivative(u(x, y), y)
    assert rows[("x", "lower")].face.dirichlet


def test_stencil_stage_and_program_signature():
    program = lower_fd(HEAT_ROBIN, FDOptions(9, accuracy=4))
    items = program.stage("stencils").items
    uses = [i for i in items if isinstance(i, StencilUse)]
    assert [(s.term, s.axis) for s in uses] == [(sp.Derivative(u(t, x), (x, 2)), "x")]
    stencil = uses[0].step.stencil
    assert stencil.offsets == (-2, -1, 0, 1, 2)
    np.testing.assert_allclose(stencil.weights, np.array([-1, 16, -30, 16, -1]) / 12)
    assert [i for i in items if isinstance(i, Spacing)] == [Spacing("x", 0.125)]
    (signature,) = program.stage("program").items
    assert signature.function.startswith("rhs(") and dict(signature.state) == {"u": (9,)}
    assert signature.unknowns == 9


def test_wave_program_has_velocity_state():
    system = parse("""field u(t, x)
pde d(u, t, 2) = d(u, x, 2)
bc periodic x
ic u = sin(2*pi*x) at t = 0
ic d(u, t) = 0 at t = 0""")
    program = lower_fd(system, FDOptions(9))
    assert program.stage("grid").items[0].periodic
    (signature,) = program.stage("program").items
    assert dict(signature.state) == {"u": (8,), "u_t": (8,)}
    assert signature.unknowns == 16
    assert program.stage("boundary closures").items == ()
    assert program.stage("equations").items[0].nodes.ranges == ((0, 8),)


def test_stage_lookup_names_the_stages():
    program = lower_fd(HEAT_ROBIN, FDOptions(9))
    assert [s.name for s in program.stages] == ["grid", "parameters", "equations",
                                                "boundary closures", "stencils", "program"]
    with pytest.raises(KeyError, match="stencils"):
        program.stage("kernels")


def test_stage_prints_its_items_and_unpacks_as_name_and_lines():
    stage = Stage("spacing", (Spacing("x", 0.5), Spacing("y", 0.25)))
    assert stage.lines() == ("hx = 0.5", "hy = 0.25")
    assert dict([stage]) == {"spacing": ("hx = 0.5", "hy = 0.25")}
    assert Stage("parameters", (), empty="none").lines() == ("none",)
    assert Stage("rows", ()).lines() == ()
    several = Stage("pairs", (1, 2), render=lambda i: (f"{i}a", f"{i}b"))
    assert several.lines() == ("1a", "1b", "2a", "2b")


def test_stencil_stage_names_the_upwind_scheme_of_a_transport_term():
    system = parse("""param a = 2
field u(t, x)
pde d(u, t) = -a * d(u, x) + d(u, x, 2)
bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = 0 at t = 0""")
    uses = {str(s.term): s for s in lower_fd(system, FDOptions(9, scheme="upwind2"))
            .stage("stencils").items if isinstance(s, StencilUse)}
    first, second = uses["Derivative(u(t, x), x)"], uses["Derivative(u(t, x), (x, 2))"]
    assert (first.scheme, second.scheme) == ("upwind2", "central")
    assert first.step.scheme.backward.offsets == (-2, -1, 0)      # two points upstream
    assert first.step.scheme.backward.weights == (0.5, -2.0, 1.5)
