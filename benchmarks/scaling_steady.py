"""The steady and odil cases of benchmarks/scaling.py: solves whose sparse LU runs on the
host, over 1, 2 and 4 devices.

    steady  2-D Poisson (examples/poisson2d.pde) on --steady-n^2 nodes. Timed: one
            Jacobian, as every Newton step builds it: the residual and its colour jvps
            split over the devices, the compressed columns gathered to the host once, the
            CSR matrix assembled there. Not split: the SuperLU factorisation (the "host
            LU" line, from one whole solve; a distributed sparse direct solver is outside
            JAX). max |diff|: the solution against one device's.
    odil    the heat coefficient of examples/heat_inverse.pde on a --odil-n^2 space-time
            grid. Timed: the whole Levenberg-Marquardt fit from the forward solution at
            the first guess, per step: residual evaluations and the jvps of both Jacobians
            (fields, parameter) split, one gather per Jacobian. Not split: the normal
            equations, their LU and the step on the host (the "host LU" line: its share).
            max |diff|: the fields and the inferred coefficient against one device's.

On a CPU the simulated devices share the machine's cores, so these rows, like fd's, show
correctness and the overhead of splitting, not a speed-up; and the host LU, the larger part
of a steady solve, takes the same time on any number of devices.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from timing import first_and_best

import pdelang as pl
from compiler.common.observations import require_observations
from compiler.fd import FDOptions, FDProgram, lower_fd
from compiler.odil import space_time_system
from runtime.algebra.least_squares import levenberg_marquardt
from runtime.algebra.newton import solve_steady
from runtime.algebra.sparse_jacobian import Sparsity, make_sparse_jacobian
from runtime.odil.fit import FitSettings, forward_start, make_loss
from runtime.parallel.fd_program import place_fd

DEVICES = (1, 2, 4)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steady-n", type=int, default=513,
                        help="steady Poisson grid points per axis")
    parser.add_argument("--odil-n", type=int, default=65,
                        help="odil space-time grid points per axis")


def device_runs(program: FDProgram, meshes: list[dict[str, int]]) -> list[tuple]:
    """(devices, placement, mesh shape) for 1, 2 and 4 devices (automatic mesh) and for 4
    devices as each of `meshes`, each split once."""
    runs = [(k, None) for k in DEVICES if k <= len(jax.devices())]
    if len(jax.devices()) >= 4:
        runs += [(4, mesh) for mesh in meshes]
    chosen, seen = [], set()
    for devices, mesh in runs:
        placement = place_fd(program, devices, mesh)
        shape = placement.describe()["mesh"] if placement else {}
        if (devices, tuple(shape.items())) not in seen:   # the automatic mesh may repeat
            seen.add((devices, tuple(shape.items())))
            chosen.append((devices, placement, shape))
    return chosen


def steady_rows(args: argparse.Namespace) -> list[dict]:
    """One Jacobian of the steady Poisson solve (best of repeats), and one whole solve for
    its host LU and its solution."""
    rows, reference = [], None
    with jax.enable_x64(True):
        program = lower_fd(pl.load(EXAMPLES / "poisson2d.pde"), FDOptions(grid=args.steady_n))
        params = program.prepare({k: jnp.asarray(v) for k, v in program.params.items()})
        U0 = program.initial(params)
        sparsity = Sparsity(program.reach, {"u": (False, False)})
        for devices, placement, shape in device_runs(program, [{"x": 2, "y": 2}]):
            jac = make_sparse_jacobian(program.residual, U0, sparsity, placement=placement)
            u = np.asarray(jac.ravel(U0))
            _, first, best = first_and_best(
                lambda jac=jac, u=u: jac.linearize(u, params)[0], args.repeats)
            result = solve_steady(program.residual, U0, params, sparsity, linear=True,
                                  placement=placement)
            solution = np.asarray(result.U["u"])
            reference = solution if reference is None else reference
            rows.append({"method": "steady", "devices": devices, "mesh": shape,
                         "grid": args.steady_n, "s": best, "per_unit_ms": 1e3 * best,
                         "unit": "jacobian", "first_s": first,
                         "host_lu_s": result.timings["factor"],
                         "solve_stages_s": result.timings,
                         "max_difference": float(np.max(np.abs(solution - reference)))})
    return rows


def odil_rows(args: argparse.Namespace) -> list[dict]:
    """The odil fit of the heat coefficient, best of repeats from the same start."""
    rows, reference = [], None
    settings = FitSettings()
    with jax.enable_x64(True):
        system = pl.load(EXAMPLES / "heat_inverse.pde")
        observations = require_observations(system, "odil")
        program = lower_fd(space_time_system(system),
                           FDOptions(args.odil_n, 2, "central", "float64"))
        for devices, placement, shape in device_runs(program, [{"t": 2, "x": 2}]):
            loss, z0, sparsity = make_loss(program, observations, settings,
                                           placement=placement)
            z0, _ = forward_start(program, loss, z0, sparsity, settings)
            seconds, results = [], []
            for _ in range(args.repeats + 1):       # the first compiles
                start = time.perf_counter()
                results.append(levenberg_marquardt(loss.evaluate, loss.linearize, z0,
                                                   max_steps=settings.max_steps,
                                                   tol=settings.tol))
                seconds.append(time.perf_counter() - start)
            best = 1 + int(np.argmin(seconds[1:])) if args.repeats else 0
            result = results[best]
            u, theta = loss.split(result.z)
            found = np.append(np.asarray(u), float(theta["k"]))
            reference = found if reference is None else reference
            rows.append({"method": "odil", "devices": devices, "mesh": shape,
                         "grid": args.odil_n, "s": seconds[best], "unit": "LM step",
                         "per_unit_ms": 1e3 * seconds[best] / result.iterations,
                         "first_s": seconds[0], "host_lu_s": result.timings["factor"],
                         "fit_stages_s": result.timings, "steps": result.iterations,
                         "k": float(theta["k"]),
                         "max_difference": float(np.max(np.abs(found - reference)))})
    return rows


CASES = {"steady": steady_rows, "odil": odil_rows}


def print_titles(args: argparse.Namespace, rows: list[dict]) -> None:
    """What each case times, what is split and what is not, and its host LU per row."""
    for method in [m for m in CASES if m in args.methods.split(",")]:
        if method == "steady":
            print(f"steady: 2-D Poisson {args.steady_n} x {args.steady_n}, float64, per "
                  "Jacobian: colour jvps split, one gather, CSR on the host; not split: "
                  "the host LU of a solve")
        else:
            print(f"odil: heat coefficient on {args.odil_n} x {args.odil_n} (t, x), "
                  "float64, per Levenberg-Marquardt step: residuals and jvps split, one "
                  "gather per Jacobian; not split: normal equations and LU on the host")
        lu = ", ".join(f"{r['devices']} {_mesh(r['mesh'])} {r['host_lu_s']:.3f}"
                       for r in rows if r["method"] == method)
        print(f"  host LU (s), by devices and mesh: {lu}")


def _mesh(mesh: dict[str, int]) -> str:
    return ",".join(f"{k}={v}" for k, v in mesh.items()) or "-"
