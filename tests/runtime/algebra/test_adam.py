"""The Adam warm start of fits of learned functions (runtime/algebra/adam.py)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from runtime.algebra.adam import adam


def test_adam_walks_a_least_squares_problem_to_its_minimum():
    """r(theta) = A theta - b with a known minimiser: 3000 steps at 1e-2 reach it to 1e-4."""
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        A = jnp.asarray(rng.standard_normal((20, 4)))
        truth = np.array([0.5, -1.0, 2.0, 0.25])
        b = A @ truth
        found = adam(lambda th: A @ th - b, np.zeros(4), 3000, 1e-2)
        np.testing.assert_allclose(found, truth, atol=1e-4)


def test_a_step_to_a_non_finite_loss_is_undone_and_the_rate_halved():
    """Beyond theta = 0.3 the 'simulation' is NaN; the minimum at 1 lies past it. Adam
    must not return a NaN iterate: it returns the best finite one, at the edge."""
    with jax.enable_x64(True):
        def residuals(th):
            return jnp.where(th[0] > 0.3, jnp.nan, th - 1.0)

        seen = []
        found = adam(residuals, np.zeros(1), 200, 0.1, observers=[seen.append])
        assert np.all(np.isfinite(found)) and 0.2 < found[0] <= 0.3
        assert seen and all(np.isfinite(s["loss"]) for s in seen)
        assert seen[0]["stage"] == "adam"


def test_lbfgs_with_a_held_out_monitor_returns_its_best_iterate():
    """Training on a + noise pulls theta away from the truth the held-out rows measure:
    L-BFGS stops `patience` iterations after the held-out loss was least and returns
    that iterate, saying so; without the monitor it runs on to the training optimum."""
    from runtime.algebra.lbfgs import lbfgs

    with jax.enable_x64(True):
        rng = np.random.default_rng(3)
        A = jnp.asarray(rng.standard_normal((30, 12)))
        truth = jnp.asarray(rng.standard_normal(12))
        noisy = A @ truth + 0.5 * jnp.asarray(rng.standard_normal(30))
        B = jnp.asarray(rng.standard_normal((30, 12)))

        def held(th):
            return jnp.sum((B @ th - B @ truth) ** 2)

        seen = []
        plain = lbfgs(lambda th: A @ th - noisy, np.zeros(12), 200)
        watched = lbfgs(lambda th: A @ th - noisy, np.zeros(12), 200,
                        monitor=lambda th: seen.append(float(held(th))) or seen[-1],
                        patience=5)
        assert float(held(jnp.asarray(watched.z))) == min(seen)
        assert float(held(jnp.asarray(watched.z))) <= float(held(jnp.asarray(plain.z)))
        assert "held-out misfit stopped improving" in watched.reason and watched.converged
        assert watched.iterations < plain.iterations
