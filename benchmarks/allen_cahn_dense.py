"""Allen-Cahn with Dirichlet ends: a Solution evaluated between grid nodes and output frames,
against an independent fine reference (issue 21).

    u_t = 1e-3 u_xx + 5 (u - u^3),  x in [-1, 1], t in [0, 1],
    u(0, x) = x^2 cos(pi x),  u = -1 at x = -1 and x = 1      (DeepXDE's Allen-Cahn example)

The reference is SciPy's, written without pdelang: fourth-order central differences on 4000
intervals (at the nodes next to the ends, the one-sided fourth-order stencil on six nodes),
integrated by Radau IIA (order 5) with the exact sparse Jacobian at rtol 1e-10, atol 1e-12,
and read at t = 0, 0.01, ..., 1. Its own error is estimated by the same computation on 2000
intervals (the difference at the shared nodes is printed). It is then carried to 512 equally
spaced points of [-1, 1] by a cubic spline in x on the fine grid (not the nodes of pdelang's
grid: with grid 513 the two sets share only the ends).

pdelang solves on grid 513 with its defaults (21 frames), and `sol("u", x=X, t=T)` is
read at the 101 x 512 (t, x) pairs: relative L2 error over all of them. For comparison, the
same with `frames=` the 101 reference times, so that time needs no interpolation. Beside
each, the Solution's own values at its nodes and frames against the reference there (no
interpolation at all: the floor that interpolation between them can reach).

Run: python benchmarks/allen_cahn_dense.py [--grid 513] [--intervals 4000] [--repeats 3]
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import scipy.sparse as sparse
from scipy.integrate import solve_ivp
from scipy.interpolate import CubicSpline

SPEC = """
problem "allen-cahn dirichlet"

param eps2 = 1e-3                    # diffusion coefficient
param k = 5                          # reaction rate

space x in [-1, 1]
time  t in [0, 1]
field u(t, x)

pde d(u, t) = eps2*d(u, x, 2) + k*(u - u^3)

bc u = -1 at x = -1
bc u = -1 at x = 1
ic u = x^2*cos(pi*x) at t = 0
"""

EPS2, RATE, END = 1e-3, 5.0, -1.0           # the spec's constants and the Dirichlet value
TIMES = np.linspace(0.0, 1.0, 101)          # the reference's times
POINTS = np.linspace(-1.0, 1.0, 512)        # where the reference is read in x


def second_derivative(n: int) -> sparse.csr_matrix:
    """u_xx on the n - 1 interior nodes of n intervals of [-1, 1], fourth order: the centred
    five-point stencil, and at the two nodes next to the ends the one-sided stencil on six
    nodes (the end value enters through `boundary_column`)."""
    h = 2.0 / n
    m = n - 1
    centred = np.array([-1.0, 16.0, -30.0, 16.0, -1.0]) / (12 * h**2)
    rows, cols, vals = [], [], []
    for i in range(1, m - 1):                              # interior index i <-> node i + 1
        for offset, weight in zip(range(-2, 3), centred):
            j = i + offset
            if 0 <= j < m:                                  # j = -1 or m: the end node
                rows.append(i)
                cols.append(j)
                vals.append(weight)
    side = np.array([10.0, -15.0, -4.0, 14.0, -6.0, 1.0]) / (12 * h**2)   # nodes 0..5 at node 1
    for i, direction in ((0, 1), (m - 1, -1)):
        for step, weight in enumerate(side[1:], start=1):
            rows.append(i)
            cols.append(i + direction * (step - 1))
            vals.append(weight)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(m, m))


def boundary_column(n: int) -> np.ndarray:
    """The end nodes' contribution to u_xx at the interior nodes (u = END at both ends)."""
    h = 2.0 / n
    b = np.zeros(n - 1)
    b[[0, -1]] = 10.0 / (12 * h**2) * END        # the six-node stencil's weight on the end
    b[[1, -2]] = -1.0 / (12 * h**2) * END        # the centred stencil reaching the end
    return b


def fine_solution(n: int, times: np.ndarray = TIMES) -> tuple[np.ndarray, np.ndarray]:
    """(nodes, u at `times` x nodes) on n intervals, ends included."""
    x = np.linspace(-1.0, 1.0, n + 1)
    D, b = second_derivative(n), EPS2 * boundary_column(n)
    A = (EPS2 * D).tocsr()

    def rhs(_, u):
        return A @ u + b + RATE * (u - u**3)

    def jacobian(_, u):
        return A + sparse.diags(RATE * (1.0 - 3.0 * u**2))

    start = x[1:-1] ** 2 * np.cos(np.pi * x[1:-1])
    run = solve_ivp(rhs, (times[0], times[-1]), start, method="Radau", t_eval=times,
                    jac=jacobian, rtol=1e-10, atol=1e-12)
    if not run.success:
        raise RuntimeError(f"the reference's integration failed: {run.message}")
    u = np.full((len(times), n + 1), END)
    u[:, 1:-1] = run.y.T
    return x, u


def reference(n: int = 4000, check: int | None = 2000) -> dict:
    """The reference at TIMES x POINTS ("u"), its spline in x at TIMES ("spline"), the
    seconds it took, and its self-check against `check` intervals (max |difference| and
    relative L2 at the shared nodes)."""
    start = time.perf_counter()
    x, u = fine_solution(n)
    seconds = time.perf_counter() - start
    spline = CubicSpline(x, u, axis=1)
    result = {"u": spline(POINTS), "spline": spline, "seconds": seconds, "intervals": n}
    if check:
        x_coarse, u_coarse = fine_solution(check)
        shared = u[:, :: n // check]
        assert np.allclose(x[:: n // check], x_coarse, atol=1e-14)
        result["self_check_max"] = float(np.abs(shared - u_coarse).max())
        result["self_check_rel_l2"] = relative_l2(u_coarse, shared)
        result["self_check_intervals"] = check
    return result


def relative_l2(approximation: np.ndarray, exact: np.ndarray) -> float:
    return float(np.linalg.norm(approximation - exact) / np.linalg.norm(exact))


def solve(grid: int, **options):
    """pdelang's fd Solution of SPEC on `grid` points, and the seconds of a warm call (the
    second of two, so that compilation is not counted)."""
    import pdelang as pl
    import runtime

    system = pl.parse(SPEC)
    seconds = np.inf
    for _ in range(2):
        start = time.perf_counter()
        sol = runtime.solve(system, method="fd", grid=grid, **options)
        seconds = time.perf_counter() - start
    return sol, seconds


def dense_error(sol, u_ref: np.ndarray) -> tuple[float, float]:
    """(relative L2 of `sol("u", x=X, t=T)` against `u_ref` at TIMES x POINTS, seconds of
    that evaluation)."""
    T, X = np.meshgrid(TIMES, POINTS, indexing="ij")
    start = time.perf_counter()
    u = np.asarray(sol("u", x=X, t=T))
    return relative_l2(u, u_ref), time.perf_counter() - start


def node_error(sol, spline) -> float:
    """Relative L2 of the Solution's own values (its nodes and frames, which must be among
    TIMES) against the reference spline there: what the Solution knows before any
    interpolation."""
    frames = np.asarray(sol.grid["t"])
    rows = np.abs(frames[:, None] - TIMES[None, :]).argmin(axis=1)
    assert np.allclose(TIMES[rows], frames, atol=1e-12), "frames off the reference's times"
    return relative_l2(np.asarray(sol.values["u"]), spline(np.asarray(sol.grid["x"]))[rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grid", type=int, default=513)
    parser.add_argument("--intervals", type=int, default=4000)
    parser.add_argument("--check", type=int, default=2000,
                        help="intervals of the reference's self-check (0: none)")
    args = parser.parse_args()

    import jax
    jax.config.update("jax_enable_x64", True)      # a script, not library code

    ref = reference(args.intervals, args.check or None)
    rows = []
    for name, options in (("defaults (21 frames)", {}),
                          ("frames = the 101 reference times", {"frames": list(TIMES)})):
        sol, solve_s = solve(args.grid, **options)
        error, evaluate_s = dense_error(sol, ref["u"])
        rows.append((name, error, solve_s, evaluate_s, node_error(sol, ref["spline"])))

    print(f"Allen-Cahn, u = -1 at both ends: pdelang fd on grid {args.grid} against SciPy "
          f"(Radau, 4th-order FD, {args.intervals} intervals) at 101 times x 512 points")
    if args.check:
        print(f"reference self-check against {args.check} intervals: max |difference| "
              f"{ref['self_check_max']:.2e}, relative L2 {ref['self_check_rel_l2']:.2e}")
    print("rel L2: sol(...) at the 101 x 512 pairs; at nodes: the Solution's values at its "
          "own nodes and frames")
    print(f"{'case':<34} {'rel L2':>9} {'at nodes':>9} {'solve warm (s)':>15} "
          f"{'sol(...) (s)':>13} {'reference (s)':>14}")
    for name, error, solve_s, evaluate_s, at_nodes in rows:
        print(f"{name:<34} {error:9.2e} {at_nodes:9.2e} {solve_s:15.3f} {evaluate_s:13.3f} "
              f"{ref['seconds']:14.2f}")
    record = {
        "benchmark": "allen_cahn_dense", "grid": args.grid, "intervals": args.intervals,
        "reference_s": round(ref["seconds"], 3),
        "rel_l2_defaults": rows[0][1], "rel_l2_frames_on_reference": rows[1][1],
        "rel_l2_at_nodes_defaults": rows[0][4], "rel_l2_at_nodes_frames": rows[1][4],
        "solve_defaults_s": round(rows[0][2], 4), "solve_frames_s": round(rows[1][2], 4),
        "evaluate_defaults_s": round(rows[0][3], 4), "evaluate_frames_s": round(rows[1][3], 4),
    }
    if args.check:
        record["self_check_max"] = ref["self_check_max"]
        record["self_check_rel_l2"] = ref["self_check_rel_l2"]
    print(json.dumps(record))


if __name__ == "__main__":
    main()
