"""Levenberg-Marquardt on PINN residuals: its normal equations against the Jacobian of the
whole residual vector taken another way (forward mode over the flat parameters), the loss
it minimises against the objective's, and the accuracy it reaches on a problem with an
exact solution."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from jax.flatten_util import ravel_pytree

import pdelang as pl
from compiler.pinn import PINNOptions, lower_pinn
from runtime.pinn.levenberg import LevenbergMarquardt, LMState
from runtime.pinn.objective import Objective

x = sp.Symbol("x")
u = sp.Function("u")


def _poisson_1d(hard: bool):
    """u'' = -pi^2 sin(pi x) on [0, 1], u = 0 at both ends: u = sin(pi x)."""
    system = pl.PDESystem([sp.Eq(u(x).diff(x, 2), -sp.pi**2 * sp.sin(sp.pi * x))],
                          [pl.At(sp.Eq(u(x), 0), x, 0), pl.At(sp.Eq(u(x), 0), x, 1)],
                          {x: (0, 1)}, unknowns=[u(x)])
    return lower_pinn(system, PINNOptions(layers=(8, 8), hard_constraints=hard))


def _batch(program, n=40):
    points = {"pde": np.linspace(0.0, 1.0, n)[:, None]}
    for t in program.terms:
        if t.kind == "boundary":
            points[t.name] = np.array([[t.fixed["x"]]])
    return {k: jnp.asarray(v, jnp.float64) for k, v in points.items()}


def _start(program, seed, causal=False):
    """The objective, float64 networks and physical parameters, and LM (inside x64)."""
    objective = Objective.of(program, causal)
    nets = program.init(jax.random.PRNGKey(seed), jnp.float64)
    physical = {k: jnp.asarray(v, jnp.float64) for k, v in program.physical.items()}
    return objective, nets, physical, LevenbergMarquardt(objective, nets)


def test_normal_equations_match_a_forward_mode_jacobian():
    with jax.enable_x64(True):
        program = _poisson_1d(hard=False)
        objective, nets, physical, lm = _start(program, 1)
        batch, weights = _batch(program), jnp.asarray([1.0, 3.0, 0.5])
        theta, unravel = ravel_pytree(nets)
        normal, gradient, loss, terms, _, _ = lm._linearize(theta, physical, batch, weights,
                                                            jnp.asarray(0.0))

        def vector(th):           # the scaled residual vector, written out term by term
            rows = []
            for t, w in zip(program.terms, weights):
                r = t.residual(unravel(th), physical, batch[t.name]).reshape(-1)
                rows.append(jnp.sqrt(w / batch[t.name].shape[0]) * r)
            return jnp.concatenate(rows)

        jac = jax.jacfwd(vector)(theta)
        np.testing.assert_allclose(normal, jac.T @ jac, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(gradient, jac.T @ vector(theta), rtol=1e-10, atol=1e-12)
        value, _ = objective.loss(nets, physical, batch, weights, jnp.asarray(0.0))
        np.testing.assert_allclose(loss, value, rtol=1e-12)
        np.testing.assert_allclose(loss, vector(theta) @ vector(theta), rtol=1e-12)


def test_a_few_dozen_steps_reach_float64_accuracy():
    with jax.enable_x64(True):
        program = _poisson_1d(hard=True)
        _, nets, physical, lm = _start(program, 0)
        # 400 points for about 100 parameters: with fewer rows than unknowns LM fits the
        # points and nothing between them (tried: 40 points, loss 1e-10, error 6e-3)
        nets, state, values, terms, _ = lm.run(nets, LMState(), physical,
                                               _batch(program, 400), jnp.ones(1),
                                               jnp.asarray(0.0), 200)
        assert np.all(np.diff(values) <= 0)            # only steps that lower the loss
        assert values[-1] < 1e-8 * values[0]
        xs = jnp.linspace(0.0, 1.0, 101)[:, None]
        error = np.asarray(program.evaluate(nets, xs, physical)["u"]) - np.sin(np.pi * xs[:, 0])
        relative = np.linalg.norm(error) / np.linalg.norm(np.sin(np.pi * xs[:, 0]))
        assert relative < 1e-5, relative


def test_at_a_minimum_it_says_converged():
    with jax.enable_x64(True):
        _, nets, physical, lm = _start(_poisson_1d(hard=True), 0)
        program = lm.objective.program
        state = LMState(mu=1e13)
        _, state, values, _, _ = lm.run(nets, state, physical, _batch(program), jnp.ones(1),
                                        jnp.asarray(0.0), 5)
        assert state.converged and len(values) == 0


@pytest.mark.parametrize("causal", [False, True])
def test_causal_rows_weigh_the_loss_as_the_objective_does(examples_dir, causal):
    with jax.enable_x64(True):
        program = lower_pinn(pl.load(f"{examples_dir}/heat1d.pde"), PINNOptions(layers=(6,)))
        objective, nets, physical, lm = _start(program, 0, causal)
        rng = np.random.default_rng(0)
        batch = {}
        for t in program.terms:
            pts = rng.uniform(0, 1, (30, len(program.coordinates)))
            for c, v in t.fixed.items():
                pts[:, program.coordinates.index(c)] = v
            batch[t.name] = jnp.asarray(pts)
        weights = jnp.ones(len(program.terms))
        theta, _ = ravel_pytree(nets)
        _, _, loss, _, _, _ = lm._linearize(theta, physical, batch, weights, jnp.asarray(1.0))
        value, _ = objective.loss(nets, physical, batch, weights, jnp.asarray(1.0))
        np.testing.assert_allclose(loss, value, rtol=1e-12)


@pytest.mark.slow
def test_an_inverse_problems_rows_match_forward_mode(examples_dir):
    """Data terms (residual: the field at the observation points minus the data, in their
    order) and unknown constants, against jax.jacfwd of the whole residual vector."""
    with jax.enable_x64(True):
        program = lower_pinn(pl.load(f"{examples_dir}/lorenz_inverse.pde"),
                             PINNOptions(layers=(6,)))
        objective, nets, physical, lm = _start(program, 2)
        batch = {t.name: jnp.asarray(t.points if t.points is not None else
                                     np.linspace(0, 3, 20)[:, None], jnp.float64)
                 for t in program.terms}
        assert {t.kind for t in program.terms} >= {"pde", "data"}
        weights = jnp.linspace(1.0, 2.0, len(program.terms))
        theta, unravel = ravel_pytree(nets)
        normal, gradient, loss, _, _, _ = lm._linearize(theta, physical, batch, weights,
                                                        jnp.asarray(0.0))

        def vector(th):
            return jnp.concatenate([
                jnp.sqrt(w / batch[t.name].shape[0]) *
                t.residual(unravel(th), physical, batch[t.name]).reshape(-1)
                for t, w in zip(program.terms, weights)])

        jac = jax.jacfwd(vector)(theta)
        np.testing.assert_allclose(normal, jac.T @ jac, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(gradient, jac.T @ vector(theta), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(loss, vector(theta) @ vector(theta), rtol=1e-12)
