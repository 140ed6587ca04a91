"""A term of an expression (a field, maybe differentiated) at any points of a grid result
(fd, odil): stencils on the grid, then Lagrange polynomials between nodes and, where the
result keeps its time derivatives at the frames, the quintic Hermite polynomial between
frames (else Lagrange across frames, as along any axis).

On a shaped domain the nodes without a value (outside the region, or where no stencil of
a derivative fits) are extrapolated from the region, a few layers deep, so that cells the
boundary cuts keep the stencils' width; a stencil that would reach further narrows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .differences import differentiate, shifted
from .hermite import frame_of, hermite_weights
from .lagrange import AxisStencils, NodeAxis, axis_stencils, gather, interpolate


@dataclass(frozen=True)
class GridLayout:
    """What evaluation needs of a grid result: its coordinates (all points, as files show
    them), periodic axes, the time coordinate, the stencils' accuracy and the width of
    the interpolating stencils."""

    coordinates: Mapping[str, np.ndarray]
    periodic: frozenset[str]
    time: str | None
    accuracy: int
    width: int

    def axis(self, name: str) -> NodeAxis:
        return NodeAxis(np.asarray(self.coordinates[name], float), name in self.periodic)


def differentiated(values: np.ndarray, args: tuple[str, ...], derivative: tuple[str, ...],
                   layout: GridLayout) -> np.ndarray:
    """`values` (axes `args`) differentiated by each coordinate of `derivative` in turn."""
    for name in dict.fromkeys(derivative):
        values = differentiate(values, args.index(name), derivative.count(name),
                               layout.accuracy, layout.axis(name))
    return values


def term_at(values: np.ndarray, rates: tuple[np.ndarray, ...], args: tuple[str, ...],
            derivative: tuple[str, ...], points: Mapping[str, np.ndarray],
            layout: GridLayout) -> np.ndarray:
    """The term at `points` (one flat array per argument). `rates`: the field's first and
    second time derivatives at the frames (empty: none kept)."""
    time = layout.time if layout.time in args and rates and layout.width > 2 else None
    if time is None:
        array, inside = _extended(differentiated(values, args, derivative, layout),
                                  layout.width // 2)
        return interpolate(array, [layout.axis(a) for a in args],
                           [points[a] for a in args], layout.width,
                           inside=None if inside.all() else inside)
    space = tuple(a for a in args if a != time)
    in_space = tuple(d for d in derivative if d != time)
    arrays = [_extended(np.moveaxis(differentiated(a, args, in_space, layout),
                                    args.index(time), 0), layout.width // 2)
              for a in (values, *rates)]
    inside = arrays[0][1][0]
    stencils = [axis_stencils(layout.axis(a), points[a], layout.width) for a in space]

    def at_frames(array: np.ndarray, frames: np.ndarray) -> np.ndarray:
        return _in_region(array, stencils, frames, inside, layout, space, points)

    frames = np.asarray(layout.coordinates[time], float)
    frame, s, span = frame_of(frames, np.asarray(points[time], float))
    ends = [[at_frames(array, frame + end) for end in (0, 1)] for array, _ in arrays]
    order = derivative.count(time)
    weights = hermite_weights(s, span, len(arrays), order)
    out = sum(weights[end * len(arrays) + q] * ends[q][end]
              for q in range(len(arrays)) for end in (0, 1))
    if order or len(frames) < 4:
        return out
    (u0, u1), (d0, d1), (a0, a1) = ends
    defect = np.abs(u1 - u0 - span / 2 * (d0 + d1) - span ** 2 / 12 * (a0 - a1))
    across, error = _across_frames(arrays[0][0], at_frames, layout.axis(time),
                                   np.asarray(points[time], float))
    noisy = defect > error
    out[noisy] = across[noisy]
    return out


def _across_frames(values: np.ndarray, at_frames, frames: NodeAxis, t: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Lagrange polynomials across the frames (time as any axis): the value through up to
    6 frames around each time, and its difference from the one through 4 (an estimate of
    the latter's error, so a bound on the former's)."""
    wide = axis_stencils(frames, t, 6)
    narrow = axis_stencils(frames, t, 4)
    read = [at_frames(values, index) for index in wide.indices]
    value = sum(w * v for w, v in zip(wide.weights, read))
    first = narrow.indices[0] - wide.indices[0]          # the 4 frames lie among the 6
    rows = np.arange(len(t))
    stacked = np.stack(read)
    narrower = sum(w * stacked[first + j, rows] for j, w in enumerate(narrow.weights))
    return value, np.abs(value - narrower)


def _in_region(array: np.ndarray, stencils: list[AxisStencils], frame: np.ndarray,
               inside: np.ndarray, layout: GridLayout, space: tuple[str, ...],
               points: Mapping[str, np.ndarray]) -> np.ndarray:
    """Frame `frame`'s slice at the points (a box: the stencils already made)."""
    if inside.all():
        return gather(array, stencils, frame)
    return interpolate(array, [layout.axis(a) for a in space], [points[a] for a in space],
                       layout.width, lead=frame, inside=inside)


def _extended(values: np.ndarray, rings: int) -> tuple[np.ndarray, np.ndarray]:
    """`values` with NaN nodes filled, and where the fill is good: `rings` layers of NaN
    nodes next to numbers are extrapolated along the axes, each layer from the ones inside
    it (quadratic from three numbers in a row, linear from two; the mean over axes and
    directions), so that the interpolating stencils of a cell the boundary cuts keep their
    width and order; any other NaN takes its nearest number's value (read only by
    multilinear stencils, if at all). Returns (values, the nodes valued or extrapolated).
    NaN marks the same nodes in every leading slice (frames): nothing is taken across."""
    missing = np.isnan(values)
    if not missing.any():
        return values, ~missing
    if missing.all():
        raise ValueError("no node holds a value")
    out = values.copy()
    for _ in range(rings):
        total = np.zeros(values.shape)
        count = np.zeros(values.shape)
        for axis in range(values.ndim):
            for step in (1, -1):
                first, second, third = (shifted(out, k * step, axis) for k in (1, 2, 3))
                linear = missing & np.isfinite(first) & np.isfinite(second)
                quadratic = linear & np.isfinite(third)
                linear &= ~quadratic
                total[linear] += 2 * first[linear] - second[linear]
                total[quadratic] += (3 * first - 3 * second + third)[quadratic]
                count[linear | quadratic] += 1
        extrapolated = count > 0
        if not extrapolated.any():
            break
        out[extrapolated] = total[extrapolated] / count[extrapolated]
        missing = np.isnan(out)
    valued = ~missing
    if missing.any():
        from scipy.ndimage import distance_transform_edt

        nearest = distance_transform_edt(missing, return_distances=False, return_indices=True)
        out = out[tuple(nearest)]
    return out, valued
