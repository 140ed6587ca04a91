"""Halo exchange for split fd grids: XLA's partitioner against shard_map with ppermute.

    u_t = alpha (u_xx + u_yy) on the unit square, u = 0 on the edges, RK4, float64

Three solvers take the same steps over the same device meshes:
  generated / partitioner  pdelang's generated rhs, state split with NamedSharding and
                           pinned with with_sharding_constraint; XLA inserts the halo
                           exchanges (what `runtime.solve(..., devices=N)` runs)
  hand / partitioner       the 5-point stencil written by hand, split the same way
  hand / shard_map         the same stencil per device block inside `shard_map`, halos of
                           width 1 exchanged by explicit `lax.ppermute`, boundary rows masked
It also counts the collectives in the partitioned program of one rhs: the partitioner's
choice is the minimal one (one collective-permute per neighbour and split axis, no
all-gather).

XLA_FLAGS=--xla_force_host_platform_device_count=4 is set when absent, so a CPU gives 4
simulated devices. They share this machine's cores: the times show the overhead of each
way of splitting, not a speed-up.

Run: python benchmarks/halo_exchange.py [--n 512] [--steps 50] [--repeats 3]
Prints a table and one JSON line.
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from fd_heat import SPEC  # noqa: E402
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec  # noqa: E402
from timing import first_and_best  # noqa: E402

import pdelang as pl  # noqa: E402
from compiler.fd import FDOptions, lower_fd  # noqa: E402

MESHES = ((1, 1), (2, 1), (4, 1), (2, 2))


def rk4_steps(rhs, dt: float, steps: int):
    def step(_, u):
        k1 = rhs(u)
        k2 = rhs(u + dt / 2 * k1)
        k3 = rhs(u + dt / 2 * k2)
        k4 = rhs(u + dt * k3)
        return u + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    return lambda u: jax.lax.fori_loop(0, steps, step, u)


def hand_rhs(c: float):
    def rhs(u):
        lap = u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1]
        return jnp.pad(c * lap, 1)

    return rhs


def pinned(rhs, sharding):
    pin = jax.lax.with_sharding_constraint
    return lambda u: pin(rhs(pin(u, sharding)), sharding)


def halo_rhs(c: float, n: int, shape: tuple[int, int]):
    """The 5-point stencil on one device's block, halos by ppermute (zeros at the edges)."""
    def neighbours(x, name, parts, axis):
        edge = jnp.zeros_like(jax.lax.slice_in_dim(x, 0, 1, axis=axis))
        if parts == 1:
            return edge, edge
        size = x.shape[axis]
        last = jax.lax.slice_in_dim(x, size - 1, size, axis=axis)
        first = jax.lax.slice_in_dim(x, 0, 1, axis=axis)
        down = [(i, i + 1) for i in range(parts - 1)]
        up = [(i + 1, i) for i in range(parts - 1)]
        return jax.lax.ppermute(last, name, down), jax.lax.ppermute(first, name, up)

    def rhs(u):
        lo, hi = neighbours(u, "x", shape[0], 0)
        ext = jnp.concatenate([lo, u, hi], axis=0)
        lo, hi = neighbours(ext, "y", shape[1], 1)
        ext = jnp.concatenate([lo, ext, hi], axis=1)
        lap = ext[2:, 1:-1] + ext[:-2, 1:-1] + ext[1:-1, 2:] + ext[1:-1, :-2] - 4 * u
        rows = jax.lax.axis_index("x") * u.shape[0] + jnp.arange(u.shape[0])[:, None]
        cols = jax.lax.axis_index("y") * u.shape[1] + jnp.arange(u.shape[1])[None, :]
        inside = (rows > 0) & (rows < n - 1) & (cols > 0) & (cols < n - 1)
        return jnp.where(inside, c * lap, 0.0)

    return rhs


def collectives(compiled_text: str) -> dict[str, int]:
    ops = ("collective-permute", "all-gather", "all-reduce", "all-to-all")
    return {op: len(re.findall(rf"= [^=]*\b{op}(-start)?\(", compiled_text)) for op in ops}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n, steps, alpha = args.n, args.steps, 0.1
    h = 1.0 / (n - 1)
    dt = 0.2 * h**2 / alpha
    c = alpha / h**2
    rows, results = [], []
    with jax.enable_x64(True):
        program = lower_fd(pl.parse(SPEC.format(T=repr(dt * steps))), FDOptions(grid=n))
        params = program.prepare({k: jnp.asarray(v) for k, v in program.params.items()})
        u0 = program.initial(params)["u"]
        bound = program.bind(params)

        def generated(u):
            return bound(0.0, {"u": u}, {})["u"]

        reference = None
        for shape in MESHES:
            devices = np.asarray(jax.devices()[:shape[0] * shape[1]]).reshape(shape)
            mesh = Mesh(devices, ("x", "y"), axis_types=(AxisType.Auto,) * 2)
            sharding = NamedSharding(mesh, PartitionSpec("x", "y"))
            u = jax.device_put(u0, sharding)
            split = jax.jit(jax.shard_map(rk4_steps(halo_rhs(c, n, shape), dt, steps),
                                          mesh=mesh, in_specs=PartitionSpec("x", "y"),
                                          out_specs=PartitionSpec("x", "y")))
            solvers = {"generated / partitioner": jax.jit(rk4_steps(pinned(generated, sharding),
                                                                    dt, steps)),
                       "hand / partitioner": jax.jit(rk4_steps(pinned(hand_rhs(c), sharding),
                                                               dt, steps)),
                       "hand / shard_map": split}
            counted = collectives(jax.jit(pinned(generated, sharding)).lower(u).compile()
                                  .as_text())
            for name, solver in solvers.items():
                final, first, best = first_and_best(lambda s=solver, v=u: s(v), args.repeats)
                final = np.asarray(final)
                reference = final if reference is None else reference
                difference = float(np.max(np.abs(final - reference)))
                rows.append((f"{shape[0]}x{shape[1]}", name, best, first, difference))
                results.append({"mesh": list(shape), "solver": name, "s": best,
                                "ms_per_step": 1e3 * best / steps, "first_s": first,
                                "max_difference": difference})
            results.append({"mesh": list(shape), "collectives_per_rhs": counted})
            rows.append((f"{shape[0]}x{shape[1]}", "collectives in one rhs", counted))

    print(f"2-D heat, {n} x {n}, RK4, {steps} steps, float64, "
          f"{jax.devices()[0].platform} x {len(jax.devices())}, {os.cpu_count()} cores")
    print(f"{'mesh':<5} {'solver':<24} {'time (s)':>9} {'ms/step':>8} {'first (s)':>9} "
          f"{'max |diff|':>10}")
    for row in rows:
        if len(row) == 3:
            print(f"{row[0]:<5} {row[1]:<24} " + ", ".join(f"{k} {v}" for k, v in row[2].items()))
            continue
        mesh, name, best, first, difference = row
        print(f"{mesh:<5} {name:<24} {best:9.3f} {1e3 * best / steps:8.2f} {first:9.2f} "
              f"{difference:10.1e}")
    print(json.dumps({"benchmark": "halo_exchange", "n": n, "steps": steps,
                      "platform": jax.devices()[0].platform, "cores": os.cpu_count(),
                      "results": results}))


if __name__ == "__main__":
    main()
