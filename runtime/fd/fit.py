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
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sps

from compiler.common.nets import net_arrays, net_key
from compiler.common.observations import FieldObservations, require_observations
from compiler.errors import LoweringError
from compiler.fd import FDOptions, FDProgram, lower_fd
from pdelang import System

from ..algebra import OPTIMIZERS  # auto: lm up to LM_LIMIT unknowns, else lbfgs
from ..algebra.lbfgs import lbfgs
from ..algebra.least_squares import LeastSquaresResult, levenberg_marquardt
from ..errors import OptionError, SolveError
from ..output.convergence import Convergence, minimiser_verdict, misfit_verdict
from ..output.finish import finish_solution
from ..output.solution import Solution
from ..parallel.fd_program import output_coordinates
from ..time.integrators import get_integrator
from .forward import argument_order, evolve
from .observed import ScaledData, Unknowns
from .simulate import plan_steps, trajectory

ODE_STEPS = 1000        # first step for systems without space: the span over this
DT_RTOL = 1e-6          # systems without space: halve the step until the unknowns move less
MAX_REFINEMENTS = 4     # most repeats of the fit with a smaller step
LM_LIMIT = 64           # at most this many unknown numbers: Levenberg-Marquardt (auto)
LM_STEPS = 100          # default iterations of Levenberg-Marquardt
LM_TOL = 1e-12          # ... stopping when a step lowers the loss or moves theta less
LBFGS_STEPS = 300       # default iterations of L-BFGS
SAFETY = 0.9
STEP_SLACK = 0.02       # a stable step this close above the one taken needs no new fit


def fit_fd(system: System, options, observers: Sequence[Callable] = ()) -> Solution:
    """Fit the unknown parameters of a time-dependent `system` to its observations, then
    solve it forward with the fitted values (`options`: `FDSolveOptions`)."""

    started = clock.perf_counter()
    observations = require_observations(system, "fd")
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
    model = FitModel(program, observations, options.regularization)
    unknowns = model.unknowns
    optimizer = _optimizer(options.optimizer, unknowns.size)
    scheme = "ssprk3" if options.integrator == "ssprk3" else "rk4"
    tableau = get_integrator(scheme).tableau
    dt = options.dt or model.first_step(scheme, options.seed)
    theta, stages = unknowns.theta0, []
    for _ in range(MAX_REFINEMENTS + 1):
        # identifiability is judged at the guess: a bounded unknown that a first fit pushed
        # against its bound has a flat transform there, not a flat misfit
        result = model.fit(theta, dt, tableau, optimizer, options.fit_steps, observers,
                           check=not stages)
        moved = _relative_change(result.z, theta) if stages else None
        stages.append({"dt": dt, "iterations": result.iterations, "loss": result.loss,
                       "stopped": result.reason, "converged": result.converged,
                       "change": moved})
        theta = result.z
        if not np.all(np.isfinite(theta)):
            raise SolveError("the fit diverged: the unknowns became non-finite",
                             span=system.learned[0].span,
                             hint="start from a better guess (`param k ~ guess`)")
        limit = None if options.dt else model.stable_step(theta, scheme, options.seed)
        if limit is not None and limit < dt * (1 - STEP_SLACK):
            dt = limit               # the fitted values need a smaller step: fit again
        elif not program.grid.axes and not options.dt and not system.nets and \
                (moved is None or moved > DT_RTOL):
            dt = dt / 2              # Richardson: does a smaller step move the unknowns?
        else:
            break
    values, times, extra = evolve(program, unknowns.params(theta), options, observers)
    grid = {system.time.name: times, **output_coordinates(program, extra.get("part"))}
    fit = {"optimizer": optimizer, "scheme": scheme, "stages": stages,
           "unknowns": unknowns.size, "loss": result.loss,
           "relative_misfit": model.misfits(theta, stages[-1]["dt"], tableau),
           "regularization": options.regularization, "observations": model.data.counts}
    shown = {"integrator": extra.get("integrator"), "dt": extra.get("dt")}
    verdict = fit_verdict(result, fit["relative_misfit"])
    return _fitted_solution(program, options, grid, values, unknowns.unravel(theta), shown,
                            extra, fit, result, started, verdict)


def _fit_steady(program: FDProgram, observations, options, observers,
                started: float) -> Solution:
    """Unknown constants of a steady system (`runtime.fd.steady_fit`), then the forward
    solve at the fitted values."""
    from ..algebra.steady_program import solve_program_steady
    from .steady_fit import SteadyFit

    fit = SteadyFit(program, observations, options.tol, options.max_iter)
    result = fit.fit(options.fit_steps or LM_STEPS, observers)
    values, extra, solved = solve_program_steady(program, fit.unknowns.params(result.z),
                                                 options.tol, options.max_iter)
    misfit = np.asarray(fit.data.sampled(values)) - fit.data.values
    summary = {"optimizer": "lm", "differentiation": "implicit",
               "unknowns": fit.unknowns.size, "iterations": result.iterations,
               "loss": result.loss, "relative_misfit": fit.data.misfits(misfit),
               "observations": fit.data.counts}
    verdict = fit_verdict(result, summary["relative_misfit"]) & solved
    return _fitted_solution(program, options, program.output_coordinates(), values,
                            fit.unknowns.unravel(result.z), {}, extra, summary, result,
                            started, verdict)


def _fitted_solution(program: FDProgram, options, grid, values, fitted, shown: dict,
                     extra: dict, fit: dict, result: LeastSquaresResult,
                     started: float, verdict: Convergence) -> Solution:
    """The Solution of a fit: the forward solution at the fitted values, the inferred
    values, and `meta` with the options, what the solver did (`extra`) and the fit."""
    options_shown = {"grid": {a.name: a.points for a in program.grid.axes},
                     "accuracy": options.accuracy, "scheme": options.scheme or "auto",
                     "dtype": options.dtype, **shown}
    extra = {**extra, "fit": fit, "final_loss": result.loss,
             "loss_history": list(result.history), "converged": result.converged,
             "stop_reason": result.reason}
    nets = {net_key(n.name): n for n in program.system.nets}
    inferred = {}
    for name, value in fitted.items():
        inferred.update(net_arrays(nets[name], value) if name in nets else
                        {name: _inferred_value(program, name, value)})
    return finish_solution("fd", program.system, grid, values, inferred, options_shown, extra,
                           started, convergence=verdict)


def fit_verdict(result: LeastSquaresResult, relative_misfit: dict[str, float]) -> Convergence:
    """The minimiser's stopping test, and the data misfit within MISFIT of the data."""
    stopped = minimiser_verdict(result.converged, result.reason, result.iterations,
                                result.loss, ("fit_steps", "optimizer"))
    return stopped & misfit_verdict(relative_misfit, ("grid",))


class FitModel:
    """The residual of a fit as a function of the flat vector of unknowns."""

    def __init__(self, program: FDProgram, observations: tuple[FieldObservations, ...],
                 regularization: float) -> None:
        system = program.system
        self.program = program
        self.regularization = regularization
        self.unknowns = Unknowns.of(program)
        t0 = float(system.time.lower)
        times = [np.atleast_1d(t0)]
        for o in observations:
            if system.time.name not in o.args:
                raise LoweringError(f"the observations of `{o.field}` have no time column; "
                                    "fd fitting compares fields at observed times",
                                    system.data[0].span)
            times.append(o.coordinate(system.time.name))
        self.times = np.unique(np.concatenate(times))
        self.data = ScaledData.on(observations,
                                  {system.time.name: self.times, **program.output_coordinates()},
                                  program)
        self.fields = [p for p in system.unknown_params if p.is_field]

    # -- the residual -------------------------------------------------------------------
    def states(self, theta: jax.Array, dt: float, tableau) -> dict:
        """The fields at the observation times (time first), boundaries closed."""
        program = self.program
        params = program.prepare(self.unknowns.params(theta))
        U0 = program.initial(params)
        plan = plan_steps(self.times, dt)
        states = trajectory(program.rhs, U0, params, plan, tableau)
        times = jnp.asarray(self.times, program.dtype)
        return jax.vmap(program.closure, in_axes=(0, 0, None))(times, states, params)

    def residuals(self, theta: jax.Array, dt: float, tableau) -> jax.Array:
        """The weighted misfit of every observed field, then the smoothness rows."""
        program, system = self.program, self.program.system
        closed = self.states(theta, dt, tableau)
        arrays = {o.field: jnp.transpose(program.to_output(o.field, closed[o.field]),
                                         argument_order(system, o.field))
                  for o in self.data.observations}
        return jnp.concatenate([self.data.sampled(arrays) - self.data.values,
                                *self.smoothness(theta)])

    def smoothness(self, theta) -> list[jax.Array]:
        """sqrt(regularization) times the differences of each unknown field over its
        spacing, scaled so that their sum of squares is the mean squared gradient; and for
        each learned function its weights, scaled so that theirs is the mean squared
        weight (weight decay)."""
        if not self.regularization or not (self.fields or self.program.system.nets):
            return []
        values = self.unknowns.unravel(theta)
        parts = [np.sqrt(self.regularization / values[net_key(n.name)].size) *
                 values[net_key(n.name)] for n in self.program.system.nets]
        for p in self.fields:
            field = values[p.name]
            for k, axis in enumerate(p.args):
                h = self.program.grid.axis(axis).h
                slope = jnp.diff(field, axis=k).ravel() / h
                parts.append(np.sqrt(self.regularization / slope.size) * slope)
        return parts

    def misfits(self, theta: np.ndarray, dt: float, tableau) -> dict[str, float]:
        """Root-mean-square misfit of each observed field, relative to its data's RMS."""
        residual = jax.jit(lambda th: self.residuals(th, dt, tableau))(jnp.asarray(theta))
        return self.data.misfits(np.asarray(residual))

    # -- the fit ------------------------------------------------------------------------
    def fit(self, theta: np.ndarray, dt: float, tableau, optimizer: str, steps: int | None,
            observers: Sequence[Callable], check: bool = True) -> LeastSquaresResult:
        def residuals(th):
            return self.residuals(th, dt, tableau)

        if optimizer == "lbfgs":
            return lbfgs(residuals, theta, steps or LBFGS_STEPS, observers)
        # r and its forward-mode Jacobian in one compiled call; the trial evaluations of
        # Levenberg-Marquardt keep theirs for the linearisation that follows acceptance
        both = jax.jit(jax.jacfwd(lambda th: (residuals(th), residuals(th)), has_aux=True))
        last: dict = {}

        def evaluate(z: np.ndarray) -> np.ndarray:
            if last.get("z") is not z:
                J, r = both(jnp.asarray(z))
                last.update(z=z, r=np.asarray(r, np.float64), J=np.asarray(J, np.float64))
            return last["r"]

        def linearize(z: np.ndarray):
            return evaluate(z), sps.csr_matrix(last["J"])

        theta = np.asarray(theta, dtype=np.float64)    # the object the fit starts from
        evaluate(theta)
        if check:
            self.check_identifiable(last["J"])
        return levenberg_marquardt(evaluate, linearize, theta, max_steps=steps or LM_STEPS,
                                   tol=LM_TOL, observers=observers)

    def check_identifiable(self, J: np.ndarray) -> None:
        """A SolveError naming the unknowns that the observations do not depend on at all
        (a zero column of the Jacobian: no fit can move them)."""
        names = [p.name for p in self.program.system.unknown_params]
        idle = np.flatnonzero(~np.any(J != 0, axis=0))
        if len(idle) and len(names) == J.shape[1]:     # constants only: a column each
            which = ", ".join(f"`{names[i]}`" for i in idle)
            raise SolveError(f"the observations do not depend on {which}: at the first "
                             "guess, changing it changes no observed value",
                             span=self.program.system.param(names[idle[0]]).span,
                             hint="observe the fields at times after the start, where the "
                                  "unknowns have acted")

    def first_step(self, scheme: str, seed: int) -> float:
        """0.9 of the stable step at the first guess, or the span / ODE_STEPS."""
        step = self.stable_step(self.unknowns.theta0, scheme, seed)
        return step if step is not None else self.program.system.time.length / ODE_STEPS

    def stable_step(self, theta: np.ndarray, scheme: str, seed: int) -> float | None:
        """0.9 of the stability limit of `scheme` at `theta` (None without space)."""
        from ..time.stability import spectral_radius, stable_dt

        program = self.program
        if not program.grid.axes:
            return None
        params = program.prepare(self.unknowns.params(theta))
        t0 = program.system.time.lower
        radius = spectral_radius(program.bind(params), np.float64(t0),
                                 program.initial(params), {}, jax.random.PRNGKey(seed))
        step = stable_dt(scheme, float(radius)) * SAFETY
        return step if np.isfinite(step) else None


def _optimizer(choice: str, size: int) -> str:
    if choice not in OPTIMIZERS:
        raise OptionError(f"optimizer {choice!r} is not available; choose one of "
                          f"{', '.join(OPTIMIZERS)}")
    if choice == "auto":
        return "lm" if size <= LM_LIMIT else "lbfgs"
    return choice


def _relative_change(new: np.ndarray, old: np.ndarray) -> float:
    return float(np.max(np.abs(new - old) / np.maximum(np.abs(new), 1e-300)))


def _inferred_value(program: FDProgram, name: str, value: jax.Array):
    """A float for an unknown constant; a field on the output grid of its arguments."""
    array = np.asarray(value, dtype=np.float64)
    return float(array) if array.ndim == 0 else program.to_output(name, array)
