"""The 2-D Brusselator of the SciML stiff benchmarks (examples/brusselator2d.pde; A = 3.4,
B = 1, alpha = 10, periodic, t to 11.5): pdelang's bdf (variable-order BDF, its sparse LU by
SuperLU in METIS's nested-dissection order and, where pypardiso is installed, by MKL
PARDISO) and rodas4 on the grid, against
SciPy's BDF given the Jacobian's sparsity pattern (`jac_sparsity`), all at rtol 1e-6,
atol 1e-9. Each pdelang row is a warm `runtime.solve` (its first call compiles).

SciPy integrates the same method-of-lines system: the 5-point Laplacian on the periodic
n x n nodes (h = 1/n), written in NumPy. Accuracy: u and v at t = 11.5 against SciPy's
Radau at rtol 1e-10 (`--reference` off skips it on large grids).

Run: python benchmarks/stiff_brusselator.py [--n 33] [--no-reference] [--no-rodas4]
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sps
from scipy.integrate import solve_ivp
from timing import warm_up

import pdelang as pl
import runtime
from runtime.algebra.sparse_lu import pardiso_available

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "brusselator2d.pde"
A, B, ALPHA, T_END = 3.4, 1.0, 10.0, 11.5
RTOL, ATOL = 1e-6, 1e-9


def numpy_system(n: int):
    """rhs(t, y) on the n x n periodic nodes (u then v, C order) and its sparsity."""
    x = np.arange(n) / n
    X, Y = np.meshgrid(x, x, indexing="ij")
    disc = ((X - 0.3) ** 2 + (Y - 0.6) ** 2 <= 0.01).astype(float)
    scale = ALPHA * n**2

    def laplace(w):
        return (np.roll(w, 1, 0) + np.roll(w, -1, 0) + np.roll(w, 1, 1) + np.roll(w, -1, 1)
                - 4 * w)

    def rhs(t, y):
        u, v = y[:n * n].reshape(n, n), y[n * n:].reshape(n, n)
        forcing = 5.0 * disc if t >= 1.1 else 0.0
        du = B + u * u * v - (A + 1) * u + scale * laplace(u) + forcing
        dv = A * u - u * u * v + scale * laplace(v)
        return np.concatenate([du.ravel(), dv.ravel()])

    one = sps.identity(n, format="csr")
    ring = sps.csr_matrix(np.roll(np.eye(n), 1, 0) + np.roll(np.eye(n), -1, 0) + np.eye(n))
    stencil = (sps.kron(ring, one) + sps.kron(one, ring)).astype(bool).astype(float)
    pattern = sps.bmat([[stencil, sps.identity(n * n)], [sps.identity(n * n), stencil]])
    u0 = 22 * Y * (1 - Y) ** 1.5
    v0 = 27 * X * (1 - X) ** 1.5
    return rhs, (pattern != 0).astype(int), np.concatenate([u0.ravel(), v0.ravel()])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=33, help="grid points per axis (pdelang's "
                        "grid, ends included; n - 1 periodic nodes)")
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--no-rodas4", action="store_true", help="skip rodas4 (it "
                        "refactorises every step: minutes at 129 points)")
    args = parser.parse_args()
    warm_up()
    system = pl.load(EXAMPLE)
    nodes = args.n - 1
    runs = [("bdf", "superlu")] + ([("bdf", "pardiso")] if pardiso_available() else [])
    runs += [] if args.no_rodas4 else [("rodas4", "superlu")]
    rows, finals = [], {}
    for method, backend in runs:
        os.environ["PDELANG_SPARSE_LU"] = backend
        start = time.perf_counter()
        runtime.solve(system, "fd", grid=args.n, integrator=method, frames=2)
        first = time.perf_counter() - start
        start = time.perf_counter()
        solution = runtime.solve(system, "fd", grid=args.n, integrator=method, frames=2)
        warm = time.perf_counter() - start
        name = f"pdelang {method}" + (f" ({backend})" if method == "bdf" else "")
        rows.append((name, first, warm, solution.meta["steps"]))
        finals[name] = np.concatenate([np.asarray(solution.values[k])[-1][:-1, :-1].ravel()
                                       for k in ("u", "v")])
    os.environ.pop("PDELANG_SPARSE_LU")

    rhs, pattern, y0 = numpy_system(nodes)
    start = time.perf_counter()
    bdf = solve_ivp(rhs, (0, T_END), y0, method="BDF", rtol=RTOL, atol=ATOL,
                    jac_sparsity=pattern)
    bdf_s = time.perf_counter() - start
    rows.append(("SciPy BDF (jac_sparsity)", math.nan, bdf_s, bdf.t.size - 1))
    finals["SciPy BDF (jac_sparsity)"] = bdf.y[:, -1]
    errors = {}
    if not args.no_reference:
        reference = solve_ivp(rhs, (0, T_END), y0, method="Radau", rtol=1e-10, atol=1e-12,
                              jac_sparsity=pattern).y[:, -1]
        scale = np.linalg.norm(reference)
        errors = {name: float(np.linalg.norm(y - reference) / scale)
                  for name, y in finals.items()}
    print(f"Brusselator 2-D, {nodes} x {nodes} periodic nodes x 2 species, t to {T_END}, "
          f"rtol {RTOL:g}, atol {ATOL:g}")
    print(f"{'solver':<30} {'first (s)':>9} {'warm (s)':>9} {'steps':>7} {'error':>9} "
          f"{'SciPy/this':>10}")
    for name, first, warm, steps in rows:
        error = errors.get(name, math.nan)
        print(f"{name:<30} {first:9.2f} {warm:9.2f} {steps:7d} {error:9.2e} "
              f"{bdf_s / warm:10.2f}")
    if errors:
        print("error: relative L2 at t = 11.5 against SciPy's Radau at rtol 1e-10")
    print(json.dumps({"benchmark": "stiff_brusselator", "nodes": nodes, "scipy_bdf_s": bdf_s,
                      "rows": [{"solver": name, "first_s": first, "warm_s": warm,
                                "steps": steps, "error": errors.get(name),
                                "scipy_bdf_over_this": bdf_s / warm}
                               for name, first, warm, steps in rows]}))


if __name__ == "__main__":
    main()
