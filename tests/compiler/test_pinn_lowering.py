"""PINN lowering: network derivatives against finite differences of the network itself,
derivative chains, input maps, and residuals against an independent computation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

import pdelang as pl
from compiler.common.stencils import central
from compiler.errors import LoweringError
from compiler.pinn import PINNOptions, apply_mlp, lower_pinn
from compiler.pinn.derivatives import derivatives_at, plan_chains
from compiler.pinn.networks.mlp import InputMap, MLPSpec, init_mlp


def fd_derivative(f, x, axes, h=1e-2, accuracy=8):
    """Derivative of the scalar function `f` along `axes` by high-order central differences,
    one axis at a time (nested), accurate to near rounding in float64."""
    if not axes:
        return f(x)
    axis, rest = axes[0], axes[1:]
    stencil = central(1, accuracy)
    total = 0.0
    for offset, weight in zip(stencil.offsets, stencil.weights):
        shifted = x.at[axis].add(offset * h)
        total += weight * fd_derivative(f, shifted, rest, h, accuracy)
    return total / h


@pytest.fixture
def network():
    with jax.enable_x64(True):
        spec = MLPSpec(InputMap((0.0, -1.0, 0.0), (1.0, 2.0, 3.0), (False, False, False)),
                       (16, 16), 2, "tanh")
        params = init_mlp(spec, jax.random.PRNGKey(3), jnp.float64)
        yield spec, params


@pytest.mark.parametrize("chain", [(0,), (1,), (2,), (0, 0), (1, 1), (0, 1), (0, 2), (1, 2),
                                   (0, 0, 1), (2, 2, 2)])
def test_network_derivatives_match_finite_differences_of_the_network(network, chain):
    spec, params = network
    with jax.enable_x64(True):
        x = jnp.asarray([0.3, 0.4, 1.7])
        got = derivatives_at(lambda z: apply_mlp(spec, params, z), x, (chain,))[chain]
        for output in range(2):
            reference = fd_derivative(lambda z, k=output: apply_mlp(spec, params, z)[k], x, chain)
            assert abs(float(got[output]) - float(reference)) < 1e-8 * (1 + abs(reference))


def test_one_chain_gives_every_prefix(network):
    spec, params = network
    with jax.enable_x64(True):
        x = jnp.asarray([0.1, 0.2, 0.3])
        out = derivatives_at(lambda z: apply_mlp(spec, params, z), x, ((0, 0),))
        assert set(out) == {(), (0,), (0, 0)}
        np.testing.assert_allclose(out[()], apply_mlp(spec, params, x))


def test_plan_chains_shares_prefixes():
    assert plan_chains({(), (0,), (0, 0), (1, 1)}) == ((0, 0), (1, 1))
    assert plan_chains({(0,), (0, 1), (1,)}) == ((0, 1), (1,))
    assert plan_chains(set()) == ()


def test_periodic_inputs_make_the_network_exactly_periodic():
    spec = MLPSpec(InputMap((0.0, 0.0), (1.0, 2.0), (False, True), harmonics=2), (8,), 1)
    params = init_mlp(spec, jax.random.PRNGKey(0))
    a = apply_mlp(spec, params, jnp.asarray([0.5, 0.3]))
    b = apply_mlp(spec, params, jnp.asarray([0.5, 2.3]))
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert spec.inputs.width == 5


def test_residual_matches_an_independent_laplacian(examples_dir):
    system = pl.load(f"{examples_dir}/poisson2d.pde")
    with jax.enable_x64(True):
        program = lower_pinn(system, PINNOptions(layers=(12, 12), hard_constraints=False))
        nets = program.init(jax.random.PRNGKey(1), jnp.float64)
        points = jax.random.uniform(jax.random.PRNGKey(2), (5, 2), jnp.float64)
        pde = program.terms[0]
        got = pde.residual(nets, {}, points)
        group = program.groups[0]

        def u(z):
            return apply_mlp(group.spec, nets[group.key], z)[0]

        lap = jax.vmap(lambda z: jnp.trace(jax.hessian(u)(z)))(points)
        forcing = -jnp.sin(jnp.pi * points[:, 0]) * jnp.sin(jnp.pi * points[:, 1])
        np.testing.assert_allclose(got, lap - forcing, rtol=1e-10, atol=1e-12)
        assert [t.kind for t in program.terms] == ["pde"] + ["boundary"] * 4
        assert program.terms[1].fixed == {"x": 0.0}


def test_fields_with_different_arguments_get_their_own_networks():
    t, x = sp.symbols("t x")
    u, a = sp.Function("u"), sp.Function("a")
    system = pl.PDESystem([sp.Eq(u(t, x).diff(t), u(t, x).diff(x, 2) + a(t)),
                           sp.Eq(a(t).diff(t), -a(t))],
                          [sp.Eq(u(t, 0), 0), sp.Eq(u(t, 1), 0), sp.Eq(u(0, x), 0),
                           sp.Eq(a(0), 1)], {t: (0, 1), x: (0, 1)})
    program = lower_pinn(system)
    assert sorted(g.args for g in program.groups) == [("t",), ("t", "x")]
    nets = program.init(jax.random.PRNGKey(0))
    values = program.evaluate(nets, jnp.ones((3, 2)))
    assert values["u"].shape == (3,) and values["a"].shape == (3,)


def test_bad_network_options_are_refused():
    with pytest.raises(LoweringError, match="activation"):
        MLPSpec(InputMap((0.0,), (1.0,), (False,)), (8,), 1, "relu6")
