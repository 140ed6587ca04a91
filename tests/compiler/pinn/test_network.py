"""PINN network architectures (mlp, modified MLP, PirateNet), random weight factorisation
and the least-squares output layer, each against an independent NumPy computation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdelang as pl
from compiler.common.stencils import central
from compiler.errors import LoweringError
from compiler.pinn import PINNOptions, lower_pinn
from compiler.pinn.derivatives import derivatives_at
from compiler.pinn.networks.mlp import (
    InputMap,
    MLPSpec,
    apply_mlp,
    fit_output_layer,
    hidden_features,
    init_mlp,
)

ARCHITECTURES = ("mlp", "modified", "pirate")
INPUTS = InputMap((0.0, -1.0), (1.0, 2.0), (False, True))     # x in [0, 1], y periodic


def make_spec(architecture, rwf=False, fourier=0, hidden=(6, 6, 6), outputs=2,
              activation="tanh"):
    return MLPSpec(INPUTS, hidden, outputs, activation, fourier_features=fourier,
                   fourier_scale=0.7, architecture=architecture, weight_factorisation=rwf)


def randomised(params, seed, scale=0.6):
    """Every leaf redrawn (biases and alphas too, which start at zero); alphas in (0, 1)."""
    leaves, tree = jax.tree.flatten(params)
    rng = np.random.default_rng(seed)
    return jax.tree.unflatten(tree, [jnp.asarray(rng.uniform(0.1, 0.9, np.shape(a)) if
                                                 np.ndim(a) == 0 else
                                                 rng.normal(0, scale, np.shape(a)))
                                     for a in leaves])


def points(n, seed=1):
    rng = np.random.default_rng(seed)
    return np.stack([rng.uniform(0, 1, n), rng.uniform(-1, 2, n)], axis=1)


def on_points(spec, params, x):
    """The network at every row of `x`, as NumPy."""
    return np.asarray(jax.vmap(lambda z: apply_mlp(spec, params, z))(jnp.asarray(x)))


# -- an independent NumPy evaluation of the formulas ----------------------------------------


def np_embed(spec, params, x):
    x0 = 2 * (x[0] - 0.0) / 1.0 - 1
    phase = 2 * np.pi * (x[1] + 1.0) / 3.0
    h = np.array([x0, np.sin(phase), np.cos(phase)])
    if spec.fourier_features:
        z = h @ np.asarray(params["fourier"])
        h = np.concatenate([np.sin(z), np.cos(z)])
    return h


def np_dense(layer, h):
    layer = [np.asarray(a) for a in layer]
    w = layer[0] if len(layer) == 2 else np.exp(layer[0])[None, :] * layer[1]
    return h @ w + layer[-1]


def np_features(spec, params, x):
    X = np_embed(spec, params, x)
    if spec.architecture == "mlp":
        h = X
        for layer in params["layers"][:-1]:
            h = np.tanh(np_dense(layer, h))
        return h
    if spec.architecture == "modified":
        U = np.tanh(np_dense(params["encoders"][0], X))
        V = np.tanh(np_dense(params["encoders"][1], X))
        H = np.tanh(np_dense(params["layers"][0], X))
        for layer in params["layers"][1:-1]:
            Z = np.tanh(np_dense(layer, H))
            H = (1 - Z) * U + Z * V
        return H
    U = np.tanh(np_dense(params["gates"][0], X))
    V = np.tanh(np_dense(params["gates"][1], X))
    h = X
    for block in params["blocks"]:
        w1, w2, w3 = block["dense"]
        a = float(block["alpha"])
        f = np.tanh(np_dense(w1, h))
        g = np.tanh(np_dense(w2, f * U + (1 - f) * V))
        out = np.tanh(np_dense(w3, g * U + (1 - g) * V))
        h = a * out + (1 - a) * h
    return h


def np_apply(spec, params, x):
    return np_dense(params["layers"][-1], np_features(spec, params, x))


# -- the formulas ---------------------------------------------------------------------------


@pytest.mark.parametrize("fourier", [0, 4])
@pytest.mark.parametrize("rwf", [False, True])
@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_each_architecture_computes_its_formula(architecture, rwf, fourier):
    spec = make_spec(architecture, rwf, fourier)
    params = randomised(init_mlp(spec, jax.random.PRNGKey(2), jnp.float64), seed=5)
    x = points(7)
    np.testing.assert_allclose(on_points(spec, params, x),
                               [np_apply(spec, params, p) for p in x], rtol=1e-12, atol=1e-12)


def test_the_parameter_shapes_follow_the_documented_mapping_of_layers():
    spec = make_spec("pirate", fourier=5, hidden=(8, 8, 8))
    params = init_mlp(spec, jax.random.PRNGKey(0), jnp.float64)
    assert len(params["blocks"]) == 2                     # one block per entry beyond the first
    assert [w.shape for w, _ in params["blocks"][0]["dense"]] == [(10, 8), (8, 8), (8, 10)]
    assert [w.shape for w, _ in params["gates"]] == [(10, 8), (10, 8)]
    assert params["layers"][-1][0].shape == (10, 2)       # from the embedding's width
    modified = init_mlp(make_spec("modified", hidden=(8, 8, 8)), jax.random.PRNGKey(0))
    assert [w.shape for w, _ in modified["layers"]] == [(3, 8), (8, 8), (8, 8), (8, 2)]


@pytest.mark.parametrize("architecture, hidden, message", [
    ("modified", (8, 6), "needs all hidden widths equal, not \\(8, 6\\); give e.g. "
                         "layers=\\(8, 8\\)"),
    ("pirate", (8, 8, 4), "needs all hidden widths equal"),
    ("pirate", (8,), "pirate architecture needs at least 2 hidden layers"),
    ("resnet", (8,), "architecture 'resnet' is not available; choose one of mlp, modified, "
                     "pirate"),
])
def test_a_spec_the_architecture_cannot_build_is_refused(architecture, hidden, message):
    with pytest.raises(LoweringError, match=message):
        make_spec(architecture, hidden=hidden)


# -- random weight factorisation ------------------------------------------------------------


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_factorised_network_starts_as_the_unfactorised_one(architecture):
    plain, factorised = (make_spec(architecture, rwf, fourier=3) for rwf in (False, True))
    p = init_mlp(plain, jax.random.PRNGKey(4), jnp.float64)
    q = init_mlp(factorised, jax.random.PRNGKey(4), jnp.float64)
    np.testing.assert_allclose(on_points(factorised, q, points(5)),
                               on_points(plain, p, points(5)), rtol=1e-13, atol=1e-14)
    s = np.concatenate([np.asarray(leaf[0]) for leaf in _dense_layers(q)])
    assert all(len(layer) == 3 for layer in _dense_layers(q))
    assert abs(s.mean() - 1.0) < 0.03 and 0.07 < s.std() < 0.13      # s ~ N(1, 0.1)


def _dense_layers(params):
    """Every dense layer (a tuple), in the pytree's order; the Fourier matrix and alphas not."""
    leaves = jax.tree.leaves(params, is_leaf=lambda t: isinstance(t, tuple))
    return [t for t in leaves if isinstance(t, tuple)]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_gradients_reach_s_and_v_by_the_chain_rule(architecture):
    """W = V exp(s): dL/dV = dL/dW exp(s), dL/ds_j = sum_i dL/dW_ij W_ij, with dL/dW from
    the unfactorised network with the same W."""
    factorised, plain = make_spec(architecture, True, 2), make_spec(architecture, False, 2)
    q = randomised(init_mlp(factorised, jax.random.PRNGKey(1), jnp.float64), seed=3)
    p = jax.tree.map(lambda t: (t[1] * jnp.exp(t[0]), t[2]) if isinstance(t, tuple) else t,
                     q, is_leaf=lambda t: isinstance(t, tuple))
    x = jnp.asarray(points(1)[0])

    def loss(spec):
        return lambda params: jnp.sum(apply_mlp(spec, params, x) ** 2)

    gq, gp = jax.grad(loss(factorised))(q), jax.grad(loss(plain))(p)
    for (gs, gv, gb), (gw, gb2), (s, v, _) in zip(_dense_layers(gq), _dense_layers(gp),
                                                  _dense_layers(q)):
        w = np.asarray(v) * np.exp(np.asarray(s))
        np.testing.assert_allclose(gv, np.asarray(gw) * np.exp(np.asarray(s)), rtol=1e-10,
                                   atol=1e-13)
        np.testing.assert_allclose(gs, np.sum(np.asarray(gw) * w, axis=0), rtol=1e-10,
                                   atol=1e-13)
        np.testing.assert_allclose(gb, gb2, rtol=1e-12, atol=1e-14)
        assert np.any(np.asarray(gs) != 0) and np.any(np.asarray(gv) != 0)


# -- PirateNet at initialisation, and the least-squares output layer ------------------------


@pytest.mark.parametrize("fourier", [0, 6])
def test_pirate_starts_affine_in_its_embedding(fourier):
    spec = make_spec("pirate", fourier=fourier, hidden=(8, 8, 8))
    params = init_mlp(spec, jax.random.PRNGKey(7), jnp.float64)
    params = {**params, "layers": [(params["layers"][-1][0], jnp.asarray([0.3, -0.2]))]}
    w, b = (np.asarray(a) for a in params["layers"][-1])
    x = points(6)
    np.testing.assert_allclose(on_points(spec, params, x),
                               [np_embed(spec, params, p) @ w + b for p in x], rtol=1e-13,
                               atol=1e-14)


@pytest.mark.parametrize("rwf", [False, True])
@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_a_target_in_the_span_is_fitted_exactly(architecture, rwf):
    spec = make_spec(architecture, rwf, fourier=2)
    params = randomised(init_mlp(spec, jax.random.PRNGKey(0), jnp.float64), seed=8)
    other = randomised(params, seed=9)                   # the target: another output layer
    target_params = {**params, "layers": [*params["layers"][:-1], other["layers"][-1]]}
    x = points(40, seed=2)
    targets = np.stack([np_apply(spec, target_params, p) for p in x])
    fitted = fit_output_layer(spec, params, jnp.asarray(x), jnp.asarray(targets))
    np.testing.assert_allclose(on_points(spec, fitted, x), targets, rtol=1e-9, atol=1e-10)
    hidden = jax.tree.leaves({k: v for k, v in fitted.items() if k != "layers"})
    assert all(np.array_equal(a, b) for a, b in zip(
        hidden, jax.tree.leaves({k: v for k, v in params.items() if k != "layers"})))
    if rwf:
        np.testing.assert_array_equal(fitted["layers"][-1][0], params["layers"][-1][0])


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_otherwise_the_fit_is_numpys_least_squares(architecture):
    spec = make_spec(architecture, fourier=2, outputs=1)
    params = randomised(init_mlp(spec, jax.random.PRNGKey(0), jnp.float64), seed=4)
    x = points(60, seed=3)
    targets = np.random.default_rng(0).normal(size=60)
    fitted = fit_output_layer(spec, params, jnp.asarray(x), jnp.asarray(targets))
    design = np.stack([np.append(np_features(spec, params, p), 1.0) for p in x])
    coefficients, residual, *_ = np.linalg.lstsq(design, targets, rcond=None)
    got = on_points(spec, fitted, x)[:, 0]
    np.testing.assert_allclose(np.sum((got - targets) ** 2), residual[0], rtol=1e-8)
    np.testing.assert_allclose(fitted["layers"][-1][0][:, 0], coefficients[:-1], rtol=1e-6,
                               atol=1e-8)
    assert residual[0] > 1.0                                    # not in the span


def test_fit_output_layer_says_what_shape_it_wants():
    spec = make_spec("mlp")
    params = init_mlp(spec, jax.random.PRNGKey(0), jnp.float64)
    with pytest.raises(LoweringError, match=r"targets of shape \(5, 1\) for 2 outputs at 5 "
                                            r"points; give \(5, 2\)"):
        fit_output_layer(spec, params, jnp.zeros((5, 2)), jnp.zeros(5))


# -- derivatives through every architecture -------------------------------------------------


def fd_derivative(f, x, axes, h=1e-2, accuracy=8):
    """Nested high-order central differences of the scalar function `f` along `axes`."""
    if not axes:
        return f(x)
    stencil = central(1, accuracy)
    return sum(w * fd_derivative(f, x.at[axes[0]].add(o * h), axes[1:], h, accuracy)
               for o, w in zip(stencil.offsets, stencil.weights)) / h


@pytest.mark.parametrize("rwf", [False, pytest.param(True, marks=pytest.mark.slow)])
@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_second_derivatives_by_jvp_match_finite_differences(architecture, rwf):
    spec = make_spec(architecture, rwf, fourier=3, activation="sin")
    params = randomised(init_mlp(spec, jax.random.PRNGKey(6), jnp.float64), seed=2, scale=0.3)
    x = jnp.asarray([0.37, 0.81])
    for chain in ((0, 0), (0, 1), (1, 1)):
        got = derivatives_at(lambda z: apply_mlp(spec, params, z), x, (chain,))[chain]
        for k in range(spec.outputs):
            f = jax.jit(lambda z, k=k: apply_mlp(spec, params, z)[k])
            reference = fd_derivative(f, x, chain)
            np.testing.assert_allclose(got[k], reference, rtol=1e-7, atol=1e-10)


def test_hidden_features_are_what_the_output_layer_sees():
    spec = make_spec("modified", True, 2)
    params = randomised(init_mlp(spec, jax.random.PRNGKey(0), jnp.float64), seed=1)
    x = points(1)[0]
    np.testing.assert_allclose(hidden_features(spec, params, jnp.asarray(x)),
                               np_features(spec, params, x), rtol=1e-12)


# -- through the compiler -------------------------------------------------------------------


def test_the_networks_stage_names_the_architecture(examples_dir):
    system = pl.load(f"{examples_dir}/poisson2d.pde")
    lines = {a: lower_pinn(system, PINNOptions(layers=(8, 8, 8), architecture=a,
                                               weight_factorisation=a == "pirate"))
             .stage("networks").lines() for a in ARCHITECTURES}
    assert lines["mlp"][0].startswith("u(x, y): MLP 2-8-8-8-1, tanh")
    assert "modified MLP 2-8-8-8-1 (encoders U, V gate every layer after the first)" in \
        lines["modified"][0]
    assert "PirateNet 2-8-8-8-1 (gates U, V; 2 residual blocks, alpha = 0 at init), random " \
        "weight factorisation, tanh" in lines["pirate"][0]
    program = lower_pinn(system, PINNOptions(layers=(8, 8), architecture="pirate"))
    nets = program.init(jax.random.PRNGKey(0), jnp.float64)
    assert set(nets["u"]) == {"gates", "blocks", "layers"}
    assert program.groups[0].spec.architecture == "pirate"
