"""The pinn passes on small systems: make_networks, hard constraints and to_residuals,
checked on their IR (groups, constraints, terms) and on hand-computed residual values."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdelang as pl
from compiler.pinn import PINNOptions, lower_pinn
from compiler.pinn.constraints import constrain_groups, hard_conditions
from compiler.pinn.lower import make_networks, to_residuals
from compiler.pinn.networks.mlp import init_mlp
from compiler.pinn.residuals import NetworkGroup, Term

from ..test_pinn_lowering import fd_derivative

OPTIONS = PINNOptions(layers=(8, 8), hard_constraints=False)

ROBIN = pl.parse("""space x in [0, 1]
time t in [0, 1]
field u(t, x)
pde d(u, t) = d(u, x, 2)
bc u = t at x = 0
bc d(u, x) + 2*u = 1 at x = 1
ic u = x*(1 - x) at t = 0
""")


def nets_for(groups, seed=0):
    keys = jax.random.split(jax.random.PRNGKey(seed), len(groups))
    return {g.key: init_mlp(g.spec, k, jnp.float64) for g, k in zip(groups, keys)}


def points_on(fixed, n=5, seed=1):
    rng = np.random.default_rng(seed)
    columns = [np.full(n, fixed[c]) if c in fixed else rng.uniform(0, 1, n) for c in "tx"]
    return jnp.asarray(np.stack(columns, axis=1))


def test_make_networks_two_fields_share_one_network():
    system = pl.parse("""space x in [0, 1]
field u(x)
field v(x)
pde d(u, x, 2) = v
pde d(v, x, 2) = 1
bc u = 0 at x = 0
bc u = 0 at x = 1
bc v = 0 at x = 0
bc v = 0 at x = 1
""")
    (group,) = make_networks(system, OPTIONS, set())
    assert (group.key, group.fields, group.args) == ("u_v", ("u", "v"), ("x",))
    assert group.spec.outputs == 2 and group.spec.hidden == (8, 8)


def test_to_residuals_one_term_per_equation_and_condition():
    groups = make_networks(ROBIN, OPTIONS, set())
    terms = to_residuals(ROBIN, groups, ("t", "x"), set())
    assert [(t.name, t.kind, dict(t.fixed)) for t in terms] == [
        ("pde", "pde", {}), ("bc x=0", "boundary", {"x": 0.0}),
        ("bc x=1", "boundary", {"x": 1.0}), ("ic t=0", "initial", {"t": 0.0})]


def test_robin_residual_by_hand():
    groups = make_networks(ROBIN, OPTIONS, set())
    robin = to_residuals(ROBIN, groups, ("t", "x"), set())[2]
    nets = nets_for(groups)
    program = lower_pinn(ROBIN, OPTIONS)
    points = points_on({"x": 1.0})
    got = np.asarray(robin.residual(nets, program.physical, points))

    def value(p):
        return program.evaluate(nets, p[None, :])["u"][0]

    expected = [float(fd_derivative(value, p, [1]) + 2 * value(p) - 1) for p in points]
    np.testing.assert_allclose(got, expected, atol=1e-9)


def test_periodic_condition_gives_no_term():
    system = pl.parse("""space x in [0, 1]
time t in [0, 1]
field u(t, x)
pde d(u, t) = d(u, x, 2)
bc periodic x
ic u = sin(2*pi*x) at t = 0
""")
    groups = make_networks(system, OPTIONS, {"x"})
    assert groups[0].spec.inputs.periodic == (False, True)
    terms = to_residuals(system, groups, ("t", "x"), {"x"})
    assert [t.name for t in terms] == ["pde", "ic t=0"]


def test_hard_conditions_take_value_conditions_only():
    assert hard_conditions(ROBIN) == {"u": (0, 2)}       # not the Robin condition (1)


def test_constrained_network_meets_its_faces_and_drops_their_terms():
    groups = make_networks(ROBIN, OPTIONS, set())
    physical = lower_pinn(ROBIN, OPTIONS).physical
    constrained, hard, notes = constrain_groups(ROBIN, groups, physical)
    assert hard == frozenset({0, 2}) and notes == ()
    (field,) = constrained[0].constraints.fields
    assert field.field == "u" and set(field.labels) == {"t=0", "x=0"}
    terms = to_residuals(ROBIN, constrained, ("t", "x"), set(), hard)
    assert [t.name for t in terms] == ["pde", "bc x=1"]
    nets = nets_for(constrained)
    program = lower_pinn(ROBIN, PINNOptions(layers=(8, 8)))
    at_x0 = points_on({"x": 0.0})
    np.testing.assert_allclose(program.evaluate(nets, at_x0)["u"], at_x0[:, 0], atol=1e-12)
    at_t0 = points_on({"t": 0.0})
    x = at_t0[:, 1]
    np.testing.assert_allclose(program.evaluate(nets, at_t0)["u"], x * (1 - x), atol=1e-12)


def test_program_stages_hold_groups_and_terms():
    program = lower_pinn(ROBIN, OPTIONS)
    assert [s.name for s in program.stages] == ["networks", "residuals"]
    (group,) = program.stage("networks").items
    assert isinstance(group, NetworkGroup) and group.fields == ("u",)
    terms = program.stage("residuals").items
    assert all(isinstance(t, Term) for t in terms) and terms == program.terms
    assert terms[0].text.endswith("= 0")
    with pytest.raises(KeyError):
        program.stage("unknowns")
