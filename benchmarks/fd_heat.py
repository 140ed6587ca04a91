"""2-D explicit heat at 1024 x 1024: generated solver vs hand-written JAX vs the memory floor.

    u_t = alpha (u_xx + u_yy) on the unit square, u = 0 on the edges, u0 = sin(pi x) sin(pi y)

Both solvers take the same classic RK4 steps with the same dt in float64. The floor is the
time to move the bytes an RK4 step must move at this machine's measured copy bandwidth:
with every stage fused into one pass, stage 1 reads U and writes k1 (2 arrays), stages
2-4 read U and the previous k and write their own (3 each), and the update reads U and
k1..k4 and writes U (6): 17 arrays of N^2 doubles per step.

Run: python benchmarks/fd_heat.py [--n 1024] [--steps 200]
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
from timing import first_and_best, time_generated

import pdelang as pl

ARRAYS_PER_RK4_STEP = 17

SPEC = """
problem "heat 2d benchmark"
param alpha = 0.1
space x in [0, 1], y in [0, 1]
time  t in [0, {T}]
field u(t, x, y)
pde   d(u, t) = alpha*laplace(u)
bc    u = 0 at x = 0
bc    u = 0 at x = 1
bc    u = 0 at y = 0
bc    u = 0 at y = 1
ic    u = sin(pi*x)*sin(pi*y) at t = 0
"""


def copy_bandwidth(n_bytes: int = 256 * 2**20, repeats: int = 5) -> float:
    """Bytes per second moved by a large memory copy (read + write), best of `repeats`."""
    src = np.random.default_rng(0).random(n_bytes // 8)
    dst = np.empty_like(src)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return 2 * n_bytes / best


def hand_written(n: int, dt: float, steps: int, alpha: float):
    """RK4 with the 5-point Laplacian on the interior and zero edges, written by hand."""
    h = 1.0 / (n - 1)
    coefficient = alpha / h**2

    def rhs(u):
        lap = (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1])
        return jnp.pad(coefficient * lap, 1)

    def step(u, _):
        k1 = rhs(u)
        k2 = rhs(u + dt / 2 * k1)
        k3 = rhs(u + dt / 2 * k2)
        k4 = rhs(u + dt * k3)
        return u + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4), None

    @jax.jit
    def run(u):
        return jax.lax.scan(step, u, None, length=steps)[0]

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n, steps, alpha = args.n, args.steps, 0.1
    h = 1.0 / (n - 1)
    dt = 0.2 * h**2 / alpha                 # well inside RK4's limit of about 0.35 h^2/alpha
    T = dt * steps

    with jax.enable_x64(True):
        system = pl.parse(SPEC.format(T=repr(T)))
        program, U0, u_generated, compile_generated, t_generated = time_generated(
            system, n, T, dt, "u", args.repeats)

        manual = hand_written(n, dt, steps, alpha)
        u0 = U0["u"]
        u_manual, compile_manual, t_manual = first_and_best(lambda: manual(u0), args.repeats)

    bandwidth = copy_bandwidth()
    floor = ARRAYS_PER_RK4_STEP * 8 * n * n * steps / bandwidth
    difference = float(np.max(np.abs(np.asarray(u_generated) - np.asarray(u_manual))))
    rows = [("generated (pdelang)", t_generated, compile_generated),
            ("hand-written JAX", t_manual, compile_manual),
            ("memory-bandwidth floor", floor, 0.0)]
    print(f"2-D heat, {n} x {n}, RK4, {steps} steps, float64, dt = {dt:.3e}")
    print(f"copy bandwidth {bandwidth / 1e9:.2f} GB/s; {ARRAYS_PER_RK4_STEP} arrays of "
          f"{8 * n * n / 2**20:.1f} MiB per step")
    print(f"{'solver':<24} {'time (s)':>9} {'steps/s':>9} {'x floor':>8} {'compile (s)':>11}")
    for name, seconds, compile_s in rows:
        print(f"{name:<24} {seconds:9.3f} {steps / seconds:9.1f} {seconds / floor:8.2f} "
              f"{compile_s:11.2f}")
    print(f"generated / hand-written: {t_generated / t_manual:.3f}; "
          f"fraction of the floor reached: {floor / t_generated:.2f}; "
          f"max |difference| {difference:.2e}")
    print(json.dumps({
        "benchmark": "fd_heat", "n": n, "steps": steps, "dtype": "float64",
        "generated_s": t_generated, "hand_written_s": t_manual, "floor_s": floor,
        "generated_over_hand_written": t_generated / t_manual,
        "floor_fraction": floor / t_generated, "bandwidth_GBps": bandwidth / 1e9,
        "max_difference": difference}))


if __name__ == "__main__":
    main()
