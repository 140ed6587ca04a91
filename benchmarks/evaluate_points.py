"""Reading a Solution at many points: `sol("u", x=xs, y=ys)` against SciPy's interpolators on
the same grid and points (issue 21).

    examples/poisson2d.pde: u_xx + u_yy = -sin(pi x) sin(pi y) on the unit square, u = 0 on
    the edges, exact u = sin(pi x) sin(pi y) / (2 pi^2)

pdelang solves it with fd on grid 257; the solution is then read at 10^6 random points of the
square by `sol("u", ...)`, `sol("u", ..., interpolation="linear")` and `sol("d(u, x)",
...)`, and by what a user would reach for on the same grid values: SciPy's RegularGridInterpolator
(linear, cubic) and RectBivariateSpline (cubic). Each is timed warm (the best of two calls
after a first one) and its largest error against the exact solution is shown; the fd
solution's own error at its nodes is the floor an interpolant can reach. The derivative's
error is against the exact d(u, x) = cos(pi x) sin(pi y) / (2 pi).

Run: python benchmarks/evaluate_points.py [--grid 257] [--points 1000000] [--repeats 2]
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from timing import first_and_best

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "poisson2d.pde"


def exact(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The spec's `exact u`."""
    return np.sin(np.pi * x) * np.sin(np.pi * y) / (2 * np.pi**2)


def exact_dx(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.cos(np.pi * x) * np.sin(np.pi * y) / (2 * np.pi)


def readers(sol, xs: np.ndarray, ys: np.ndarray) -> list[tuple[str, Callable, Callable]]:
    """(name, call, the exact function it approximates) of every reader measured."""
    from scipy.interpolate import RectBivariateSpline, RegularGridInterpolator

    axes = (np.asarray(sol.grid["x"]), np.asarray(sol.grid["y"]))
    values = np.asarray(sol.values["u"])
    points = np.stack([xs, ys], axis=-1)
    linear = RegularGridInterpolator(axes, values, method="linear")
    cubic = RegularGridInterpolator(axes, values, method="cubic")
    spline = RectBivariateSpline(*axes, values, kx=3, ky=3)
    return [
        ('pdelang sol("u", ...)', lambda: sol("u", x=xs, y=ys), exact),
        ('pdelang interpolation="linear"',
         lambda: sol("u", x=xs, y=ys, interpolation="linear"), exact),
        ('pdelang sol("d(u, x)", ...)', lambda: sol("d(u, x)", x=xs, y=ys), exact_dx),
        ("scipy RegularGridInterpolator linear", lambda: linear(points), exact),
        ("scipy RegularGridInterpolator cubic", lambda: cubic(points), exact),
        ("scipy RectBivariateSpline kx=ky=3", lambda: spline(xs, ys, grid=False), exact),
    ]


def measure(sol, xs: np.ndarray, ys: np.ndarray, repeats: int) -> list[dict]:
    """One row per reader: its warm and first seconds and largest error."""
    rows = []
    for name, read, truth in readers(sol, xs, ys):
        values, first, warm = first_and_best(read, repeats)
        rows.append({"reader": name, "warm_s": warm, "first_s": first,
                     "max_error": float(np.abs(values - truth(xs, ys)).max())})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grid", type=int, default=257)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    import jax
    jax.config.update("jax_enable_x64", True)      # a script, not library code

    import pdelang as pl
    import runtime

    start = time.perf_counter()
    sol = runtime.solve(pl.load(EXAMPLE), method="fd", grid=args.grid)
    solve_s = time.perf_counter() - start
    X, Y = np.meshgrid(sol.grid["x"], sol.grid["y"], indexing="ij")
    at_nodes = float(np.abs(np.asarray(sol.values["u"]) - exact(X, Y)).max())
    xs, ys = np.random.default_rng(0).random((2, args.points))
    rows = measure(sol, xs, ys, args.repeats)

    print(f"poisson2d, fd on {args.grid} x {args.grid} (solve {solve_s:.2f} s, compile "
          f"included), read at {args.points:,} random points; max |u| = {1 / (2 * np.pi**2):.4f}")
    print(f"the fd solution's own max error at its nodes: {at_nodes:.2e}")
    print(f"{'reader':<38} {'warm (s)':>9} {'first (s)':>9} {'Mpoints/s':>10} {'max error':>10}")
    for row in rows:
        print(f"{row['reader']:<38} {row['warm_s']:9.3f} {row['first_s']:9.3f} "
              f"{args.points / row['warm_s'] / 1e6:10.2f} {row['max_error']:10.2e}")
    print(json.dumps({
        "benchmark": "evaluate_points", "grid": args.grid, "points": args.points,
        "solve_s": round(solve_s, 3), "max_error_at_nodes": at_nodes,
        "readers": [{k: (round(v, 4) if k.endswith("_s") else v)
                     for k, v in row.items()} for row in rows]}))


if __name__ == "__main__":
    main()
