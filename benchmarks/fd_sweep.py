"""A parameter sweep against separate solves: the heat equation of
examples/heat1d_dirichlet.pde (u_t = alpha u_xx, exact solution known for every alpha) for
64 diffusivities alpha in [0.1, 1].

Rows: `runtime.solve(system, "fd", sweep={"alpha": values})`, first call (lowering and
compilation included) and warm (best of --repeats); then what a user writes without a sweep,
one `runtime.solve` per value (each a new system: it lowers and compiles again), timed over
--separate values and scaled to all of them; and a loop of one-member sweeps with the
sweep's dt, which compiles once and then only runs (about the least a loop of separate
solves can cost, warm). Errors: the worst member's relative L2 error
against the exact solution, and the largest difference between a sweep member and its
separate solve (the sweep steps every member with the stiffest member's dt).

Run: python benchmarks/fd_sweep.py [--members 64] [--grid 65] [--repeats 3]
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from timing import warm_up

import pdelang as pl
import runtime

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "heat1d_dirichlet.pde"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=64)
    parser.add_argument("--grid", type=int, default=65)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--separate", type=int, default=8,
                        help="separate solves timed (scaled to all members)")
    args = parser.parse_args(argv)
    warm_up()
    system = pl.load(EXAMPLE)
    values = np.linspace(0.1, 1.0, args.members)

    def sweep():
        return runtime.solve(system, "fd", grid=args.grid, sweep={"alpha": values})

    start = time.perf_counter()
    swept = sweep()
    first = time.perf_counter() - start
    warm = np.inf
    for _ in range(args.repeats):
        start = time.perf_counter()
        sweep()
        warm = min(warm, time.perf_counter() - start)

    picks = np.unique(np.linspace(0, args.members - 1, args.separate).astype(int))
    start = time.perf_counter()
    separate = {int(i): runtime.solve(system.with_constants({"alpha": float(values[i])}), "fd",
                                      grid=args.grid) for i in picks}
    per_solve = (time.perf_counter() - start) / len(picks)
    difference = max(float(np.abs(separate[i].values["u"] - swept.values["u"][i]).max())
                     for i in picks)
    separate_error = max(s.errors()["u"] for s in separate.values())

    dt = swept.meta["dt"]            # one step for all, as the sweep's: one compiled program
    runtime.solve(system, "fd", grid=args.grid, dt=dt, sweep={"alpha": values[:1]})
    start = time.perf_counter()
    for value in values:
        runtime.solve(system, "fd", grid=args.grid, dt=dt, sweep={"alpha": [value]})
    compiled_loop = time.perf_counter() - start

    rows = [("sweep, first call", first), ("sweep, warm", warm),
            (f"{args.members} separate runtime.solve calls", per_solve * args.members),
            (f"{args.members} one-member sweeps, compiled once", compiled_loop)]
    result = {
        "case": "fd_sweep", "members": args.members, "grid": args.grid,
        "integrator": swept.meta["integrator"], "dt": swept.meta["dt"],
        "steps": swept.meta["steps"], "sweep_first_s": first, "sweep_warm_s": warm,
        "separate_per_solve_s": per_solve, "separate_total_s": per_solve * args.members,
        "throughput_ratio_warm": per_solve * args.members / warm,
        "throughput_ratio_first": per_solve * args.members / first,
        "compiled_loop_s": compiled_loop, "throughput_ratio_compiled_loop": compiled_loop / warm,
        "worst_member_error": swept.errors()["u"], "separate_worst_error": separate_error,
        "max_difference_to_separate": difference,
    }
    print(f"heat 1-D, grid {args.grid}, {args.members} values of alpha in [0.1, 1]; "
          f"integrator {result['integrator']}, dt {result['dt']:.3g}, {result['steps']} steps")
    print(f"{'run':<40} {'seconds':>9} {'members/s':>10}")
    for name, seconds in rows:
        print(f"{name:<40} {seconds:>9.3f} {args.members / seconds:>10.1f}")
    print(f"throughput, sweep (warm) vs separate solves: {result['throughput_ratio_warm']:.1f}x"
          f" (first call: {result['throughput_ratio_first']:.1f}x); vs a compiled loop: "
          f"{result['throughput_ratio_compiled_loop']:.1f}x")
    print(f"worst member error vs exact {result['worst_member_error']:.3e} (separate solves: "
          f"{separate_error:.3e}); sweep vs separate, largest difference {difference:.2e}")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
