"""The residual of a time-dependent fd fit as a function of the flat vector of unknowns
(`FitModel`): the program integrated by fixed-step Runge-Kutta or by dopri5 under error
control (`runtime.fd.simulate`, rematerialised) to the observation times, sampled at the
observation points and weighted (`runtime.fd.observed.ScaledData`), plus the
regularisation rows. Kept apart from the fit itself (`runtime.fd.fit`) so that what refits
a discovered formula (`runtime.output.refit`) uses the same residual without the solver's
output chain.

Adaptive stepping runs a fixed number of step attempts per output interval, planned at
the first guess (`plan`: SLACK times what an undifferentiated run needed). An iterate that
needs more is not given states at the wrong times: its residual is NaN, the optimiser asks
`replanned` whether more attempts (up to GROWTH times the plan, CEILING times the first)
would reach the end, and
if so the fit goes on with a new plan, compiled afresh; if not (the simulation blows up,
or the learned term has made it very stiff), the optimiser backs off.
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
from compiler.common.observations import FieldObservations
from compiler.errors import LoweringError
from compiler.fd import FDProgram
from pdelang import System

from ..algebra.adam import adam
from ..algebra.lbfgs import lbfgs
from ..algebra.least_squares import LeastSquaresResult, levenberg_marquardt
from ..errors import SolveError
from ..time.base import Options
from ..time.integrators import DOPRI5
from .observed import ScaledData, Unknowns
from .simulate import (
    AdaptiveSteps,
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
                 adjoint: str = "checkpoint", hold_out: float = 0.0) -> None:
        system = program.system
        self.program = program
        self.regularization = regularization
        self.remat = adjoint == "checkpoint"      # else every step's state is kept
        self.replans = 0                          # of adaptive steps, in the last fit
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
                                  program, misfit)
        self.fields = [p for p in system.unknown_params if p.is_field]
        self.held_times, self.held = _held_out(observations, system.time.name, t0,
                                               hold_out) \
            if system.nets and hold_out > 0 else (np.array([]), None)

    # -- the residual -------------------------------------------------------------------
    def states(self, theta: jax.Array, steps: Stepping) -> dict:
        """The fields at the observation times (time first), boundaries closed; NaN where
        adaptive `steps` did not reach every time within their planned attempts."""
        program = self.program
        params = program.prepare(self.unknowns.params(theta))
        U0 = program.initial(params)
        if isinstance(steps, AdaptiveSteps):
            states, reached, _ = adaptive_trajectory(program.rhs, U0, params, steps,
                                                     remat=self.remat)
            states = jax.tree_util.tree_map(lambda s: jnp.where(reached, s, jnp.nan), states)
        else:
            states = trajectory(program.rhs, U0, params, plan_steps(self.times, steps.dt),
                                steps.tableau, remat=self.remat)
        times = jnp.asarray(self.times, program.dtype)
        return jax.vmap(program.closure, in_axes=(0, 0, None))(times, states, params)

    def attempts(self, theta: np.ndarray, options: Options) -> dict:
        """Not differentiated: what adaptive stepping with `options` takes at `theta`:
        `needed` (the most attempts of any output interval), `reached` (the last time),
        accepted `steps` and `rejected` attempts in all. Compiled once per model."""
        if not hasattr(self, "_count"):
            program = self.program

            def count(th, opts):
                params = program.prepare(self.unknowns.params(th))
                return count_attempts(DOPRI5, program.rhs, program.initial(params), params,
                                      self.times, opts)
            self._count = jax.jit(count)
        spent, reached, counters = self._count(jnp.asarray(theta), options)
        return {"needed": int(np.max(spent)), "reached": bool(reached),
                "steps": int(counters.steps), "rejected": int(counters.rejected)}

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

    def residuals(self, theta: jax.Array, steps: Stepping) -> jax.Array:
        """The weighted misfit of every observed field, then the smoothness rows."""
        program, system = self.program, self.program.system
        closed = self.states(theta, steps)
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
            learning_rate: float = 1e-3) -> tuple[LeastSquaresResult, Stepping]:
        """Fit from `theta` by `optimizer`; with learned functions, `adam_steps` of Adam at
        `learning_rate` first (`runtime.algebra.adam`), both on the observations less the
        held-out ones (`hold_out`), L-BFGS stopping when their misfit has not improved for
        PATIENCE iterations and returning its best iterate (early stopping: on noisy data,
        past it the nets learn the noise). Returns the result and the stepping it ended
        with (adaptive steps are re-planned where an iterate needs more attempts)."""
        current = {"steps": steps, "replans": 0}

        def residuals(th):      # reads the stepping when traced: recompiled after a replan
            return self.training(self.residuals(th, current["steps"]))

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
        if self.program.system.nets and adam_steps:
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
