"""Bounds on unknown constants (`param D ~ 0.3 in [0, 10]`) as a smooth change of variables.

Every method fits an unbounded variable phi and uses theta = lo + (hi - lo) * sigmoid(phi)
in the equations, so no step of any optimiser (Levenberg-Marquardt, L-BFGS, Adam) can
leave the interval, and the loss stays smooth. A projection of the steps would do the same
for LM, but not for the optimisers that keep curvature or moment histories (L-BFGS, Adam),
which a clipped step corrupts; one transform serves all three methods alike. The price is
a flat loss near a bound (sigmoid' -> 0), which only matters when the truth lies at a bound.
"""

from __future__ import annotations

from collections.abc import Mapping

import jax.numpy as jnp
import numpy as np

from pdelang import System

Bounds = Mapping[str, tuple[float, float]]


def param_bounds(system: System) -> dict[str, tuple[float, float]]:
    """The bounds of each bounded unknown constant, by name."""
    return {p.name: p.interval for p in system.unknown_params if p.interval is not None}


def to_bounded(phi, lower: float, upper: float):
    """theta in (lower, upper) from the free variable phi (NumPy or JAX arrays)."""
    xp = jnp if not isinstance(phi, (float, np.ndarray, np.floating)) else np
    return lower + (upper - lower) / (1 + xp.exp(-phi))


def to_free(theta, lower: float, upper: float):
    """phi with to_bounded(phi) == theta (theta strictly inside the bounds)."""
    s = (np.asarray(theta, float) - lower) / (upper - lower)
    s = np.clip(s, 1e-12, 1 - 1e-12)
    return np.log(s) - np.log1p(-s)


def slope(phi, lower: float, upper: float):
    """d theta / d phi at phi."""
    s = 1 / (1 + np.exp(-np.asarray(phi, float)))
    return (upper - lower) * s * (1 - s)
