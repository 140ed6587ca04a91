"""WENO5 (Jiang and Shu, J. Comput. Phys. 126, 1996): the face value as a convex combination
of the three third-order reconstructions on sub-stencils of five points, weighted by their
smoothness, so that a smooth field gets the fifth-order combination and a jump gets the
sub-stencil that does not cross it. Nonlinear in the field; no new extrema to O(eps)."""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp

from .base import ReconstructionScheme

EPSILON = 1e-6                     # Jiang and Shu's, keeps the weights finite on flat data
LINEAR_WEIGHTS = (0.1, 0.6, 0.3)   # the fifth-order combination of the sub-stencils


def weno5_face(v: Sequence[jnp.ndarray]) -> jnp.ndarray:
    """The value at face i+1/2 from v = u[i-2], u[i-1], u[i], u[i+1], u[i+2] (upstream first)."""
    v0, v1, v2, v3, v4 = v
    candidates = ((2 * v0 - 7 * v1 + 11 * v2) / 6,
                  (-v1 + 5 * v2 + 2 * v3) / 6,
                  (2 * v2 + 5 * v3 - v4) / 6)
    smoothness = (13 / 12 * (v0 - 2 * v1 + v2) ** 2 + 1 / 4 * (v0 - 4 * v1 + 3 * v2) ** 2,
                  13 / 12 * (v1 - 2 * v2 + v3) ** 2 + 1 / 4 * (v1 - v3) ** 2,
                  13 / 12 * (v2 - 2 * v3 + v4) ** 2 + 1 / 4 * (3 * v2 - 4 * v3 + v4) ** 2)
    alphas = [d / (EPSILON + b) ** 2 for d, b in zip(LINEAR_WEIGHTS, smoothness)]
    total = alphas[0] + alphas[1] + alphas[2]
    return sum(a * q for a, q in zip(alphas, candidates)) / total


WENO5 = ReconstructionScheme(
    "weno5", "fifth-order WENO (Jiang-Shu) reconstruction at faces, for sharp fronts", 5, 3,
    weno5_face, "WENO5-JS from 5 upstream-biased points")
