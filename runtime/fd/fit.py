"""`method="fd"` with unknown parameters: fit them by differentiating through the solver.

The model is the lowered FD program integrated with a fixed-step Runge-Kutta scheme
(`runtime.fd.simulate`, rematerialised so memory stays flat in the number of steps) to
the observation times, then sampled at the observation points (multilinear in space).
The residual is the misfit of each observed field relative to the root mean square of its
data, over the square root of its count (so fields and data sets of any size weigh alike),
plus `regularization` times the mean squared gradient of each unknown coefficient field
and times the mean squared weight of each learned function (weight decay).
A few unknowns are fitted by Levenberg-Marquardt with forward-mode Jacobians; a field on
the grid by L-BFGS with reverse-mode gradients.

Steady systems are solved exactly at every trial value and differentiated implicitly
(`runtime.fd.steady_fit`).

The step: RK4 at 0.9 of its stability limit for the first guess, re-checked at the fitted
values (a fit whose values need a smaller step is repeated with it). Systems without space
have no stability limit to set the step, so the fit is repeated with half the step until
the unknowns move by less than `DT_RTOL` (Richardson's test of the time error); with
learned functions (`net` lines), whose weights are many and not identifiable one by one,
the unknowns' movement says nothing of the time error, and the first step is kept. Their
weights are unknowns like any other (compiler/common/nets.py), fitted by L-BFGS.

Or dopri5 under error control (`--integrator dopri5`, and auto where a learned function
enters the spatial operator with no `--dt`: `fit_integrator`): one fit, its step attempts
planned at the first guess and re-planned by the fit when an iterate needs more
(`runtime.fd.fit_model`), no refinement of a step afterwards.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Sequence

import jax
import numpy as np
import sympy as sp

from compiler.common.nets import net_arrays, net_key
from compiler.common.observations import require_observations
from compiler.fd import FDOptions, FDProgram, lower_fd
from pdelang import System
from pdelang.expressions import NetOutput, NetSlope
from pdelang.ir import RUN

from ..algebra import OPTIMIZERS  # auto: lm up to LM_LIMIT unknowns, else lbfgs
from ..algebra.least_squares import LeastSquaresResult
from ..errors import OptionError, SolveError
from ..output.convergence import Convergence, minimiser_verdict, misfit_verdict
from ..output.finish import finish_solution
from ..output.solution import Solution
from ..parallel.fd_program import output_coordinates
from ..time.base import Options
from ..time.integrators import get_integrator
from .fit_model import LM_STEPS, FitModel
from .forward import evolve
from .simulate import FixedSteps, plan_steps

DT_RTOL = 1e-6          # systems without space: halve the step until the unknowns move less
MAX_REFINEMENTS = 4     # most repeats of the fit with a smaller step
LM_LIMIT = 64           # at most this many unknown numbers: Levenberg-Marquardt (auto)
STEP_SLACK = 0.02       # a stable step this close above the one taken needs no new fit
FIT_INTEGRATORS = ("rk4", "ssprk3", "dopri5")   # what a fit's simulation can step with


def fit_fd(system: System, options, observers: Sequence[Callable] = ()) -> Solution:
    """Fit the unknown parameters of a time-dependent `system` to its observations, then
    solve it forward with the fitted values (`options`: `FDSolveOptions`)."""

    started = clock.perf_counter()
    observations = require_observations(system, "fd", runs=system.time is not None)
    program = lower_fd(system, FDOptions(options.grid, options.accuracy, options.scheme,
                                         options.dtype, options.face_mean))
    if system.time is None:
        if system.nets:
            raise OptionError("learned functions are trained through a time integrator; "
                              "a steady system's are not trained by fd yet",
                              system.nets[0].span, hint="give the system a time")
        return _fit_steady(program, observations, options, observers, started)
    if program.mass is not None:
        raise OptionError("fitting a differential-algebraic system by fd is not supported "
                          "yet (its forward solve runs on the host integrators)",
                          hint="use --method odil or --method pinn for this fit")
    model = _model(program, observations, options, options.windows)
    unknowns = model.unknowns
    optimizer = _optimizer(options.optimizer, unknowns.size, bool(system.nets))
    scheme = fit_integrator(options.integrator, system, options.dt, options.windows)
    if scheme == "dopri5":
        theta, result, steps, stages = _fit_adaptive(model, options, optimizer, observers)
    else:
        theta, result, steps, stages = _fit_fixed(model, options, optimizer, scheme,
                                                  observers)
    if model.windows is not None:     # multiple shooting done: single shooting from there
        model, theta, result = _single_shooting(model, observations, options, theta, steps,
                                                observers, stages)
        unknowns = model.unknowns
    starts = {k: np.asarray(v) for k, v in unknowns.fitted_states(theta).items()}
    values, times, extra, rates = _evolve_runs(model, unknowns.params(theta), starts,
                                               options, observers)
    grid = {system.time.name: times, **output_coordinates(program, extra.get("part"))}
    residual = model.residual_at(theta, steps)
    fit = {"optimizer": optimizer, "scheme": scheme, "integrator": scheme, "stages": stages,
           "unknowns": unknowns.size, "loss": result.loss,
           "relative_misfit": model.data.misfits(residual),
           "regularization": options.regularization, "observations": model.data.counts}
    if model.runs is not None:
        fit["runs"] = [float(label) for label in model.runs.labels]
    if starts:                      # fitted initial states: the numbers, where they are few
        fit["initial_state"] = {k: v.tolist() for k, v in starts.items() if v[0].size == 1}
    if model.held is not None:      # learned functions: what early stopping watched
        fit["held_out"] = {"times": [float(t) for t in model.held_times],
                           "relative_misfit": model.held_out_misfits(residual)}
    shown = {"integrator": extra.get("integrator"), "dt": extra.get("dt"),
             "fit_integrator": scheme}
    verdict = fit_verdict(result, fit["relative_misfit"])
    runs = {RUN: model.runs.labels} if model.runs is not None else None
    fitted = {k: v for k, v in unknowns.unravel(theta).items() if k not in unknowns.states}
    return _fitted_solution(program, system, options, grid, values, fitted,
                            shown, extra, fit, result, started, verdict, runs, rates)


def _single_shooting(model: FitModel, observations, options, theta: np.ndarray,
                     steps: FixedSteps, observers, stages: list[dict]):
    """The fit by single shooting from multiple shooting's result `theta` (its windows'
    starts dropped): (the single-shooting model, theta, result); a stage appended."""
    single = _model(model.program, observations, options)
    start = single.unknowns.flatten(model.unknowns.free(theta))
    optimizer = _optimizer(options.optimizer, single.unknowns.size,
                           bool(model.program.system.nets))
    result, _ = single.fit(start, steps, optimizer, options.fit_steps, observers, check=False)
    stages.append(_fixed_stage(single, stages[-1]["integrator"], steps.dt, result,
                               _relative_change(result.z, start)))
    _check_finite(result.z, model.program.system)
    return single, result.z, result


def _evolve_runs(model: FitModel, params, starts: dict[str, np.ndarray], options,
                 observers):
    """The forward solve at the fitted values (`starts`: fitted initial states); with
    several runs, one from each run's own initial state, every field and rate stacked on
    a new first axis (a Solution's members)."""
    if model.starts is None:
        return evolve(model.program, params, options, observers)
    if model.runs is None:
        return evolve(model.starts.program(model.program, 0, starts), params, options,
                      observers)
    solved = [evolve(model.runs.program(model.program, r, starts), params, options, observers)
              for r in range(len(model.runs))]
    values = {name: np.stack([v[name] for v, *_ in solved]) for name in solved[0][0]}
    rates = {name: np.stack([r[name] for *_, r in solved]) for name in solved[0][3]}
    extra = {**solved[-1][2], "steps": sum(e.get("steps") or 0 for _, _, e, _ in solved)}
    return values, solved[0][1], extra, rates


def _fit_fixed(model: FitModel, options, optimizer: str, scheme: str, observers):
    """The fit by RK4 (or ssprk3) with a fixed step: 0.9 of the stable step at the first
    guess (or --dt), refitted with a smaller one where the fitted values need it (or, with
    no space, with half the step until the unknowns stop moving): (theta, result, the
    stepping of the last fit, its stages)."""
    program, system = model.program, model.program.system
    tableau = get_integrator(scheme).tableau
    dt = options.dt or model.first_step(scheme, options.seed)
    theta, stages = model.unknowns.theta0, []
    for _ in range(MAX_REFINEMENTS + 1):
        # identifiability is judged at the guess: a bounded unknown that a first fit pushed
        # against its bound has a flat transform there, not a flat misfit
        steps = FixedSteps(dt, tableau)
        result, _ = model.fit(theta, steps, optimizer, options.fit_steps, observers,
                              check=not stages,
                              adam_steps=0 if stages else options.adam_steps,
                              seed=options.seed)
        moved = _relative_change(result.z, theta) if stages else None
        stages.append(_fixed_stage(model, scheme, dt, result, moved))
        theta = result.z
        _check_finite(theta, system)
        limit = None if options.dt else model.stable_step(theta, scheme, options.seed)
        if limit is not None and limit < dt * (1 - STEP_SLACK):
            dt = limit               # the fitted values need a smaller step: fit again
        elif not program.grid.axes and not options.dt and not system.nets and \
                (moved is None or moved > DT_RTOL):
            dt = dt / 2              # Richardson: does a smaller step move the unknowns?
        else:
            break
    return theta, result, steps, stages


def _fit_adaptive(model: FitModel, options, optimizer: str, observers):
    """The fit by dopri5 under error control (`rtol`, `atol`; `dt`, if given, its first
    trial step): its attempts planned at the first guess and re-planned when an iterate
    needs more, so one fit, no refinement. (theta, result, stepping, stages)."""
    tolerances = Options(dt=options.dt, rtol=options.rtol, atol=options.atol)
    planned = model.plan(model.unknowns.theta0, tolerances)
    result, steps = model.fit(model.unknowns.theta0, planned, optimizer, options.fit_steps,
                              observers, adam_steps=options.adam_steps)
    theta = result.z
    _check_finite(theta, model.program.system)
    taken = model.attempts(theta, tolerances)
    stage = {"integrator": "dopri5", "rtol": options.rtol, "atol": options.atol,
             "attempts_per_interval": {"first_guess": planned.plan.attempts,
                                       "planned": steps.plan.attempts,
                                       "fitted": taken["needed"]},
             "replans": model.replans, "steps": taken["steps"],
             "rejected": taken["rejected"], "iterations": result.iterations,
             "loss": result.loss, "stopped": result.reason,
             "converged": result.converged, "change": None}
    if not taken["reached"]:
        raise SolveError("the fit's simulation does not reach the last observation time at "
                         "the fitted values", span=model.program.system.learned[0].span,
                         hint="start from a better guess (`param k ~ guess`)")
    return theta, result, model.replanned(theta, steps) or steps, [stage]


def fit_integrator(choice: str, system: System, dt: float | None, windows: int = 1) -> str:
    """The integrator of the fit's simulation: rk4, ssprk3 or dopri5 as asked; auto:
    dopri5 where a learned function enters the spatial operator and no step is given, else
    rk4 (any other integrator, an implicit one, serves the forward solve, the fit taking
    rk4). A learned flux inside d(., z), or a learned function of T_z, scales with 1/h or
    1/h^2 like the terms that set the stable step, and training can make it many times
    stiffer than the known physics whose stable step a fixed step would take (the column
    example blows up at it); a learned function of the fields alone (a reaction) cannot,
    and there fixed RK4 was faster (Fisher-KPP 9.8 s against 18.6 s, Lotka-Volterra
    12.3 s against 16.9 s: dopri5's seven stages and larger compiled programs). Multiple
    shooting's `windows` step at a fixed step (an OptionError for dopri5 with them)."""
    if choice == "dopri5" and windows > 1:
        raise OptionError("multiple shooting's windows step at a fixed step; dopri5 steps one "
                          "trajectory under error control", hint="leave out --integrator "
                          "dopri5 (with --windows the fit takes rk4), or --windows")
    if choice in FIT_INTEGRATORS:
        return choice
    if choice == "auto" and dt is None and windows == 1 and learned_in_space(system):
        return "dopri5"
    return "rk4"


def learned_in_space(system: System) -> bool:
    """Whether a learned function of `system` is differentiated in space or takes spatial
    derivatives as inputs."""
    for equation in system.equations:
        residual = equation.residual
        if any(isinstance(use, NetSlope) or any(x.has(sp.Derivative) for x in use.inputs)
               for use in residual.atoms(NetOutput)):
            return True
        if any(d.expr.has(NetOutput) for d in residual.atoms(sp.Derivative)):
            return True
    return False


def _model(program: FDProgram, observations, options, windows: int = 1) -> FitModel:
    """The fit's residual as `options` ask, with multiple shooting's `windows`."""
    return FitModel(program, observations, options.regularization, options.misfit,
                    options.adjoint, options.hold_out, options.initial_state, windows,
                    options.batch_windows)


def _fixed_stage(model: FitModel, scheme: str, dt: float, result: LeastSquaresResult,
                 change: float | None) -> dict:
    """What one fit at a fixed step did, for the result's meta."""
    return {"integrator": scheme, "dt": dt,
            "steps": plan_steps(model.times, dt).total_steps,
            "iterations": result.iterations, "loss": result.loss, "stopped": result.reason,
            "converged": result.converged, "change": change,
            "windows": model.windows.count if model.windows else 1}


def _check_finite(theta: np.ndarray, system: System) -> None:
    if not np.all(np.isfinite(theta)):
        raise SolveError("the fit diverged: the unknowns became non-finite",
                         span=system.learned[0].span,
                         hint="start from a better guess (`param k ~ guess`)")


def _fit_steady(program: FDProgram, observations, options, observers,
                started: float) -> Solution:
    """Unknown constants of a steady system (`runtime.fd.steady_fit`), then the forward
    solve at the fitted values."""
    from ..algebra.steady_program import solve_program_steady
    from .steady_fit import SteadyFit

    fit = SteadyFit(program, observations, options.tol, options.max_iter, options.misfit)
    result = fit.fit(options.fit_steps or LM_STEPS, observers)
    values, extra, solved = solve_program_steady(program, fit.unknowns.params(result.z),
                                                 options.tol, options.max_iter)
    misfit = np.asarray(fit.data.sampled(values)) - fit.data.values
    summary = {"optimizer": "lm", "differentiation": "implicit",
               "unknowns": fit.unknowns.size, "iterations": result.iterations,
               "loss": result.loss, "relative_misfit": fit.data.misfits(misfit),
               "observations": fit.data.counts}
    verdict = fit_verdict(result, summary["relative_misfit"]) & solved
    return _fitted_solution(program, program.system, options, program.output_coordinates(),
                            values, fit.unknowns.unravel(result.z), {}, extra, summary, result,
                            started, verdict)


def _fitted_solution(program: FDProgram, system: System, options, grid, values, fitted,
                     shown: dict, extra: dict, fit: dict, result: LeastSquaresResult,
                     started: float, verdict: Convergence,
                     runs: dict[str, np.ndarray] | None = None,
                     rates: dict[str, np.ndarray] | None = None) -> Solution:
    """The Solution of a fit of `system` as written (its program's system has learned
    functions' derivatives expanded): the forward solution at the fitted values, the inferred
    values, and `meta` with the options, what the solver did (`extra`) and the fit; several
    runs' are the Solution's members (`runs`: {"run": labels}); `rates`: the forward
    solution's time derivatives at its frames."""
    options_shown = {"grid": {a.name: a.points for a in program.grid.axes},
                     "accuracy": options.accuracy, "scheme": options.scheme or "auto",
                     "misfit": options.misfit, "adjoint": options.adjoint,
                     "initial_state": options.initial_state, "windows": options.windows,
                     "batch_windows": options.batch_windows,
                     "hold_out": options.hold_out,
                     "dtype": options.dtype, **shown}
    extra = {**extra, "fit": fit, "final_loss": result.loss,
             "loss_history": list(result.history), "converged": result.converged,
             "stop_reason": result.reason}
    nets = {net_key(n.name): n for n in program.system.nets}
    inferred = {}
    for name, value in fitted.items():
        inferred.update(net_arrays(nets[name], value) if name in nets else
                        {name: _inferred_value(program, name, value)})
    return finish_solution("fd", system, grid, values, inferred, options_shown, extra,
                           started, convergence=verdict, sweep=runs, rates=rates)


def fit_verdict(result: LeastSquaresResult, relative_misfit: dict[str, float]) -> Convergence:
    """The minimiser's stopping test, and the data misfit within MISFIT of the data."""
    stopped = minimiser_verdict(result.converged, result.reason, result.iterations,
                                result.loss, ("fit_steps", "optimizer"))
    return stopped & misfit_verdict(relative_misfit, ("grid",))


def _optimizer(choice: str, size: int, nets: bool = False) -> str:
    """auto: Levenberg-Marquardt for a few unknowns, L-BFGS for many or for learned
    functions (whose loss landscape stalled Levenberg-Marquardt in a poor minimum on the
    Fisher-KPP example: misfit 42% of the data, against 1% by L-BFGS)."""
    if choice not in OPTIMIZERS:
        raise OptionError(f"optimizer {choice!r} is not available; choose one of "
                          f"{', '.join(OPTIMIZERS)}")
    if choice == "auto":
        return "lm" if size <= LM_LIMIT and not nets else "lbfgs"
    return choice


def _relative_change(new: np.ndarray, old: np.ndarray) -> float:
    return float(np.max(np.abs(new - old) / np.maximum(np.abs(new), 1e-300)))


def _inferred_value(program: FDProgram, name: str, value: jax.Array):
    """A float for an unknown constant; a field on the output grid of its arguments."""
    array = np.asarray(value, dtype=np.float64)
    return float(array) if array.ndim == 0 else program.to_output(name, array)
