"""Loss balancing (`runtime.pinn.balancing`): gradnorm's gradient norms and ntk's traces
against independent computations (jax.grad of each term alone; jacrev of the whole residual
vector), the moving average, zero terms, the training loop's use of the options, and a
short training on a Poisson problem whose PDE term is 1000 times the boundary terms."""

import dataclasses
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from jax.flatten_util import ravel_pytree

import pdelang as pl
import runtime
from compiler.pinn import PINNOptions, lower_pinn
from compiler.pinn.residuals import Term
from runtime.cli import main
from runtime.errors import OptionError
from runtime.pinn import TrainOptions, train
from runtime.pinn.balancing import BALANCERS, FLOOR, make_balancer
from runtime.pinn.parallel import split_points

SCALE = 1000.0      # the PDE residual is SCALE times that of the plain Poisson equation


def unbalanced_poisson() -> pl.PDESystem:
    """SCALE (u_xx + u_yy + sin(pi x) sin(pi y)) = 0, u = 0 on the edges: the plain Poisson
    problem (exact u = sin(pi x) sin(pi y) / (2 pi^2)) with its PDE term 1000 times larger."""
    x, y = sp.symbols("x y")
    u = sp.Function("u")
    f = sp.sin(sp.pi * x) * sp.sin(sp.pi * y)
    return pl.PDESystem(
        [sp.Eq(SCALE * (u(x, y).diff(x, 2) + u(x, y).diff(y, 2)), -SCALE * f)],
        [sp.Eq(u(0, y), 0), sp.Eq(u(1, y), 0), sp.Eq(u(x, 0), 0), sp.Eq(u(x, 1), 0)],
        {x: (0, 1), y: (0, 1)}, exact={u: f / (2 * sp.pi**2)})


def program_with_points(extra: tuple = (), n: int = 24, layers=(8, 8)):
    """The unbalanced Poisson program, soft constraints, plus `extra` terms built from its
    PDE residual; every term carries its own points, so training draws none."""
    program = lower_pinn(unbalanced_poisson(), PINNOptions(layers=layers,
                                                           hard_constraints=False))
    pde = program.terms[0].residual
    terms = program.terms + tuple(make(pde) for make in extra)
    rng = np.random.default_rng(3)
    placed = []
    for t in terms:
        points = rng.uniform(size=(n, 2))
        for c, v in t.fixed.items():
            points[:, program.coordinates.index(c)] = v
        placed.append(dataclasses.replace(t, points=points))
    return dataclasses.replace(program, terms=tuple(placed))


def mean_term(pde):
    return Term("bc mean", "mean", lambda n, p, x: jnp.mean(pde(n, p, x)).reshape(1))


def regularization_term(pde):
    return Term("regularization", "regularization", lambda n, p, x: pde(n, p, x) / 7)


def zero_term(pde):
    return Term("zero", "boundary", lambda n, p, x: 0.0 * x[:, 0])


def setup(program, dtype=jnp.float64):
    """The arguments of make_balancer and the balancer's call, as train makes them."""
    nets = program.init(jax.random.PRNGKey(0), dtype)
    physical = {k: jnp.asarray(v, dtype) for k, v in program.physical.items()}
    batch = {t.name: np.asarray(t.points, dtype) for t in program.terms}
    placement = split_points(batch, 1)

    def terms_of(nets, stored):
        loaded = placement.load(stored)
        return jnp.stack([mean_square(t.residual(nets, physical, loaded[t.name]))
                          for t in program.terms])

    return nets, physical, terms_of, placement, placement.put(batch)


def mean_square(r):
    return jnp.mean(jnp.sum(jnp.square(r.reshape(r.shape[0], -1)), axis=1))


def by_hand_gradient_norms(program, physical):
    """nets -> ||grad L_i|| per term: jax.grad of each term's mean square alone, flattened."""
    def norms(nets):
        out = []
        for t in program.terms:
            def loss(n, t=t):
                return mean_square(t.residual(n, physical, jnp.asarray(t.points)))

            out.append(jnp.linalg.norm(ravel_pytree(jax.grad(loss)(nets))[0]))
        return jnp.stack(out)

    return jax.jit(norms)


def by_hand_traces(program, physical):
    """nets -> tr K_i / n_i per term, from the full Jacobian of its residual vector (jacrev)."""
    def traces(nets):
        out = []
        for t in program.terms:
            def residual(n, t=t):
                return t.residual(n, physical, jnp.asarray(t.points))

            jacobian = jax.jacrev(residual)(nets)
            rows = jnp.concatenate([leaf.reshape(leaf.shape[0], -1)
                                    for leaf in jax.tree.leaves(jacobian)], axis=1)
            out.append(jnp.mean(jnp.sum(rows**2, axis=1)))
        return jnp.stack(out)

    return jax.jit(traces)


@pytest.fixture(scope="module")
def case():
    """The unbalanced Poisson program with a mean term and a regularization term (weight
    0.3 below), the balancer's arguments, and the independent measures (float64)."""
    program = program_with_points(extra=(mean_term, regularization_term))
    nets, physical, terms_of, placement, stored = setup(program)
    norms, traces = by_hand_gradient_norms(program, physical), by_hand_traces(program, physical)
    gradnorm = make_balancer("gradnorm", program, physical, terms_of, placement)
    return SimpleNamespace(program=program, nets=nets, physical=physical, terms_of=terms_of,
                           placement=placement, stored=stored, norms_at=norms,
                           gradnorm=gradnorm,
                           norms=np.asarray(norms(nets)), traces=np.asarray(traces(nets)),
                           balanced=np.asarray([True] * 6 + [False]))


def expected(weights, measures, balanced, updates=1):
    """The moving average, `updates` times at the same measures: alpha^k w + (1 - alpha^k)
    hat, hat = sum / measure over the balanced terms."""
    hat = np.sum(measures[balanced]) / measures
    keep = 0.9**updates
    return np.where(balanced, keep * weights + (1 - keep) * hat, weights)


# -- the rules against independent computations ----------------------------------------------

def test_gradnorm_weights_come_from_each_terms_gradient_norm(case):
    assert case.norms[0] > 100 * case.norms[1:5].max()       # the PDE term dominates
    weights = np.asarray([1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 0.3])
    out = case.gradnorm(case.nets, case.stored, weights)
    np.testing.assert_allclose(out, expected(weights, case.norms, case.balanced), rtol=1e-10)
    assert out[6] == 0.3                                      # regularization: kept


def test_ntk_traces_match_the_diagonal_of_the_full_jacobian(case):
    measure = BALANCERS["ntk"].measure(case.program, case.physical, case.terms_of,
                                       case.placement)
    measured = np.asarray(jax.jit(measure)(case.nets, case.stored))
    np.testing.assert_allclose(measured[:6], case.traces[:6], rtol=1e-10)
    assert measured[6] == 0 and case.traces[6] > 0            # regularization: not measured
    weights = np.asarray([1.0, 1.0, 1.0, 1.0, 3.0, 1.0, 0.3])
    balance = make_balancer("ntk", case.program, case.physical, case.terms_of, case.placement)
    np.testing.assert_allclose(balance(case.nets, case.stored, weights),
                               expected(weights, case.traces, case.balanced), rtol=1e-10)


def test_the_moving_average_converges_geometrically_to_the_ratios(case):
    weights = start = np.asarray([1.0, 4.0, 1.0, 1.0, 1.0, 1.0, 0.3])
    for _ in range(5):
        weights = case.gradnorm(case.nets, case.stored, weights)
    np.testing.assert_allclose(weights, expected(start, case.norms, case.balanced, updates=5),
                               rtol=1e-10)
    assert not np.allclose(weights, expected(start, case.norms, case.balanced, updates=4))


def test_a_term_without_gradient_gets_a_finite_weight():
    program = program_with_points(extra=(zero_term,))
    program = dataclasses.replace(program, terms=program.terms[1:])  # the conditions: cheap
    nets, physical, terms_of, placement, stored = setup(program)
    weights = np.ones(5)
    for kind in BALANCERS:
        out = make_balancer(kind, program, physical, terms_of, placement)(nets, stored,
                                                                          weights)
        assert np.all(np.isfinite(out)), kind
        if kind != "annealing":                          # floored: hat at most 1 / FLOOR
            assert 1e6 < out[4] <= 0.9 + 0.1 / FLOOR
            assert np.all(out[:4] < 1e6)
    for kind in ("gradnorm", "ntk"):                     # nothing to balance by: unchanged
        rule = BALANCERS[kind]
        np.testing.assert_array_equal(rule.update(weights, np.zeros(5), np.ones(5, bool)),
                                      weights)


# -- in the training loop ------------------------------------------------------------------

def test_training_balances_every_balance_every_steps_from_the_given_weights(case):
    nets = case.program.init(jax.random.PRNGKey(0), jnp.float32)    # train's, seed 0
    norms = np.asarray(case.norms_at(jax.tree.map(lambda a: a.astype(jnp.float64), nets)))
    options = dict(steps=40, lbfgs_steps=0, chunk=20, weights={"bc x=0": 5.0},
                   regularization=0.3, balance="gradnorm", seed=0)
    once = train(case.program, TrainOptions(**options, balance_every=40))  # at step 0 only
    w0 = np.asarray([1.0, 5.0, 1.0, 1.0, 1.0, 1.0, 0.3])
    np.testing.assert_allclose(list(once.weights.values()),
                               expected(w0, norms, case.balanced), rtol=1e-4)


@pytest.mark.slow                       # four trainings, about 30 s
def test_each_balancer_beats_none_on_the_unbalanced_problem():
    """300 Adam steps (float32, seed 0): unbalanced, the boundary terms are a millionth of
    the loss and the error stays large (about 2.6 relative); each rule recovers them."""
    program = lower_pinn(unbalanced_poisson(), PINNOptions(layers=(16, 16),
                                                           hard_constraints=False))
    grid = np.stack([g.ravel() for g in np.meshgrid(*[np.linspace(0, 1, 21)] * 2)], axis=1)
    exact = np.sin(np.pi * grid[:, 0]) * np.sin(np.pi * grid[:, 1]) / (2 * np.pi**2)
    errors = {}
    for kind in ("none", *BALANCERS):
        result = train(program, TrainOptions(steps=300, lbfgs_steps=0, points=128,
                                             boundary_points=64, chunk=50, balance=kind))
        u = np.asarray(program.evaluate(result.nets, jnp.asarray(grid, jnp.float32),
                                        result.physical)["u"])
        errors[kind] = np.linalg.norm(u - exact) / np.linalg.norm(exact)
    assert errors["none"] > 1.0
    for kind in BALANCERS:
        assert errors[kind] < errors["none"] / 5, errors


# -- the options ----------------------------------------------------------------------------

def test_the_options_refuse_what_they_cannot_do():
    with pytest.raises(OptionError, match="choose one of none, annealing, gradnorm, ntk"):
        TrainOptions(balance="gradnrom")
    with pytest.raises(OptionError, match="learning-rate annealing"):
        TrainOptions(weights="adaptive", balance="ntk")
    with pytest.raises(OptionError, match="multiple of chunk"):
        TrainOptions(balance="ntk", balance_every=300, chunk=250)
    with pytest.raises(OptionError, match="multiple of chunk"):
        TrainOptions(balance="ntk", balance_every=0)
    with pytest.raises(OptionError, match="choose one of"):
        runtime.solve(unbalanced_poisson(), "pinn", balance="ntk2", steps=1)
    assert TrainOptions(weights="adaptive").balancer == "annealing"
    assert TrainOptions(weights="adaptive", balance="annealing").balancer == "annealing"
    assert TrainOptions(weights={"pde": 2.0}, balance="ntk").balancer == "ntk"
    assert TrainOptions().balancer is None


def test_the_command_line_takes_balance(capsys):
    with pytest.raises(SystemExit):
        main(["solve", "--help"])
    assert "--balance {none,annealing,gradnorm,ntk}" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["solve", "x.pde", "--method", "pinn", "--balance", "ntk2"])
    assert "invalid choice: 'ntk2'" in capsys.readouterr().err
