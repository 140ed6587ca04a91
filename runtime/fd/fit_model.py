"""The residual of a time-dependent fd fit as a function of the flat vector of unknowns
(`FitModel`): the program integrated by fixed-step Runge-Kutta or by dopri5 under error
control (`runtime.fd.simulate`, rematerialised) to the observation times, sampled at the
observation points and weighted (`runtime.fd.observed.ScaledData`), plus the
regularisation rows. Several runs (a `run` column) are integrated side by side (vmapped),
each from its own initial state (`runtime.fd.observed.RunStarts`); multiple shooting's
windows too (`runtime.fd.shooting`). Kept apart from the fit itself (`runtime.fd.fit`) so
that what refits a discovered formula (`runtime.output.refit`) uses the same residual
without the solver's output chain.

Adaptive stepping runs a fixed number of step attempts per output interval, planned at
the first guess (`plan`: SLACK times what an undifferentiated run needed). An iterate that
needs more is not given states at the wrong times: its residual is NaN, the optimiser asks
`replanned` whether more attempts (up to GROWTH times the plan, CEILING times the first)
would reach the end, and if so the fit goes on with a new plan, compiled afresh; if not
(the simulation blows up, or the learned term has made it very stiff), the optimiser backs
off. Multiple shooting's windows step at a fixed step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sps

from compiler.common.nets import net_key
from compiler.common.observations import FieldObservations, run_labels
from compiler.errors import LoweringError
from compiler.fd import FDProgram
from pdelang import System

from ..algebra.adam import adam
from ..algebra.lbfgs import lbfgs
from ..algebra.least_squares import LeastSquaresResult, levenberg_marquardt
from ..errors import SolveError
from ..time.base import Options
from ..time.integrators import DOPRI5, get_integrator
from .observed import START, WINDOW, RunStarts, ScaledData, Unknowns
from .shooting import Windows, in_batch, march_windows, window_guess
from .simulate import (
    AdaptiveSteps,
    FixedSteps,
    Stepping,
    adaptive_trajectory,
    count_attempts,
    plan_attempts,
    plan_steps,
    trajectory,
)

ODE_STEPS = 1000        # first step for systems without space: the span over this
LM_STEPS = 100          # default iterations of Levenberg-Marquardt
LM_TOL = 1e-12          # ... stopping when a step lowers the loss or moves theta less
LBFGS_STEPS = 300       # default iterations of L-BFGS
SAFETY = 0.9            # of the stability limit
HOLD_OUT_MIN = 10       # observation times needed before any are held out
PATIENCE = 50           # L-BFGS iterations without a better held-out misfit before stopping
SLACK = 1.5             # adaptive steps: attempts planned per interval, times those needed
GROWTH = 8              # ... re-planned for an iterate needing at most this times the plan
CEILING = 32            # ... and this times the first guess's plan


class FitModel:
    """The residual of a fit as a function of the flat vector of unknowns."""

    def __init__(self, program: FDProgram, observations: tuple[FieldObservations, ...],
                 regularization: float, misfit: str = "scaled",
                 adjoint: str = "checkpoint", hold_out: float = 0.0,
                 initial_state: str = "given", windows: int = 1,
                 batch_windows: int | None = None) -> None:
        system = program.system
        self.program = program
        self.regularization = regularization
        self.remat = adjoint == "checkpoint"      # else every step's state is kept
        self.replans = 0                          # of adaptive steps, in the last fit
        self.runs, self.starts, states = _starts(program, observations, initial_state)
        self.unknowns = Unknowns.of(program, states)
        self.times = _observation_times(system, observations)
        self.data = ScaledData.on(observations,
                                  {system.time.name: self.times, **program.output_coordinates()},
                                  program, misfit, runs=len(self.runs) if self.runs else 1)
        self.fields = [p for p in system.unknown_params if p.is_field]
        self.held_times, self.held = _held_out(observations, system.time.name,
                                               float(system.time.lower), hold_out) \
            if system.nets and hold_out > 0 else (np.array([]), None)
        self.windows, self.batch = None, None
        if windows > 1:
            self._shoot(Windows.of(self.times, windows), observations, states, batch_windows)

    def _shoot(self, windows: Windows, observations, states: dict,
               batch_windows: int | None) -> None:
        """Multiple shooting: the windows' starts join the unknowns (`states`: the other
        fitted states); each observation row's window (run * windows + window) for
        mini-batches of `batch_windows`."""
        steps = FixedSteps(self.first_step("rk4", 0), get_integrator("rk4").tableau)
        simulated = jax.jit(lambda th: self.states(th, steps))(jnp.asarray(self.unknowns.theta0))
        guess, self.scale = window_guess(self.program, self.times, windows, observations,
                                         simulated)
        self.unknowns = Unknowns.of(self.program, {**states, **{WINDOW + k: v
                                                                 for k, v in guess.items()}})
        self.windows = windows
        self.segments = windows.count * (len(self.starts) if self.starts is not None else 1)
        self.batch = min(batch_windows, self.segments) if batch_windows else None
        time = self.program.system.time.name
        self.segment_of_row = np.concatenate([
            (np.zeros(o.count, int) if o.runs is None else o.runs) * windows.count +
            windows.window_of[np.searchsorted(self.times, o.coordinate(time))]
            for o in observations])

    # -- the residual -------------------------------------------------------------------
    def states(self, theta: jax.Array, steps: Stepping) -> dict:
        """The fields at the observation times (axes: run, time, space), boundaries
        closed; NaN where adaptive `steps` did not reach every time within their planned
        attempts."""
        return self._integrate(theta, steps)[0]

    def _starts(self, theta: jax.Array, params) -> dict:
        """Every run's initial state (first axis: run; one run without a `run` column)."""
        if self.starts is None:
            return jax.tree.map(lambda a: a[None], self.program.initial(params))
        return self.starts.initial(self.program, params, self.unknowns.fitted_states(theta))

    def _integrate(self, theta: jax.Array, steps: Stepping, batch: jax.Array | None = None
                   ) -> tuple[dict, list]:
        """`states`, and with windows the rows of their continuity defects: each window's
        end less the next one's start, over the key's scale, weighted by CONTINUITY.
        `batch`: the indices (run * windows + window) of the only windows integrated (the
        others' states are zeros, their rows for `residuals` to mask)."""
        program = self.program
        params = program.prepare(self.unknowns.params(theta))
        starts = self._starts(theta, params)
        times = jnp.asarray(self.times, program.dtype)
        close = jax.vmap(program.closure, in_axes=(0, 0, None))
        if self.windows is None:
            def run(U0):
                if isinstance(steps, AdaptiveSteps):
                    states, reached, _ = adaptive_trajectory(program.rhs, U0, params, steps,
                                                             remat=self.remat)
                    return jax.tree.map(lambda s: jnp.where(reached, s, jnp.nan), states)
                return trajectory(program.rhs, U0, params, plan_steps(self.times, steps.dt),
                                  steps.tableau, remat=self.remat)
            states = jax.vmap(run)(starts)
            return jax.vmap(close, in_axes=(None, 0, None))(times, states, params), []
        later = self.unknowns.fitted_states(theta, WINDOW)       # (run, window - 1, ...)
        boundary = jnp.asarray(self.times[self.windows.firsts[1:]], program.dtype)
        later = jax.vmap(close, in_axes=(None, 0, None))(boundary, later, params)
        states, defects = march_windows(program.rhs, params, starts, later, self.windows,
                                        steps, self.remat, self.scale, batch)
        return jax.vmap(close, in_axes=(None, 0, None))(times, states, params), defects

    def attempts(self, theta: np.ndarray, options: Options) -> dict:
        """Not differentiated: what adaptive stepping with `options` takes at `theta`:
        `needed` (the most attempts of any output interval of any run), `reached` (the last
        time, every run), accepted `steps` and `rejected` attempts in all. Compiled once
        per model."""
        if not hasattr(self, "_count"):
            program = self.program

            def count(th, opts):
                params = program.prepare(self.unknowns.params(th))
                return jax.vmap(lambda U0: count_attempts(DOPRI5, program.rhs, U0, params,
                                                          self.times, opts))(
                    self._starts(th, params))
            self._count = jax.jit(count)
        spent, reached, counters = self._count(jnp.asarray(theta), options)
        return {"needed": int(np.max(spent)), "reached": bool(np.all(reached)),
                "steps": int(np.sum(counters.steps)),
                "rejected": int(np.sum(counters.rejected))}

    def plan(self, theta: np.ndarray, options: Options) -> AdaptiveSteps:
        """Adaptive steps with SLACK times the attempts `theta` needs per interval; a
        SolveError where its simulation does not reach the last observation time."""
        taken = self.attempts(theta, options)
        if not taken["reached"]:
            raise SolveError(
                f"dopri5 did not reach the last observation time at the first guess within "
                f"{options.max_steps} attempts (rtol {options.rtol:g}, atol {options.atol:g})",
                hint="start from a better guess, or give a fixed step with --dt")
        attempts = math.ceil(SLACK * taken["needed"])
        return AdaptiveSteps(plan_attempts(self.times, attempts), options,
                             most_attempts=CEILING * attempts)

    def replanned(self, theta: np.ndarray, steps: AdaptiveSteps) -> AdaptiveSteps | None:
        """Adaptive steps planned for `theta` where it reaches the last time with more
        attempts than `steps` plan, but at most GROWTH times as many and CEILING times the
        first guess's plan: SLACK times those, at least twice the plan (few
        recompilations), at most the ceiling. None otherwise: the plan was not what
        failed, or `theta` makes the equation so stiff that it counts as blown up (a line
        search's overshoot; planning for it would slow every later evaluation)."""
        planned, most = steps.plan.attempts, steps.most_attempts
        limit = min(GROWTH * planned, most)
        taken = self.attempts(theta, replace(steps.options, max_steps=min(
            steps.options.max_steps, limit * (len(self.times) - 1))))
        if not taken["reached"] or not planned < taken["needed"] <= limit:
            return None
        attempts = min(max(math.ceil(SLACK * taken["needed"]), 2 * planned), most)
        return replace(steps, plan=plan_attempts(self.times, attempts))

    def residuals(self, theta: jax.Array, steps: Stepping, batch: jax.Array | None = None
                  ) -> jax.Array:
        """The weighted misfit of every observed field, then (multiple shooting) the
        windows' continuity defects, then the smoothness rows. `batch`: a mini-batch of
        windows (`_integrate`); the rows of the others are zero, the batch's scaled by
        sqrt(windows / batch) so that the loss is the whole one in expectation."""
        program, system = self.program, self.program.system
        closed, defects = self._integrate(theta, steps, batch)
        arrays = {o.field: jnp.transpose(program.to_output(o.field, closed[o.field]),
                                         [0, *(1 + k for k in argument_order(system, o.field))])
                  for o in self.data.observations}
        misfit = self.data.sampled(arrays) - self.data.values
        if batch is not None:
            misfit, defects = in_batch(misfit, defects, self.segment_of_row, batch,
                                       self.windows.count, self.segments)
        return jnp.concatenate([misfit, *defects, *self.smoothness(theta)])

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

    def training(self, r: jax.Array) -> jax.Array:
        """The residual `r` with the held-out observations' rows zeroed."""
        if self.held is None:
            return r
        n = len(self.data.values)
        return jnp.concatenate([jnp.where(self.held, 0.0, r[:n]), r[n:]])

    def held_out_misfits(self, r: np.ndarray) -> dict[str, float]:
        """Each observed field's RMS misfit relative to its data over the held-out rows of
        the residual `r` only (empty without them)."""
        if self.held is None:
            return {}
        out, at = {}, 0
        for o in self.data.observations:
            rows = self.held[at:at + o.count]
            if rows.any():
                out[o.field] = float(np.linalg.norm(r[at:at + o.count][rows]) *
                                     np.sqrt(o.count / rows.sum()))
            at += o.count
        return out

    def residual_at(self, theta: np.ndarray, steps: Stepping) -> np.ndarray:
        """`residuals` at `theta`, compiled for this one call."""
        return np.asarray(jax.jit(lambda th: self.residuals(th, steps))(jnp.asarray(theta)))

    # -- the fit ------------------------------------------------------------------------
    def fit(self, theta: np.ndarray, steps: Stepping, optimizer: str, steps_limit: int | None,
            observers: Sequence[Callable], check: bool = True, adam_steps: int = 0,
            learning_rate: float = 1e-3, seed: int = 0
            ) -> tuple[LeastSquaresResult, Stepping]:
        """Fit from `theta` by `optimizer`; with learned functions, `adam_steps` of Adam at
        `learning_rate` first (`runtime.algebra.adam`), both on the observations less the
        held-out ones (`hold_out`), L-BFGS stopping when their misfit has not improved for
        PATIENCE iterations and returning its best iterate (early stopping: on noisy data,
        past it the nets learn the noise). With mini-batches of windows (`batch_windows`),
        each of the `adam_steps` takes a random batch (`seed`), nets or not. Returns the
        result and the stepping it ended with (adaptive steps are re-planned where an
        iterate needs more attempts)."""
        current = {"steps": steps, "replans": 0}

        def residuals(th, *batch):   # reads the stepping when traced: recompiled after a replan
            return self.training(self.residuals(th, current["steps"], *batch))

        def replan(th) -> bool:
            """At a non-finite residual: was the plan too short? Then take a longer one."""
            if not isinstance(current["steps"], AdaptiveSteps):
                return False
            longer = self.replanned(np.asarray(th), current["steps"])
            if longer is not None:
                current.update(steps=longer, replans=current["replans"] + 1)
            return longer is not None

        monitor = None
        if self.held is not None:
            def held_loss(th):
                r = self.residuals(th, current["steps"])[:len(self.data.values)]
                return jnp.sum(jnp.where(self.held, r, 0.0) ** 2)
            compiled: dict = {}

            def monitor(th):
                if current["steps"] not in compiled:    # a fresh closure: a fresh trace
                    compiled.clear()
                    compiled[current["steps"]] = jax.jit(lambda z: held_loss(z))
                return compiled[current["steps"]](th)
        if self.batch is not None and adam_steps:   # mini-batches of windows, then all
            rng = np.random.default_rng(seed)
            theta = adam(residuals, theta, adam_steps, learning_rate, observers,
                         lambda _: np.sort(rng.choice(self.segments, self.batch,
                                                      replace=False)))
        elif self.program.system.nets and adam_steps:
            theta = adam(residuals, theta, adam_steps, learning_rate, observers, replan=replan)
        if optimizer == "lbfgs":
            result = lbfgs(residuals, theta, steps_limit or LBFGS_STEPS, observers,
                           monitor=monitor, patience=PATIENCE, replan=replan)
        else:
            result = self._levenberg_marquardt(residuals, replan, theta, steps_limit,
                                               observers, check)
        self.replans = current["replans"]
        return result, current["steps"]

    def _levenberg_marquardt(self, residuals, replan, theta, steps_limit, observers,
                             check) -> LeastSquaresResult:
        """Levenberg-Marquardt with forward-mode Jacobians: r and J in one compiled call;
        the trial evaluations keep theirs for the linearisation that follows acceptance."""
        def compile_both():
            return jax.jit(jax.jacfwd(lambda th: (residuals(th), residuals(th)),
                                      has_aux=True))
        both = [compile_both()]
        last: dict = {}

        def evaluate(z: np.ndarray) -> np.ndarray:
            if last.get("z") is not z:
                J, r = both[0](jnp.asarray(z))
                if not np.all(np.isfinite(r)) and replan(z):
                    both[0] = compile_both()
                    J, r = both[0](jnp.asarray(z))
                last.update(z=z, r=np.asarray(r, np.float64), J=np.asarray(J, np.float64))
            return last["r"]

        def linearize(z: np.ndarray):
            return evaluate(z), sps.csr_matrix(last["J"])

        theta = np.asarray(theta, dtype=np.float64)    # the object the fit starts from
        evaluate(theta)
        if check:
            self.check_identifiable(last["J"])
        return levenberg_marquardt(evaluate, linearize, theta,
                                   max_steps=steps_limit or LM_STEPS, tol=LM_TOL,
                                   observers=observers)

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


def _starts(program: FDProgram, observations: Sequence[FieldObservations],
            initial_state: str) -> tuple[RunStarts | None, RunStarts | None, dict]:
    """(several runs' starts from their observations, or None; the starts integrated from:
    those, the spec's initial state where it is fitted, or None for it as given; the fitted
    states' first guesses, {START + key: (run, ...)}). `initial_state`: given, fitted, or
    auto (fitted for several runs without space)."""
    labels = run_labels(program.system)
    runs = RunStarts.of(program, observations, labels) \
        if labels is not None and len(labels) > 1 else None
    fitted = initial_state == "fitted" or (initial_state == "auto" and runs is not None
                                           and not program.grid.axes)
    starts = runs
    if fitted and runs is None:             # one run: the spec's initial state, fitted
        spec = program.initial({k: jnp.asarray(v) for k, v in program.params.items()})
        starts = RunStarts(np.zeros(1), {k: np.asarray(v)[None] for k, v in spec.items()})
    return runs, starts, ({START + k: v for k, v in starts.values.items()} if fitted else {})


def _observation_times(system: System, observations: Sequence[FieldObservations]
                       ) -> np.ndarray:
    """The initial time and every observation time, sorted; a LoweringError for a field
    observed without time."""
    times = [np.atleast_1d(float(system.time.lower))]
    for o in observations:
        if system.time.name not in o.args:
            raise LoweringError(f"the observations of `{o.field}` have no time column; "
                                "fd fitting compares fields at observed times",
                                system.data[0].span)
        times.append(o.coordinate(system.time.name))
    return np.unique(np.concatenate(times))


def _held_out(observations: Sequence[FieldObservations], time: str, t0: float,
              fraction: float) -> tuple[np.ndarray, np.ndarray | None]:
    """About `fraction` of the observation times after t0, evenly spread (every k-th, k =
    round(1 / fraction)), and the mask of their rows in the observations' order (None
    with fewer than HOLD_OUT_MIN times: nothing to spare)."""
    times = np.unique(np.concatenate([o.coordinate(time) for o in observations]))
    times = times[times > t0]
    if len(times) < HOLD_OUT_MIN:
        return np.array([]), None
    every = max(2, round(1 / fraction))
    held = times[every - 1::every]
    return held, np.concatenate([np.isin(o.coordinate(time), held) for o in observations])


def argument_order(system: System, name: str) -> list[int]:
    """The axes permutation from (time, space axes in argument order) to the argument order
    of field `name`: how the time loop's arrays become the field's."""
    args = system.field(name).args
    time = system.time.name
    order = [time] + [a for a in args if a != time]
    return [order.index(a) for a in args]
