"""The Jacobian of an FD residual in its unknown parameters, as a sparse matrix.

An unknown constant moves every residual entry: its column is dense, one jvp. An unknown
coefficient field c, stored on the grid of its own axes (a subset of the fields' axes),
moves R only within the stencil box around each node: its nodes are coloured as
`runtime.algebra.sparse_jacobian` colours the fields' (equal colours farther apart than the box),
so the whole field costs (2*reach+1)**dims(c) jvps however fine the grid. All the jvps of
one evaluation run in one jitted, vmapped call, on the fields as the `FieldVector` of
dR/dU lays them out (split over a device mesh, with a placement; the parameters whole on
every device); the compressed columns come to the host in one gather and go into CSR by a
pattern built once.

The parameter vector is `ravel_pytree(theta)`: names in sorted order, fields raveled in C
order, a constant one entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sps
from jax.flatten_util import ravel_pytree

from ..algebra.field_vector import FieldVector
from ..algebra.sparse_jacobian import Residual, _Block, _box_columns, colour_axis

Theta = Mapping[str, jax.Array]


@dataclass(frozen=True)
class ParamLayout:
    """Where things live: the axes of every residual field (in `ravel_pytree` order of the
    fields, with the field's flat start), the axes of every coefficient field among the
    parameters, and which axes are periodic."""

    fields: tuple[tuple[str, tuple[str, ...], tuple[int, ...], int], ...]
    param_axes: Mapping[str, tuple[str, ...]]
    periodic: Mapping[str, bool]
    reach: int

    @property
    def rows(self) -> int:
        return sum(int(np.prod(shape, dtype=np.int64)) for _, _, shape, _ in self.fields)


@dataclass(frozen=True, eq=False)
class ParamJacobian:
    """dR/dtheta at (u, theta) as CSR (rows: R's flat entries; columns: `ravel(theta)`)."""

    size: int
    unravel: Callable[[np.ndarray], dict[str, jax.Array]]
    vector: FieldVector
    _columns: Callable[..., dict[str, jax.Array]]
    _seeds: dict[str, jax.Array]
    _gather: np.ndarray
    _rows: np.ndarray
    _cols: np.ndarray
    _shape: tuple[int, int]

    def ravel(self, theta: Theta) -> np.ndarray:
        return np.asarray(ravel_pytree(dict(theta))[0])

    def __call__(self, u: jax.Array | np.ndarray, theta: Theta,
                 fixed: Theta | None = None) -> sps.csr_matrix:
        """`fixed`: more parameters the residual reads, held where they are (a learned
        function's weights, whose columns are not assembled)."""
        if not self.size:
            return sps.csr_matrix(self._shape)
        v = self.vector
        compressed = v.join(v.fetch(self._columns(v.put_vector(u), dict(theta), self._seeds,
                                                  dict(fixed or {}))))
        data = compressed.reshape(-1)[self._gather]
        keep = data != 0
        return sps.csr_matrix((data[keep], (self._rows[keep], self._cols[keep])),
                              shape=self._shape)


def _seed_colours(name: str, shape: tuple[int, ...], layout: ParamLayout) -> np.ndarray:
    """Colour of every node of coefficient field `name` (a single colour for a constant)."""
    if not shape:
        return np.zeros((), np.int64)
    axes = layout.param_axes[name]
    per_axis = [colour_axis(n, layout.reach, layout.periodic[a]) for a, n in zip(axes, shape)]
    counts = tuple(int(c.max()) + 1 for c in per_axis)
    return np.ravel_multi_index(tuple(np.meshgrid(*per_axis, indexing="ij")), counts)


def _field_pattern(name: str, shape: tuple[int, ...], colours: np.ndarray, first_seed: int,
                   start: int, layout: ParamLayout) -> tuple[np.ndarray, ...]:
    """(rows, columns, gather) of every entry coefficient field `name` may have.

    The field is seen from each residual field's grid as a block with length-1 axes where
    it has no axis; such an axis counts as periodic, so every row maps to its index 0.
    """
    axes = layout.param_axes[name]
    n_rows = layout.rows
    rows, cols, gather = [], [], []
    for _, f_axes, f_shape, f_start in layout.fields:
        seen_shape = tuple(shape[axes.index(a)] if a in axes else 1 for a in f_axes)
        periodic = tuple(layout.periodic[a] if a in axes else True for a in f_axes)
        f = _Block("f", f_shape, 0, tuple(layout.periodic[a] for a in f_axes))
        g = _Block(name, seen_shape, 0, periodic)
        col, keep = _box_columns(f, g, layout.reach)
        row = np.broadcast_to((f_start + np.arange(f.size))[:, None], col.shape)[keep]
        index = np.unravel_index(col[keep], seen_shape)
        own = np.ravel_multi_index(tuple(index[f_axes.index(a)] for a in axes), shape)
        rows.append(row)
        cols.append(start + own)
        gather.append((first_seed + colours.ravel()[own]) * n_rows + row)
    return tuple(np.concatenate(parts) for parts in (rows, cols, gather))


def make_param_jacobian(residual: Residual, theta: Theta, layout: ParamLayout,
                        vector: FieldVector) -> ParamJacobian:
    """Build the jitted jvps and the gather pattern of dR/dtheta for parameters shaped like
    `theta` (`residual(U, theta)` returns one array per field; `vector` says how the
    fields and the flat u of `__call__` map onto each other and onto the devices)."""
    template, unravel = ravel_pytree(dict(theta))
    names = sorted(theta)
    n_rows = layout.rows
    seeds: dict[str, list[np.ndarray]] = {k: [] for k in names}
    empty = np.zeros(0, np.int64)
    rows, cols, gather = [empty], [empty], [empty]
    start, first_seed = 0, 0
    for name in names:
        shape = tuple(np.shape(theta[name]))
        colours = _seed_colours(name, shape, layout)
        count = int(colours.max()) + 1
        for other in names:
            other_shape = tuple(np.shape(theta[other]))
            seeds[other] += [np.zeros(other_shape)] * count if other != name else \
                [(colours == c).astype(float) for c in range(count)]
        if shape:
            r, c, g = _field_pattern(name, shape, colours, first_seed, start, layout)
        else:
            r = np.arange(n_rows)
            c = np.full(n_rows, start)
            g = first_seed * n_rows + r
        rows.append(r)
        cols.append(c)
        gather.append(g)
        start += int(np.prod(shape, dtype=np.int64))
        first_seed += count
    dtype = template.dtype
    stacked = {k: jnp.asarray(np.stack(v), dtype) for k, v in seeds.items()}

    split_residual = vector.bind(residual)

    def columns(U: dict[str, jax.Array], theta: Theta, seeds: Theta,
                fixed: Theta) -> dict[str, jax.Array]:
        V = vector.enter(U)
        _, jvp = jax.linearize(lambda th: dict(split_residual(V, {**th, **fixed})), theta)
        return vector.leave(jax.vmap(jvp)(seeds))

    return ParamJacobian(
        size=int(template.size),
        unravel=lambda t: unravel(jnp.asarray(t, dtype)),
        vector=vector,
        _columns=jax.jit(columns),
        _seeds=stacked,
        _gather=np.concatenate(gather),
        _rows=np.concatenate(rows),
        _cols=np.concatenate(cols),
        _shape=(n_rows, int(template.size)),
    )
