"""Run fd cases on one device and split over several, in a process of its own.

JAX fixes its device count when it starts, so the tests that need several (simulated CPU)
devices run this script in a subprocess with XLA_FLAGS set:

    XLA_FLAGS=--xla_force_host_platform_device_count=4 python sharded_worker.py OUT CASE...

For each CASE it writes OUT/CASE.npz holding `one` (the field on one device), `split`
(the same solve over the devices of the case's mesh) and `meta` (the split run's meta).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

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

# name: (source, options of both runs, mesh of the split run)
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
}


def run(case: str, out: Path) -> None:
    import numpy as np

    import pdelang as pl
    import runtime

    source, options, mesh = CASES[case]
    system = pl.load(source) if isinstance(source, Path) else pl.parse(source)
    options = dict(options, frames=4)
    one = runtime.solve(system, "fd", devices=1, **options)
    split = runtime.solve(system, "fd", devices=int(np.prod(list(mesh.values()))),
                          mesh=mesh, **options)
    np.savez(out / f"{case}.npz", one=one.values["u"], split=split.values["u"],
             meta=json.dumps(split.meta, default=str))


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    for name in sys.argv[2:]:
        run(name, folder)
