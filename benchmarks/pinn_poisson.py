"""PINN on the Poisson problem of examples/poisson2d.pde: time per Adam step of the generated
PINN against two hand-written JAX PINNs, and error against wall time for the defaults.

All three train the same 2-64-64-64-1 tanh network (same initial weights, inputs scaled
to [-1, 1], the edge condition as a loss term: hard_constraints=False) on the same 1024
interior and 256 boundary points with Adam at the same learning rate; the hand-written
ones differ only in how they take u_xx + u_yy: nested `jax.grad` (reverse over reverse)
or nested `jax.jvp` (forward over forward). Steps run in jitted
`lax.scan` chunks in every case, float32. A fourth row times `runtime.pinn.train` itself
(its Adam chunk through the training objective, sampling and bookkeeping included) on the
same counts of points.

Run: python benchmarks/pinn_poisson.py [--steps 500] [--skip-defaults]
Prints two tables and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

import pdelang as pl
from compiler.pinn import PINNOptions, apply_mlp, lower_pinn
from runtime.pinn.sampling import sample_points

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "poisson2d.pde"
LEARNING_RATE = 1e-3


def forcing(x, y):
    return -jnp.sin(jnp.pi * x) * jnp.sin(jnp.pi * y)


def laplacian_grad(net, params, p):
    """u_xx + u_yy by nested reverse mode."""
    u = lambda z: net(params, z)                      # noqa: E731
    grad = jax.grad(u)
    return jax.grad(lambda z: grad(z)[0])(p)[0] + jax.grad(lambda z: grad(z)[1])(p)[1]


def laplacian_jvp(net, params, p):
    """u_xx + u_yy by nested forward mode."""
    u = lambda z: net(params, z)                      # noqa: E731
    total = 0.0
    for e in jnp.eye(2, dtype=p.dtype):
        first = lambda z, e=e: jax.jvp(u, (z,), (e,))[1]   # noqa: E731
        total = total + jax.jvp(first, (p,), (e,))[1]
    return total


def hand_written_loss(net, laplacian):
    def loss(params, interior, boundary):
        lap = jax.vmap(lambda p: laplacian(net, params, p))(interior)
        r = lap - forcing(interior[:, 0], interior[:, 1])
        b = jax.vmap(lambda p: net(params, p))(boundary)
        return jnp.mean(r**2) + jnp.mean(b**2)
    return loss


def chunked_adam(loss, steps):
    adam = optax.adam(LEARNING_RATE)

    @jax.jit
    def run(params, state, *batch):
        def body(carry, _):
            params, state = carry
            value, grads = jax.value_and_grad(loss)(params, *batch)
            updates, state = adam.update(grads, state, params)
            return (optax.apply_updates(params, updates), state), value
        return jax.lax.scan(body, (params, state), None, length=steps)

    return run, adam


def time_per_step(run, adam, params, batch, steps, repeats=3):
    state = adam.init(params)
    jax.block_until_ready(run(params, state, *batch))          # compile
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(run(params, state, *batch))
        best = min(best, time.perf_counter() - start)
    return best / steps


def time_train(program, steps: int, repeats: int = 3) -> float:
    """Seconds per Adam step of `runtime.pinn.train` itself, as a user's training runs it
    (one compiled chunk of `steps` steps, the objective's scaling, the host's bookkeeping),
    on the same counts of points: the best of `repeats` calls after a first that compiles."""
    from runtime.pinn import TrainOptions, train

    options = TrainOptions(steps=steps, lbfgs_steps=0, optimizer="lbfgs", points=1024,
                           boundary_points=256, chunk=steps, learning_rate=LEARNING_RATE,
                           decay_steps=10**9, resample_every=0, causal=False,
                           finish_dtype="float32")
    train(program, options)
    return min(train(program, options).wall_time for _ in range(repeats)) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=500, help="Adam steps per timed chunk")
    parser.add_argument("--skip-defaults", action="store_true",
                        help="only the step-time table, not the default-settings run")
    args = parser.parse_args()

    system = pl.load(EXAMPLE)
    program = lower_pinn(system, PINNOptions(layers=(64, 64, 64), hard_constraints=False))
    group = program.groups[0]
    params = program.init(jax.random.PRNGKey(0))
    bounds = program.bounds
    interior = jnp.asarray(sample_points("sobol", 1024, ("x", "y"), bounds, {}, 0), jnp.float32)
    faces = [sample_points("sobol", 64, ("x", "y"), bounds, {c: v}, k)
             for k, (c, v) in enumerate([("x", 0.0), ("x", 1.0), ("y", 0.0), ("y", 1.0)])]
    boundary = jnp.asarray(np.concatenate(faces), jnp.float32)

    def net(p, z):
        return apply_mlp(group.spec, p, z)[0]

    # the generated loss, on exactly the same points
    pde, *bcs = program.terms

    def generated(nets, interior, boundary):
        physical = {}
        r = pde.residual(nets, physical, interior)
        parts = jnp.split(boundary, 4)
        return jnp.mean(r**2) + sum(jnp.mean(t.residual(nets, physical, b) ** 2)
                                    for t, b in zip(bcs, parts)) / 4

    def hand_loss(laplacian):
        inner = hand_written_loss(net, laplacian)
        return lambda nets, i, b: inner(nets[group.key], i, b)

    rows = []
    for name, loss in [("generated (pdelang)", generated),
                       ("hand-written, nested grad", hand_loss(laplacian_grad)),
                       ("hand-written, nested jvp", hand_loss(laplacian_jvp))]:
        run, adam = chunked_adam(loss, args.steps)
        rows.append((name, time_per_step(run, adam, params, (interior, boundary), args.steps)))
    rows.append(("runtime training (train)", time_train(program, args.steps)))
    best_hand = min(t for n, t in rows[1:3])
    print("PINN Poisson 2D, 2-64-64-64-1 tanh, 1024 interior + 256 boundary points, Adam, "
          "float32")
    print(f"{'version':<28} {'ms/step':>8} {'vs best hand-written':>21}")
    for name, seconds in rows:
        print(f"{name:<28} {1e3 * seconds:8.3f} {seconds / best_hand:21.3f}")

    record = {"benchmark": "pinn_poisson", "generated_ms": 1e3 * rows[0][1],
              "nested_grad_ms": 1e3 * rows[1][1], "nested_jvp_ms": 1e3 * rows[2][1],
              "generated_over_best": rows[0][1] / best_hand, "train_ms": 1e3 * rows[3][1],
              "train_over_best": rows[3][1] / best_hand}
    if not args.skip_defaults:
        import runtime

        marks = []
        start = time.perf_counter()

        def observe(info):
            marks.append((time.perf_counter() - start, info["step"], info["loss"]))

        solution = runtime.solve(system, "pinn", observers=(observe,), seed=0)
        total = time.perf_counter() - start
        soft = runtime.solve(system, "pinn", seed=0, hard_constraints=False)
        print("\ndefault settings (runtime.solve(system, 'pinn')): loss against wall time")
        print(f"{'wall (s)':>9} {'step':>6} {'loss':>10}")
        for seconds, step, loss in marks[:: max(len(marks) // 12, 1)] + marks[-1:]:
            print(f"{seconds:9.1f} {step:6d} {loss:10.3e}")
        error = solution.errors()["u"]
        print(f"relative L2 error {error:.2e} after {total:.1f} s "
              f"({solution.meta['steps']} steps; the default builds u = 0 on the edges into "
              f"the network)")
        soft_error = soft.errors()["u"]
        print(f"with the edges as loss terms instead (hard_constraints=False): "
              f"{soft_error:.2e} after {soft.meta['wall_time_s']:.1f} s")
        record.update({"default_error": error, "default_wall_s": total,
                       "soft_error": soft_error, "soft_wall_s": soft.meta["wall_time_s"]})
    print(json.dumps(record))


if __name__ == "__main__":
    main()
