"""The cost of one fbpinn training step against the number of subdomains (issue 18): the
2-D multiscale Poisson problem (examples/poisson_multiscale.pde) at a fixed number of
points, 2 x 2, 4 x 4 and 8 x 8 subdomains of (16, 16) networks, beside pinn with one (16, 16)
network, the same on four times the points (the work of 2^d = 4 small networks per point,
what an fbpinn step cannot go below: a point lies in up to four subdomains and the compiled
step evaluates them all), and with the default (64, 64, 64). Training evaluates the
subdomains as block products (`FBPINNSpec.apply_batch`), so the step should cost about
four small networks per point at every count.

Each figure is one compiled Adam step (value and gradient of the summed mean squared
residuals of every term, then optax's update) on fixed points, timed over STEPS steps
after a warm-up: the work of a training step without the trainer's chunking around it.

Run: python benchmarks/fbpinn_step_cost.py [--points 4096]
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

import pdelang as pl  # noqa: E402
from compiler.pinn import lower_pinn  # noqa: E402
from runtime.options import OPTIONS  # noqa: E402
from runtime.pinn.sampling import sample_points  # noqa: E402

STEPS = 100
SMALL, WIDE = (16, 16), (64, 64, 64)      # named: the defaults depend on the finish
RUNS = (("pinn", {"layers": SMALL}), ("pinn", {"layers": SMALL, "times": 4}),
        ("pinn", {"layers": WIDE}),
        ("fbpinn", {"subdomains": 2, "layers": SMALL}),
        ("fbpinn", {"subdomains": 4, "layers": SMALL}),
        ("fbpinn", {"subdomains": 8, "layers": SMALL}))


def step_seconds(system, method: str, points: int, times: int = 1, **options) -> float:
    """Seconds per Adam step of `method`'s networks on `points` interior points (`times`
    as many for the reference row)."""
    points *= times
    chosen = OPTIONS.method(method).load()[0](**options)
    program = lower_pinn(system, chosen.network())
    batch = {t.name: jnp.asarray(sample_points("sobol", points if t.kind == "pde" else 256,
                                               program.coordinates, program.bounds,
                                               t.fixed, i), jnp.float32)
             for i, t in enumerate(program.terms)}

    def loss(nets):
        return sum(jnp.mean(t.residual(nets, program.physical, batch[t.name]) ** 2)
                   for t in program.terms)

    optimiser = optax.adam(1e-3)

    @jax.jit
    def step(nets, state):
        value, grads = jax.value_and_grad(loss)(nets)
        updates, state = optimiser.update(grads, state, nets)
        return optax.apply_updates(nets, updates), state, value

    nets = program.init(jax.random.PRNGKey(0), jnp.float32)
    state = optimiser.init(nets)
    nets, state, value = step(nets, state)
    jax.block_until_ready(value)
    start = time.perf_counter()
    for _ in range(STEPS):
        nets, state, value = step(nets, state)
    jax.block_until_ready(value)
    return (time.perf_counter() - start) / STEPS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=4096)
    args = parser.parse_args()
    system = pl.load(ROOT / "examples" / "poisson_multiscale.pde")
    print(f"{os.cpu_count()} CPUs, {args.points} interior points, Adam steps")
    print(f"{'method':8s} {'network':28s} {'ms / step':>10s} {'us / point':>11s}")
    rows = []
    for method, options in RUNS:
        seconds = step_seconds(system, method, args.points, **options)
        count = options.get("subdomains")
        shown = (f"{count}x{count} x {options['layers']}" if count else
                 str(options["layers"]) + (f" on {options['times']}x points"
                                           if "times" in options else ""))
        print(f"{method:8s} {shown:28s} {1e3 * seconds:10.2f} "
              f"{1e6 * seconds / args.points:11.3f}", flush=True)
        rows.append({"method": method, "network": shown, "step_s": seconds})
    print(json.dumps({"benchmark": "fbpinn_step_cost", "points": args.points,
                      "cpus": os.cpu_count(), "rows": rows}))


if __name__ == "__main__":
    main()
