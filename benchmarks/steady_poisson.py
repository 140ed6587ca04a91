"""2-D Poisson at 513 x 513 with runtime.algebra.newton: where the time of a steady FD solve goes.

    -(u_xx + u_yy) = f on the unit square, u = g on the edges,
    exact u = sin(pi x) sin(2 pi y) + x y^2  (5-point stencil, Dirichlet rows u - g)

The residual is written by hand in JAX, as the FD compiler would generate it; the solver
sees only the residual and its stencil reach. Stages (from SteadyResult.timings):
setup (colouring, CSR pattern), residual (jitted evaluations, compile included),
jacobian (one jvp per colour and the CSR gather, compile included), factor (SuperLU),
solve (triangular solves). `--baseline` also times scipy's default spsolve on the same
matrix, for comparison. Not a test: nothing is asserted.

Run: python benchmarks/steady_poisson.py [--n 513] [--repeat 1] [--baseline]
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import jax

jax.config.update("jax_enable_x64", True)  # a script, not library code

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import scipy.sparse.linalg as spla  # noqa: E402

from runtime.algebra.newton import SteadyResult, solve_steady  # noqa: E402
from runtime.algebra.sparse_jacobian import Sparsity, make_sparse_jacobian  # noqa: E402


def poisson(n: int):
    """Residual, exact solution, params and sparsity of the benchmark problem on n x n."""
    x = jnp.linspace(0.0, 1.0, n)
    X, Y = jnp.meshgrid(x, x, indexing="ij")
    h = 1.0 / (n - 1)
    exact = jnp.sin(jnp.pi * X) * jnp.sin(2 * jnp.pi * Y) + X * Y**2
    f = 5 * jnp.pi**2 * jnp.sin(jnp.pi * X) * jnp.sin(2 * jnp.pi * Y) - 2 * X

    def residual(U, p):
        u = U["u"]
        lap = (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1]) / h**2
        return {"u": (u - p["g"]).at[1:-1, 1:-1].set(-lap - p["f"][1:-1, 1:-1])}

    return residual, exact, {"f": f, "g": exact}, Sparsity(1, {"u": (False, False)})


def run_once(n: int) -> tuple[SteadyResult, dict]:
    residual, exact, params, sparsity = poisson(n)
    result = solve_steady(residual, {"u": jnp.zeros((n, n))}, params, sparsity, linear=True)
    error = np.asarray(result.U["u"] - exact)
    figures = {
        "max_error": float(np.abs(error).max()),
        "rel_l2_error": float(np.linalg.norm(error) / np.linalg.norm(np.asarray(exact))),
        "rel_residual": result.residual_norm / result.history[0],
    }
    return result, figures


def baseline(n: int) -> float:
    """Seconds for scipy's default spsolve (COLAMD, no scaling) on the same Jacobian."""
    residual, _, params, sparsity = poisson(n)
    U0 = {"u": jnp.zeros((n, n))}
    jac = make_sparse_jacobian(residual, U0, sparsity)
    r, J = jac.linearize(jac.ravel(U0), params)
    start = time.perf_counter()
    spla.spsolve(J.tocsc(), -r)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=513, help="grid points per axis")
    parser.add_argument("--repeat", type=int, default=1, help="runs; the fastest is shown")
    parser.add_argument("--baseline", action="store_true", help="also time scipy spsolve")
    args = parser.parse_args()

    runs = [run_once(args.n) for _ in range(max(args.repeat, 1))]
    result, figures = min(runs, key=lambda run: run[0].wall_time)
    t = result.timings
    rows = [
        ("setup: colouring + CSR pattern", t["setup"]),
        ("residual evaluations (+ jit)", t["residual"]),
        ("assembly: jvps + CSR (+ jit)", t["jacobian"]),
        ("factorisation (SuperLU)", t["factor"]),
        ("triangular solves", t["solve"]),
        ("total wall time", result.wall_time),
    ]
    print(f"2-D Poisson, {args.n} x {args.n} = {args.n**2} unknowns, {os.cpu_count()} CPUs")
    print(f"{'stage':34s} {'seconds':>9s}")
    for name, seconds in rows:
        print(f"{name:34s} {seconds:9.3f}")
    for name, value in figures.items():
        print(f"{name:34s} {value:9.2e}")
    record = {
        "benchmark": "steady_poisson",
        "n": args.n,
        "unknowns": args.n**2,
        "cpus": os.cpu_count(),
        "timings_s": {k: round(v, 4) for k, v in t.items()},
        "total_s": round(result.wall_time, 4),
        "method": result.method,
        **figures,
    }
    if args.baseline:
        record["scipy_spsolve_s"] = round(baseline(args.n), 4)
        print(f"{'scipy spsolve, default (compare)':34s} {record['scipy_spsolve_s']:9.3f}")
    print(json.dumps(record))


if __name__ == "__main__":
    main()
