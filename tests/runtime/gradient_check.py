"""A gradient against central differences, the check the tests of learned functions share."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np


def assert_gradient_matches_differences(loss: Callable[[jax.Array], jax.Array],
                                        theta: jax.Array, rng: np.random.Generator,
                                        directions: int = 3, h: float = 1e-5,
                                        rtol: float = 1e-6) -> jax.Array:
    """The reverse-mode gradient of `loss` at `theta` along `directions` random directions
    agrees with central differences of step `h` to `rtol` (float64); returns it."""
    gradient = jax.jit(jax.grad(loss))(theta)
    for _ in range(directions):
        direction = jnp.asarray(rng.standard_normal(theta.shape))
        numeric = (loss(theta + h * direction) - loss(theta - h * direction)) / (2 * h)
        exact = gradient @ direction
        assert abs(numeric - exact) <= rtol * abs(exact), (numeric, exact)
    return gradient
