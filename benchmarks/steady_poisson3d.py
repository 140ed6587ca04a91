"""Steady 3-D Poisson (examples/poisson3d.pde: laplace(u) = f in the unit cube, manufactured
solution, Dirichlet faces) at 33^3, 65^3 and 129^3 nodes: pdelang's generated multigrid
against SciPy's sparse direct solve and pyamg's smoothed aggregation on the same
second-order 7-point discretisation.

Each solver runs in a process of its own (its peak resident memory is that process's):
  pdelang   `runtime.solve(system, "fd", grid=n)` (auto: multigrid here), first call
            (lowering, coarse levels and compilation included) and warm (a repeated solve)
  spsolve   scipy.sparse.linalg.spsolve (SuperLU) on the interior unknowns, matrix
            assembly excluded; stopped after --direct-limit seconds
  pyamg     smoothed_aggregation_solver setup and solve (V-cycles accelerated by CG) to a
            relative residual of 1e-10, assembly excluded
Errors: relative L2 against the exact solution on the nodes (equal for equal
discretisations solved to tolerance).

Run: python benchmarks/steady_poisson3d.py [--sizes 33 65 129] [--direct-limit 120]
(pyamg: pip install "pdelang[bench]"). Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "poisson3d.pde"


def exact(x, y, z):
    return np.sin(np.pi * x) * np.sin(np.pi * y) * np.sin(np.pi * z) + x * y * z


def source(x, y, z):
    return -3 * np.pi**2 * np.sin(np.pi * x) * np.sin(np.pi * y) * np.sin(np.pi * z)


def assemble(n: int):
    """The 7-point Laplacian on the (n-2)^3 interior nodes, Dirichlet values moved to the
    right-hand side: (A, b, exact values on the whole grid, mesh)."""
    import scipy.sparse as sps

    h = 1.0 / (n - 1)
    m = n - 2
    one = sps.diags([np.ones(m - 1), -2 * np.ones(m), np.ones(m - 1)], [-1, 0, 1]) / h**2
    eye = sps.identity(m)
    A = (sps.kron(sps.kron(one, eye), eye) + sps.kron(sps.kron(eye, one), eye)
         + sps.kron(sps.kron(eye, eye), one)).tocsr()
    nodes = np.linspace(0, 1, n)
    mesh = np.meshgrid(nodes, nodes, nodes, indexing="ij")
    u = exact(*mesh)
    boundary = u.copy()
    boundary[1:-1, 1:-1, 1:-1] = 0.0
    lap_boundary = np.zeros_like(u)                 # the boundary values' share of A u
    for axis in range(3):
        lap_boundary += (np.roll(boundary, 1, axis) + np.roll(boundary, -1, axis)) / h**2
    inner = (slice(1, -1),) * 3
    b = source(*mesh)[inner] - lap_boundary[inner]
    return A, b.ravel(), u, inner


def worker(kind: str, n: int) -> dict:
    if kind == "pdelang":
        import pdelang as pl
        import runtime

        system = pl.load(EXAMPLE)
        start = time.perf_counter()
        runtime.solve(system, "fd", grid=n)
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        warm = runtime.solve(system, "fd", grid=n)
        warm_s = time.perf_counter() - start
        out = {"first_s": first_s, "warm_s": warm_s, "error": warm.errors()["u"],
               "solver": warm.meta["solver"], "cycles": warm.meta["iterations"],
               "converged": bool(warm.converged)}
    else:
        A, b, u, inner = assemble(n)
        start = time.perf_counter()
        if kind == "spsolve":
            from scipy.sparse.linalg import spsolve

            x = spsolve(A.tocsc(), b)
            info = {}
        else:
            import pyamg

            ml = pyamg.smoothed_aggregation_solver(-A)        # -laplace: positive definite
            residuals: list[float] = []
            x = ml.solve(-b, tol=1e-10, accel="cg", residuals=residuals)
            info = {"iterations": len(residuals) - 1}
        seconds = time.perf_counter() - start
        solution = u.copy()
        solution[inner] = x.reshape(u[inner].shape)
        out = {"warm_s": seconds, "error": float(np.linalg.norm(solution - u)
                                                 / np.linalg.norm(u)), **info}
    out["peak_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return out


def run(kind: str, n: int, limit: float) -> dict:
    try:
        done = subprocess.run([sys.executable, __file__, "--worker", kind, str(n)],
                              capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return {"stopped_after_s": limit}
    if done.returncode:
        return {"failed": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[33, 65, 129])
    parser.add_argument("--direct-limit", type=float, default=120.0)
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]))))
        return {}
    results = {}
    print(f"{'n^3':>6} {'unknowns':>10} {'solver':<9} {'first s':>8} {'warm s':>8} "
          f"{'peak GiB':>9} {'rel L2':>10}  notes")
    for n in args.sizes:
        for kind in ("pdelang", "spsolve", "pyamg"):
            limit = args.direct_limit if kind == "spsolve" else 1200.0
            row = run(kind, n, limit)
            results[f"{kind}_{n}"] = row
            if "warm_s" not in row:
                print(f"{n:>6} {n**3:>10} {kind:<9} {'-':>8} {'-':>8} {'-':>9} {'-':>10}  "
                      + (f"stopped after {row['stopped_after_s']:.0f} s"
                         if "stopped_after_s" in row else f"failed: {row['failed']}"))
                continue
            first = f"{row['first_s']:.2f}" if "first_s" in row else "-"
            notes = (f"{row['solver']}, {row['cycles']} V-cycles" if kind == "pdelang"
                     else f"{row['iterations']} iterations" if "iterations" in row else "")
            print(f"{n:>6} {n**3:>10} {kind:<9} {first:>8} {row['warm_s']:>8.2f} "
                  f"{row['peak_gib']:>9.2f} {row['error']:>10.3e}  {notes}")
    times = [results[f"pdelang_{n}"].get("warm_s") for n in args.sizes]
    if len(args.sizes) > 1 and all(times):
        slope = np.polyfit(np.log([n**3 for n in args.sizes]), np.log(times), 1)[0]
        print(f"pdelang warm time grows as unknowns^{slope:.2f} from {args.sizes[0]}^3 to "
              f"{args.sizes[-1]}^3")
        results["pdelang_time_exponent"] = float(slope)
    print(json.dumps({"case": "steady_poisson3d", **results}))
    return results


if __name__ == "__main__":
    main()
