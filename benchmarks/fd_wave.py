"""The acoustic wave of examples/wave2d_acoustic.pde, 300 x 300, 1000 RK4 steps, float64:
the generated solver against a hand-written `jax.lax.scan` version of the same scheme and a
NumPy loop.

All three integrate p_tt = c^2 laplace(p) + r(t) g(x, y) as the first-order system
(p, p_t) with classic RK4, the 5-point Laplacian, p = 0 on the edges, the same velocity
array c (the generated program's interpolation of examples/data/velocity.npy) and dt.

Run: python benchmarks/fd_wave.py [--n 300] [--steps 1000] [--numpy-steps 100]
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from timing import first_and_best, time_generated

import pdelang as pl

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "wave2d_acoustic.pde"


def wavelet(t, f0, t0, xp):
    a = (xp.pi * f0 * (t - t0)) ** 2
    return 1e6 * (1 - 2 * a) * xp.exp(-a)


def setup(program, n):
    x = program.grid.axis("x").coordinates()
    y = program.grid.axis("y").coordinates()
    X, Y = np.meshgrid(x, y, indexing="ij")
    p = program.params
    g = np.exp(-((X - 500) ** 2 + (Y - 500) ** 2) / (2 * float(p["sigma"]) ** 2))
    c2 = np.asarray(p["c"]) ** 2
    h = x[1] - x[0]
    return float(p["f0"]), float(p["t0"]), c2[1:-1, 1:-1] / h**2, g[1:-1, 1:-1]


def hand_written_jax(c2h, g, f0, t0, dt, steps):
    c2h, g = jnp.asarray(c2h), jnp.asarray(g)

    def rhs(t, p, v):
        lap = p[2:, 1:-1] + p[:-2, 1:-1] + p[1:-1, 2:] + p[1:-1, :-2] - 4 * p[1:-1, 1:-1]
        a = c2h * lap + wavelet(t, f0, t0, jnp) * g
        return jnp.pad(v[1:-1, 1:-1], 1), jnp.pad(a, 1)

    def step(carry, _):
        t, p, v = carry
        k1 = rhs(t, p, v)
        k2 = rhs(t + dt / 2, p + dt / 2 * k1[0], v + dt / 2 * k1[1])
        k3 = rhs(t + dt / 2, p + dt / 2 * k2[0], v + dt / 2 * k2[1])
        k4 = rhs(t + dt, p + dt * k3[0], v + dt * k3[1])
        p = p + dt / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        v = v + dt / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        return (t + dt, p, v), None

    @jax.jit
    def run(p, v):
        return jax.lax.scan(step, (jnp.zeros(()), p, v), None, length=steps)[0][1]

    return run


def numpy_loop(c2h, g, f0, t0, dt, steps, n):
    def rhs(t, p, v):
        dp = np.zeros_like(p)
        dv = np.zeros_like(v)
        dp[1:-1, 1:-1] = v[1:-1, 1:-1]
        lap = p[2:, 1:-1] + p[:-2, 1:-1] + p[1:-1, 2:] + p[1:-1, :-2] - 4 * p[1:-1, 1:-1]
        dv[1:-1, 1:-1] = c2h * lap + wavelet(t, f0, t0, np) * g
        return dp, dv

    p = np.zeros((n, n))
    v = np.zeros((n, n))
    t = 0.0
    for _ in range(steps):
        k1 = rhs(t, p, v)
        k2 = rhs(t + dt / 2, p + dt / 2 * k1[0], v + dt / 2 * k1[1])
        k3 = rhs(t + dt / 2, p + dt / 2 * k2[0], v + dt / 2 * k2[1])
        k4 = rhs(t + dt, p + dt * k3[0], v + dt * k3[1])
        p = p + dt / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        v = v + dt / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        t += dt
    return p


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--numpy-steps", type=int, default=1000,
                        help="steps timed for NumPy (its time is scaled to --steps)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n, steps = args.n, args.steps

    with jax.enable_x64(True):
        system = pl.load(EXAMPLE)
        T = float(system.time.upper)
        dt = T / steps
        program, U0, p_generated, compile_generated, t_generated = time_generated(
            system, n, T, dt, "p", args.repeats)

        f0, t0, c2h, g = setup(program, n)
        manual = hand_written_jax(c2h, g, f0, t0, dt, steps)
        zero = jnp.zeros((n, n))
        p_manual, compile_manual, t_manual = first_and_best(lambda: manual(zero, zero),
                                                            args.repeats)

    start = time.perf_counter()
    p_numpy = numpy_loop(c2h, g, f0, t0, dt, args.numpy_steps, n)
    t_numpy = (time.perf_counter() - start) * steps / args.numpy_steps
    p_generated, p_manual = np.asarray(p_generated), np.asarray(p_manual)
    scale = float(np.max(np.abs(p_manual)))
    difference = float(np.max(np.abs(p_generated - p_manual))) / scale
    numpy_difference = (float(np.max(np.abs(p_numpy - p_manual))) / scale
                        if args.numpy_steps == steps else None)

    print(f"acoustic wave, {n} x {n}, RK4, {steps} steps, float64, dt = {dt:.3e}")
    print(f"{'solver':<22} {'time (s)':>9} {'steps/s':>9} {'vs hand JAX':>11} "
          f"{'compile (s)':>11}")
    for name, seconds, compile_s in [("generated (pdelang)", t_generated, compile_generated),
                                     ("hand-written JAX", t_manual, compile_manual),
                                     ("NumPy loop", t_numpy, 0.0)]:
        print(f"{name:<22} {seconds:9.3f} {steps / seconds:9.1f} {seconds / t_manual:11.2f} "
              f"{compile_s:11.2f}")
    print(f"generated / hand-written {t_generated / t_manual:.3f}; NumPy / generated "
          f"{t_numpy / t_generated:.1f}; max relative difference generated vs hand "
          f"{difference:.1e}" + (f", NumPy vs hand {numpy_difference:.1e}"
                                 if numpy_difference is not None else ""))
    print(json.dumps({
        "benchmark": "fd_wave", "n": n, "steps": steps, "dtype": "float64",
        "generated_s": t_generated, "hand_written_s": t_manual, "numpy_s": t_numpy,
        "generated_over_hand_written": t_generated / t_manual,
        "numpy_over_generated": t_numpy / t_generated, "max_relative_difference": difference}))


if __name__ == "__main__":
    main()
