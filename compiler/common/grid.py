"""Uniform grids: one axis per space coordinate, both ends included.

An axis of `n` points spans [lower, upper] with spacing h = (upper - lower) / (n - 1). On
a periodic axis the last point is the image of the first, so only n - 1 nodes are stored
and solved for; output files still show all n points.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from pdelang import System

from ..errors import LoweringError
from .operators import AxisInfo

DEFAULT_POINTS = {1: 129, 2: 65, 3: 33}
MIN_POINTS = 3


@dataclass(frozen=True)
class Axis:
    name: str
    lower: float
    upper: float
    points: int
    periodic: bool = False

    @property
    def h(self) -> float:
        return (self.upper - self.lower) / (self.points - 1)

    @property
    def nodes(self) -> int:
        """Grid values stored along this axis (the periodic end is not stored twice)."""
        return self.points - 1 if self.periodic else self.points

    def coordinates(self) -> np.ndarray:
        """All points, both ends included (what output files show)."""
        return np.linspace(self.lower, self.upper, self.points)

    def node_coordinates(self) -> np.ndarray:
        return self.coordinates()[: self.nodes]

    def info(self) -> AxisInfo:
        return AxisInfo(self.nodes, self.h, self.periodic)


@dataclass(frozen=True)
class Grid:
    axes: tuple[Axis, ...]

    def axis(self, name: str) -> Axis:
        return next(a for a in self.axes if a.name == name)

    def shape(self, names: tuple[str, ...]) -> tuple[int, ...]:
        return tuple(self.axis(n).nodes for n in names)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.axes)


def grid_sizes(spec: int | Mapping[str, int] | None, system: System) -> dict[str, int]:
    """Points per space coordinate from `--grid N` or `--grid x=N,y=M` (None: defaults)."""
    names = [c.name for c in system.space]
    if spec is None:
        default = DEFAULT_POINTS.get(len(names), 17)
        return {n: default for n in names}
    if isinstance(spec, int):
        return {n: spec for n in names}
    unknown = set(spec) - set(names)
    if unknown:
        raise LoweringError(f"--grid names {', '.join(sorted(unknown))}, which is not a space "
                            f"coordinate (space coordinates: {', '.join(names) or 'none'})")
    default = DEFAULT_POINTS.get(len(names), 17)
    return {n: int(spec.get(n, default)) for n in names}


def make_grid(system: System, spec: int | Mapping[str, int] | None = None) -> Grid:
    sizes = grid_sizes(spec, system)
    periodic = set(system.periodic)
    axes = []
    for c in system.space:
        n = sizes[c.name]
        if n < MIN_POINTS:
            raise LoweringError(f"the grid of `{c.name}` has {n} points; at least {MIN_POINTS} "
                                "are needed")
        lower, upper = c.bounds
        axes.append(Axis(c.name, lower, upper, n, c.name in periodic))
    return Grid(tuple(axes))
