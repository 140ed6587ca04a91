"""The acoustic wave of examples/wave2d_acoustic.pde, 300 x 300, 1000 steps: the generated
solver against a hand-written `jax.lax.scan` version of the same scheme and a NumPy loop.

Two configurations, each timed for all three solvers:
- rk4, float64: p_tt = c^2 laplace(p) + r(t) g(x, y) as the first-order system (p, p_t)
  with classic RK4 (four right-hand sides a step);
- leapfrog, float32: the same system by velocity Verlet (kick-drift-kick, one right-hand
  side a step, the velocity at half steps inside the loop), the scheme seismic codes use
  and `auto` picks for undamped waves. Its
  NumPy loop is written as the RK4 one (new arrays each update; "NumPy / generated" is
  against it), and once more in place ("NumPy in place", a row of its own).
All use the 5-point Laplacian, p = 0 on the edges, the same velocity array c (the
generated program's interpolation of examples/data/velocity.npy) and dt.

The hand-written versions pad the source's profile g once and multiply it by r(t) outside
the pad: XLA:CPU (jax 0.10) does not vectorise a pad whose operand depends on the time
carried by the loop, and writing `pad(c^2 lap p + r(t) g)` costs 3-4x a step here. The
generated solver does the same by itself (`compiler.fd.kernels.TimeSeparated`).

Run: python benchmarks/fd_wave.py [--n 300] [--steps 1000] [--numpy-steps 1000]
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
CONFIGURATIONS = (("rk4", "float64"), ("leapfrog", "float32"))


def wavelet(t, f0, t0, xp):
    a = (xp.pi * f0 * (t - t0)) ** 2
    return 1e6 * (1 - 2 * a) * xp.exp(-a)


def setup(program, n):
    x = program.grid.axis("x").coordinates()
    y = program.grid.axis("y").coordinates()
    X, Y = np.meshgrid(x, y, indexing="ij")
    p = program.params
    g = np.exp(-((X - 500) ** 2 + (Y - 500) ** 2) / (2 * float(p["sigma"]) ** 2))
    c2 = np.asarray(p["c"], np.float64) ** 2
    h = x[1] - x[0]
    return float(p["f0"]), float(p["t0"]), c2[1:-1, 1:-1] / h**2, g[1:-1, 1:-1]


def hand_written_jax(c2h, g, f0, t0, dt, steps):
    c2h, g = jnp.asarray(c2h), jnp.asarray(g)

    g = jnp.pad(g, 1)   # the source padded once, outside the loop (see the module notes)

    def rhs(t, p, v):
        lap = p[2:, 1:-1] + p[:-2, 1:-1] + p[1:-1, 2:] + p[1:-1, :-2] - 4 * p[1:-1, 1:-1]
        return jnp.pad(v[1:-1, 1:-1], 1), jnp.pad(c2h * lap, 1) + wavelet(t, f0, t0, jnp) * g

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


def hand_written_leapfrog(c2h, g, f0, t0, dt, steps):
    """Velocity Verlet in `lax.scan` in kick-drift form: the velocity kept at half steps
    (v_half += dt a(t, p); p += dt v_half), half kicks at the ends."""
    c2h, g = jnp.asarray(c2h), jnp.pad(jnp.asarray(g), 1)
    dtype = c2h.dtype

    def acceleration(t, p):
        lap = p[2:, 1:-1] + p[:-2, 1:-1] + p[1:-1, 2:] + p[1:-1, :-2] - 4 * p[1:-1, 1:-1]
        return jnp.pad(c2h * lap, 1) + wavelet(t, f0, t0, jnp).astype(dtype) * g

    def kick_drift(carry, _):
        t, p, v = carry
        v = v + dt * acceleration(t, p)
        return (t + dt, p + dt * v, v), None

    @jax.jit
    def run(p, v):
        zero = jnp.zeros((), dtype)
        v = v + dt / 2 * acceleration(zero, p)
        t, p, v = jax.lax.scan(kick_drift, (zero + dt, p + dt * v, v), None,
                               length=steps - 1)[0]
        return p

    return run


def numpy_leapfrog(c2h, g, f0, t0, dt, steps, n, dtype):
    """Velocity Verlet in NumPy written as the RK4 loop is: a function returning new arrays
    (the acceleration), whole-array updates."""
    c2h, g = c2h.astype(dtype), g.astype(dtype)

    def acceleration(t, p):
        a = np.zeros_like(p)
        lap = p[2:, 1:-1] + p[:-2, 1:-1] + p[1:-1, 2:] + p[1:-1, :-2] - 4 * p[1:-1, 1:-1]
        a[1:-1, 1:-1] = c2h * lap + dtype(wavelet(t, f0, t0, np)) * g
        return a

    p, v = np.zeros((n, n), dtype), np.zeros((n, n), dtype)
    t = 0.0
    a = acceleration(t, p)
    for _ in range(steps):
        v = v + dt / 2 * a
        p = p + dt * v
        t += dt
        a = acceleration(t, p)
        v = v + dt / 2 * a
    return p


def numpy_leapfrog_in_place(c2h, g, f0, t0, dt, steps, n, dtype):
    """Velocity Verlet in NumPy written with care: in-place updates, no new arrays."""
    c2h, g = c2h.astype(dtype), g.astype(dtype)
    p, v, a = (np.zeros((n, n), dtype) for _ in range(3))

    def accelerate(t):
        lap = p[2:, 1:-1] + p[:-2, 1:-1]
        lap += p[1:-1, 2:]
        lap += p[1:-1, :-2]
        lap -= 4 * p[1:-1, 1:-1]
        lap *= c2h
        lap += dtype(wavelet(t, f0, t0, np)) * g
        a[1:-1, 1:-1] = lap

    t = 0.0
    accelerate(t)
    half = dtype(dt / 2)
    for _ in range(steps):
        v += half * a
        p += dtype(dt) * v
        t += dt
        accelerate(t)
        v += half * a
    return p


def run_configuration(system, method: str, dtype: str, n: int, steps: int,
                      numpy_steps: int, repeats: int) -> dict:
    """Generated, hand-written JAX and NumPy timings of one scheme in one dtype."""
    T = float(system.time.upper)
    dt = T / steps
    with jax.enable_x64(dtype == "float64"):
        program, U0, p_generated, compile_generated, t_generated = time_generated(
            system, n, T, dt, "p", repeats, method=method, dtype=dtype)
        f0, t0, c2h, g = setup(program, n)
        c2h, g = c2h.astype(dtype), g.astype(dtype)
        make = hand_written_jax if method == "rk4" else hand_written_leapfrog
        manual = make(c2h, g, f0, t0, dt, steps)
        zero = jnp.zeros((n, n), dtype)
        p_manual, compile_manual, t_manual = first_and_best(lambda: manual(zero, zero),
                                                            repeats)
    loops = {"NumPy loop": numpy_loop} if method == "rk4" else {
        "NumPy loop": numpy_leapfrog, "NumPy in place": numpy_leapfrog_in_place}
    numpy_s, numpy_p = {}, {}
    for name, loop in loops.items():
        extra = () if method == "rk4" else (np.dtype(dtype).type,)
        start = time.perf_counter()
        numpy_p[name] = loop(c2h, g, f0, t0, dt, numpy_steps, n, *extra)
        numpy_s[name] = (time.perf_counter() - start) * steps / numpy_steps
    t_numpy, p_numpy = numpy_s["NumPy loop"], numpy_p["NumPy loop"]
    p_generated, p_manual = np.asarray(p_generated), np.asarray(p_manual)
    scale = float(np.max(np.abs(p_manual)))
    return {
        "method": method, "dtype": dtype, "dt": dt,
        "generated_s": t_generated, "hand_written_s": t_manual, "numpy_s": t_numpy,
        "compile_generated_s": compile_generated, "compile_hand_written_s": compile_manual,
        "generated_over_hand_written": t_generated / t_manual,
        "numpy_over_generated": t_numpy / t_generated, "numpy_loops_s": numpy_s,
        "max_relative_difference": float(np.max(np.abs(p_generated - p_manual))) / scale,
        "numpy_relative_difference": (float(np.max(np.abs(p_numpy - p_manual))) / scale
                                      if numpy_steps == steps else None)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--numpy-steps", type=int, default=1000,
                        help="steps timed for NumPy (its time is scaled to --steps)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    system = pl.load(EXAMPLE)
    rows = [run_configuration(system, method, dtype, args.n, args.steps, args.numpy_steps,
                              args.repeats) for method, dtype in CONFIGURATIONS]

    print(f"acoustic wave, {args.n} x {args.n}, {args.steps} steps")
    print(f"{'scheme':<9} {'dtype':<8} {'solver':<20} {'time (s)':>9} {'steps/s':>9} "
          f"{'vs hand JAX':>11} {'compile (s)':>11}")
    for r in rows:
        for name, seconds, compile_s in [
                ("generated (pdelang)", r["generated_s"], r["compile_generated_s"]),
                ("hand-written JAX", r["hand_written_s"], r["compile_hand_written_s"]),
                *((loop, t, 0.0) for loop, t in r["numpy_loops_s"].items())]:
            print(f"{r['method']:<9} {r['dtype']:<8} {name:<20} {seconds:9.3f} "
                  f"{args.steps / seconds:9.1f} {seconds / r['hand_written_s']:11.2f} "
                  f"{compile_s:11.2f}")
        numpy_note = ("" if r["numpy_relative_difference"] is None
                      else f", NumPy vs hand {r['numpy_relative_difference']:.1e}")
        print(f"  {r['method']} {r['dtype']}: generated / hand-written "
              f"{r['generated_over_hand_written']:.3f}; NumPy / generated "
              f"{r['numpy_over_generated']:.1f}; max relative difference generated vs hand "
              f"{r['max_relative_difference']:.1e}{numpy_note}")
    print(json.dumps({"benchmark": "fd_wave", "n": args.n, "steps": args.steps,
                      "configurations": rows}))


if __name__ == "__main__":
    main()
