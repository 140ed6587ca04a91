"""Cut cells: a shaped domain (pdelang.geometry) on the box grid, for fd and odil.

The nodes of the box grid strictly inside the region carry the equations; the others are
outside (their values are not part of the solution) or on the boundary. Along each axis, a
node inside whose neighbour is not inside has the boundary between them, at a fraction
theta of the spacing (found by bisection on the region's level function, so any
combination of shapes works). Derivatives at such a node use the boundary point in place
of the neighbour (Shortley and Weller, 1938): the quadratic through the node, its other
neighbour and the boundary value, differentiated at the node, which is second order for
the value and first order for the derivative at the node itself, and second order for
the solution in the maximum norm (the truncation error is O(h) only on the one layer of
nodes next to the boundary, where the discrete maximum principle damps it to O(h^2)).

Axes `along` which the region does not change (time, when ODIL makes it a grid axis of the
space-time cylinder) are not cut: their stencils stay the grid's own.

A node closer to the boundary than THETA_MIN spacings is counted as on the boundary: its
value is the boundary value there (an error below 1e-6 h |grad u|), which keeps the
stencil weights bounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from pdelang.geometry import ON_BOUNDARY, next_to

THETA_MIN = 1e-6
BISECTIONS = 60


@dataclass(frozen=True, eq=False)
class AxisCut:
    """One axis: per node of the grid, the distances (in spacings) to the lower and upper
    neighbours or to the boundary where it lies between (`theta`), whether it does
    (`cut`), and the boundary points' coordinates (one grid-shaped array per axis; the
    node's own coordinates where there is no cut)."""

    theta: tuple[np.ndarray, np.ndarray]          # (lower, upper)
    cut: tuple[np.ndarray, np.ndarray]
    points: tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]

    def weights(self, h: float, order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lower, centre, upper) weights of the first or second derivative at each node,
        from the quadratic through the lower value, the node and the upper value at
        distances theta h (Shortley-Weller); uniform central stencils where theta is 1."""
        lo, hi = (self.theta[0] * h, self.theta[1] * h)
        if order == 1:
            return -hi / (lo * (lo + hi)), (hi - lo) / (lo * hi), lo / (hi * (lo + hi))
        if order == 2:
            return 2 / (lo * (lo + hi)), -2 / (lo * hi), 2 / (hi * (lo + hi))
        raise ValueError(f"cut-cell derivatives of order {order}")


@dataclass(frozen=True, eq=False)
class CutGrid:
    """A shaped domain on a box grid (see the module docstring)."""

    axes: tuple[str, ...]
    spacing: tuple[float, ...]
    inside: np.ndarray            # bool, the grid's shape
    boundary: np.ndarray          # bool: nodes on the boundary (the closed region's edge)
    nodes: tuple[np.ndarray, ...]   # the grid's coordinates, one grid-shaped array per axis
    cuts: Mapping[str, AxisCut]     # the axes the boundary cuts (all but those `along`)

    @property
    def closed(self) -> np.ndarray:
        """The nodes of the closed region: inside or on the boundary (the output mask)."""
        return self.inside | self.boundary

    def closed_on(self, axes: tuple[str, ...]) -> np.ndarray:
        """`closed` with its axes in the order `axes`, and of length 1 along those of
        `axes` that are not the grid's (to broadcast over a field's time axis)."""
        extra = [a for a in axes if a not in self.axes]
        mask = self.closed.reshape((1,) * len(extra) + self.closed.shape)
        return np.moveaxis(mask, range(len(axes)), [axes.index(a) for a in extra + list(
            self.axes)])


def cut_grid(level, axes: tuple[str, ...], coordinates: Mapping[str, np.ndarray],
             along: tuple[str, ...] = ()) -> CutGrid:
    """The cut cells of the region whose level function is `level` (numpy arrays of the
    coordinates in `axes` order -> array, negative inside) on the grid with these node
    coordinates per axis (each uniformly spaced); the axes `along` are not cut."""
    lines = [np.asarray(coordinates[a], dtype=np.float64) for a in axes]
    spacing = tuple(float(c[1] - c[0]) for c in lines)
    nodes = tuple(np.meshgrid(*lines, indexing="ij"))
    values = np.asarray(level(nodes), dtype=np.float64)
    finite = np.abs(values[np.isfinite(values)])
    scale = float(finite.max()) if finite.size else 1.0
    scale = scale or 1.0
    inside = values < -ON_BOUNDARY * scale
    while True:
        cuts = {a: _axis_cut(level, values, inside, nodes, k, spacing[k])
                for k, a in enumerate(axes) if a not in along}
        near = np.zeros_like(inside)
        for axis_cut in cuts.values():
            for side in (0, 1):
                near |= axis_cut.cut[side] & (axis_cut.theta[side] < THETA_MIN)
        if not near.any():
            break
        inside = inside & ~near
    # on the boundary: nodes whose level is zero, and those too close to count as inside,
    # next to a node inside
    boundary = ~inside & (values <= ON_BOUNDARY * scale) & next_to(inside)
    return CutGrid(axes, spacing, inside, boundary, nodes, cuts)


def _axis_cut(level, values: np.ndarray, inside: np.ndarray, nodes: tuple[np.ndarray, ...],
              k: int, h: float) -> AxisCut:
    theta, cut, points = [], [], []
    n = inside.shape[k]
    for shift in (-1, 1):
        neighbour = _neighbour(inside, k, shift, n)
        crossing = inside & ~neighbour
        t = np.ones(inside.shape)
        if crossing.any():
            where = np.nonzero(crossing)
            start = [p[where] for p in nodes]
            neighbour_level = _neighbour(values, k, shift, n, fill=1.0)[where]
            found = _bisect(level, start, k, shift * h)
            # a neighbour on the boundary (level zero, or inside by its level but too
            # close to count, THETA_MIN):
            # the boundary point is that node itself
            found = np.where(neighbour_level <= 0, 1.0, found)
            t[where] = found
        moved = list(nodes)
        moved[k] = nodes[k] + shift * t * h * crossing
        theta.append(t)
        cut.append(crossing)
        points.append(tuple(moved))
    return AxisCut(tuple(theta), tuple(cut), tuple(points))


def _neighbour(array: np.ndarray, k: int, shift: int, n: int, fill=False) -> np.ndarray:
    """array at the neighbour index (i + shift along axis k); `fill` past the ends."""
    out = np.full_like(array, fill)
    src = [slice(None)] * array.ndim
    dst = [slice(None)] * array.ndim
    if shift > 0:
        src[k], dst[k] = slice(1, n), slice(0, n - 1)
    else:
        src[k], dst[k] = slice(0, n - 1), slice(1, n)
    out[tuple(dst)] = array[tuple(src)]
    return out


def _bisect(level, start: list[np.ndarray], k: int, step: float) -> np.ndarray:
    """The fraction s in (0, 1] of `step` along axis k from `start` (level < 0 there)
    where the level first turns >= 0 (the neighbour's level is >= 0)."""
    lo = np.zeros(start[0].shape)
    hi = np.ones(start[0].shape)
    for _ in range(BISECTIONS):
        mid = 0.5 * (lo + hi)
        point = list(start)
        point[k] = start[k] + mid * step
        negative = np.asarray(level(tuple(point))) < 0
        lo = np.where(negative, mid, lo)
        hi = np.where(negative, hi, mid)
    return hi
