"""Values between frames: the quintic Hermite polynomial through a field's value, first and
second time derivative at the two frames around a time.

Its error is H^6 |u^(6)| / 46080 for frames H apart (on the heat equation's slowest mode,
exp(-pi^2 t), with the default 21 frames over t in [0, 1]: 3e-7 of its first value), so a time
between frames is as accurate as a frame: the integrator's own error, not the frames',
decides. The rates come from the semi-discrete right-hand side at the frames (no extra
integration), which every integrator shares.
"""

from __future__ import annotations

from functools import cache

import numpy as np


@cache
def _coefficients(derivatives: int) -> np.ndarray:
    """Monomial coefficients (rows: powers of s) of the Hermite basis on s in [0, 1] that
    matches `derivatives` derivatives (0 .. derivatives - 1) at each end; columns: the
    value, first, ... at s = 0, then the same at s = 1."""
    size = 2 * derivatives
    conditions = np.zeros((size, size))
    for end, s in enumerate((0.0, 1.0)):
        for k in range(derivatives):
            for power in range(k, size):
                factor = np.prod(np.arange(power - k + 1, power + 1))   # power!/(power-k)!
                conditions[end * derivatives + k, power] = factor * s ** (power - k)
    return np.linalg.inv(conditions)


def hermite_weights(s: np.ndarray, span: np.ndarray, derivatives: int = 3,
                    order: int = 0) -> np.ndarray:
    """Weights (2 * derivatives, N) of [u, u', u'', ...] at the frame before, then the frame
    after, for the `order`-th time derivative of the interpolant at s = (t - t_k) / span in
    [0, 1] (`span` = t_{k+1} - t_k, per point)."""
    coefficients = _coefficients(derivatives)             # (powers, basis)
    size = coefficients.shape[0]
    powers = np.arange(size)
    falling = np.array([np.prod(np.arange(p - order + 1, p + 1)) if p >= order else 0.0
                        for p in powers])
    monomials = falling[:, None] * s[None, :] ** np.maximum(powers - order, 0)[:, None]
    basis = coefficients.T @ monomials                     # (basis, N) in s
    scale = np.array([float(k) for _ in range(2) for k in range(derivatives)])
    return basis * span[None, :] ** (scale[:, None] - order)


def frame_of(frames: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each time: the index k of the frame at or before it (so that t lies in
    [t_k, t_{k+1}]), s = (t - t_k) / (t_{k+1} - t_k) and that span."""
    frames = np.asarray(frames, float)
    k = np.clip(np.searchsorted(frames, t, side="right") - 1, 0, len(frames) - 2)
    span = frames[k + 1] - frames[k]
    return k, (t - frames[k]) / span, span
