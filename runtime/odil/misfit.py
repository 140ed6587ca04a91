"""The linear rows of ODIL's loss besides the residual: data misfit and smoothness.

`data_rows` gives S and d with S u = the fields at the observed points (multilinear
interpolation from the space-time grid, `compiler.common.observations`), u being the flat vector
of every field on the grid. On a periodic axis the grid stores no node at the upper end:
the sampler is built on all points and the last node's weight is folded onto the first.

`smoothness_rows` gives G with ||G theta||^2 = the mean squared gradient (forward
differences over the spacing, wrapping on periodic axes) of each unknown coefficient field,
summed over fields and axes: the regularisation of field unknowns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sps

from compiler.common.cut import CutGrid
from compiler.common.grid import Grid
from compiler.common.observations import (
    FieldObservations,
    GridSampler,
    grid_sampler,
    in_region,
)


@dataclass(frozen=True)
class DataRows:
    """S (observations x unknowns of the fields) and the observed values d, with the
    field each row observes (for per-field misfits)."""

    matrix: sps.csr_matrix
    values: np.ndarray
    field: np.ndarray

    @property
    def count(self) -> int:
        return len(self.values)


def stored_sampler(grid: Grid, axes: Sequence[str], points: np.ndarray) -> GridSampler:
    """The sampler from a field's stored grid values (axes `axes`, periodic ends not
    stored) to `points`."""
    full = grid_sampler([grid.axis(a).coordinates() for a in axes], points)
    index = np.unravel_index(full.indices, full.shape)
    stored = grid.shape(tuple(axes))
    folded = tuple(np.mod(i, n) for i, n in zip(index, stored))
    return GridSampler(stored, np.ravel_multi_index(folded, stored), full.weights)


def data_rows(grid: Grid, observations: Sequence[FieldObservations],
              fields: Sequence[tuple[str, tuple[str, ...], int]], size: int,
              region: CutGrid | None = None) -> DataRows:
    """S and d for `observations`; `fields` gives (name, axes, flat start) of each field in
    the vector of unknowns, `size` that vector's length; on a shaped domain (`region`, its
    cut cells) reading only the nodes of the region."""
    where = {name: (axes, start) for name, axes, start in fields}
    blocks, values, names = [], [], []
    for o in observations:
        axes, start = where[o.field]
        sampler = stored_sampler(grid, axes, o.points)
        if region is not None:
            sampler = in_region(sampler, o, region, axes)
        block = sampler.matrix().tocoo()
        blocks.append(sps.csr_matrix((block.data, (block.row, block.col + start)),
                                     shape=(o.count, size)))
        values.append(o.values)
        names += [o.field] * o.count
    return DataRows(sps.vstack(blocks, format="csr"), np.concatenate(values), np.array(names))


def _differences(n: int, h: float, periodic: bool) -> sps.csr_matrix:
    """Forward differences over h along one axis of n stored nodes."""
    if periodic:
        return sps.csr_matrix((sps.eye(n, k=1) + sps.eye(n, k=1 - n) - sps.eye(n)) / h)
    return sps.csr_matrix((sps.eye(n - 1, n, k=1) - sps.eye(n - 1, n)) / h)


def smoothness_rows(grid: Grid, shapes: Mapping[str, tuple[int, ...]],
                    axes: Mapping[str, tuple[str, ...]], weight: float) -> sps.csr_matrix:
    """G over the flat parameter vector (names sorted, as `ravel_pytree` orders them) with
    ||G theta||^2 = weight * sum over fields and axes of mean((d_a c / h_a)^2)."""
    columns = sum(int(np.prod(s, dtype=np.int64)) for s in shapes.values())
    blocks, start = [], 0
    for name in sorted(shapes):
        shape = shapes[name]
        size = int(np.prod(shape, dtype=np.int64))
        for k, a in enumerate(axes.get(name, ())):
            axis = grid.axis(a)
            factors = [sps.identity(n, format="csr") for n in shape]
            factors[k] = _differences(shape[k], axis.h, axis.periodic)
            block = factors[0]
            for factor in factors[1:]:
                block = sps.kron(block, factor, format="csr")
            block = np.sqrt(weight / block.shape[0]) * block.tocoo()
            blocks.append(sps.csr_matrix((block.data, (block.row, block.col + start)),
                                         shape=(block.shape[0], columns)))
        start += size
    if not blocks:
        return sps.csr_matrix((0, columns))
    return sps.vstack(blocks, format="csr")
