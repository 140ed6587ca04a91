"""fd over several devices: the state of a time-dependent program split over a device mesh,
and its output gathered whole or kept as this process's part.

What is split: every state array, and every stage and step of the integrator, along the
mesh's coordinates. XLA's partitioner places the halo exchanges: one collective permute per
neighbour and split axis, as wide as the stencil reaches, none gathering a field
(benchmarks/halo_exchange.py counts them and times the same steps with shard_map and
explicit ppermute halos: equal on 1-D meshes, 1.5x faster on a 2 x 2 CPU mesh, but it would
need stencils lowered per device block; slabs along the first coordinate, which
`mesh_shape` prefers, beat both 2-D meshes there).
What is not: the bound parameter arrays, which compile into the program as constants and
so sit whole on every device; the initial state, computed whole on each process and handed
to the loop once; the output, gathered whole (or cut to this process's part) on the host.
Steady problems (`runtime.algebra.newton`, and ODIL's space-time grids) split their residual and
colour jvps the same way; their sparse LU runs on the host (SciPy), which holds the whole
Jacobian, so their output is always whole.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from compiler.fd import FDProgram
from compiler.fd.accesses import time_key

from .devices import make_mesh, mesh_shape, select_devices
from .sharding import Placement, make_placement


def place_fd(program: FDProgram, devices: int | None = None,
             mesh: Mapping[str, int] | None = None) -> Placement | None:
    """How the state of `program` lies on `devices` devices (None: as many as `mesh` has,
    else all of the run's), split as `mesh` says ({coordinate: devices}; None: chosen by
    `mesh_shape`). None when nothing is split: one device, or no space coordinates."""
    if devices is None and mesh:
        devices = math.prod(mesh.values())
    chosen = select_devices(devices)
    nodes = {a.name: a.nodes for a in program.grid.axes}
    shape = mesh_shape(nodes, len(chosen), mesh)
    if not shape:
        return None
    fields = {time_key(f.name, k): f.name for f in program.system.fields for k in range(3)}
    arrays = {key: (program.axes_of(fields[key]), tuple(program.shapes[key]))
              for key in program.state_keys}
    return make_placement(make_mesh(chosen, shape), arrays)


def output_fields(program: FDProgram, t: np.ndarray, U: Mapping[str, jax.Array], params,
                  placement: Placement | None, parts: bool = False
                  ) -> tuple[dict[str, np.ndarray], dict | None]:
    """Each field over the output times `t` (time first, then its grid axes), boundary
    closure applied and periodic end points repeated: whole, or with `parts` only the block
    that this process's devices hold. Also that block (None: the whole grid), for `meta`:
    {"process": k, "processes": n, "ranges": {coordinate: [first, end)}} in output points."""
    names = [f.name for f in program.system.fields]
    times = jnp.asarray(t, program.dtype)
    if placement is None:
        closed = jax.vmap(program.closure, in_axes=(0, 0, None))(times, U, params)
        return {n: np.asarray(program.to_output(n, closed[n])) for n in names}, None
    shown = placement.resized({n: _output_shape(program, n) for n in names})

    @jax.jit
    def close(times, U, params):
        closed = jax.vmap(program.closure, in_axes=(0, 0, None))(times, placement.load(U),
                                                                 params)
        return shown.store({n: program.to_output(n, closed[n]) for n in names})

    closed = close(times, U, params)
    if not parts:
        return shown.gather(closed), None
    part = {"process": jax.process_index(), "processes": jax.process_count(),
            "ranges": {a: list(r) for a, r in shown.process_ranges().items()}}
    return {n: shown.local_part(closed[n], n) for n in names}, part


def output_coordinates(program: FDProgram, part: dict | None) -> dict[str, np.ndarray]:
    """The space coordinates of the output, or of one process's `part` of it."""
    ranges = part["ranges"] if part else {}
    return {a: x[slice(*ranges[a])] if a in ranges else x
            for a, x in program.output_coordinates().items()}


def _output_shape(program: FDProgram, name: str) -> tuple[int, ...]:
    return tuple(program.grid.axis(a).points for a in program.axes_of(name))
