"""Sparse Jacobians of finite-difference residuals, by colouring the known stencil pattern.

An FD residual couples each grid point only to the points of a box of half-width `reach`
around it (wrapping on periodic axes). Columns whose boxes never share a row can share one
Jacobian-vector product (Curtis, Powell and Reid, 1974), so the whole Jacobian costs
(2*reach+1)**d jvps per field, however fine the grid. The pattern, the colours and the
gather that turns compressed columns into CSR entries are built once, in numpy; each
assembly is then one jitted call plus one vectorised gather.

With a `Placement` the fields, the residual and every jvp are split over its device mesh
(`runtime.algebra.field_vector`); the compressed columns come to the host in one gather per
Jacobian, where the CSR matrix is assembled for a host solver.

The unknowns are ordered as `jax.flatten_util.ravel_pytree` orders them: fields in the
pytree's key order, each raveled in C order.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sps
from jax.flatten_util import ravel_pytree

from runtime.algebra.field_vector import FieldVector
from runtime.errors import OptionError
from runtime.parallel.sharding import Placement

Fields = Mapping[str, jax.Array]
Residual = Callable[[Fields, Any], Fields]

# Elements of one batch of tangents (and of its jvp); bounds memory on large grids.
_BATCH_ELEMENTS = 2**24


@dataclass(frozen=True)
class Sparsity:
    """What each residual entry may depend on: the stencil pattern of a compiled FD system.

    `reach`: half-width, in grid indices and the same on every axis, of the box around
    grid index i that holds every unknown (of any field) that R[f][i] depends on.
    `periodic`: for every field, one flag per array axis: True where indices wrap around.
    """

    reach: int
    periodic: Mapping[str, tuple[bool, ...]] = field(hash=False)

    def __post_init__(self) -> None:
        if isinstance(self.reach, bool) or not isinstance(self.reach, (int, np.integer)):
            raise OptionError(f"sparsity reach must be an int, got {self.reach!r}")
        if self.reach < 0:
            raise OptionError(f"sparsity reach must be >= 0, got {self.reach}")
        frozen = {str(k): tuple(bool(p) for p in v) for k, v in dict(self.periodic).items()}
        object.__setattr__(self, "reach", int(self.reach))
        object.__setattr__(self, "periodic", MappingProxyType(frozen))


def colour_axis(size: int, reach: int, periodic: bool) -> np.ndarray:
    """One colour per index of an axis, equal colours at least 2*reach+1 apart.

    On a periodic axis the distance is taken around the circle: the period p (from
    2*reach+1 up) is one that divides `size` where possible; otherwise the last
    `size % p` indices get colours of their own, which costs the fewest extra colours.
    """
    width = 2 * reach + 1
    index = np.arange(size)
    if size <= width:
        return index
    if not periodic:
        return index % width

    def count(p: int) -> int:
        return p + size % p

    period = min(range(width, min(2 * width, size + 1)), key=lambda p: (count(p), p))
    body = size - size % period
    colours = index % period
    colours[body:] = period + np.arange(size - body)
    return colours


def _axis_offsets(size: int, reach: int, periodic: bool) -> range:
    """Offsets of the box on one axis; on a short periodic axis, each wrapped index once."""
    width = 2 * reach + 1
    return range(-reach, -reach + min(width, size)) if periodic else range(-reach, reach + 1)


@dataclass(frozen=True)
class _Block:
    """One field's place in the flat vector of unknowns and in the colour numbering."""

    name: str
    shape: tuple[int, ...]
    start: int
    periodic: tuple[bool, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


def _blocks(U: Fields, sparsity: Sparsity) -> list[_Block]:
    """The fields of U in ravel_pytree order, checked against the sparsity description."""
    if not isinstance(U, Mapping):
        raise OptionError(
            f"the unknowns must be a dict of field name -> array, got {type(U).__name__}"
        )
    names = [path[0].key for path, _ in jax.tree_util.tree_flatten_with_path(U)[0]]
    if set(names) != set(U) or len(names) != len(U):
        raise OptionError("each field of the unknowns must be a single array")
    missing = sorted(set(names) - set(sparsity.periodic))
    extra = sorted(set(sparsity.periodic) - set(names))
    if missing or extra:
        raise OptionError(
            f"sparsity.periodic names fields {sorted(sparsity.periodic)} but the unknowns "
            f"are {sorted(names)}",
            hint="give one tuple of per-axis periodic flags for every field",
        )
    blocks, start = [], 0
    for name in names:
        shape = tuple(int(s) for s in np.shape(U[name]))
        periodic = sparsity.periodic[name]
        if len(periodic) != len(shape):
            raise OptionError(
                f"field {name!r} has {len(shape)} axes (shape {shape}) but sparsity.periodic"
                f" gives {len(periodic)} flags {periodic}"
            )
        blocks.append(_Block(name, shape, start, periodic))
        start += blocks[-1].size
    if len({len(b.shape) for b in blocks}) > 1:
        dims = {b.name: len(b.shape) for b in blocks}
        raise OptionError(f"all fields must have the same number of axes, got {dims}")
    return blocks


def _colours(blocks: list[_Block], reach: int) -> tuple[np.ndarray, int]:
    """Colour of every unknown (fields never share colours) and the number of colours."""
    parts, first = [], 0
    for b in blocks:
        axes = [colour_axis(n, reach, p) for n, p in zip(b.shape, b.periodic)]
        counts = tuple(int(a.max()) + 1 for a in axes) if b.size else (0,)
        grids = np.meshgrid(*axes, indexing="ij")
        parts.append(first + np.ravel_multi_index(tuple(grids), counts).ravel())
        first += int(np.prod(counts))
    return np.concatenate(parts).astype(np.int32), first


def _box_columns(f: _Block, g: _Block, reach: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns of U[g] in the stencil box of each grid point of f, as (n_f, box) arrays.

    Returns the flat column numbers and a mask of those inside g's grid; built axis by
    axis from 1-D index arrays and broadcast, so no loop runs over grid points.
    """
    d = len(f.shape)
    strides = np.cumprod((g.shape[1:] + (1,))[::-1])[::-1]
    per_axis = []
    for nf, ng, periodic in zip(f.shape, g.shape, g.periodic):
        i = np.arange(nf)
        choices = []
        for o in _axis_offsets(ng, reach, periodic):
            j = i + o
            inside = np.ones(nf, dtype=bool) if periodic else (j >= 0) & (j < ng)
            choices.append((np.mod(j, ng) if periodic else np.clip(j, 0, ng - 1), inside))
        per_axis.append(choices)
    cols, keep = [], []
    for combo in itertools.product(*per_axis):
        col, inside = np.int64(g.start), np.bool_(True)
        for axis, (j, ok) in enumerate(combo):
            shape = [1] * d
            shape[axis] = -1
            col = col + (j * strides[axis]).reshape(shape)
            inside = inside & ok.reshape(shape)
        cols.append(np.broadcast_to(col, f.shape).ravel())
        keep.append(np.broadcast_to(inside, f.shape).ravel())
    return np.stack(cols, axis=1), np.stack(keep, axis=1)


@dataclass(frozen=True)
class _Pattern:
    """The structural CSR pattern and, per field of the rows, the place of its entries in
    that field's compressed Jacobian (colour * field size + row within the field)."""

    indptr: np.ndarray
    indices: np.ndarray
    gather: tuple[np.ndarray, ...]


def _pattern(blocks: list[_Block], colour: np.ndarray, reach: int) -> _Pattern:
    """Every (row, column) the stencil box allows, emitted directly in CSR row order."""
    n = colour.size
    cols, counts, gather = [], [], []
    for f in blocks:
        boxes = [_box_columns(f, g, reach) for g in blocks]
        col = np.concatenate([c for c, _ in boxes], axis=1)
        keep = np.concatenate([k for _, k in boxes], axis=1)
        rows = np.repeat(np.arange(f.size), col.shape[1])[keep.ravel()]
        cols.append(col.ravel()[keep.ravel()])
        counts.append(keep.sum(axis=1))
        gather.append(colour[cols[-1]].astype(np.int64) * f.size + rows)
    cols = np.concatenate(cols)
    indptr = np.concatenate([[0], np.cumsum(np.concatenate(counts))])
    itype = np.int32 if max(n, cols.size) < 2**31 - 1 else np.int64
    return _Pattern(indptr.astype(itype), cols.astype(itype), tuple(gather))


@dataclass(frozen=True, eq=False)
class SparseJacobian:
    """Residual and sparse Jacobian of one FD system, on flat vectors; build with make_*.

    `linearize(u, params)` returns R(u) and dR/du (CSR) from one jitted call; `residual`
    evaluates R alone. `u` is the flat vector `ravel(U)`; `unravel` inverts it. `vector`
    moves it to the devices (split over a mesh, with a placement) and back.
    """

    n_colours: int
    colour: np.ndarray
    unravel: Callable[[jax.Array | np.ndarray], dict[str, jax.Array]]
    vector: FieldVector
    _pattern: _Pattern
    _residual: Callable[..., dict[str, jax.Array]]
    _compressed: Callable[..., tuple[dict[str, jax.Array], dict[str, jax.Array]]]
    _seeds: dict[str, jax.Array]
    _starts: tuple[int, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return self.vector.names

    @property
    def shapes(self) -> tuple[tuple[int, ...], ...]:
        return self.vector.shapes

    @property
    def size(self) -> int:
        return self.vector.size

    @property
    def dtype(self) -> np.dtype:
        return self.vector.dtype

    def ravel(self, U: Fields) -> jax.Array:
        """The flat vector of unknowns, in the Jacobian's column order."""
        return ravel_pytree(dict(U))[0]

    def residual(self, u: jax.Array | np.ndarray, params: Any) -> np.ndarray:
        """R(u) as a flat numpy vector (u is cast to the unknowns' dtype)."""
        v = self.vector
        return v.join(v.fetch(self._residual(v.put_vector(u), params)))

    def linearize(
        self, u: jax.Array | np.ndarray, params: Any
    ) -> tuple[np.ndarray, sps.csr_matrix]:
        """R(u) and its Jacobian at u, with exact zeros dropped."""
        v = self.vector
        r, compressed = v.fetch(self._compressed(v.put_vector(u), params, self._seeds))
        return v.join(r), self.assemble(compressed)

    def assemble(self, compressed: Mapping[str, np.ndarray]) -> sps.csr_matrix:
        """CSR matrix from the compressed Jacobian: per field of the residual, one jvp
        output (of that field's shape) per colour."""
        p = self._pattern
        data = np.concatenate([np.asarray(compressed[name]).reshape(-1)[gather]
                               for name, gather in zip(self.names, p.gather)])
        keep = data != 0
        kept = np.concatenate([[0], np.cumsum(keep)]).astype(p.indptr.dtype)
        shape = (self.size, self.size)
        return sps.csr_matrix((data[keep], p.indices[keep], kept[p.indptr]), shape=shape)

    def __call__(self, U: Fields, params: Any) -> sps.csr_matrix:
        """dR/dU at U as CSR over ravel_pytree(U)'s ordering."""
        return self.linearize(self.ravel(U), params)[1]

    def locate(self, k: int) -> tuple[str, tuple[int, ...]]:
        """The field and grid index of flat unknown (or residual entry) k."""
        b = int(np.searchsorted(self._starts, k, side="right")) - 1
        index = np.unravel_index(k - self._starts[b], self.shapes[b])
        return self.names[b], tuple(int(i) for i in index)


def _check_structure(U: Fields, R: Any) -> None:
    """Raise unless R has U's fields and shapes (called while tracing)."""
    shapes = {k: tuple(np.shape(v)) for k, v in U.items()}
    if not isinstance(R, Mapping) or set(R) != set(U):
        got = sorted(R) if isinstance(R, Mapping) else type(R).__name__
        raise OptionError(f"the residual must return one array per field {sorted(U)}, got {got}")
    wrong = {k: tuple(np.shape(v)) for k, v in R.items() if tuple(np.shape(v)) != shapes[k]}
    if wrong:
        raise OptionError(
            f"residual shapes {wrong} differ from the unknowns' shapes "
            f"{ {k: shapes[k] for k in wrong} }: R[f] must live on field f's grid"
        )


def make_sparse_jacobian(
    residual: Residual, U: Fields, sparsity: Sparsity, *, batch_size: int | None = None,
    placement: Placement | None = None,
) -> SparseJacobian:
    """Build the jitted residual and coloured-Jacobian functions for unknowns shaped like U.

    `batch_size` bounds how many jvps run at once (default: as many as fit in about 2**24
    elements of tangents); the colours are mapped over in batches with `lax.map`.
    `placement` splits the fields, the residual and the jvps over its device mesh.
    """
    blocks = _blocks(U, sparsity)
    colour, n_colours = _colours(blocks, sparsity.reach)
    n = colour.size
    template, unravel_exact = ravel_pytree(dict(U))
    vector = FieldVector(tuple(b.name for b in blocks), tuple(b.shape for b in blocks),
                         np.dtype(template.dtype), placement)

    def unravel(u: jax.Array | np.ndarray) -> dict[str, jax.Array]:
        return unravel_exact(jnp.asarray(u, vector.dtype))

    if batch_size is None:
        batch_size = max(1, min(n_colours, _BATCH_ELEMENTS // max(n, 1)))
    split_residual = vector.bind(residual)

    def checked(V: Fields, params: Any) -> Fields:
        R = split_residual(V, params)
        _check_structure(V, R)
        return dict(R)

    def fields_residual(U: Fields, params: Any) -> Fields:
        return vector.leave(checked(vector.enter(U), params))

    def compressed(U: Fields, params: Any, seeds: Fields) -> tuple[Fields, Fields]:
        V, seeds = vector.enter(U), vector.enter(seeds)
        R, jvp = jax.linearize(lambda W: checked(W, params), V)

        def column(c: jax.Array) -> Fields:
            return jvp({k: (seeds[k] == c).astype(V[k].dtype) for k in V})

        colours = jnp.arange(n_colours, dtype=jnp.int32)
        if batch_size >= n_colours:
            columns = jax.vmap(column)(colours)
        else:
            columns = jax.lax.map(column, colours, batch_size=batch_size)
        return vector.leave(R), vector.leave(columns)

    return SparseJacobian(
        n_colours=n_colours,
        colour=colour,
        unravel=unravel,
        vector=vector,
        _pattern=_pattern(blocks, colour, sparsity.reach),
        _residual=jax.jit(fields_residual),
        _compressed=jax.jit(compressed),
        _seeds=vector.put(vector.split(colour)),
        _starts=tuple(b.start for b in blocks),
    )


def sparse_jacobian(
    residual: Residual, U: Fields, params: Any, sparsity: Sparsity
) -> sps.csr_matrix:
    """dR/dU at U as a CSR matrix over ravel_pytree(U)'s ordering (one-off convenience)."""
    return make_sparse_jacobian(residual, U, sparsity)(U, params)
