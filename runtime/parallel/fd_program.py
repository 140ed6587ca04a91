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
to the loop once; the output, gathered whole (or cut to this process's part) on the host;
its rates at the frames, differentiated from the gathered states (`output_rates`).
Steady problems (`runtime.algebra.newton`, and ODIL's space-time grids) split their residual and
colour jvps the same way; their sparse LU runs on the host (SciPy), which holds the whole
Jacobian, so their output is always whole.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import partial

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


def output_rates(program: FDProgram, t: np.ndarray, U: Mapping[str, jax.Array], params,
                 placement: Placement | None, parts: bool = False
                 ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each field's first and second time derivatives at the output times `t`, laid out as
    `output_fields` lays out its values (the same block with `parts`): {field: (d/dt,
    d2/dt2)} for the fields of time, from the program's `rhs` (`frame_rates`). `U`: the
    states at `t` (leading axis: time) as the integrator returned them; `params`: prepared.
    Empty for a differential-algebraic program (`program.mass`), whose algebraic keys take
    no rate from `rhs`.

    A split state is gathered and differentiated whole, on this process's default device,
    in batches of frames: XLA's partitioner miscomputes the closure's scatters inside these
    nested jvps on unevenly split axes (wave1d at 66 nodes over 4 devices: u_tt wrong at
    each block's first node, at 64 or 68 nodes right; the solves' own closures, which the
    split tests compare with one device's, are right there)."""
    names = rate_fields(program)
    if program.rhs is None or program.mass is not None or not names:
        return {}
    if placement is not None:
        U = placement.gather(U)
    times = jnp.asarray(t, program.dtype)
    U = {k: jnp.asarray(v, program.dtype) for k, v in U.items()}
    rates = _frame_rates(program.rhs, program.closure, names, times, U, params)
    whole = {n: tuple(program.to_output(n, np.asarray(r[n])) for r in rates) for n in names}
    if not parts or placement is None:
        return whole
    ranges = placement.resized({n: _output_shape(program, n) for n in names}).process_ranges()
    return {n: tuple(_block(program, n, r, ranges) for r in pair) for n, pair in whole.items()}


def _block(program: FDProgram, name: str, array: np.ndarray,
           ranges: Mapping[str, tuple[int, int]]) -> np.ndarray:
    """This process's block of a field's output array (time first, then its grid axes)."""
    index = [slice(None)] + [slice(*ranges[a]) if a in ranges else slice(None)
                             for a in program.axes_of(name)]
    return array[tuple(index)]


def rate_fields(program: FDProgram) -> tuple[str, ...]:
    """The fields that have time derivatives: those of time."""
    time = program.system.time
    return tuple(f.name for f in program.system.fields
                 if time is not None and time.name in f.args)


RATE_BATCH_BYTES = 1 << 26      # state per batch of frames differentiated at once (64 MiB)


def frame_rates(rhs: Callable, closure: Callable, names: tuple[str, ...], t: jax.Array,
                U: Mapping[str, jax.Array], params, batch_bytes: int = RATE_BATCH_BYTES
                ) -> tuple[dict[str, jax.Array], dict[str, jax.Array]]:
    """The first and second time derivatives of the closed fields `names`, F(t, U) =
    closure(t, U, params)[name], along the solution of U' = rhs(t, U, params) through the
    state `U[k]` at each time `t[k]` (leading axes: time): exact for the semi-discrete
    system, to round-off. With U1 = rhs(t, U) and U2 = d/ds rhs(t + s, U + s U1) at s = 0
    (one jvp), they are d/ds and d2/ds2 of F(t + s, U + s U1 + s^2/2 U2) at s = 0 (nested
    jvps), so boundary values that `closure` sets from t take their own rates. Frames are
    mapped over in batches of about `batch_bytes` of state (`lax.map`). The output
    layout (`to_output`: periodic end points, NaN outside a shaped domain) is linear:
    applied to the rates, it gives those of the output values.

    They are the rates of the flow through the state reached, so an integrator's error in
    the stiffest modes shows weighed by their eigenvalue (u_t) and its square (u_tt): RK4
    at its stable step, whose stiff modes lag boundary values that move in time, gave
    u_tt 7e-3 off the exact one on a 1-D heat problem with a moving end (3.5e-4 at a
    small step) and 190% near heat_disk's cut cells at 21^2 (4.5e-3 by BDF)."""
    state_bytes = sum(math.prod(v.shape[1:]) * v.dtype.itemsize for v in U.values())
    batch = max(1, min(t.shape[0], batch_bytes // max(1, state_bytes)))

    def at(frame):
        return _state_rates(rhs, closure, names, *frame, params)

    return jax.lax.map(at, (t, U), batch_size=batch)


def _state_rates(rhs: Callable, closure: Callable, names: tuple[str, ...], t: jax.Array,
                 U: Mapping[str, jax.Array], params):
    """`frame_rates` at one time `t` and state `U`."""
    one = jnp.ones_like(t)
    U1 = _every_key(rhs(t, U, params), U)
    _, U2 = jax.jvp(lambda s, V: rhs(s, V, params), (t, U), (one, U1))
    U2 = _every_key(U2, U)

    def along(s):          # the state's Taylor polynomial of degree 2, closed at t + s
        moved = {k: v + s * U1[k] + (s * s / 2) * U2[k] for k, v in U.items()}
        closed = closure(t + s, moved, params)
        return {n: closed[n] for n in names}

    def velocity(s):
        return jax.jvp(along, (s,), (one,))[1]

    return jax.jvp(velocity, (jnp.zeros_like(t),), (one,))


def _every_key(rates: Mapping[str, jax.Array], U: Mapping[str, jax.Array]):
    """`rates` with a zero rate for each key of `U` that `rhs` leaves out."""
    return {k: rates[k] if k in rates else jnp.zeros_like(v) for k, v in U.items()}


@partial(jax.jit, static_argnums=(0, 1, 2))
def _frame_rates(rhs, closure, names, t, U, params):
    """`frame_rates` compiled once per program (its functions are static arguments)."""
    return frame_rates(rhs, closure, names, t, U, params)


def output_coordinates(program: FDProgram, part: dict | None) -> dict[str, np.ndarray]:
    """The space coordinates of the output, or of one process's `part` of it."""
    ranges = part["ranges"] if part else {}
    return {a: x[slice(*ranges[a])] if a in ranges else x
            for a, x in program.output_coordinates().items()}


def _output_shape(program: FDProgram, name: str) -> tuple[int, ...]:
    return tuple(program.grid.axis(a).points for a in program.axes_of(name))
