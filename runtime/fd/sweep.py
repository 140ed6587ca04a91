"""`sweep=` (`--sweep k=0.1:2:32`): one fd solve for many values of known constants.

The system is lowered once; its parameters become stacked arrays (a member axis on the swept
constants only) and every member is integrated by one compiled, vmapped program
(`runtime.fd.ensemble`). Steady members are solved in turn by the steady solver (the
sparse LU on the host, or one compiled multigrid program). Each field comes back with a new
first axis, one entry per member, and the Solution keeps the swept values
(`Solution.sweep`). A constant inside a coefficient field's definition is refused (the grid
holds that field as numbers), even where the field would be written into the equations.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Mapping, Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from compiler.common.grid import grid_sizes
from compiler.fd import FDOptions, FDProgram
from pdelang import System

from ..algebra.steady_program import solve_program_steady
from ..errors import OptionError, SolveError
from ..observe.memory import check_fd_memory
from ..output.convergence import Convergence, integration_verdict
from ..output.finish import finish_solution
from ..output.solution import Solution, rate_keys
from ..parallel.devices import select_devices
from ..parallel.fd_program import RATE_BATCH_BYTES, frame_rates, rate_fields
from ..reuse import Remembered
from ..time.integrators import HOST_INTEGRATORS
from ..time.stability import spectral_radius, stable_dt
from .ensemble import integrate_ensemble, member
from .fit_model import argument_order
from .forward import (
    auto_integrator,
    frame_times,
    lowered,
    shock_dt,
    waves_leapfrog,
)
from .options import FDSolveOptions


def sweep_values(system: System, sweep: Mapping[str, object]) -> dict[str, np.ndarray]:
    """The swept constants' values, one 1-D float array each, all of one length: names of
    known constants of `system` (not unknowns or coefficient fields, and not used inside a
    coefficient field's definition, which the grid holds as numbers), finite values."""
    if not isinstance(sweep, Mapping) or not sweep:
        raise OptionError("sweep takes {name: values} for known constants of the system, "
                          f"not {sweep!r}", hint="e.g. sweep={'k': np.linspace(0.1, 2, 32)}")
    names = {p.name: p for p in system.params}
    out = {}
    for name, given in sweep.items():
        param = names.get(name)
        if param is None:
            known = [p.name for p in system.params if not p.is_field and not p.is_unknown]
            raise OptionError(f"sweep names {name!r}, which is not a parameter of the system",
                              hint="sweep one of its known constants: "
                              + (", ".join(known) if known else "it has none"))
        if param.is_field or param.is_unknown:
            what = "a coefficient field" if param.is_field else "an unknown to infer"
            raise OptionError(f"sweep names {name!r}, which is {what}; a sweep takes known "
                              "constants (`param k = 0.5`)", param.span)
        _check_not_inlined(system, param)
        try:
            values = np.asarray(given, dtype=float)
        except (TypeError, ValueError):
            raise OptionError(f"the sweep's values of {name!r} are not numbers: {given!r}",
                              param.span) from None
        if values.ndim != 1:
            raise OptionError(f"the sweep's values of {name!r} must be a list of numbers "
                              f"(one per member), not an array of shape {values.shape}",
                              param.span)
        if values.size == 0 or not np.all(np.isfinite(values)):
            raise OptionError(f"the sweep's values of {name!r} must be finite numbers, at "
                              "least one", param.span)
        out[name] = values
    counts = {name: len(v) for name, v in out.items()}
    if len(set(counts.values())) != 1:
        raise OptionError("swept constants go together, member i taking value i of each: "
                          "they need equal counts, not " +
                          ", ".join(f"{k}: {n}" for k, n in counts.items()))
    return out


def _check_not_inlined(system: System, param) -> None:
    symbol = param.symbol
    for field in system.params:
        if field.is_field and field.value is not None and symbol in field.value.free_symbols:
            raise OptionError(
                f"{param.name} defines the coefficient field {field.name}, which the grid "
                "holds as numbers computed once; a sweep of it would not reach the solver",
                param.span, hint=f"write {field.name}'s expression into the equations, or "
                f"sweep another constant")


def solve_sweep(system: System, options: FDSolveOptions,
                observers: Sequence[Callable]) -> Solution:
    """Every member of `options.sweep`, with one lowering and one compiled program."""
    started = clock.perf_counter()
    saving = options.checkpoint is not None and (options.checkpoint_every or options.resume)
    if options.parts or saving:      # the command line's save-when-interrupted folder is fine
        raise OptionError("a sweep runs as one compiled program, without checkpoints or "
                          "files per process", hint="leave out --checkpoint / --parts")
    if options.mesh:
        raise OptionError("a sweep splits its members between devices, not the grid",
                          hint="leave out --mesh (--devices N splits the members)")
    devices = select_devices(options.devices)
    if jax.process_count() > 1:
        raise OptionError("a sweep runs in one process (its members split between that "
                          "process's devices)", hint="start it without --num-processes")
    swept = sweep_values(system, options.sweep)
    count = len(next(iter(swept.values())))
    frames = options.frames if isinstance(options.frames, int) else len(options.frames) + 2
    check_fd_memory(system, grid_sizes(options.grid, system), dtype=options.dtype,
                    integrator=options.integrator, frames=frames * count,
                    accuracy=options.accuracy)
    program, _ = lowered(system, FDOptions(options.grid, options.accuracy, options.scheme,
                                           options.dtype, options.face_mean))
    if program.mass is not None:
        raise OptionError("a sweep of a differential-algebraic system is not supported: its "
                          "members would need the host integrators (bdf), which run one "
                          "at a time", hint="solve the members one by one")
    params, axes = member_params(program, swept)
    if system.time is None:
        values, grid, extra, verdict = _steady_members(program, params, axes, count,
                                                       swept, options, observers)
        rates = {}
    else:
        values, grid, extra, verdict, rates = _evolve_members(program, params, axes, swept,
                                                              options, devices)
    _check_reached(values, swept)
    shown = {"grid": {a.name: a.points for a in program.grid.axes},
             "accuracy": options.accuracy, "scheme": options.scheme or "auto",
             "dtype": options.dtype, "integrator": extra.get("integrator"),
             "dt": extra.get("dt"), "sweep": {k: v.tolist() for k, v in swept.items()}}
    return finish_solution("fd", system, grid, values, {}, shown, extra, started,
                           convergence=verdict, sweep=swept, rates=rates)


def member_params(program: FDProgram, swept: Mapping[str, np.ndarray]):
    """The program's parameters with a member axis on the swept constants, and the vmap
    axes that say so (0 for them, None for the shared rest)."""
    dtype = program.dtype
    params = {k: jnp.asarray(swept[k] if k in swept else v, dtype)
              for k, v in program.params.items()}
    return params, {k: 0 if k in swept else None for k in params}


def _evolve_members(program: FDProgram, params, axes, swept, options: FDSolveOptions,
                    devices=()):
    """Integrate every member at once: the integrator and the step are chosen for the
    stiffest member (largest spectral radius at t0) and shared. Also each member's rates
    at the frames (`Solution.rates`, the member axis first), from the program's rhs."""
    t0, t1 = program.system.time.bounds
    t_eval = frame_times(options.frames, t0, t1)
    initial, closed, differentiate = _compiled(program, axes)
    U0 = initial(params)
    count = len(next(iter(swept.values())))
    key = jax.random.PRNGKey(options.seed)
    member_states = [(member(U0, i), program.prepare(member(params, i, axes)))
                     for i in range(count)]
    radii = [spectral_radius(program.rhs, np.float64(t0), U, p, key) for U, p in member_states]
    stiffest = int(np.argmax(radii))
    U_s, p_s = member_states[stiffest]
    method = options.integrator
    if method == "auto":
        method = auto_integrator(program, program.rhs, U_s, t0, t1 - t0, options, p_s)
        if method == "leapfrog" and not all(
                waves_leapfrog(program.rhs, t0, U, options.accuracy, p)
                for U, p in member_states):
            method = "rk4"                 # a damped member: as auto picks for it alone
    if method in HOST_INTEGRATORS or (method == "rodas4" and program.grid.axes):
        raise OptionError(f"a sweep takes integrators that run on the device: {method}'s "
                          "sparse LU runs on the host", hint="use --integrator sdirk2 for "
                          "stiff members, or solve them one by one")
    dt = options.dt
    if dt is None and program.wave_rate is not None:
        dt = min(shock_dt(program, U, p, t0, t1) for U, p in member_states)
        dt = min(dt, stable_dt(method, radii[stiffest]))
    trajectory = integrate_ensemble(program.rhs, U0, params, axes, t_eval, method=method,
                                    dt=dt, stiffest=stiffest, rtol=options.rtol,
                                    atol=options.atol, key=key, devices=devices)
    _check_members(trajectory, swept, t1)
    times = jnp.asarray(trajectory.t, program.dtype)
    fields = closed(times, trajectory.U, params)
    system = program.system
    values = {f.name: _members_output(program, f.name, fields[f.name])
              for f in system.fields}
    first, second = differentiate(times, trajectory.U, params)
    rates = {key: _members_output(program, name, rate[name]) for name in first
             for key, rate in zip(rate_keys(system, name), (first, second))}
    grid = {system.time.name: trajectory.t, **program.output_coordinates()}
    extra = {"integrator": method, "dt": trajectory.dt, "members": count,
             **({"shock_scheme": program.shock_scheme} if program.shock_scheme else {}),
             "steps": int(trajectory.steps.max()),
             "rejected_steps": int(trajectory.rejected.sum()),
             "final_time": float(trajectory.reached.min()),
             "integration_time_s": trajectory.wall_time_s, "devices": max(1, len(devices))}
    verdict = integration_verdict(extra["steps"], extra["final_time"])
    return values, grid, extra, verdict, rates


def _members_output(program: FDProgram, name: str, array) -> np.ndarray:
    """A closed field of every member (axes: member, time, grid) as output values: periodic
    end points, NaN outside a shaped domain, the grid axes in the field's argument order."""
    order = argument_order(program.system, name)
    output = np.asarray(program.to_output(name, np.asarray(array)))
    return np.transpose(output, [0] + [1 + k for k in order])


_COMPILED = Remembered(8)


def _compiled(program: FDProgram, axes):
    """The members' initial states, their closed output fields and those fields' first and
    second time derivatives (`frame_rates`), jitted and vmapped once per program and set
    of swept names (a repeated sweep reuses them)."""
    def make():
        initial = jax.jit(jax.vmap(lambda p: program.initial(program.prepare(p)),
                                   in_axes=(axes,)))
        closed = jax.jit(jax.vmap(jax.vmap(program.closure, in_axes=(0, 0, None)),
                                  in_axes=(None, 0, axes)))
        return initial, closed, jax.jit(partial(_member_rates, program, axes))

    return _COMPILED.get((id(program), tuple(sorted(axes.items()))), make)


def _member_rates(program: FDProgram, axes, t, U, params):
    """`frame_rates` of every member (`U`: axes member, time, grid), vmapped; the members
    share one batch of frames' worth of memory."""
    members = len(next(iter(U.values())))
    share = max(1, RATE_BATCH_BYTES // members)

    def one(U, p):
        return frame_rates(program.rhs, program.closure, rate_fields(program), t, U,
                           program.prepare(p), share)

    return jax.vmap(one, in_axes=(0, axes))(U, params)


def _check_members(trajectory, swept, t1: float) -> None:
    """A SolveError naming the first member that turned non-finite, failed its nonlinear
    solves, or (adaptive) stopped short of the end."""
    for i in range(len(trajectory.steps)):
        label = _label(swept, i)
        if not trajectory.finite[i].all():
            first = int(np.argmin(trajectory.finite[i]))
            raise SolveError(f"the sweep's member {i} ({label}) turned NaN or Inf by t = "
                             f"{trajectory.t[first]:.6g}", hint="a smaller --dt, or "
                             "--integrator sdirk2 for stiff members")
        if trajectory.failures[i]:
            raise SolveError(f"the sweep's member {i} ({label}): {trajectory.failures[i]} "
                             "implicit stage solves missed their tolerance",
                             hint="a smaller --dt")
        if trajectory.reached[i] < t1 - 1e-12 * max(1.0, abs(t1)):
            raise SolveError(f"the sweep's member {i} ({label}) stopped at t = "
                             f"{trajectory.reached[i]:.6g} of {t1:g} (its step size "
                             "collapsed or it ran out of steps)", hint="a stiff member: "
                             "--integrator rodas4 or sdirk2")


def _steady_members(program: FDProgram, params, axes, count: int, swept, options,
                    observers):
    """Each member in turn through the steady solver (the sparse LU on the host, or
    multigrid); the residual, its Jacobian's colouring and the multigrid program compile
    once for all."""
    verdicts, results, iterations = [], [], []
    for i in range(count):
        values, extra, verdict = solve_program_steady(program, member(params, i, axes),
                                                      options.tol, options.max_iter,
                                                      observers, solver=options.linear_solver)
        results.append(values)
        verdicts.append(verdict)
        iterations.append(extra["iterations"])
    values = {name: np.stack([r[name] for r in results]) for name in results[0]}
    failed = [i for i, v in enumerate(verdicts) if not v.converged]
    verdict = verdicts[failed[0]] if failed else verdicts[0]
    if failed:
        verdict = Convergence(False, verdict.criterion,
                              f"member {failed[0]} ({_label(swept, failed[0])}): "
                              f"{verdict.reason}", verdict.figures, verdict.options)
    extra = {"solver": extra["solver"], "members": count, "iterations": iterations}
    return values, program.output_coordinates(), extra, verdict


def _check_reached(values: Mapping[str, np.ndarray], swept) -> None:
    """A sweep whose members all came out identical while the swept values differ did not
    reach the solver: an error, not a stack of copies that looks like a result."""
    distinct = any(np.ptp(v) > 0 for v in swept.values())
    if not distinct or len(next(iter(swept.values()))) < 2:
        return
    if all(np.array_equal(v[0], v[i]) for v in values.values() for i in range(1, len(v))):
        raise OptionError("every member of the sweep came out the same: " +
                          ", ".join(swept) + " does not change the solution",
                          hint="sweep a constant that the equations, conditions or initial "
                          "values use")


def _label(swept, index: int) -> str:
    return ", ".join(f"{k} = {v[index]:.6g}" for k, v in swept.items())
