"""odil's passes: space_time_system (time made a grid axis, initial conditions made face
conditions) and the odil stage (unknowns, data, objective), checked on their IR."""

import os

import pytest
import sympy as sp

import pdelang as pl
from compiler.errors import LoweringError
from compiler.fd import FDOptions, lower_fd
from compiler.fd.stages import StencilUse
from compiler.odil import odil_stages, space_time_system
from compiler.odil.space_time import DataMisfit, Objective, SpaceTimeUnknowns, UnknownParameter

t, x = sp.symbols("t x")
u = sp.Function("u")

HEAT = pl.parse("""space x in [0, 1]
time t in [0, 0.5]
field u(t, x)
pde d(u, t) = d(u, x, 2)
bc d(u, x) + u = 0 at x = 0
bc u = 0 at x = 1
ic u = sin(pi*x) at t = 0
""")


def test_time_becomes_a_grid_axis_and_the_initial_condition_a_face():
    steady = space_time_system(HEAT)
    assert steady.time is None and [c.name for c in steady.space] == ["t", "x"]
    kinds = [(c.kind, c.coordinate, c.side) for c in steady.conditions]
    assert kinds == [("boundary", "x", "lower"), ("boundary", "x", "upper"),
                     ("boundary", "t", "lower")]
    assert steady.equations == HEAT.equations
    assert steady.conditions[2].residual == HEAT.conditions[2].residual


def test_steady_system_is_returned_unchanged():
    poisson = pl.parse("""space x in [0, 1]
field u(x)
pde d(u, x, 2) = 1
bc u = 0 at x = 0
bc u = 0 at x = 1
""")
    assert space_time_system(poisson) is poisson


def test_second_order_in_time_is_refused():
    wave = pl.parse("""space x in [0, 1]
time t in [0, 1]
field u(t, x)
pde d(u, t, 2) = d(u, x, 2)
bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = 0 at t = 0
ic d(u, t) = 0 at t = 0
""")
    with pytest.raises(LoweringError, match="first-order"):
        space_time_system(wave)


def test_space_time_program_owns_nodes_up_to_the_final_time():
    program = lower_fd(space_time_system(HEAT), FDOptions({"x": 5, "t": 3}))
    (eq,) = program.stage("equations").items
    assert eq.rhs is None and dict(zip(eq.nodes.axes, eq.nodes.ranges)) == {
        "t": (1, 3), "x": (1, 4)}
    rows = {(r.face.axis, r.face.side): r for r in program.stage("boundary rows").items}
    # the initial condition is Dirichlet on t = 0 and owns its corners; the Robin face not
    assert rows[("t", "lower")].face.dirichlet and not rows[("x", "lower")].face.dirichlet
    assert dict(zip(rows[("t", "lower")].nodes.axes, rows[("t", "lower")].nodes.ranges)) == {
        "t": (0, 1), "x": (0, 5)}
    assert dict(zip(rows[("x", "lower")].nodes.axes, rows[("x", "lower")].nodes.ranges)) == {
        "t": (1, 3), "x": (0, 1)}
    time_stencil = next(s for s in program.stage("stencils").items
                        if isinstance(s, StencilUse) and s.axis == "t")
    assert time_stencil.term == sp.Derivative(u(t, x), t)
    assert time_stencil.step.stencil.offsets == (-1, 0, 1)


def test_odil_stage_of_a_forward_problem():
    stages = odil_stages(HEAT, FDOptions({"x": 5, "t": 3}))
    odil = stages[-1]
    assert odil.name == "odil"
    unknowns, objective = odil.items
    assert unknowns == SpaceTimeUnknowns(("u",), (3, 5), 15)
    assert objective == Objective("newton")


def test_odil_stage_of_an_inverse_problem(examples_dir):
    system = pl.load(os.path.join(examples_dir, "heat_inverse.pde"))
    odil = odil_stages(system, FDOptions(9))[-1]
    unknowns, parameter, data, objective = odil.items
    assert unknowns.count == 81
    assert isinstance(parameter, UnknownParameter) and parameter.param.name == "k"
    assert parameter.shape == ()
    assert data == DataMisfit("u", 205)                   # 5 snapshots of 41 points
    assert objective.kind == "least squares"
