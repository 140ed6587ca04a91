"""Derivatives of a result's field on its own grid, by the compiler's stencils at the
solve's accuracy: central inside, one-sided windows of the same accuracy where the central
stencil would leave the grid or the region (compiler.common.stencils.window), wrapped on a
periodic axis.

Every node tries the most centred stencil first and takes the first whose nodes all hold
numbers: NaN marks both the outside of a shaped domain and, after shifting, the outside of
the grid, so edges and curved boundaries are one rule.
"""

from __future__ import annotations

import numpy as np

from compiler.common.stencils import central, exact_weights

from ..errors import OptionError
from .lagrange import NodeAxis


def differentiate(values: np.ndarray, axis: int, order: int, accuracy: int,
                  nodes: NodeAxis) -> np.ndarray:
    """The `order`-th derivative of `values` along `axis` (whose nodes are `nodes`), of
    the given even `accuracy`; NaN where no stencil fits (outside a shaped domain)."""
    moved = np.moveaxis(np.asarray(values, float), axis, 0)
    h = (nodes.nodes[-1] - nodes.nodes[0]) / (len(nodes.nodes) - 1)
    if not np.allclose(np.diff(nodes.nodes), h, rtol=1e-9, atol=0):
        raise OptionError("a derivative by stencils needs evenly spaced nodes, and these "
                          f"are not ({nodes.nodes[0]:g}, {nodes.nodes[1]:g}, "
                          f"{nodes.nodes[2]:g}, ...)",
                          hint="give evenly spaced --frames (a result with time derivatives "
                               "at its frames differentiates in time without stencils)")
    centred = central(order, accuracy).offsets
    if nodes.periodic:
        core = moved[:-1]
        out = sum(float(w) * np.roll(core, -o, axis=0)
                  for o, w in zip(centred, exact_weights(order, centred)))
        out = np.concatenate([out, out[:1]], axis=0) / h ** order
        return np.moveaxis(out, 0, axis)
    width = max(len(centred), order + accuracy)
    if width > moved.shape[0]:
        raise OptionError(f"an axis of {moved.shape[0]} points is too short for a derivative "
                          f"of order {order} at accuracy {accuracy} ({width} points)")
    starts = sorted(range(-(width - 1), 1), key=lambda a: (abs(2 * a + width - 1), a))
    out = np.full(moved.shape, np.nan)
    for offsets in [centred, *(tuple(range(a, a + width)) for a in starts)]:
        estimate = sum(float(w) * shifted(moved, o)
                       for o, w in zip(offsets, exact_weights(order, offsets)) if w != 0)
        take = np.isnan(out) & np.isfinite(estimate)
        out[take] = estimate[take]
    out[np.isnan(moved)] = np.nan                 # outside stays outside
    return np.moveaxis(out / h ** order, 0, axis)


def shifted(values: np.ndarray, offset: int, axis: int = 0) -> np.ndarray:
    """values[i + offset] at i along `axis`, NaN where i + offset leaves it."""
    out = np.full(values.shape, np.nan)
    n = values.shape[axis]
    if abs(offset) >= n:
        return out
    take = [slice(None)] * values.ndim
    put = [slice(None)] * values.ndim
    take[axis] = slice(offset, None) if offset >= 0 else slice(None, n + offset)
    put[axis] = slice(None, n - offset) if offset >= 0 else slice(-offset, None)
    out[tuple(put)] = values[tuple(take)]
    return out
