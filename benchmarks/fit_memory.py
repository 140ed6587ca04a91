"""Memory of fitting through many fd steps: rematerialised chunks against storing every step.

A 1-D heat equation on 1024 points with unknown diffusivity k, integrated with RK4 through
10,000 steps; the loss is the squared final state and its gradient in k comes from reverse
mode through `runtime.fd.simulate.trajectory`. Two measures per configuration:

- XLA's own accounting of the compiled gradient (`memory_analysis().temp_size_in_bytes`:
  the buffers live during the run besides inputs and outputs);
- the peak resident memory of a fresh process that compiles and runs it (`ru_maxrss`),
  against the same process that compiles and runs only the loss (no gradient).

"Every step" is the floor of storing one state per step: steps x 1024 x 8 bytes.

Run: python benchmarks/fit_memory.py [--n 1024] [--steps 10000]
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = """
import resource, sys, time
import jax, jax.numpy as jnp, numpy as np
jax.config.update("jax_enable_x64", True)
from runtime.fd.simulate import plan_steps, trajectory
from runtime.time import tableaus
n, steps, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
h2 = (n - 1) ** 2
def rhs(t, U, p):
    u = U["u"]
    return {"u": p["k"] * jnp.zeros_like(u).at[1:-1].set((u[2:] - 2 * u[1:-1] + u[:-2]) * h2)}
U0 = {"u": jnp.sin(np.pi * np.linspace(0.0, 1.0, n))}
plan = plan_steps(np.array([0.0, 0.4 / h2 * steps]), 0.4 / h2)
def loss(k, remat):
    return jnp.sum(trajectory(rhs, U0, {"k": k}, plan, tableaus.RK4, remat=remat)["u"][-1] ** 2)
if mode == "loss":
    f = jax.jit(lambda k: loss(k, True))
else:
    f = jax.jit(jax.grad(lambda k: loss(k, mode == "remat")))
compiled = f.lower(1.0).compile()
temp = compiled.memory_analysis().temp_size_in_bytes
start = time.perf_counter(); value = float(compiled(1.0)); seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(temp, peak, seconds, value, plan.total_steps)
"""


def measure(n: int, steps: int, mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(steps), mode],
                         capture_output=True, text=True, check=True)
    temp, peak, seconds, value, total = out.stdout.split()
    return {"mode": mode, "temp_bytes": int(temp), "peak_rss_bytes": int(peak),
            "run_s": float(seconds), "value": float(value), "steps": int(total)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=10_000)
    args = parser.parse_args()
    every_step = args.steps * args.n * 8
    rows = [measure(args.n, args.steps, mode) for mode in ("loss", "remat", "store")]
    print(f"heat 1-D, {args.n} points, {args.steps} RK4 steps; one state = {args.n * 8} B; "
          f"every step stored = {every_step / 1e6:.1f} MB")
    print(f"{'what':<28}{'XLA temp MB':>12}{'peak RSS MB':>13}{'run s':>8}")
    names = {"loss": "loss only (no gradient)", "remat": "gradient, rematerialised",
             "store": "gradient, every step kept"}
    for row in rows:
        print(f"{names[row['mode']]:<28}{row['temp_bytes'] / 1e6:>12.2f}"
              f"{row['peak_rss_bytes'] / 1e6:>13.1f}{row['run_s']:>8.3f}")
    print(json.dumps({"benchmark": "fit_memory", "n": args.n, "steps": args.steps,
                      "every_step_bytes": every_step, "rows": rows}))


if __name__ == "__main__":
    main()
