"""Stencils applied to whole arrays: shifted slices, summed, fused by XLA.

`apply_axis` evaluates one derivative along one axis for a range of grid indices, with the
regular stencil where it fits and one-sided windows near the ends (or wrap-around on a
periodic axis). No Python loop runs over grid points: the regular part is one weighted
sum of slices, and only the few indices near an end get a window of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
from jax import lax

from .stencils import Stencil, window


@dataclass(frozen=True)
class AxisInfo:
    """What an operator needs to know about one array axis (all static)."""

    size: int          # grid nodes stored along the axis
    h: float           # spacing
    periodic: bool


def apply_axis(a: jnp.ndarray, axis: int, stencil: Stencil, info: AxisInfo, lo: int, hi: int,
               accuracy: int) -> jnp.ndarray:
    """The derivative `stencil` of `a` along `axis` at indices lo..hi-1 (others untouched)."""
    scale = 1.0 / info.h**stencil.order
    if info.periodic:
        return _periodic(a, axis, stencil, info, lo, hi) * scale
    first = next((i for i in range(lo, hi) if window(stencil, i, info.size, accuracy) is stencil),
                 hi)
    last = next((i for i in range(hi - 1, first - 1, -1)
                 if window(stencil, i, info.size, accuracy) is stencil), first - 1) + 1
    pieces = [_at_index(a, axis, window(stencil, i, info.size, accuracy), i)
              for i in range(lo, first)]
    if last > first:
        pieces.append(_shifted_sum(a, axis, stencil, first, last))
    pieces += [_at_index(a, axis, window(stencil, i, info.size, accuracy), i)
               for i in range(last, hi)]
    return _join(pieces, axis) * scale


def _join(pieces: list[jnp.ndarray], axis: int) -> jnp.ndarray:
    """The pieces laid end to end along `axis`, as a sum of zero-padded copies rather than
    a concatenation: where the axis is split over devices, XLA's partitioner gathers the
    whole array to concatenate, but splits pads and sums like element-wise work (jvps of
    ODIL's heat residual on 257^2 over 4 CPU devices: 0.058 s to 0.029 s; one device: the
    same time either way)."""
    if len(pieces) == 1:
        return pieces[0]
    total = sum(piece.shape[axis] for piece in pieces)
    out, start = None, 0
    for piece in pieces:
        widths = [(0, 0)] * piece.ndim
        widths[axis] = (start, total - start - piece.shape[axis])
        start += piece.shape[axis]
        padded = jnp.pad(piece, widths)
        out = padded if out is None else out + padded
    return out


def _shifted_sum(a: jnp.ndarray, axis: int, stencil: Stencil, lo: int, hi: int) -> jnp.ndarray:
    total = None
    for offset, weight in zip(stencil.offsets, stencil.weights):
        if weight == 0.0:
            continue
        term = lax.slice_in_dim(a, lo + offset, hi + offset, axis=axis)
        term = term if weight == 1.0 else weight * term
        total = term if total is None else total + term
    return total


def _at_index(a: jnp.ndarray, axis: int, stencil: Stencil, index: int) -> jnp.ndarray:
    return _shifted_sum(a, axis, stencil, index, index + 1)


def _periodic(a: jnp.ndarray, axis: int, stencil: Stencil, info: AxisInfo, lo: int,
              hi: int) -> jnp.ndarray:
    left = max(-min(stencil.offsets), 0)
    right = max(max(stencil.offsets), 0)
    n = info.size
    if left > n or right > n:
        raise ValueError(f"a periodic axis of {n} points is too short for the stencil")
    parts = []
    if left:
        parts.append(lax.slice_in_dim(a, n - left, n, axis=axis))
    parts.append(a)
    if right:
        parts.append(lax.slice_in_dim(a, 0, right, axis=axis))
    padded = jnp.concatenate(parts, axis=axis) if len(parts) > 1 else a
    return _shifted_sum(padded, axis, stencil, lo + left, hi + left)


def restrict(a: jnp.ndarray, ranges: tuple[tuple[int, int] | None, ...]) -> jnp.ndarray:
    """Slice `a` to `ranges` per axis (None keeps an axis whole)."""
    for axis, span in enumerate(ranges):
        if span is not None and (span[0] != 0 or span[1] != a.shape[axis]):
            a = lax.slice_in_dim(a, span[0], span[1], axis=axis)
    return a
