"""The diffusion coefficient of a rod from noisy snapshots, by each method.

    u_t = k u_xx on x in [0, 1], t in [0, 0.5], u = 0 at both ends,
    u(0, x) = sin(pi x) + 0.5 sin(3 pi x); truth k = 0.1, first guess 0.5

Data: examples/data/heat_snapshots.csv, 5 snapshots (t = 0.1 ... 0.5) of 41 points with
Gaussian noise of 1% of the data's RMS. Times are wall-clock seconds of `runtime.solve`
on this machine, compilation included (every call compiles afresh); JAX's import and
backend start-up excluded.

Run: python benchmarks/inverse_heat.py [--methods fd,odil,pinn]
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from timing import warm_up

import pdelang as pl
import runtime

ROOT = Path(__file__).resolve().parent.parent
TRUTH = 0.1
OPTIONS = {"fd": {"grid": 129}, "odil": {"grid": 65}, "pinn": {}}


def run(method: str) -> dict:
    system = pl.load(ROOT / "examples" / "heat_inverse.pde")
    start = time.perf_counter()
    solution = runtime.solve(system, method, **OPTIONS[method])
    seconds = time.perf_counter() - start
    k = float(solution.params["k"])
    return {"method": method, "seconds": seconds, "k": k, "relative_error": abs(k / TRUTH - 1),
            "u_error": solution.errors().get("u"), "options": OPTIONS[method]}


def main() -> None:
    warm_up()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="fd,odil,pinn")
    args = parser.parse_args()
    rows = [run(m) for m in args.methods.split(",")]
    print(f"{'method':<7}{'options':<14}{'time s':>8}{'k':>12}{'rel. error':>12}"
          f"{'u rel. L2':>12}")
    for r in rows:
        options = ",".join(f"{k}={v}" for k, v in r["options"].items()) or "defaults"
        print(f"{r['method']:<7}{options:<14}{r['seconds']:>8.2f}{r['k']:>12.6f}"
              f"{r['relative_error']:>12.2e}{r['u_error']:>12.2e}")
    print(json.dumps({"benchmark": "inverse_heat", "rows": rows}))


if __name__ == "__main__":
    main()
