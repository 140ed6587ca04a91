"""Hard constraints of the PINN networks: each built-in condition holds to float64 rounding
at random face points for random weights, the other conditions stay soft, and derivatives
through u = A + D*N match finite differences of the constrained network."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

import pdelang as pl
from compiler.pinn import PINNOptions, lower_pinn
from compiler.pinn.constraints import face_data, hard_conditions
from compiler.pinn.derivatives import derivatives_at
from compiler.pinn.residuals import network_function

from .test_pinn_lowering import fd_derivative

t, x, y = sp.symbols("t x y")
u = sp.Function("u")
HARD = PINNOptions(layers=(16, 16), hard_constraints=True)


def constrained(system, seed=0):
    """The hard-constrained program and float64 weights drawn from `seed`."""
    program = lower_pinn(system, HARD)
    return program, program.init(jax.random.PRNGKey(seed), jnp.float64)


def face_points(program, fixed, n=64, seed=1):
    """`n` random points of the domain with the coordinates in `fixed` set to those values."""
    rng = np.random.default_rng(seed)
    columns = [np.full(n, fixed[c]) if c in fixed else rng.uniform(*program.bounds[c], n)
               for c in program.coordinates]
    return jnp.asarray(np.stack(columns, axis=1))


def values_at(program, nets, points):
    return np.asarray(program.evaluate(nets, points)["u"])


def assert_exact(got, want):
    np.testing.assert_allclose(got, want, rtol=0, atol=4 * np.finfo(np.float64).eps *
                               max(1.0, float(np.max(np.abs(want)))))


def heat(initial, left, right, ends="value"):
    """u_t = u_xx / 10 on [0, 1] x [0, 0.5] with the given initial value and ends."""
    ends_ = [sp.Eq(u(t, 0), left), sp.Eq(u(t, 1), right)] if ends == "value" else \
        [pl.At(sp.Eq(u(t, x).diff(x), 0), x, 0), sp.Eq(u(t, 1), right)]
    return pl.PDESystem([sp.Eq(u(t, x).diff(t), u(t, x).diff(x, 2) / 10)],
                        [*ends_, sp.Eq(u(0, x), initial)], {t: (0, 0.5), x: (0, 1)})


def test_dirichlet_at_both_ends_with_data_varying_in_time():
    left, right = sp.sin(3 * t), 2 + t**2 - sp.cos(t)
    with jax.enable_x64(True):
        program, nets = constrained(heat(x + x * (1 - x) * sp.exp(x), left, right))
        assert [term.name for term in program.terms] == ["pde"]
        for where, data in ((0.0, left), (1.0, right)):
            points = face_points(program, {"x": where})
            want = sp.lambdify(t, data, "numpy")(np.asarray(points[:, 0]))
            assert_exact(values_at(program, nets, points), want)
        inside = values_at(program, nets, face_points(program, {}))
        assert np.all(np.isfinite(inside))


def test_poisson_square_with_zero_edges(examples_dir):
    with jax.enable_x64(True):
        program, nets = constrained(pl.load(f"{examples_dir}/poisson2d.pde"), seed=4)
        assert [term.name for term in program.terms] == ["pde"]
        for fixed in ({"x": 0.0}, {"x": 1.0}, {"y": 0.0}, {"y": 1.0}):
            assert_exact(values_at(program, nets, face_points(program, fixed)), 0.0)
        inside = values_at(program, nets, face_points(program, {}))
        assert np.min(np.abs(inside)) > 0                     # the network still speaks
        lines = dict(program.stages)["networks"]
        assert "u = A + D*N, hard: x=0, x=1, y=0, y=1" in lines[0]


def test_heat_with_dirichlet_ends_and_initial_value_meets_all_three_and_the_corners():
    initial = sp.cos(sp.pi * x) + 2 * x                      # 1 at x = 0, 1 at x = 1
    left, right = sp.exp(-t), 1 + sp.sin(5 * t)
    with jax.enable_x64(True):
        program, nets = constrained(heat(initial, left, right), seed=2)
        assert [term.name for term in program.terms] == ["pde"]
        for fixed, data, column in (({"t": 0.0}, initial, 1), ({"x": 0.0}, left, 0),
                                    ({"x": 1.0}, right, 0)):
            points = face_points(program, fixed)
            symbol = (t, x)[column]
            want = sp.lambdify(symbol, data, "numpy")(np.asarray(points[:, column]))
            assert_exact(values_at(program, nets, points), np.broadcast_to(want, (64,)))
        corners = jnp.asarray([[0.0, 0.0], [0.0, 1.0]])
        assert_exact(values_at(program, nets, corners), [1.0, 1.0])


def test_data_that_disagree_at_a_corner_leave_the_field_soft():
    program = lower_pinn(heat(sp.Integer(1), 0, 0), HARD)
    assert [term.name for term in program.terms] == ["pde", "bc x=0", "bc x=1", "ic t=0"]
    assert program.groups[0].constraints is None
    assert "u soft: its values at t=0 and x=0 disagree" in dict(program.stages)["networks"][1]


def test_a_neumann_end_stays_a_loss_term():
    system = heat(sp.cos(sp.pi * x / 2), 0, 0, ends="neumann")
    with jax.enable_x64(True):
        program, nets = constrained(system)
        assert [term.name for term in program.terms] == ["pde", "bc x=0"]
        assert "hard: t=0, x=1" in dict(program.stages)["networks"][0]
        for fixed, want in (({"x": 1.0}, 0.0), ({"t": 0.0, "x": 0.3},
                                                np.cos(np.pi * 0.15))):
            assert_exact(values_at(program, nets, face_points(program, fixed)), want)


def test_fields_with_a_condition_that_cannot_be_built_in_stay_soft():
    v = sp.Function("v")
    system = pl.PDESystem(
        [sp.Eq(u(x, y).diff(x, 2) + u(x, y).diff(y, 2), v(x, y)),
         sp.Eq(v(x, y).diff(x, 2) + v(x, y).diff(y, 2), 1)],
        [sp.Eq(u(0, y), 0), sp.Eq(u(1, y), 0), sp.Eq(u(x, 0), 0), sp.Eq(u(x, 1) ** 2, 1),
         sp.Eq(v(0, y), y), sp.Eq(2 * v(1, y), 3), sp.Eq(v(x, 0), 3 * x / 2),
         sp.Eq(v(x, 1) - u(x, 1), 0)],
        {x: (0, 1), y: (0, 1)})
    assert hard_conditions(system) == {"v": (4, 5, 6)}      # u**2 = 1 blocks u
    assert face_data(system.conditions[5], system.field("v"), system) == sp.Rational(3, 2)
    program = lower_pinn(system, HARD)
    assert [term.text for term in program.terms if term.kind == "boundary"] == \
        ["u = 0"] * 3 + ["u**2 - 1 = 0", "-u + v = 0"]
    assert [c.field for c in program.groups[0].constraints.fields] == ["v"]
    assert "u soft: not each of its value conditions reads `u = data`" in \
        dict(program.stages)["networks"][1]


@pytest.mark.parametrize("chain", [(0,), (1,), (0, 0), (1, 1), (0, 1), (0, 0, 1)])
def test_derivatives_through_the_constraint_match_finite_differences(chain):
    system = heat(sp.cos(sp.pi * x) + 2 * x, sp.exp(-t), 1 + sp.sin(5 * t))
    with jax.enable_x64(True):
        program, nets = constrained(system, seed=5)
        group = program.groups[0]
        net = network_function(group, nets[group.key], program.physical)
        z = jnp.asarray([0.21, 0.37])
        got = float(jax.jit(lambda p: derivatives_at(net, p, (chain,))[chain][0])(z))
        want = float(fd_derivative(jax.jit(lambda p: net(p)[0]), z, chain))
        assert abs(got - want) < 1e-8 * (1 + abs(want))
