"""Scaling over devices: one case per method on 1, 2 and 4 devices.

    fd    2-D heat on an N x N grid (benchmarks/fd_heat.py's problem), RK4 with a fixed
          step, the state split over the devices as `runtime.solve(..., devices=k)` splits
          it (the automatic mesh; for 4 devices both 4 x 1 and 2 x 2)
    steady, odil  a steady fd solve's Jacobian (2-D Poisson) and an ODIL fit (the heat
          coefficient), whose residuals and jvps are split but whose sparse LU runs on the
          host: benchmarks/scaling_steady.py says what each times
    pinn  Poisson 2-D (examples/poisson2d.pde), 64-64-64 tanh network, boundary as loss
          terms, Adam in float32: the points split over the devices, the network
          replicated, as `runtime.solve(..., method="pinn", devices=k)` trains it; timed
          per chunk of steps after the first (compiling) chunk

Each row gives the best time of `--repeats` runs after a first (compiling) one, the time
per step, the ratio to one device, and the largest difference from the one-device result.

XLA_FLAGS=--xla_force_host_platform_device_count=4 is set when absent, so a CPU gives 4
simulated devices. On a CPU they share the machine's cores (2 on the development machine):
the table then shows correctness and the overhead of splitting (halo exchanges, the
all-reduce of the PINN's loss and gradients, more and smaller pieces of work), not a
speed-up, which needs devices of their own. For pinn, max |diff| is the largest relative
difference of the loss history from one device's (float32, rounding of the sums' order).

Run: python benchmarks/scaling.py [--n 512] [--steps 100] [--repeats 3] [--pinn-points 8192]
     [--methods fd,pinn,...]
Prints a table and one JSON line.
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402
from fd_heat import SPEC  # noqa: E402
from pinn_poisson import EXAMPLE  # noqa: E402
from scaling_steady import CASES as STEADY_CASES  # noqa: E402
from scaling_steady import add_arguments, print_titles  # noqa: E402
from timing import time_generated  # noqa: E402

import pdelang as pl  # noqa: E402
from compiler.fd import FDOptions, lower_fd  # noqa: E402
from compiler.pinn import PINNOptions, lower_pinn  # noqa: E402
from runtime.parallel.fd_program import place_fd  # noqa: E402
from runtime.pinn import TrainOptions, train  # noqa: E402

DEVICES = (1, 2, 4)


def fd_rows(args: argparse.Namespace) -> list[dict]:
    """The fd case over 1, 2, 4 devices (automatic mesh), and 4 as 4 x 1 and 2 x 2."""
    n, steps, alpha = args.n, args.steps, 0.1
    dt = 0.2 * (1.0 / (n - 1)) ** 2 / alpha
    runs = [(k, None) for k in DEVICES if k <= len(jax.devices())]
    if len(jax.devices()) >= 4:
        runs += [(4, {"x": 4}), (4, {"x": 2, "y": 2}), (4, {"y": 4})]
    rows, reference, seen = [], None, set()
    with jax.enable_x64(True):
        system = pl.parse(SPEC.format(T=repr(dt * steps)))
        for devices, mesh in runs:
            program = lower_fd(system, FDOptions(grid=n))
            placement = place_fd(program, devices, mesh)
            shape = placement.describe()["mesh"] if placement else {}
            if (devices, tuple(shape.items())) in seen:
                continue                  # the automatic mesh was one of these
            seen.add((devices, tuple(shape.items())))
            _, _, final, first, best = time_generated(
                system, n, dt * steps, dt, "u", args.repeats, devices=devices, mesh=mesh)
            final = np.asarray(final)
            reference = final if reference is None else reference
            rows.append({"method": "fd", "devices": devices,
                         "mesh": shape,
                         "s": best, "per_unit_ms": 1e3 * best / steps, "unit": "step",
                         "first_s": first,
                         "max_difference": float(np.max(np.abs(final - reference)))})
    return rows


def pinn_rows(args: argparse.Namespace) -> list[dict]:
    """The pinn case over 1, 2, 4 devices: 1 + repeats chunks of `chunk` Adam steps each;
    the best chunk after the first gives the time per step. Measured on the 2-core
    machine, 8192 + 2048 points: 26 ms per step on 1 device, 23 on 2, 26 on 4 (the
    compiled step holds one all-reduce and no gather); loss history within 5e-7."""
    program = lower_pinn(pl.load(EXAMPLE), PINNOptions(hard_constraints=False))
    chunk = args.pinn_chunk
    rows, reference = [], None
    for devices in [k for k in DEVICES if k <= len(jax.devices())]:
        options = TrainOptions(steps=chunk * (1 + args.repeats), lbfgs_steps=0, chunk=chunk,
                               points=args.pinn_points, boundary_points=args.pinn_points // 4,
                               devices=devices)
        stamps = [time.perf_counter()]
        result = train(program, options,
                       observers=[lambda _, s=stamps: s.append(time.perf_counter())])
        times = np.diff(stamps[1:])
        loss = np.asarray(result.history["loss"], dtype=np.float64)
        reference = loss if reference is None else reference
        rows.append({"method": "pinn", "devices": devices,
                     "mesh": result.placement.describe()["mesh"],
                     "s": float(times.min()), "per_unit_ms": 1e3 * times.min() / chunk,
                     "unit": "step", "first_s": stamps[1] - stamps[0],
                     "max_difference": float(np.max(np.abs(loss - reference) /
                                                    np.abs(reference)))})
    return rows


CASES = {"fd": fd_rows, "pinn": pinn_rows, **STEADY_CASES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=512, help="fd grid points per axis")
    parser.add_argument("--steps", type=int, default=100, help="fd steps")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pinn-points", type=int, default=8192,
                        help="pinn interior points (a quarter as many on the boundary)")
    parser.add_argument("--pinn-chunk", type=int, default=50, help="pinn Adam steps per chunk")
    add_arguments(parser)
    parser.add_argument("--methods", default=",".join(CASES),
                        help=f"which cases to run, of {', '.join(CASES)}")
    args = parser.parse_args()
    rows = [row for method in args.methods.split(",") for row in CASES[method](args)]

    platform = jax.devices()[0].platform
    print(f"scaling over devices: {platform} x {len(jax.devices())}, {os.cpu_count()} cores"
          + ("; simulated CPU devices share the cores: overhead, not speed-up"
             if platform == "cpu" else ""))
    if "fd" in args.methods.split(","):
        print(f"fd: 2-D heat {args.n} x {args.n}, RK4, {args.steps} steps, float64")
    if "pinn" in args.methods.split(","):
        print(f"pinn: Poisson 2-D, {args.pinn_points} + {args.pinn_points // 4} points, 64-64-64 "
              f"network, Adam in chunks of {args.pinn_chunk} steps, float32; max |diff|: "
              "relative, of the loss history")
    print_titles(args, rows)
    print(f"{'method':<6} {'devices':>7} {'mesh':<9} {'time (s)':>9} {'ms/unit':>9} "
          f"{'x 1 device':>10} {'first (s)':>9} {'max |diff|':>10}")
    single = {r["method"]: r["s"] for r in rows if r["devices"] == 1}
    for r in rows:
        mesh = ",".join(f"{k}={v}" for k, v in r["mesh"].items()) or "-"
        r["over_one_device"] = r["s"] / single[r["method"]]
        print(f"{r['method']:<6} {r['devices']:>7} {mesh:<9} {r['s']:9.3f} "
              f"{r['per_unit_ms']:9.3f} {r['over_one_device']:10.2f} {r['first_s']:9.2f} "
              f"{r['max_difference']:10.1e}")
    print(json.dumps({"benchmark": "scaling", "platform": platform,
                      "devices": len(jax.devices()), "cores": os.cpu_count(),
                      "n": args.n, "steps": args.steps, "pinn_points": args.pinn_points,
                      "rows": rows}))


if __name__ == "__main__":
    main()
