"""Data-parallel PINN training: point sets split over a 1-D device mesh, networks replicated.

Every term's points (collocation, boundary, initial, observation) are split along their
point axis over the devices of a mesh with one axis, `POINTS`; the trainables, the
optimiser state and the loss weights are replicated. The jitted chunk takes them with those
shardings, and XLA's partitioner evaluates each device's points on that device and turns
the means of the loss into partial sums added across the devices (an all-reduce), the
gradients with them. The points are drawn on the host, the same for any device count.

A count that the devices do not divide is stored padded at the end (on the last device)
and cut back inside the chunk (`Placement.load`, shared with fd), so the residuals and
their means are those of one device, over the real points only: the results differ from
one device's only by the order in which the partial sums are added (rounding).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from ..parallel.devices import make_mesh, select_devices
from ..parallel.sharding import Placement, make_placement

POINTS = "points"          # the mesh axis, along which every point array is split
COLUMNS = "columns"        # the coordinate columns of a point array, never split


def split_points(batch: Mapping[str, np.ndarray], devices: int | None = None) -> Placement:
    """How the point arrays `batch` ({term: (n, d)}) lie over `devices` devices (None: all
    of the run's), split along their points."""
    chosen = select_devices(devices)
    mesh = make_mesh(chosen, {POINTS: len(chosen)})
    return make_placement(mesh, {name: ((POINTS, COLUMNS), np.shape(x))
                                 for name, x in batch.items()})


def replicated(placement: Placement) -> NamedSharding:
    """A whole copy on every device of the mesh (the trainables and everything small)."""
    return NamedSharding(placement.mesh, PartitionSpec())


def jit_split(fn: Callable, placement: Placement, split: int, arguments: int,
              static: tuple[int, ...] = ()) -> Callable:
    """`jax.jit(fn)` whose argument `split` is a point batch stored by `placement` (split
    along its points) and whose other `arguments` - 1 are replicated, as is every output;
    `static`: positions of static arguments after those. The arguments are put on their
    shardings first (a no-op for those already there): JAX compiles anew when an argument
    goes from uncommitted (the first call's fresh networks) to committed."""
    shardings = [replicated(placement)] * arguments
    shardings[split] = NamedSharding(placement.mesh, PartitionSpec(POINTS))
    compiled = jax.jit(fn, in_shardings=tuple(shardings),
                       out_shardings=replicated(placement), static_argnums=static)

    def call(*args):
        dynamic = iter(shardings)
        return compiled(*(a if i in static else jax.device_put(a, next(dynamic))
                          for i, a in enumerate(args)))

    return call


def make_point_map(fn: Callable, placement: Placement, shape: tuple[int, ...]) -> Callable:
    """`(args, points) -> fn(*args, points)` for host `points` of `shape` (n, d), split over
    the devices of `placement` and evaluated point by point (`fn` must not mix points);
    the result, a pytree of arrays over the n points, comes back whole. Compiled once, on
    the first call, for every set of points of that shape (RAR-D's candidates, output
    grids)."""
    layout = make_placement(placement.mesh, {POINTS: ((POINTS, COLUMNS), tuple(shape))})
    run = jit_split(lambda args, stored: fn(*args, layout.load(stored)[POINTS]), layout, 1, 2)
    return lambda args, points: run(args, layout.put({POINTS: points}))
