"""Observations of the fields, ready for the solvers that fit them.

`field_observations` regroups the system's data tables per field: the coordinates of each
observation in the field's argument order, the observed values, and with a `run` column
(several experiments, each from its own initial state) each row's run. `GridSampler` is the
linear map from a field's values on a rectilinear grid to its values at those points
(multilinear interpolation). It is kept as indices and weights, so that one description
serves as a differentiable JAX function (fd fitting, ODIL's loss) and as a sparse matrix
(ODIL's Gauss-Newton rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
import scipy.sparse as sps

from pdelang import System
from pdelang.ir import RUN

from ..errors import LoweringError
from .cut import CutGrid


@dataclass(frozen=True)
class FieldObservations:
    """Every observation of one field: `points[i]` (in the order of `args`) and `values[i]`;
    with several runs, `runs[i]`: the row's run as an index into the sorted run labels."""

    field: str
    args: tuple[str, ...]
    points: np.ndarray
    values: np.ndarray
    runs: np.ndarray | None = None

    @property
    def count(self) -> int:
        return len(self.values)

    @property
    def rms(self) -> float:
        """Root mean square of the observed values: the field's scale in the data."""
        return float(np.sqrt(np.mean(np.square(self.values))))

    def coordinate(self, name: str) -> np.ndarray:
        return self.points[:, self.args.index(name)]


def run_labels(system: System) -> np.ndarray | None:
    """The sorted run labels of the data's `run` column (None without one)."""
    declared = {c.name for c in system.coordinates} | {f.name for f in system.fields}
    if RUN in declared:
        return None                     # a coordinate or field called `run`: not runs
    tables = [t for t in system.data if RUN in t.columns]
    if not tables:
        return None
    return np.unique(np.concatenate([t.column(RUN) for t in tables]))


def field_observations(system: System, method: str = "this method", runs: bool = False
                       ) -> tuple[FieldObservations, ...]:
    """The observations of each observed field, from all data tables, in field order.

    A field observed in several tables gets all their rows. That every table gives a field
    with all its arguments, at points inside the domain, was checked when the system was
    built (`pdelang.data.check_observations`). Rows of several runs are for a solver that
    fits them (`runs`); elsewhere two or more are a LoweringError at the data line naming
    `method`.
    """
    labels = run_labels(system)
    if labels is not None and len(labels) > 1 and not runs:
        table = next(t for t in system.data if RUN in t.columns)
        raise LoweringError(f"the data hold {len(labels)} runs (a `run` column); {method} "
                            "fits one run only: several runs, each from its own initial state, "
                            "are fitted by fd's time-dependent fits", table.span,
                            hint="use --method fd, or fit one run's rows")
    found: dict[str, tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]] = {}
    for table in system.data:
        for f in system.fields:
            if f.name not in table.columns:
                continue
            points = np.stack([table.column(a) for a in f.args], axis=1)
            rows, values, which = found.setdefault(f.name, ([], [], []))
            rows.append(points)
            values.append(table.column(f.name))
            if labels is not None:
                which.append(np.searchsorted(labels, table.column(RUN)))
    out = []
    for f in system.fields:
        if f.name in found:
            points, values, which = found[f.name]
            out.append(FieldObservations(f.name, f.args, np.concatenate(points),
                                         np.concatenate(values),
                                         np.concatenate(which) if which else None))
    return tuple(out)


@dataclass(frozen=True)
class GridSampler:
    """Multilinear interpolation from a grid of `shape` to `count` points, as a linear map.

    `indices[i, k]` (flat, C order) and `weights[i, k]` give point i as the weighted sum of
    its 2**d surrounding nodes.
    """

    shape: tuple[int, ...]
    indices: np.ndarray
    weights: np.ndarray

    @property
    def count(self) -> int:
        return self.indices.shape[0]

    def within(self, mask: np.ndarray) -> GridSampler:
        """The sampler reading only nodes where `mask` (of `shape`) holds: the weights of
        the others moved to those, renormalised (a point of a shaped domain in a cell the
        boundary cuts reads no node outside the region: first order there, not a bias
        towards the outside nodes' zeros). ValueError names the first point with no
        such node."""
        keep = np.asarray(mask, bool).reshape(-1)[self.indices] & (self.weights > 0)
        weights = np.where(keep, self.weights, 0.0)
        total = weights.sum(axis=1, keepdims=True)
        if np.any(total <= 0):
            raise ValueError(int(np.argmax(total[:, 0] <= 0)))
        # the dropped nodes point at a kept one: a NaN outside the region is never read
        kept = np.take_along_axis(self.indices, np.argmax(keep, axis=1)[:, None], axis=1)
        indices = np.where(keep, self.indices, kept)
        return GridSampler(self.shape, indices, weights / total)

    def __call__(self, values: jnp.ndarray) -> jnp.ndarray:
        """Values at the points, from `values` of `shape` (differentiable, jit-able)."""
        flat = jnp.reshape(values, (-1,))
        return jnp.sum(flat[self.indices] * jnp.asarray(self.weights, flat.dtype), axis=1)

    def matrix(self) -> sps.csr_matrix:
        """The same map as a sparse (count, prod(shape)) matrix."""
        rows = np.repeat(np.arange(self.count), self.indices.shape[1])
        return sps.csr_matrix((self.weights.ravel(), (rows, self.indices.ravel())),
                              shape=(self.count, int(np.prod(self.shape))))


def grid_sampler(axes: Sequence[np.ndarray], points: np.ndarray) -> GridSampler:
    """The sampler from the rectilinear grid with node coordinates `axes` (increasing, ends
    included) to `points` (n, len(axes)); points outside are clamped to the nearest face."""
    points = np.asarray(points, dtype=np.float64).reshape(len(points), len(axes))
    shape = tuple(len(a) for a in axes)
    corners = np.zeros((len(points), 1), dtype=np.int64)
    weights = np.ones((len(points), 1))
    for k, nodes in enumerate(axes):
        nodes = np.asarray(nodes, dtype=np.float64)
        if len(nodes) == 1:
            lower, fraction = np.zeros(len(points), np.int64), np.zeros(len(points))
        else:
            x = np.clip(points[:, k], nodes[0], nodes[-1])
            lower = np.clip(np.searchsorted(nodes, x, side="right") - 1, 0, len(nodes) - 2)
            fraction = (x - nodes[lower]) / (nodes[lower + 1] - nodes[lower])
        stride = int(np.prod(shape[k + 1:], dtype=np.int64))
        step = stride if len(nodes) > 1 else 0
        corners = np.concatenate([corners + (lower * stride)[:, None],
                                  corners + (lower * stride + step)[:, None]], axis=1)
        weights = np.concatenate([weights * (1 - fraction)[:, None],
                                  weights * fraction[:, None]], axis=1)
    return GridSampler(shape, corners, weights)


def observed_times(observations: Sequence[FieldObservations], time: str) -> np.ndarray:
    """The distinct observation times of time-dependent fields, sorted."""
    times = [o.coordinate(time) for o in observations if time in o.args]
    return np.unique(np.concatenate(times)) if times else np.zeros(0)


def require_observations(system: System, method: str, runs: bool = False
                         ) -> tuple[FieldObservations, ...]:
    """The observations of an inverse problem, with a clear error when it has none (or
    several runs where `runs` is False)."""
    observations = field_observations(system, method, runs)
    if not observations:
        unknown = system.unknown_params
        raise LoweringError(f"the {method} method infers unknown parameters from "
                            "observations, and this system has none",
                            unknown[0].span if unknown else None,
                            hint='add `data "observations.csv"` with a column per field')
    return observations


def sampler_for(observation: FieldObservations, axes: Mapping[str, np.ndarray]) -> GridSampler:
    """The sampler of `observation` from a grid whose node coordinates per argument of the
    field are `axes` (every argument must be there)."""
    return grid_sampler([axes[a] for a in observation.args], observation.points)


def in_region(sampler: GridSampler, observation: FieldObservations, cut: CutGrid,
              axes: tuple[str, ...] | None = None) -> GridSampler:
    """`sampler` (over `axes`, by default the field's arguments in their order) restricted
    to the nodes of the closed region of `cut`, broadcast over the axes it does not have
    (time); a LoweringError for a point with no such node around it."""
    mask = cut.closed_on(tuple(axes or observation.args))
    try:
        return sampler.within(np.broadcast_to(mask, sampler.shape))
    except ValueError as error:
        row = error.args[0]
        point = ", ".join(f"{a} = {v:.4g}" for a, v in zip(observation.args,
                                                          observation.points[row]))
        raise LoweringError(f"the observation of `{observation.field}` at ({point}) has no "
                            "grid node of the region around it", hint="refine the grid (--grid)"
                            ) from None
