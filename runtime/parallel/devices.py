"""Which devices a solve runs on, how a grid is laid over them, and joining a multi-host run.

One process sees its local devices; `jax.distributed.initialize` joins several processes
(hosts) into one run whose global devices are all of theirs, each process driving its own.
`distributed_settings` reads that start-up from flags or the usual environment variables,
`start_distributed` performs it, `select_devices` picks the devices of one solve and
`mesh_shape` how many of them go along each space coordinate.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jax
import numpy as np
from jax.sharding import AxisType, Mesh

from ..errors import OptionError

ENVIRONMENT = {"coordinator": "JAX_COORDINATOR_ADDRESS",
               "num_processes": "JAX_NUM_PROCESSES",
               "process_id": "JAX_PROCESS_ID"}
MIN_BLOCK = 8       # nodes per device along a coordinate below which slabs are too thin
SIMULATE_HINT = ("on a CPU, XLA_FLAGS=--xla_force_host_platform_device_count=N (set before "
                 "the program starts) gives N simulated devices")


@dataclass(frozen=True)
class DistributedSettings:
    """How this process joins a multi-host run: the coordinator's `host:port`, the number
    of processes and this one's id (None: left to JAX's cluster detection, e.g. Slurm)."""

    coordinator: str | None
    num_processes: int | None
    process_id: int | None


DTYPES = ("float64", "float32")     # the floating-point types a solve runs in


def default_dtype(method: str) -> str:
    """float32 for pinn everywhere, and for fd and odil on accelerators (GPU, TPU), whose
    double precision is slow or absent; float64 for fd and odil on the CPU (as SciPy,
    py-pde and MethodOfLines)."""
    if method in ("pinn", "fbpinn") or jax.default_backend() != "cpu":
        return "float32"
    return "float64"


def distributed_settings(coordinator: str | None = None, num_processes: int | None = None,
                         process_id: int | None = None,
                         environ: Mapping[str, str] | None = None) -> DistributedSettings | None:
    """The multi-host start-up that flags or, where a flag is absent, the environment
    variables JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and JAX_PROCESS_ID ask for; None
    when none is set (a one-process run)."""
    environ = os.environ if environ is None else environ
    given = {"coordinator": coordinator, "num_processes": num_processes,
             "process_id": process_id}
    for name, variable in ENVIRONMENT.items():
        if given[name] is None and environ.get(variable, "").strip():
            text = environ[variable].strip()
            given[name] = text if name == "coordinator" else _whole_number(variable, text)
    if all(v is None for v in given.values()):
        return None
    settings = DistributedSettings(**given)
    _check_settings(settings)
    return settings


def _whole_number(variable: str, text: str) -> int:
    if not text.isdigit():
        raise OptionError(f"the environment variable {variable}={text!r} is not a whole "
                          "number")
    return int(text)


def _check_settings(s: DistributedSettings) -> None:
    if s.coordinator is not None:
        host, _, port = s.coordinator.rpartition(":")
        if not host or not port.isdigit():
            raise OptionError(f"the coordinator address {s.coordinator!r} is not HOST:PORT",
                              hint="e.g. --coordinator 10.0.0.1:1234 (process 0 listens "
                                   "there, the others connect to it)")
    if s.num_processes is not None and s.num_processes < 1:
        raise OptionError(f"the number of processes must be at least 1, not "
                          f"{s.num_processes}")
    if s.process_id is not None and s.num_processes is not None \
            and not 0 <= s.process_id < s.num_processes:
        raise OptionError(f"process id {s.process_id} is not in 0..{s.num_processes - 1}",
                          hint="give each of the N processes one id from 0 to N-1")


def start_distributed(settings: DistributedSettings) -> None:
    """Join the multi-host run (`jax.distributed.initialize`); must come before any JAX
    computation. Unset values are left to JAX's cluster detection (Slurm, Open MPI)."""
    if jax.distributed.is_initialized():
        return
    try:
        jax.distributed.initialize(coordinator_address=settings.coordinator,
                                   num_processes=settings.num_processes,
                                   process_id=settings.process_id)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise OptionError(f"could not join the multi-host run ({exc})",
                          hint="give --coordinator HOST:PORT, --num-processes N and "
                               "--process-id K (or JAX_COORDINATOR_ADDRESS, "
                               "JAX_NUM_PROCESSES, JAX_PROCESS_ID), the same address and "
                               "count on every process") from None


def select_devices(count: int | None = None) -> list[jax.Device]:
    """The devices of a solve: all devices of the run (every process's), or `count` of them.

    With several processes, `count` must be a multiple of their number and each process
    gives `count / processes` of its local devices, so that every process takes part."""
    devices = jax.devices()
    if count is None:
        return devices
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise OptionError(f"devices must be a whole number >= 1, not {count!r}")
    if count > len(devices):
        raise OptionError(f"{count} devices asked for, but this run has {len(devices)} "
                          f"({devices[0].platform})", hint=SIMULATE_HINT)
    processes = jax.process_count()
    if processes == 1:
        return devices[:count]
    if count % processes:
        raise OptionError(f"{count} devices cannot be shared evenly by {processes} "
                          "processes", hint=f"use a multiple of {processes}")
    per_process = count // processes
    return [d for p in range(processes)
            for d in [d for d in devices if d.process_index == p][:per_process]]


def mesh_shape(nodes: Mapping[str, int], count: int,
               requested: Mapping[str, int] | None = None) -> dict[str, int]:
    """Devices along each split coordinate (those with more than one), `count` in all.

    `nodes`: grid nodes per space coordinate, in order. `requested` fixes the split (e.g.
    {"x": 2, "y": 2}). Otherwise all devices go along the first coordinate, the leading
    axis of the arrays, whose halos are whole contiguous rows: measured fastest
    (benchmarks/scaling.py: on 4 CPU devices a 512^2 heat step costs 1.5x one device as
    4 x 1 slabs, 2.6x split along y, 3x as 2 x 2). Where those slabs would be thinner than
    MIN_BLOCK nodes, the first two coordinates share the devices with the smallest cut
    through the grid (ties: fewer split coordinates, then the earlier one). A grid without
    space coordinates is not split.
    """
    if requested:
        shape = _checked_request(nodes, count, requested)
    elif count == 1 or not nodes:
        shape = {}
    else:
        shape = _automatic(nodes, count)
    for name, parts in shape.items():
        if parts > nodes[name]:
            raise OptionError(f"{parts} devices along {name} is more than its {nodes[name]} "
                              "grid nodes", hint="use fewer devices or a finer grid")
    return {name: parts for name, parts in shape.items() if parts > 1}


def _checked_request(nodes: Mapping[str, int], count: int,
                     requested: Mapping[str, int]) -> dict[str, int]:
    unknown = [name for name in requested if name not in nodes]
    if unknown:
        raise OptionError(f"the mesh names {', '.join(unknown)}, which is not a grid "
                          f"coordinate (the grid's coordinates: {', '.join(nodes) or 'none'})")
    if any(not isinstance(v, int) or v < 1 for v in requested.values()):
        raise OptionError(f"devices per coordinate must be whole numbers >= 1, not "
                          f"{dict(requested)}")
    total = math.prod(requested.values())
    if total != count:
        shown = ",".join(f"{k}={v}" for k, v in requested.items())
        raise OptionError(f"the mesh {shown} uses {total} devices, but the solve has {count}",
                          hint=f"make the product of the mesh sizes {count}, or give "
                               f"--devices {total}")
    return {name: requested[name] for name in nodes if name in requested}


def _automatic(nodes: Mapping[str, int], count: int) -> dict[str, int]:
    names = list(nodes)[:2]
    sizes = [nodes[n] for n in names]
    total = math.prod(sizes)
    candidates = [(count,)] if len(names) == 1 else \
        [(a, count // a) for a in range(count, 0, -1) if count % a == 0]
    fitting = [s for s in candidates if all(p <= n for p, n in zip(s, sizes))]
    if not fitting:
        raise OptionError(f"{count} devices cannot split a grid of "
                          f"{' x '.join(map(str, sizes))} nodes",
                          hint="use fewer devices or a finer grid")
    roomy = [s for s in fitting if all(p == 1 or n // p >= MIN_BLOCK
                                       for p, n in zip(s, sizes))]
    if candidates[0] in roomy:        # slabs along the first coordinate
        return dict(zip(names, candidates[0]))

    def cut(split: tuple[int, ...]) -> tuple[int, int]:
        area = sum((p - 1) * total // n for p, n in zip(split, sizes))
        return area, sum(p > 1 for p in split)

    return dict(zip(names, min(roomy or fitting, key=cut)))


def make_mesh(devices: Sequence[jax.Device], shape: Mapping[str, int]) -> Mesh:
    """A mesh of `devices` with one axis per split coordinate, named after it. Axes are
    `Auto`: XLA's partitioner places the halo exchanges of the stencils."""
    names = tuple(shape)
    grid = np.asarray(devices, dtype=object).reshape(tuple(shape.values()))
    return Mesh(grid, names, axis_types=(AxisType.Auto,) * len(names))
