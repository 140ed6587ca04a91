"""Run fd and odil cases on one device and split over several, in a process of its own.

JAX fixes its device count when it starts, so the tests that need several (simulated CPU)
devices run this script in a subprocess with XLA_FLAGS set:

    XLA_FLAGS=--xla_force_host_platform_device_count=4 python sharded_worker.py OUT CASE...

For each CASE it writes OUT/CASE.npz holding `one` (the field on one device), `split`
(the same solve over the devices of the case's mesh), for time-dependent fd cases
`one_rates` and `split_rates` (u_t and u_tt stacked), `meta` (the split run's meta) and
`params` (the inferred constants of both runs, {"one": ..., "split": ...}) and, for
steady and odil cases, `collectives` (how many of each collective operation the compiled
colour jvps of the split run hold).
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

DIRICHLET_2D = """
param alpha = 0.1
space x in [0, 1], y in [0, 2]
time  t in [0, 0.05]
field u(t, x, y)
pde   d(u, t) = alpha*laplace(u) + x*y
bc    u = 0 at x = 0
bc    u = y at x = 1
bc    d(u, y) = 0 at y = 0
bc    u = 0 at y = 2
ic    u = sin(pi*x)*sin(pi*y/2) at t = 0
"""

# a steady problem periodic in both coordinates, nonlinear (Newton takes several steps)
PERIODIC_STEADY = """
space x in [0, 1], y in [0, 2]
field u(x, y)
pde   laplace(u) - u - u^3 = 10*sin(2*pi*x)*cos(pi*y) + 1
bc    periodic x, y
"""

# name: (source, options of both runs (method "fd" unless given), mesh of the split run)
CASES = {
    "neumann_1d": (EXAMPLES / "heat1d.pde", dict(grid=65), {"x": 4}),
    "periodic_1d": (EXAMPLES / "advection1d.pde", dict(grid=103), {"x": 4}),
    "wave_1d_accuracy4": (EXAMPLES / "wave1d.pde", dict(grid=66, accuracy=4), {"x": 4}),
    "mixed_2d_mesh2x2": (DIRICHLET_2D, dict(grid={"x": 21, "y": 31}), {"x": 2, "y": 2}),
    "mixed_2d_mesh1x4": (DIRICHLET_2D, dict(grid={"x": 21, "y": 31}), {"y": 4}),
    "periodic_2d_mesh2x2": (EXAMPLES / "heat2d_periodic.pde", dict(grid=33),
                            {"x": 2, "y": 2}),
    "periodic_2d_mesh4x1": (EXAMPLES / "heat2d_periodic.pde", dict(grid=35), {"x": 4}),
    "sdirk2_2d": (EXAMPLES / "heat2d_periodic.pde", dict(grid=17, integrator="sdirk2"),
                  {"x": 2, "y": 2}),
    "dopri5_1d": (EXAMPLES / "heat1d.pde", dict(grid=33, integrator="dopri5"), {"x": 4}),
    # nonlinear schemes: halos of width 3 (weno5, ghost values extrapolated at the ends)
    # and 2 (muscl, periodic)
    "weno5_1d": (EXAMPLES / "burgers1d.pde", dict(grid=103, scheme="weno5"), {"x": 4}),
    "muscl_periodic_1d": (EXAMPLES / "advection1d.pde", dict(grid=103, scheme="muscl-vanleer"),
                          {"x": 4}),
    # steady fd: the residual and the colour jvps split, the sparse LU on the host
    "steady_dirichlet_mesh2x2": (EXAMPLES / "poisson2d.pde", dict(grid={"x": 23, "y": 30}),
                                 {"x": 2, "y": 2}),
    "steady_dirichlet_mesh4x1": (EXAMPLES / "poisson2d.pde", dict(grid={"x": 23, "y": 30}),
                                 {"x": 4}),
    "steady_periodic_mesh1x4": (PERIODIC_STEADY, dict(grid={"x": 26, "y": 35}), {"y": 4}),
    "steady_periodic_mesh2x2": (PERIODIC_STEADY, dict(grid={"x": 26, "y": 35}),
                                {"x": 2, "y": 2}),
    # odil: the space-time grid split, time counting as a coordinate
    "odil_forward_mesh4x1": (EXAMPLES / "heat1d.pde", dict(method="odil", grid=31), {"t": 4}),
    "odil_forward_mesh2x2": (EXAMPLES / "heat1d.pde", dict(method="odil", grid=31),
                             {"t": 2, "x": 2}),
    "odil_inverse_mesh1x4": (EXAMPLES / "heat_inverse.pde",
                             dict(method="odil", grid={"t": 27, "x": 41}), {"x": 4}),
    "odil_inverse_mesh2x2": (EXAMPLES / "heat_inverse.pde",
                             dict(method="odil", grid={"t": 27, "x": 41}), {"t": 2, "x": 2}),
}


def run(case: str, out: Path) -> None:
    import numpy as np

    import pdelang as pl
    import runtime

    source, options, mesh = CASES[case]
    system = pl.load(source) if isinstance(source, Path) else pl.parse(source)
    options = dict(options)
    method = options.pop("method", "fd")
    if method == "fd":            # odil's grid holds time; it takes no frames
        options["frames"] = 4
    one = runtime.solve(system, method, devices=1, **options)
    split = runtime.solve(system, method, devices=int(np.prod(list(mesh.values()))),
                          mesh=mesh, **options)
    steady = method == "odil" or system.time is None
    rates = {} if steady else {
        f"{run}_rates": np.stack([solution.rates["u_t"], solution.rates["u_tt"]])
        for run, solution in (("one", one), ("split", split))}
    np.savez(out / f"{case}.npz", one=one.values["u"], split=split.values["u"], **rates,
             meta=json.dumps(split.meta, default=str),
             params=json.dumps({"one": one.params, "split": split.params}),
             collectives=json.dumps(collectives(system, method, options, mesh) if steady
                                    else {}))


def collectives(system, method: str, options: dict, mesh: dict) -> dict[str, int]:
    """Collective operations in the compiled colour jvps of a steady or odil residual
    split over `mesh`: halo exchanges are collective permutes; an all-gather would mean
    that a whole field is assembled on every device."""
    import jax
    import jax.numpy as jnp

    from compiler.fd import FDOptions, lower_fd
    from compiler.odil import space_time_system
    from runtime.algebra.sparse_jacobian import Sparsity, make_sparse_jacobian
    from runtime.parallel.fd_program import place_fd

    if method == "odil":
        system = space_time_system(system)
    with jax.enable_x64(True):
        program = lower_fd(system, FDOptions(options["grid"], dtype="float64"))
        params = program.prepare({k: jnp.asarray(v) for k, v in program.params.items()})
        periodic = {k: tuple(program.grid.axis(a).periodic for a in program.axes_of(k))
                    for k in program.state_keys}
        U0 = program.initial(params)
        jac = make_sparse_jacobian(program.residual, U0, Sparsity(program.reach, periodic),
                                   placement=place_fd(program, mesh=mesh))
        compiled = jac._compressed.lower(jac.vector.put_vector(jac.ravel(U0)), params,
                                         jac._seeds).compile().as_text()
    return dict(Counter(re.findall(r"(all-gather|all-reduce|all-to-all|collective-permute)"
                                   r"(?:-start)?\(", compiled)))


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    for name in sys.argv[2:]:
        run(name, folder)
