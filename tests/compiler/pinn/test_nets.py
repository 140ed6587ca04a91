"""Learned functions (`net` lines) in pinn's residuals: a net at its inputs point by point,
a derivative of one (a learned flux) by forward mode through it, a net in a condition kept
in the loss, and the stage that lists the nets."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

import pdelang as pl
from compiler.common.nets import net_key
from compiler.pinn import lower_pinn
from compiler.pinn.constraints import hard_conditions
from compiler.pinn.residuals import make_residual
from pdelang.expressions import net_outputs

FLUX = """\
time t in [0, 1]
space z in [0, 1]
field T(t, z)
param K = 0.1
net q(T, d(T, z)) : width 6, depth 2
net s(t) : width 4, depth 1
pde d(T, t) = -d(q(T, d(T, z)) - K*d(T, z), z)
ic T = z at t = 0
bc d(T, z) = 0 at z = 0
bc T = 1 + s(t) at z = 1
data "T.csv"
"""


@pytest.fixture
def flux(tmp_path):
    np.savetxt(tmp_path / "T.csv", [[0.5, 0.5, 0.5], [1.0, 0.2, 0.3]], delimiter=",",
               header="t,z,T", comments="")
    return pl.parse(FLUX, "flux.pde", base=tmp_path)


def test_a_learned_flux_is_differentiated_through_the_net(flux):
    """d(q(T, T_z), z) by forward mode through the net and the field network against
    central differences of q(T, T_z) along z (float64), and a second derivative too."""
    with jax.enable_x64(True):
        program = lower_pinn(flux)
        nets = program.init(jax.random.PRNGKey(3), jnp.float64)
        # a trained-looking q: the untrained one has a zero output layer (the known physics)
        nets[net_key("q")] = 0.5 * jax.random.normal(jax.random.PRNGKey(4),
                                                     nets[net_key("q")].shape, jnp.float64)
        (use,) = {n for n in net_outputs(flux.equations[0].residual)}
        z = sp.Symbol("z")
        at = dict(system=flux, groups=program.groups, coordinates=program.coordinates)
        value, _ = make_residual(use, **at)
        slope, _ = make_residual(sp.Derivative(use, z), **at)
        curve, _ = make_residual(sp.Derivative(use, (z, 2)), **at)
        rng = np.random.default_rng(0)
        points = jnp.asarray(rng.uniform(0.1, 0.9, (16, 2)))
        h = jnp.asarray([0.0, 1e-4])

        def along(f, p):
            return (f(nets, program.physical, p + h) - f(nets, program.physical, p - h)) / 2e-4

        exact = slope(nets, program.physical, points)
        assert float(jnp.max(jnp.abs(exact))) > 1e-3        # the net's term moves along z
        np.testing.assert_allclose(along(value, points), exact, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(along(slope, points), curve(nets, program.physical, points),
                                   rtol=1e-5, atol=1e-8)
        residual = program.terms[0].residual(nets, program.physical, points)
        assert residual.shape == (16,) and bool(jnp.all(jnp.isfinite(residual)))
        assert set(nets) >= {net_key("q"), net_key("s")}
        assert nets[net_key("q")].shape == (2 * 6 + 6 + 6 * 6 + 6 + 6 + 1,)


def test_a_net_in_a_condition_stays_in_the_loss(flux):
    """`T = 1 + s(t)` at z = 1 reads like a Dirichlet value, but s is trained: the
    network does not build it in; its residual is a loss term with the net in it."""
    assert 3 not in hard_conditions(flux).get("T", ())
    program = lower_pinn(flux)
    term = next(t for t in program.terms if t.name == "bc z=1")
    nets = program.init(jax.random.PRNGKey(0))
    points = jnp.asarray([[0.25, 1.0], [0.75, 1.0]])
    moved = dict(nets, **{net_key("s"): nets[net_key("s")] + 0.5})
    before = term.residual(nets, program.physical, points)
    after = term.residual(moved, program.physical, points)
    assert float(jnp.max(jnp.abs(after - before))) > 1e-3


def test_the_stages_list_the_learned_functions(flux):
    lines = lower_pinn(flux).stage("learned functions").lines()
    text = "\n".join(lines)
    assert "net q(T, T_z) : width 6, depth 2, activation tanh: 67 weights" in text
    assert "net s(t) : width 4, depth 1, activation tanh: 13 weights" in text
