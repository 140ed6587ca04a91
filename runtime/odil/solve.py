"""`method="odil"`: the finite-difference residual on the whole space-time grid solved at
once (Newton with the sparse Jacobian of the discrete system), per `compiler.odil`; with
unknown parameters or observations, minimised together with the data misfit
(`runtime.odil`, Levenberg-Marquardt).

Over several devices (`devices`, `mesh`, as fd's: `runtime.parallel.fd_program.place_fd`, time
counting as a coordinate) the fields of the space-time grid are split for every residual
evaluation and Jacobian-vector product; Newton's and Levenberg-Marquardt's sparse LU run on
the host with the whole Jacobian, gathered once per linearisation (a distributed sparse
direct solver is outside JAX)."""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Sequence
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np

from compiler.common.nets import net_arrays, net_key
from compiler.common.observations import FieldObservations, require_observations
from compiler.fd import FDOptions, FDProgram, lower_fd
from compiler.odil import space_time_system
from pdelang import System

from ..algebra.steady_program import solve_program_steady
from ..errors import OptionError
from ..options import OPTIONS
from ..options.table import AUTO_ONLY_IN_PINN
from ..output.convergence import Convergence, minimiser_verdict, misfit_verdict
from ..output.finish import finish_solution
from ..output.solution import Solution
from ..parallel.devices import default_dtype
from ..parallel.fd_program import place_fd
from ..parallel.sharding import Placement
from .continuation import fit_coarse_to_fine, grid_levels
from .fit import FitSettings


def check_odil_options(options) -> None:
    for name in ("regularization", "data_weight"):
        if getattr(options, name) is None:
            raise OptionError(f"{name} must be a number, got None", hint=AUTO_ONLY_IN_PINN)
    if not options.regularization >= 0:
        raise OptionError(f"regularization must be >= 0, got {options.regularization!r}")


ODILSolveOptions = OPTIONS.options_class(
    "odil", "ODILSolveOptions", module=__name__, check=check_odil_options,
    doc="Everything `solve(..., method=\"odil\")` accepts (see "
        "`runtime.options.describe(\"odil\")`): `grid` counts points per coordinate, time "
        "included; `tol`, `max_iter` are Newton's; inverse problems: `fit_steps` (most "
        "Levenberg-Marquardt steps; `tol` their relative loss decrease), `data_weight` and "
        "`regularization` (see `runtime.odil.fit`); `devices`, `mesh`: see the module "
        "docstring.")


def solve_odil(system: System, options: ODILSolveOptions,
               observers: Sequence[Callable] = ()) -> Solution:
    """Solve `system` by ODIL: the forward problem by Newton, an inverse one (unknown
    parameters, or observations) by fitting the fields and parameters to the data."""
    if options.dtype is None:
        options = replace(options, dtype=default_dtype("odil"))
    inverse = bool(system.learned or system.data)
    if inverse:
        _check_fit_options(options)
    observations = require_observations(system, "odil") if inverse else ()
    with jax.enable_x64(options.dtype == "float64"):
        started = clock.perf_counter()
        grid = options.grid
        if isinstance(grid, dict) and system.time is not None and system.time.name not in grid:
            grid = {**grid, system.time.name: max(grid.values(), default=33)}
        program = _lower(system, grid, options)
        if inverse:
            values, inferred, extra, verdict = _fit(system, program, observations, options,
                                                    observers)
        else:
            params = {k: jnp.asarray(v, program.dtype) for k, v in program.params.items()}
            values, extra, verdict = solve_program_steady(program, params, options.tol,
                                                          options.max_iter, observers,
                                                          _place(program, options))
            inferred = {}
        coordinates = program.output_coordinates()
        order = [c.name for c in system.coordinates]
        shown = {"grid": {a.name: a.points for a in program.grid.axes},
                 "accuracy": options.accuracy, "dtype": options.dtype}
        if inverse:
            shown.update(fit_steps=options.fit_steps, data_weight=options.data_weight,
                         regularization=options.regularization)
        return finish_solution("odil", system, {c: coordinates[c] for c in order}, values,
                               inferred, shown, extra, started, convergence=verdict)


def _check_fit_options(options: ODILSolveOptions) -> None:
    steps = options.fit_steps
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise OptionError(f"fit_steps must be an int >= 1, got {steps!r}")
    if not options.data_weight > 0:
        raise OptionError(f"data_weight must be > 0, got {options.data_weight!r}",
                          hint="the data are what fixes the unknowns: give them weight")
    if not options.regularization >= 0:
        raise OptionError(f"regularization must be >= 0, got {options.regularization!r}")


def _lower(system: System, grid, options: ODILSolveOptions) -> FDProgram:
    return lower_fd(space_time_system(system),
                    FDOptions(grid, options.accuracy, "central", options.dtype,
                              options.face_mean))


def _fit(system: System, program: FDProgram, observations: tuple[FieldObservations, ...],
         options: ODILSolveOptions, observers: Sequence[Callable]
         ) -> tuple[dict, dict, dict, Convergence]:
    """(fields on the output grid, inferred parameters, what the fit did for `meta`, the
    verdict: Levenberg-Marquardt's stopping test and each field's RMS misfit within
    `MISFIT` of its data's RMS): fits on coarser grids first (`runtime.odil.continuation`),
    then on `program`'s."""
    settings = FitSettings(options.data_weight, options.regularization, options.fit_steps,
                           options.tol, options.max_iter)
    levels = grid_levels({a.name: a.points for a in program.grid.axes})
    programs = [_lower(system, points, options) for points in levels[:-1]] + [program]
    placements = [_place(p, options) for p in programs]
    if system.nets and any(p is not None for p in placements):
        raise OptionError("learned functions are trained by odil on one device so far: "
                          "their weights' products are not split over a mesh",
                          system.nets[0].span, hint="leave out --devices and --mesh")
    outcome, coarse = fit_coarse_to_fine(programs, observations, settings, observers,
                                         placements)
    result = outcome.result
    values = {f.name: np.asarray(program.to_output(f.name, outcome.U[f.name]))
              for f in program.system.fields}
    nets = {net_key(n.name): n for n in system.nets}
    inferred = {}
    for name, v in outcome.params.items():
        inferred.update(net_arrays(nets[name], v) if name in nets else
                        {name: float(v) if np.ndim(v) == 0 else program.to_output(name, v)})
    solver = "levenberg-marquardt" + (" (weights by conjugate gradients)" if nets else "")
    extra = {"solver": solver, "iterations": result.iterations, **outcome.notes,
             "factorizations": result.factorizations, "converged": result.converged,
             "stop_reason": result.reason, "start": outcome.start,
             "final_residual": outcome.residual_rms, "data_misfit": outcome.misfit_rms,
             "loss": result.loss, "loss_history": list(result.history),
             "timings_s": result.timings, "coarse_levels": coarse,
             **(placements[-1].describe() if placements[-1] else {})}
    scale = {o.field: o.rms or 1.0 for o in observations}
    relative = {name: rms / scale[name] for name, rms in outcome.misfit_rms.items()}
    extra["relative_misfit"] = relative
    verdict = minimiser_verdict(result.converged, result.reason, result.iterations,
                                result.loss, ("fit_steps",)) & \
        misfit_verdict(relative, ("data_weight", "grid"))
    return values, inferred, extra, verdict


def _place(program: FDProgram, options: ODILSolveOptions) -> Placement | None:
    """How the fields of `program` lie on the devices (None: one device)."""
    return place_fd(program, options.devices, options.mesh)
