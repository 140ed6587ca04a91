"""Normal probes: the field at points inside a shaped domain along the inward normal of a
boundary point, from the grid nodes around them, for conditions on the normal derivative.

A boundary point B with outward unit normal n gets two probes, Q1 = B - delta n and
Q2 = B - 2 delta n (delta the largest grid spacing). The field there is interpolated from
the 3 x 3 (3 x 3 x 3) nodes around each probe, all inside the domain, by tensor-product
quadratic Lagrange polynomials (error O(h^3)); then (-3 u(B) + 4 u(Q1) - u(Q2)) / (2 delta)
is the inward derivative to O(h^2), which keeps a Neumann or Robin condition second order.
Along axes where the region does not change (time as a grid axis, in ODIL) the normal has
no component: the probes stay on their point's layer and read that layer's nodes only.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import LoweringError


@dataclass(frozen=True, eq=False)
class Probes:
    """For `points` boundary points (rows): the flat grid indices and weights of the nodes
    that interpolate the field at the first and second probe; `delta` the probe step."""

    first: tuple[np.ndarray, np.ndarray]       # (indices (m, S), weights (m, S))
    second: tuple[np.ndarray, np.ndarray]
    delta: float

    def reach(self, owners: np.ndarray, shape: tuple[int, ...]) -> int:
        """The largest index distance, along any axis, from each point's owner node (flat
        indices) to the nodes its probes read: what a coloured Jacobian must cover."""
        out = 0
        owner = np.stack(np.unravel_index(owners, shape), axis=-1)[:, None, :]
        for indices, _ in (self.first, self.second):
            nodes = np.stack(np.unravel_index(indices, shape), axis=-1)
            if nodes.size:
                out = max(out, int(np.abs(nodes - owner).max()))
        return out


def _slopes(level: Callable, points: tuple[np.ndarray, ...], extent: float
            ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per axis, the level's forward and backward difference slopes at the points."""
    step = 1e-7 * extent
    at = np.asarray(level(points))
    out = []
    for k in range(len(points)):
        up, down = list(points), list(points)
        up[k] = points[k] + step
        down[k] = points[k] - step
        out.append(((np.asarray(level(tuple(up))) - at) / step,
                    (at - np.asarray(level(tuple(down)))) / step))
    return out


def normals(level: Callable, points: tuple[np.ndarray, ...], extent: float) -> np.ndarray:
    """Outward unit normals (m, d) of the region at boundary points: the normalised
    gradient of its level function, by central differences."""
    gradient = np.stack([(f + b) / 2 for f, b in _slopes(level, points, extent)], axis=-1)
    size = np.linalg.norm(gradient, axis=-1, keepdims=True)
    return gradient / np.where(size > 0, size, 1.0)


def corners(level: Callable, points: tuple[np.ndarray, ...], extent: float) -> np.ndarray:
    """The boundary points where the level function has a kink (its one-sided slopes along
    some axis differ): corners, where no normal exists."""
    slopes = _slopes(level, points, extent)
    size = np.sqrt(sum(np.maximum(f**2, b**2) for f, b in slopes))
    kink = np.zeros(np.shape(size), bool)
    for forward, backward in slopes:
        kink |= np.abs(forward - backward) > 0.1 * np.maximum(size, 1e-300)
    return kink


def make_probes(level: Callable, points: tuple[np.ndarray, ...], inside: np.ndarray,
                lines: tuple[np.ndarray, ...], span=None, along: tuple[int, ...] = ()
                ) -> Probes:
    """The probes of the boundary points `points` (one (m,) array per axis) on the grid
    with node coordinates `lines` per axis and interior mask `inside`; `along`: the
    positions of the axes the region does not change along."""
    spacing = np.array([line[1] - line[0] for line in lines])
    widths = np.array([1 if k in along else 3 for k in range(len(lines))])
    delta = float(spacing[widths == 3].max())
    extent = float(max(line[-1] - line[0] for line in lines))
    corner = corners(level, points, extent)
    if corner.any():
        where = ", ".join(f"{p[np.argmax(corner)]:.4g}" for p in points)
        raise LoweringError(
            f"a normal derivative at a corner of the boundary, ({where}): the normal is not "
            "defined there", span, hint="give the value on a part of the boundary that "
            "holds the corner (`bc u = ... on boundary where ...`, written first)")
    n = normals(level, points, extent)
    start = np.stack(points, axis=-1)
    return Probes(_stencils(start - delta * n, inside, lines, spacing, widths, span),
                  _stencils(start - 2 * delta * n, inside, lines, spacing, widths, span),
                  delta)


def _stencils(q: np.ndarray, inside: np.ndarray, lines, spacing: np.ndarray,
              widths: np.ndarray, span) -> tuple[np.ndarray, np.ndarray]:
    """Indices and weights of the 3^d nodes (1 along axes of width 1) that interpolate at
    points q (m, d): the block centred on the nearest node where all its nodes are inside,
    else the nearest block shifted by one node along some axes that is."""
    m, d = q.shape
    shape = inside.shape
    origin = np.array([line[0] for line in lines])
    s = (q - origin) / spacing                       # position in index units
    centre = np.rint(s).astype(np.int64)
    chosen = np.full((m, d), np.iinfo(np.int64).min)
    half = widths // 2
    moves = [(0, -1, 1) if w == 3 else (0,) for w in widths]
    shifts = sorted(itertools.product(*moves), key=lambda o: sum(map(abs, o)))
    block = list(itertools.product(*(range(w) for w in widths)))
    for shift in shifts:
        base = centre - half + np.array(shift)
        todo = chosen[:, 0] == np.iinfo(np.int64).min
        if not todo.any():
            break
        fits = np.all((base >= 0) & (base + widths - 1 < np.array(shape)), axis=1) & todo
        ok = fits.copy()
        for offset in block:
            node = np.clip(base + np.array(offset), 0, np.array(shape) - 1)
            ok &= inside[tuple(node.T)]
        chosen[ok] = base[ok]
    missing = chosen[:, 0] == np.iinfo(np.int64).min
    if missing.any():
        where = ", ".join(f"{v:.4g}" for v in q[np.argmax(missing)])
        raise LoweringError(
            f"the grid is too coarse for a normal derivative near the boundary: no 3 x 3 "
            f"block of nodes inside the domain around the probe point ({where})", span,
            hint="refine the grid (--grid)")
    local = s - chosen                                # in [0, 2] when centred
    weights_1d = [_lagrange(local[:, k]) if widths[k] == 3 else np.ones((m, 1))
                  for k in range(d)]                  # (m, width) each
    indices, weights = [], []
    for offset in block:
        node = chosen + np.array(offset)
        indices.append(np.ravel_multi_index(tuple(node.T), shape))
        w = np.ones(m)
        for k, o in enumerate(offset):
            w = w * weights_1d[k][:, o]
        weights.append(w)
    return np.stack(indices, axis=1), np.stack(weights, axis=1)


def _lagrange(s: np.ndarray) -> np.ndarray:
    """Weights (m, 3) of the quadratic through nodes 0, 1, 2 evaluated at s."""
    return np.stack([(s - 1) * (s - 2) / 2, -s * (s - 2), s * (s - 1) / 2], axis=1)
