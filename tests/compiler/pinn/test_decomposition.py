"""Finite-basis networks: the windows form a partition of unity equal to the formula
evaluated over every subdomain; the network is smooth across subdomain edges (its exact
derivatives agree with finite differences of itself); the batched evaluation training uses
equals the point-by-point one, derivatives included; a point's cost does not depend on
how many subdomains there are (the same 2^d candidates)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from compiler.errors import LoweringError
from compiler.pinn.derivatives import derivatives_at
from compiler.pinn.networks.decomposition import (
    BlockLayout,
    Decomposition,
    FBPINNSpec,
    subdomain_net,
)


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def every_window(decomposition: Decomposition, x: np.ndarray) -> np.ndarray:
    """(n, size): the normalised windows of all subdomains at the points, by the formula."""
    z = (x[:, None, :] - decomposition.centres()[None]) / decomposition.reach
    bump = np.where(np.abs(z) < 1, ((1 + np.cos(np.pi * z)) / 2) ** 2, 0.0).prod(axis=2)
    return bump / bump.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("counts, overlap", [((7,), 0.5), ((4, 3), 0.25), ((2, 3, 2), 1.0)])
def test_the_candidates_carry_every_nonzero_window(counts, overlap):
    d = len(counts)
    decomposition = Decomposition((-1.0,) * d, tuple(np.arange(1, d + 1, dtype=float)),
                                  counts, overlap)
    rng = np.random.default_rng(0)
    x = rng.uniform(decomposition.lower, decomposition.upper, (2000, d))
    index, window = jax.vmap(decomposition.candidates)(jnp.asarray(x))
    assert index.shape == (2000, 2 ** d)
    gathered = np.zeros((2000, decomposition.size))
    np.add.at(gathered, (np.arange(2000)[:, None], np.asarray(index)), np.asarray(window))
    np.testing.assert_allclose(gathered, every_window(decomposition, x), atol=1e-12)
    np.testing.assert_allclose(gathered.sum(axis=1), 1.0, atol=1e-12)


@pytest.mark.slow
def test_the_network_is_smooth_across_subdomain_edges():
    """First and second derivatives by nested jvp against central differences of the
    network itself, at points on and beside the subdomains' centres and edges."""
    decomposition = Decomposition((0.0,), (3.0,), (6,), 0.5)
    spec = FBPINNSpec(decomposition, subdomain_net((8, 8), 1, 1))
    params = spec.init(jax.random.PRNGKey(1), jnp.float64)
    f = jax.vmap(lambda x: spec.apply(params, jnp.atleast_1d(x))[0])
    first = jax.vmap(jax.grad(lambda x: spec.apply(params, jnp.atleast_1d(x))[0]))
    second = jax.vmap(jax.grad(jax.grad(lambda x: spec.apply(params, jnp.atleast_1d(x))[0])))
    x = jnp.asarray(np.concatenate([np.arange(7) * 0.5, np.arange(6) * 0.5 + 0.25,
                                    [0.37, 2.91]]))
    h = 1e-3          # fourth-order differences: truncation ~h^4, rounding ~1e-16/h^2
    slope = (8 * (f(x + h) - f(x - h)) - (f(x + 2 * h) - f(x - 2 * h))) / (12 * h)
    curvature = (16 * (f(x + h) + f(x - h)) - (f(x + 2 * h) + f(x - 2 * h)) - 30 * f(x)) / (
        12 * h**2)
    np.testing.assert_allclose(first(x), slope, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(second(x), curvature, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("counts, levels, hidden", [
    ((3, 2), 1, (4,)),
    pytest.param((9,), 1, (8, 8), marks=pytest.mark.slow),
    pytest.param((4, 3), 2, (8, 8), marks=pytest.mark.slow),
    pytest.param((3, 2, 2), 1, (8, 8), marks=pytest.mark.slow)])
def test_the_batched_network_equals_the_pointwise_one(counts, levels, hidden):
    """`apply_batch` (the subdomains' block products) against `apply` at each point, values
    and every first and second derivative, at random points and on subdomain edges,
    corners and the box's faces."""
    d = len(counts)
    fine = Decomposition((0.0,) * d, tuple(1.0 + np.arange(d)), counts, 0.5)
    spec = FBPINNSpec(fine, subdomain_net(hidden, 2, d), (fine.coarser(),) * (levels - 1))
    params = spec.init(jax.random.PRNGKey(4), jnp.float64)
    rng = np.random.default_rng(5)
    edges = np.stack([rng.choice(np.linspace(lo, hi, 2 * n + 1), 60)
                      for lo, hi, n in zip(fine.lower, fine.upper, counts)], axis=1)
    x = jnp.asarray(np.concatenate([rng.uniform(fine.lower, fine.upper, (300, d)), edges]))
    chains = tuple((k, k) for k in range(d)) + ((0, d - 1),)
    batched = derivatives_at(lambda z: spec.apply_batch(params, z), x, chains)
    pointwise = jax.vmap(lambda z: derivatives_at(lambda y: spec.apply(params, y), z,
                                                  chains))(x)
    assert set(batched) == set(pointwise)
    for chain, value in pointwise.items():
        np.testing.assert_allclose(batched[chain], value, rtol=1e-10, atol=1e-10,
                                   err_msg=str(chain))


def test_the_block_layout_places_every_pair_once_in_its_subdomains_block():
    rng = np.random.default_rng(6)
    groups = rng.integers(0, 13, 1000)
    groups[:200] = 4                                     # one crowded subdomain
    layout = BlockLayout.of(jnp.asarray(groups), 13, 16)
    row_pair, pair_row = np.asarray(layout.row_pair), np.asarray(layout.pair_row)
    owner = np.repeat(np.asarray(layout.owner), 16)
    assert len(np.unique(pair_row)) == 1000              # a row for every pair, none shared
    np.testing.assert_array_equal(row_pair[pair_row], np.arange(1000))
    np.testing.assert_array_equal(owner[pair_row], groups)
    assert len(row_pair) <= 1000 + 13 * 15 + 15


def test_a_points_cost_does_not_grow_with_the_subdomain_count():
    """The compiled batched evaluation of 4096 points: its operation count for 64
    subdomains is that for 4 within the blocks' padding (a row less than a block per
    subdomain), 2^d = 4 small networks per point either way."""
    costs = []
    for n in (2, 8):
        spec = FBPINNSpec(Decomposition((0.0, 0.0), (1.0, 1.0), (n, n), 0.5),
                          subdomain_net((16, 16), 1, 2))
        params = spec.init(jax.random.PRNGKey(0), jnp.float64)
        points = jnp.asarray(np.random.default_rng(0).random((4096, 2)))
        compiled = jax.jit(spec.apply_batch).lower(params, points).compile()
        analysis = compiled.cost_analysis()
        if isinstance(analysis, (list, tuple)):       # one entry per program in older jax
            analysis = analysis[0]
        costs.append(analysis["flops"])
    assert costs[1] <= 1.15 * costs[0], costs


def test_overlap_outside_its_range_is_refused():
    with pytest.raises(LoweringError, match=r"overlap .* in \(0, 1\]"):
        Decomposition((0.0,), (1.0,), (4,), 1.5)
    with pytest.raises(LoweringError, match="overlap"):
        Decomposition((0.0,), (1.0,), (4,), 0.0)


def test_levels_add_coarser_partitions_of_unity():
    """A two-level network is the sum of its levels, each evaluated as a one-level network
    with that level's parameters; the coarser level halves the counts (rounding up)."""
    fine = Decomposition((0.0, 0.0), (1.0, 2.0), (5, 2), 0.5)
    coarse = fine.coarser()
    assert coarse.counts == (3, 1)
    net = subdomain_net((8,), 1, 2)
    spec = FBPINNSpec(fine, net, (coarse,))
    params = spec.init(jax.random.PRNGKey(2), jnp.float64)
    params["coarse"][0]["scale"] = params["coarse"][0]["scale"] * 0.7
    x = jnp.asarray(np.random.default_rng(3).uniform((0, 0), (1, 2), (50, 2)))
    both = jax.vmap(lambda p: spec.apply(params, p))(x)
    alone = [jax.vmap(lambda p, s=s, q=q: s.apply(q, p))(x) for s, q in
             ((FBPINNSpec(fine, net), params),
              (FBPINNSpec(coarse, net), params["coarse"][0]))]
    np.testing.assert_allclose(both, alone[0] + alone[1], rtol=1e-12)


@pytest.mark.slow
def test_a_stage_trains_only_its_slabs_and_only_live_windows_count():
    """`staged`: the gradient reaches the trained subdomains' parameters only; the live
    subdomains' windows sum to one where they reach, and the network there is the live
    subdomains' windowed sum alone (the later ones add nothing)."""
    decomposition = Decomposition((0.0, 0.0), (1.0, 2.0), (2, 5), 0.5)    # (x, t)
    spec = FBPINNSpec(decomposition, subdomain_net((8,), 1, 2))
    params = spec.init(jax.random.PRNGKey(7), jnp.float64)
    slab = spec.slabs(1)
    np.testing.assert_array_equal(slab, np.tile(np.arange(5), 2))
    trained, live = (slab == 1).astype(float), (slab <= 2).astype(float)
    x = jnp.asarray(np.random.default_rng(8).uniform((0, 0), (1, 0.9), (200, 2)))

    def total(p):
        return jnp.sum(spec.apply_batch(spec.staged(p, (trained, live)), x) ** 2)

    grads = jax.grad(total)(params)
    moved = np.asarray(jnp.abs(grads["subdomains"]["layers"][0][0]).sum(axis=(1, 2)) > 0)
    np.testing.assert_array_equal(moved, trained > 0)
    np.testing.assert_array_equal(np.asarray(grads["scale"]) != 0, trained > 0)
    _, window = jax.vmap(lambda p: decomposition.candidates(p, jnp.asarray(live)))(x)
    np.testing.assert_allclose(window.sum(axis=1), 1.0, atol=1e-12)
    dead = {**params, "scale": params["scale"] * jnp.asarray(live)}
    pruned = FBPINNSpec(decomposition, spec.net).staged(dead, (trained, live))
    np.testing.assert_allclose(spec.apply_batch(spec.staged(params, (trained, live)), x),
                               spec.apply_batch(pruned, x), rtol=1e-12)
