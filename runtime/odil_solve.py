"""`method="odil"`: the finite-difference residual on the whole space-time grid solved at
once (Newton with the sparse Jacobian of the discrete system), per `compiler.odil`."""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from compiler.fd import FDOptions, lower_fd
from compiler.odil import space_time_system
from pdelang import System

from .errors import OptionError
from .meta import base_meta
from .solution import Solution
from .steady_program import solve_program_steady


@dataclass(frozen=True)
class ODILSolveOptions:
    """`grid`: points per coordinate, time included (an int for all, or per name);
    `accuracy`: 2 or 4; `tol`, `max_iter`: Newton's; `dtype`: float64 (default)."""

    grid: int | dict[str, int] | None = None
    accuracy: int = 2
    tol: float = 1e-10
    max_iter: int = 50
    dtype: str = "float64"
    seed: int = 0
    frames: int | None = None      # accepted for command-line symmetry; the grid decides
    fit_steps: int = 50            # inverse problems: most Gauss-Newton iterations
    data_weight: float = 1.0       # weight of the data misfit against the residual
    regularization: float = 0.0    # smoothness weight on unknown coefficient fields


def solve_odil(system: System, options: ODILSolveOptions,
               observers: Sequence[Callable] = ()) -> Solution:
    if system.unknown_params or system.data:
        raise OptionError("odil solves forward problems in this version; unknown parameters "
                          "and observations (inverse problems) are not supported yet",
                          hint="drop the `~` parameters and `data` lines, or use --method fd")
    with jax.enable_x64(options.dtype == "float64"):
        started = clock.perf_counter()
        grid = options.grid
        if isinstance(grid, dict) and system.time is not None and system.time.name not in grid:
            grid = {**grid, system.time.name: max(grid.values(), default=33)}
        program = lower_fd(space_time_system(system),
                           FDOptions(grid, options.accuracy, "central", options.dtype))
        params = {k: jnp.asarray(v, program.dtype) for k, v in program.params.items()}
        values, extra = solve_program_steady(program, params, options.tol, options.max_iter,
                                             observers)
        coordinates = program.output_coordinates()
        order = [c.name for c in system.coordinates]
        meta = base_meta("odil", system, {"grid": {a.name: a.points for a in
                                                   program.grid.axes},
                                          "accuracy": options.accuracy, "dtype": options.dtype})
        meta.update(extra)
        meta["wall_time_s"] = clock.perf_counter() - started
        solution = Solution(system, {c: coordinates[c] for c in order}, values, {}, meta)
        errors = solution.errors()
        if errors:
            meta["relative_l2_error"] = errors
        return solution
