"""The fd IR that kernels are built from: boxes of nodes (`Region`), derivative steps
(`Step`, with the scheme of an upwinded transport term), accesses (`Access`: how one array
is obtained on a box), and the static facts about the grid's axes (`Layout`). Plain frozen
data, shared by `collect_derivatives` (accesses.py), `expand_stencils` (expand.py) and
`make_kernel` (kernels.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..common.operators import AxisInfo
from ..common.stencils import Stencil
from .schemes.base import LinearScheme, ReconstructionScheme


@dataclass(frozen=True)
class Region:
    """A box of nodes on a field's grid: the field's space axes and an index range on each."""

    axes: tuple[str, ...]
    ranges: tuple[tuple[int, int], ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(hi - lo for lo, hi in self.ranges)

    def range_of(self, axis: str) -> tuple[int, int]:
        return self.ranges[self.axes.index(axis)]

    def index(self) -> tuple[slice, ...]:
        return tuple(slice(lo, hi) for lo, hi in self.ranges)


@dataclass(frozen=True)
class Step:
    """One derivative along one axis: `stencil`; for a first derivative in a transport term,
    the `scheme` that takes it from the side the local velocity comes from instead."""

    axis: str
    stencil: Stencil
    scheme: LinearScheme | ReconstructionScheme | None = None


@dataclass(frozen=True)
class Access:
    """How to obtain one array on a region: `source[key]` (state or params), then `steps`.

    `layer` picks one index along an axis instead (a face's neighbour layers, for
    boundary closures), keeping that axis with length 1.
    """

    source: str                         # "state", "params" or "flux" (compiler/fd/flux.py)
    key: str
    axes: tuple[str, ...]               # the array's axes
    steps: tuple[Step, ...] = ()
    layer: tuple[str, int] | None = None
    shift: tuple[int, ...] | None = None   # the array shifted by these offsets per axis
    flux: object | None = None          # source "flux": called (t, U, params, region)


@dataclass(frozen=True)
class Layout:
    """Static facts that kernels need: spacing, size, periodicity, accuracy of the axes, and
    the learned functions (`net` lines) an expression may call."""

    axes: Mapping[str, AxisInfo]
    coordinates: Mapping[str, np.ndarray]   # node coordinates per space axis
    accuracy: int
    shaped: object | None = None            # a shaped domain's cut cells (fd/shaped.py)
    nets: tuple = ()                        # pdelang.ir.Net, by name in `net_specs`

    @property
    def net_specs(self) -> dict:
        return {n.name: n for n in self.nets}
