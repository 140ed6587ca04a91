"""MUSCL (van Leer, 1979): the face value is the upstream cell's value plus half a limited
slope, u[i] + phi/2 (u[i+1] - u[i]), second order where the field is smooth and monotone,
first order at extrema and jumps, so no new extrema appear (TVD). Two limiters: minmod
(the most diffusive) and van Leer's (smoother)."""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp

from .base import ReconstructionScheme


def minmod(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    """The smaller of the two slopes where they agree in sign, else 0."""
    return 0.5 * (jnp.sign(a) + jnp.sign(b)) * jnp.minimum(jnp.abs(a), jnp.abs(b))


def van_leer(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    """The harmonic mean of the two slopes where they agree in sign, else 0."""
    product = a * b
    safe = jnp.where(product > 0, a + b, 1.0)
    return jnp.where(product > 0, 2 * product / safe, 0.0)


def _face(limiter):
    def face(v: Sequence[jnp.ndarray]) -> jnp.ndarray:
        """The value at face i+1/2 from v = u[i-1], u[i], u[i+1] (upstream first)."""
        upstream, centre, downstream = v
        return centre + 0.5 * limiter(centre - upstream, downstream - centre)

    return face


muscl_minmod_face = _face(minmod)
muscl_van_leer_face = _face(van_leer)

MUSCL = ReconstructionScheme(
    "muscl", "MUSCL reconstruction at faces with the minmod limiter (TVD)", 2, 2,
    muscl_minmod_face, "MUSCL with the minmod limiter")
MUSCL_VAN_LEER = ReconstructionScheme(
    "muscl-vanleer", "MUSCL reconstruction at faces with van Leer's limiter (TVD)", 2, 2,
    muscl_van_leer_face, "MUSCL with van Leer's limiter")
