"""Lorenz parameters from a trajectory (the DeepXDE inverse benchmark) by each method.

    x' = sigma (y - x),  y' = x (rho - z) - y,  z' = x y - beta z,  t in [0, 3]
    x(0) = (-8, 7, 27); truth (sigma, rho, beta) = (10, 15, 8/3); first guess (1, 1, 1)

Two data sets at the same 25 times: `exact` (examples/data/lorenz.csv, integrated to 1e-12)
and `deepxde` (the values in ../shared/reference/Lorenz.npz, which differ from the exact
trajectory by up to 0.012, so no method can fit them to better than about 1e-3 in sigma).
Published: DeepXDE 362 s; an ODE-solver fit (DiffEqFlux with BOBYQA) 0.03 s.

Times are wall-clock seconds of `runtime.solve` on this machine, compilation included
(every call compiles afresh); JAX's import and backend start-up excluded.

Run: python benchmarks/inverse_lorenz.py [--methods fd,odil,pinn] [--data exact,deepxde]
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from timing import warm_up

import pdelang as pl
import runtime

ROOT = Path(__file__).resolve().parent.parent
TRUTH = {"sigma": 10.0, "rho": 15.0, "beta": 8.0 / 3.0}
REFERENCE = ROOT.parent / "shared" / "reference" / "Lorenz.npz"
OPTIONS = {"fd": {}, "odil": {"grid": 3001},
           "pinn": {"data_weight": 100.0, "learning_rate": 1e-2}}


def system_for(data: str):
    source = ROOT / "examples" / "lorenz_inverse.pde"
    if data == "exact":
        return pl.load(source)
    with np.load(REFERENCE) as reference:
        table = np.column_stack([reference["t"].ravel(), reference["y"]])
    folder = Path(tempfile.mkdtemp())
    np.savetxt(folder / "lorenz.csv", table, delimiter=",", header="t,x,y,z", comments="")
    text = source.read_text().replace('"data/lorenz.csv"', '"lorenz.csv"')
    return pl.parse(text, base=folder)


def run(method: str, data: str) -> dict:
    system = system_for(data)
    start = time.perf_counter()
    solution = runtime.solve(system, method, **OPTIONS[method])
    seconds = time.perf_counter() - start
    errors = {k: abs(float(solution.params[k]) / v - 1) for k, v in TRUTH.items()}
    return {"method": method, "data": data, "seconds": seconds,
            "params": {k: float(solution.params[k]) for k in TRUTH},
            "max_relative_error": max(errors.values()), "options": OPTIONS[method]}


def main() -> None:
    warm_up()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="fd,odil")
    parser.add_argument("--data", default="exact,deepxde")
    args = parser.parse_args()
    rows = [run(m, d) for m in args.methods.split(",") for d in args.data.split(",")]
    print(f"{'method':<7}{'data':<9}{'time s':>8}{'sigma':>12}{'rho':>12}{'beta':>12}"
          f"{'max rel. error':>16}")
    for r in rows:
        p = r["params"]
        print(f"{r['method']:<7}{r['data']:<9}{r['seconds']:>8.2f}{p['sigma']:>12.6f}"
              f"{p['rho']:>12.6f}{p['beta']:>12.6f}{r['max_relative_error']:>16.2e}")
    print("published: DeepXDE 362 s; DiffEqFlux + BOBYQA 0.03 s")
    print(json.dumps({"benchmark": "inverse_lorenz", "rows": rows}))


if __name__ == "__main__":
    main()
