"""A forward fd solve: integrate the lowered program in time (method of lines), or solve its
steady algebraic system, and wrap the result as a `Solution`."""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Sequence
from dataclasses import fields

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from compiler.common.grid import grid_sizes
from compiler.fd import FDOptions, FDProgram, lower_fd
from compiler.fd.dae import is_dae
from pdelang import System

from ..algebra.steady_program import solve_program_steady
from ..errors import OptionError, SolveError
from ..observe.checkpoint import checkpointing
from ..observe.memory import check_fd_memory
from ..output.convergence import integration_verdict
from ..output.finish import finish_solution
from ..output.solution import Solution, rate_keys
from ..parallel.fd_program import (
    output_coordinates,
    output_fields,
    output_rates,
    place_fd,
)
from ..reuse import Remembered
from ..time.base import Rhs
from ..time.integrators import HOST_INTEGRATORS
from ..time.leapfrog import velocity_dependent
from ..time.loop import integrate
from ..time.stability import spectral_radius, stable_dt
from .fit_model import argument_order
from .implicit import dae_integrator, on_host, stage_multigrid
from .options import FDSolveOptions

SHOCK_CFL = 0.4                # Courant number of shock-capturing schemes, on the t0 speeds
MIN_SHOCK_STEPS = 100
STIFF_STEPS = 20_000          # above this many explicit steps, "auto" picks the implicit scheme
HOST_STIFF_STEPS = 4_000      # ... or BDF, from this many, where its sparse LU suits
HOST_LU_UNKNOWNS = {1: 10**6, 2: 300_000, 3: 50_000}   # BDF's LU stays moderate up to these


def solve_forward(system: System, options: FDSolveOptions,
                  observers: Sequence[Callable]) -> Solution:
    """Solve with every parameter known: integrate in time, or solve the steady system."""
    started = clock.perf_counter()
    frames = options.frames if isinstance(options.frames, int) else len(options.frames) + 2
    check_fd_memory(system, grid_sizes(options.grid, system), dtype=options.dtype,
                    integrator=options.integrator, frames=frames, accuracy=options.accuracy,
                    rates=not is_dae(system))
    program, rhs = lowered(system, FDOptions(options.grid, options.accuracy, options.scheme,
                                             options.dtype, options.face_mean))
    dtype = program.dtype
    params = {k: jnp.asarray(v, dtype) for k, v in program.params.items()}
    if program.system.time is None:
        if options.parts:
            raise OptionError("parts (each process writing its own block) applies to "
                              "time-dependent fd solves; a steady solve writes the whole "
                              "field from process 0", hint="leave out --parts")
        placement = place_fd(program, options.devices, options.mesh)   # None: one device
        values, extra, verdict = solve_program_steady(program, params, options.tol,
                                                      options.max_iter, observers, placement,
                                                      options.linear_solver)
        grid = program.output_coordinates()
        rates = {}
    else:
        values, times, extra, rates = evolve(program, params, options, observers, rhs)
        grid = {program.system.time.name: times,
                **output_coordinates(program, extra.get("part"))}
        verdict = integration_verdict(extra["steps"], extra["final_time"])
    shown = {"grid": {a.name: a.points for a in program.grid.axes},
             "accuracy": options.accuracy, "scheme": options.scheme or "auto",
             "dtype": options.dtype, "integrator": extra.get("integrator"),
             "dt": extra.get("dt")}
    return finish_solution("fd", system, grid, values, {}, shown, extra, started,
                           convergence=verdict, rates=rates)


def evolve(program: FDProgram, params, options: FDSolveOptions, observers,
           rhs: Rhs | None = None):
    """Integrate `program` with `params` fixed: (values per field in argument order, output
    times, what the integrator did, the fields' time derivatives at the output times as
    `Solution.rates` keeps them). `rhs`: the program bound to `params` when the caller
    keeps one (`lowered`), else bound here. The rates come from the program's own rhs at
    the states reached (`output_rates`), whichever integrator reached them; a
    differential-algebraic program has none (its algebraic fields take no rate from rhs)."""
    system = program.system
    t0, t1 = system.time.bounds
    t_eval = frame_times(options.frames, t0, t1)
    params = program.prepare(params)
    U0 = program.initial(params)
    placement = place_fd(program, options.devices, options.mesh)   # None: one device
    if rhs is None:
        rhs = program.bind(params)    # a forward solve: the parameters are constants
    rhs = rhs if placement is None else placement.bind(rhs)
    method = options.integrator
    if program.mass is not None:
        method = dae_integrator(program, method)
    elif method == "auto":
        host = placement is None and not (options.checkpoint is not None and (
            options.checkpoint_every or options.resume))
        method = auto_integrator(program, rhs, U0, t0, t1 - t0, options, host=host)
    dt = options.dt
    if dt is None and program.wave_rate is not None and method not in HOST_INTEGRATORS:
        dt = shock_dt(program, U0, params, t0, t1)
        radius = spectral_radius(rhs, np.float64(t0), U0, {}, jax.random.PRNGKey(options.seed))
        dt = min(dt, stable_dt(method, float(radius)))     # diffusion terms may limit more
    identity = {f.name: getattr(options, f.name) for f in fields(options)}
    precondition = stage_multigrid(program, params, method, options, placement)
    if method in HOST_INTEGRATORS or (method == "rodas4" and program.grid.axes):
        trajectory = on_host(method, program, rhs, U0, t_eval, options, observers, placement,
                             params)
    else:
        with checkpointing("fd", system, options, identity) as checkpoint:
            try:
                trajectory = integrate(rhs, U0, {}, t_eval, method=method, dt=dt,
                                       rtol=options.rtol, atol=options.atol,
                                       observers=observers,
                                       key=jax.random.PRNGKey(options.seed),
                                       checkpoint=checkpoint, placement=placement,
                                       precondition=precondition)
            except SolveError as error:
                if "NaN or Inf" in error.message and options.scheme is None \
                        and program.shock_scheme is None and _transports(system):
                    error.hint += ("; a steep front that central differences cannot "
                                   "resolve (a shock) takes an upwinded scheme: --scheme "
                                   "weno5 --integrator ssprk3, or a finer --grid")
                raise
    arrays, part = output_fields(program, trajectory.t, trajectory.U, params, placement,
                                 options.parts)
    values = {f.name: np.transpose(arrays[f.name], argument_order(system, f.name))
              for f in system.fields}
    rates = _named_rates(system, output_rates(program, trajectory.t, trajectory.U, params,
                                              placement, options.parts))
    stats = trajectory.stats
    extra = {"integrator": method, "dt": stats.dt, "steps": stats.steps,
             "rejected_steps": stats.rejected, "final_time": float(trajectory.t[-1]),
             **({"shock_scheme": program.shock_scheme} if program.shock_scheme else {}),
             **(placement.describe() if placement else {}), **({"part": part} if part else {})}
    return values, np.asarray(trajectory.t), extra, rates


def _named_rates(system: System, rates) -> dict[str, np.ndarray]:
    """`output_rates`' {field: (d/dt, d2/dt2)} as `Solution.rates` names them (u_t, u_tt),
    each in the field's argument order like its values."""
    return {key: np.transpose(rate, argument_order(system, name))
            for name, pair in rates.items() for key, rate in zip(rate_keys(system, name), pair)}


_PROGRAMS = Remembered(8)     # lowered programs with their bound right-hand sides


def lowered(system: System, options: FDOptions) -> tuple[FDProgram, Rhs | None]:
    """`lower_fd(system, options)` and, for a time-dependent system, its right-hand side
    with the program's own parameter values as constants: the same pair for an equal system
    and options (the last 8), so that a repeated solve reuses what was compiled for it."""
    def make():
        program = lower_fd(system, options)
        if program.system.time is None:
            return program, None
        params = {k: jnp.asarray(v, program.dtype) for k, v in program.params.items()}
        return program, program.bind(program.prepare(params))

    return _PROGRAMS.get((system, options), make)


def frame_times(frames: int | Sequence[float], t0: float, t1: float) -> np.ndarray:
    if isinstance(frames, int):
        return np.linspace(t0, t1, frames)
    times = np.asarray(sorted(set(float(t) for t in frames) | {t0, t1}))
    if times[0] < t0 or times[-1] > t1:
        raise OptionError(f"output times must lie in [{t0:g}, {t1:g}]")
    return times


def shock_dt(program: FDProgram, U0, params, t0: float, t1: float) -> float:
    """The time step of a shock-capturing scheme: SHOCK_CFL times h over the largest wave
    speed bound at the initial time (a fixed step: waves that speed up a lot later, as in
    strong blast waves, need --dt). The caller also keeps it below the stability limit of
    the whole rhs (diffusion)."""
    rate = float(program.wave_rate(jnp.asarray(t0, program.dtype), U0, params))
    steps = max(1, int(np.ceil((t1 - t0) * rate / SHOCK_CFL))) if rate > 0 else 1
    return (t1 - t0) / max(steps, MIN_SHOCK_STEPS)


def auto_integrator(program: FDProgram, rhs, U0, t0: float, span: float,
                     options: FDSolveOptions, params=None, host: bool = False) -> str:
    """SSPRK3 where convective fluxes are differenced by a shock-capturing scheme; else
    RK4 unless the stability limit would need more steps than it is worth: then BDF
    (error control, one sparse LU kept over many steps) from HOST_STIFF_STEPS where it may
    run on the host (`host`: one device, no checkpoints) and its LU stays moderate
    (HOST_LU_UNKNOWNS by dimension), else SDIRK2 from STIFF_STEPS (on the 2-D heat
    equation at 257^2 to t = 0.1: bdf 1.1 s in 13 steps, sdirk2 with its unpreconditioned
    Newton-Krylov 117 s, rk4 about 20,000 steps); Rodas4 with
    error control for systems without space (ODEs), whose dynamics, not a stencil, limit
    the step, and which may turn stiff after t0 where no estimate there sees it (Robertson's
    kinetics: a spectral radius of 0.04 at t0, 1e4 soon after); for a few unknowns its dense
    Jacobian costs little more than Dormand-Prince's stages. Undamped waves
    (`waves_leapfrog`) take leapfrog instead of RK4. The estimate is the one `integrate`
    makes (same rhs, arguments and key), so its compiled power iteration serves both.
    `params`: what `rhs` takes (none for a bound rhs)."""
    params = {} if params is None else params
    if program.shock_scheme is not None:
        return "ssprk3"           # strong stability: keeps the scheme's TVD / ENO property
    if not program.grid.axes:
        return "rodas4" if options.dt is None else "rk4"
    explicit = "leapfrog" if waves_leapfrog(rhs, t0, U0, options.accuracy, params) else "rk4"
    if options.dt is not None:
        return explicit
    radius = spectral_radius(rhs, np.float64(t0), U0, params,
                             jax.random.PRNGKey(options.seed))
    steps = span / stable_dt(explicit, float(radius))
    unknowns = program.unknowns
    lu_ok = unknowns <= HOST_LU_UNKNOWNS.get(len(program.grid.axes), 0)
    if host and lu_ok and steps > HOST_STIFF_STEPS and options.linear_solver != "multigrid":
        return "bdf"
    return "sdirk2" if steps > STIFF_STEPS else explicit


def waves_leapfrog(rhs, t0: float, U0, accuracy: int, params=None) -> bool:
    """Leapfrog suits a state of second-order fields only (u and u_t for each), whose
    accelerations do not depend on the velocities (no damping), differenced to second
    order in space: its own second order in time then matches the stencils' (at the
    stability limit dt ~ h), where with fourth-order stencils it would cost two orders."""
    if accuracy != 2:
        return False
    try:
        return not velocity_dependent(rhs, np.float64(t0), U0, {} if params is None else params)
    except OptionError:                       # not made of (u, u_t) pairs
        return False


def _transports(system: System) -> bool:
    """Whether an equation has a first derivative in space (a transport term)."""
    space = {c.name for c in system.space}
    return any(count == 1 and variable.name in space
               for equation in system.equations
               for derivative in equation.residual.atoms(sp.Derivative)
               for variable, count in derivative.variable_count)
