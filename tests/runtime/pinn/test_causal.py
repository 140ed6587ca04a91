"""Causal weights against a direct loop over the slabs (Wang, Sankaran and Perdikaris'
formula written out), and the schedule of the causality parameter."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from runtime.pinn import causal


def _by_loop(squares, times, eps, slabs, start=0.0, end=1.0):
    """w_i = exp(-eps sum_{k<i} L_k), L_k the mean square over slab k's points."""
    index = np.minimum(((times - start) / (end - start) * slabs).astype(int), slabs - 1)
    means = np.array([squares[index == i].mean() if np.any(index == i) else 0.0
                      for i in range(slabs)])
    weights = np.array([np.exp(-eps * means[:i].sum()) for i in range(slabs)])
    loss = np.mean(weights * means)
    return weights, loss


@pytest.mark.parametrize("eps", [0.01, 1.0, 100.0])
def test_slab_weights_and_loss_match_the_formula(eps):
    rng = np.random.default_rng(0)
    times = rng.uniform(0.0, 2.0, 500)
    squares = rng.uniform(0.0, 0.05, 500) * (1 + times)
    slab = causal.slab_of(jnp.asarray(times), 0.0, 2.0, 8)
    scales, weights = causal.point_scales(jnp.asarray(squares), slab, eps, 8)
    expected_weights, expected_loss = _by_loop(squares, times, eps, 8, 0.0, 2.0)
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-6)
    np.testing.assert_allclose(np.sum(np.square(scales) * squares), expected_loss, rtol=1e-6)


def test_the_last_time_falls_in_the_last_slab():
    slab = causal.slab_of(jnp.asarray([0.0, 0.4999, 0.5, 1.0]), 0.0, 1.0, 2)
    assert slab.tolist() == [0, 0, 1, 1]


def test_no_gradient_flows_through_the_weights():
    times = jnp.linspace(0.0, 1.0, 40)
    r = jnp.linspace(0.1, 1.0, 40)

    def loss(r):
        scales, _ = causal.point_scales(r**2, causal.slab_of(times, 0.0, 1.0, 4), 10.0, 4)
        return jnp.sum(scales**2 * r**2)

    scales, _ = causal.point_scales(r**2, causal.slab_of(times, 0.0, 1.0, 4), 10.0, 4)
    np.testing.assert_allclose(jax.grad(loss)(r), 2 * scales**2 * r, rtol=1e-6)


def test_eps_grows_once_every_slab_is_open():
    assert causal.next_eps(0.01, np.array([1.0, 0.995, 0.991])) == 0.1
    assert causal.next_eps(0.01, np.array([1.0, 0.5])) == 0.01
    assert causal.next_eps(100.0, np.ones(3)) == 100.0
