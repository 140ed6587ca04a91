"""Training a PINN: Adam in float32, then a finish in float64 (Levenberg-Marquardt for
small networks, L-BFGS otherwise), within a time budget.

The loss is the weighted sum over terms of the mean squared residual (data misfit and
regularization terms of inverse problems included; unknown constants train with the
networks, and their values are kept at every step), the equations' part weighted by time
slab under causal training (`causal`, `objective`). Each phase runs in chunks: Adam and
L-BFGS `chunk` steps in one `lax.scan` (one host round trip), Levenberg-Marquardt a few
steps from the host (`levenberg`). Between chunks, in Python, points may be resampled
(uniformly again, or by residual-based adaptive distribution: RAR-D of Wu et al., 2023),
loss weights may be adapted (learning-rate annealing of Wang, Teng and Perdikaris, 2021),
the causality parameter may grow, the history is kept and observers are called.

Time: `budget` (quick, default, long, or seconds) bounds the whole training; without step
counts (`steps`, `lbfgs_steps`, `lm_steps` all None, the default) each phase runs for its
share of it, so users get the best model for the time they give; with step counts those
are the most steps. Training stops at the first of: every phase done, the budget spent,
the loss at `target_loss`, or the finish converged (no step lowers the loss); `info`
says which (`stop_reason`). Seeded: with step counts, the same seed gives the same result;
by time, how far training gets depends on the machine.

The compiled chunks are kept per program (`_kernels`): a second `train` of the same
program, as `runtime.solve` gives for the same system and network, compiles nothing.

Over several devices (`devices`) the point sets are split along their points and the
networks replicated (data parallel, `parallel`); the points are drawn on the host as for
one device, so the result is one device's to rounding. Levenberg-Marquardt runs on one.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace

import jax
import jax.numpy as jnp
import numpy as np
import optax

from compiler.pinn import CONSTANTS, PINNProgram, trained_constants

from ..errors import OptionError, SolveError
from ..observe.checkpoint import Checkpointing
from ..options import defaults
from ..parallel.sharding import Placement
from . import causal as causality
from .balancing import BALANCERS, make_balancer
from .levenberg import LevenbergMarquardt, LMState, parameter_count
from .objective import Objective
from .parallel import jit_split, make_point_map, split_points
from .sampling import SAMPLERS, sample_points

RAR_CANDIDATES = 8            # candidate points per kept point for RAR-D
BUDGETS = {"quick": 60.0, "default": 480.0, "long": 1800.0}    # seconds of training
OPTIMIZERS = ("auto", "lm", "lbfgs")
LM_MAX_PARAMS = 4000          # auto picks Levenberg-Marquardt up to this many trainables
ADAM_SHARE = {"lm": 0.15, "lbfgs": 0.4}      # of the budget, when phases run by time
ADAM_MOST = {"lm": 2000}      # and at most these steps: LM does the rest far faster
COUNTED = {"steps": 4000, "lbfgs_steps": 2000, "lm_steps": 1000}   # when one count is given
LM_CHUNK = 10                 # Levenberg-Marquardt steps between host checks
RAD_EVERY = {"adam": 1000, "lm": 100}        # auto resampling, time-dependent problems
POINTS = 1024                 # interior points by default
LM_ROWS = 4                   # interior points per trainable, by default, for lm
KERNEL_CACHE = 8              # programs whose compiled chunks are kept

_DEFAULT = defaults("pinn")         # the table of options (runtime.options) holds them


@dataclass(frozen=True)
class TrainOptions:
    """Phases: `steps` Adam steps at `learning_rate`, multiplied by `decay_rate` every
    `decay_steps`; then the finish, `optimizer` lm (`lm_steps`) or lbfgs (`lbfgs_steps`),
    auto: lm for networks of up to LM_MAX_PARAMS trainables when no count is given, in
    `finish_dtype`. Counts None: by time, within `budget` (a name of BUDGETS or seconds);
    `target_loss` stops early. `points` interior collocation points (None:
    `resolved_points`), `boundary_points`
    shared by the boundary terms, `initial_points` by the initial ones, drawn by `sampler`;
    every `resample_every` steps (0: never; None: auto, RAD_EVERY for time-dependent
    problems) they are drawn again, by RAR-D when `adaptive_sampling` (None: auto, on for
    time-dependent problems). `causal` (None: auto, on for time-dependent problems): causal
    weights by time slab. `weights`: a weight per term name, or "adaptive" for
    learning-rate annealing. Inverse problems: data terms start at weight `data_weight`,
    regularization terms have weight `regularization` (kept out of the annealing), unless
    `weights` names them; None: the program's `starting_weights` (on the equations'
    scale). `devices`: how many devices the point sets are split over (None: all of the
    run's)."""

    steps: int | None = _DEFAULT["steps"]
    lbfgs_steps: int | None = _DEFAULT["lbfgs_steps"]
    lm_steps: int | None = _DEFAULT["lm_steps"]
    optimizer: str = "auto"
    budget: str | float = _DEFAULT["budget"]
    target_loss: float = _DEFAULT["target_loss"]
    finish_dtype: str = _DEFAULT["finish_dtype"]
    causal: bool | None = _DEFAULT["causal"]
    learning_rate: float = _DEFAULT["learning_rate"]
    decay_rate: float = _DEFAULT["decay_rate"]
    decay_steps: int = _DEFAULT["decay_steps"]
    points: int | None = _DEFAULT["points"]
    boundary_points: int = _DEFAULT["boundary_points"]
    initial_points: int = _DEFAULT["initial_points"]
    sampler: str = _DEFAULT["sampler"]
    resample_every: int | None = _DEFAULT["resample_every"]
    adaptive_sampling: bool | None = _DEFAULT["adaptive_sampling"]
    weights: Mapping[str, float] | str | None = _DEFAULT["weights"]
    balance: str = _DEFAULT["balance"]
    balance_every: int | None = _DEFAULT["balance_every"]
    chunk: int = _DEFAULT["chunk"]
    seed: int = _DEFAULT["seed"]
    data_weight: float | None = _DEFAULT["data_weight"]
    regularization: float | None = _DEFAULT["regularization"]
    devices: int | None = _DEFAULT["devices"]

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise OptionError(f"sampler {self.sampler!r} is not available; choose one of "
                              f"{', '.join(SAMPLERS)}")
        if self.optimizer not in OPTIMIZERS:
            raise OptionError(f"optimizer {self.optimizer!r} is not available for pinn; "
                              f"choose one of {', '.join(OPTIMIZERS)}")
        if self.finish_dtype not in ("float32", "float64"):
            raise OptionError(f"finish_dtype must be float32 or float64, not "
                              f"{self.finish_dtype!r}")
        for name in ("steps", "lbfgs_steps", "lm_steps", "resample_every"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise OptionError(f"{name} must not be negative")
        for name in ("points", "chunk"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise OptionError(f"{name} must be at least 1")
        if not self.learning_rate > 0:
            raise OptionError("learning_rate must be positive")
        if self.data_weight is not None and not self.data_weight > 0:
            raise OptionError(f"data_weight must be positive, not {self.data_weight}")
        if self.regularization is not None and not self.regularization >= 0:
            raise OptionError(f"regularization must be >= 0, not {self.regularization}")
        if not self.target_loss >= 0:
            raise OptionError(f"target_loss must be >= 0, not {self.target_loss}")
        if isinstance(self.weights, str) and self.weights != "adaptive":
            raise OptionError(f"weights must be a mapping or \"adaptive\", not {self.weights!r}")
        _check_balance(self)
        budget_seconds(self.budget)

    @property
    def balancer(self) -> str | None:
        """The balancing rule in use: `balance`, or "annealing" for weights="adaptive"
        (None: the weights stay as they start)."""
        if self.balance != "none":
            return self.balance
        return "annealing" if self.weights == "adaptive" else None

    @property
    def seconds(self) -> float:
        """The budget in seconds."""
        return budget_seconds(self.budget)

    @property
    def by_time(self) -> bool:
        """No step count given: every phase runs for its share of the budget."""
        return self.steps is None and self.lbfgs_steps is None and self.lm_steps is None


def budget_seconds(budget: str | float) -> float:
    """A budget's seconds: a name of BUDGETS, or a positive number (a string of one too,
    as the command line gives it)."""
    if isinstance(budget, str) and budget not in BUDGETS:
        try:
            budget = float(budget)
        except ValueError:
            raise OptionError(f"budget {budget!r} is not available; choose one of "
                              f"{', '.join(BUDGETS)}, or a number of seconds") from None
    if isinstance(budget, str):
        return BUDGETS[budget]
    if not budget > 0:
        raise OptionError(f"budget must be a positive number of seconds, not {budget}")
    return float(budget)


def _check_balance(options: TrainOptions) -> None:
    choices = ("none", *BALANCERS)
    if options.balance not in choices:
        raise OptionError(f"balance {options.balance!r} is not available; choose one of "
                          f"{', '.join(choices)}")
    if options.weights == "adaptive" and options.balance not in ("none", "annealing"):
        raise OptionError(f"weights=\"adaptive\" is learning-rate annealing, and balance is "
                          f"{options.balance!r}",
                          hint="give one of them: balance=\"annealing\" replaces "
                               "weights=\"adaptive\"")
    every = options.balance_every
    if every is not None and (every < 1 or every % options.chunk):
        raise OptionError(f"balance_every must be a positive multiple of chunk "
                          f"({options.chunk}), not {every}: the weights change between "
                          "chunks only")


@dataclass(frozen=True)
class Phase:
    """One optimiser's part of the training: at most `steps` steps (None: no count) and
    `seconds` (None: until the budget's end), in `dtype`."""

    name: str                 # "adam", "lbfgs" or "lm"
    steps: int | None
    seconds: float | None
    dtype: object


@dataclass(frozen=True)
class TrainResult:
    """The trained `nets` (unknown constants under `CONSTANTS`); per step: the loss and each
    term (`history`) and each unknown constant (`trajectory`); how the points lay over the
    devices (`placement`); `info`: why training stopped, the phases, resamples."""

    nets: dict
    physical: dict
    history: Mapping[str, np.ndarray]          # "loss" and one entry per term, per step
    weights: Mapping[str, float]
    steps: int
    wall_time: float
    info: Mapping[str, object] = field(default_factory=dict)
    trajectory: Mapping[str, np.ndarray] = field(default_factory=dict)
    placement: Placement | None = None


def plan(program: PINNProgram, options: TrainOptions, dtype=jnp.float32) -> tuple[Phase, ...]:
    """The phases of a training: Adam, then the finish; by time or by count."""
    finish_dtype = jnp.float64 if options.finish_dtype == "float64" else dtype
    finish = resolve_optimizer(program, options)
    if options.by_time:
        adam = ADAM_SHARE[finish] * options.seconds
        return (Phase("adam", ADAM_MOST.get(finish), adam, dtype),
                Phase(finish, None, None, finish_dtype))
    counted = {name: COUNTED[name] if getattr(options, name) is None
               else getattr(options, name) for name in COUNTED}
    steps = counted["lm_steps" if finish == "lm" else "lbfgs_steps"]
    phases = (Phase("adam", counted["steps"], None, dtype), Phase(finish, steps, None,
                                                                  finish_dtype))
    return tuple(p for p in phases if p.steps)


def resolve_optimizer(program: PINNProgram, options: TrainOptions) -> str:
    """lm or lbfgs; auto: lm when training by time and the networks are small."""
    if options.optimizer != "auto":
        return options.optimizer
    small = parameter_count(program.init(jax.random.PRNGKey(0))) <= LM_MAX_PARAMS
    return "lm" if options.by_time and small else "lbfgs"


def resolved_points(program: PINNProgram, options: TrainOptions, phases) -> int:
    """`points`, or when None: POINTS, and for Levenberg-Marquardt at least LM_ROWS per
    trainable (fewer residuals than unknowns fit the points and nothing between them)."""
    if options.points is not None:
        return options.points
    if any(p.name == "lm" for p in phases):
        return max(POINTS, LM_ROWS * parameter_count(program.init(jax.random.PRNGKey(0))))
    return POINTS


def is_time_dependent(program: PINNProgram) -> bool:
    return program.system.time is not None


def resolved_sampling(program: PINNProgram, options: TrainOptions) -> tuple[dict, bool, bool]:
    """Resampling interval per phase (0: never), RAR-D or not, causal or not, with the
    autos settled: on for time-dependent problems."""
    timed = is_time_dependent(program)
    every = dict.fromkeys(RAD_EVERY, options.resample_every or 0)
    if options.resample_every is None:
        every = dict(RAD_EVERY) if timed else dict.fromkeys(RAD_EVERY, 0)
    adaptive = timed if options.adaptive_sampling is None else options.adaptive_sampling
    causal = timed if options.causal is None else options.causal
    return every, adaptive, causal


def train(program: PINNProgram, options: TrainOptions, *, dtype=jnp.float32,
          observers: Sequence[Callable] = (),
          checkpoint: Checkpointing | None = None, start: Mapping | None = None,
          physical: Mapping | None = None, finish_only: bool = False) -> TrainResult:
    """Train the networks of `program` phase by phase (`plan`). With `checkpoint`, the
    state (networks, optimiser state, phase, step, loss weights, causality parameter,
    points, history) is saved every `checkpoint.every` chunks and, when a signal tripped its
    latch, after the current chunk, which then raises `Interrupted`; `checkpoint.resume`
    starts from the saved state at its chunk boundary, so with step counts the result
    equals that of an uninterrupted run (the chunks do not depend on the stop; a resumed
    run gets its budget afresh). A float64 phase turns on JAX's 64-bit mode for the
    training (`runtime.solve` has it on already). `start`: the networks to start from
    (default: drawn from the seed); `physical`: the physical parameters (default: the
    program's), a pytree that may change between calls without recompiling (time marching
    hands each window its start and the previous window's networks so); `finish_only`:
    leave out Adam, `start` being close already (time marching's later windows)."""
    wide = options.finish_dtype == "float64" or jnp.dtype(dtype) == jnp.float64
    with jax.enable_x64(wide or jax.config.jax_enable_x64):
        return _train(program, options, dtype, observers, checkpoint, start,
                      program.physical if physical is None else physical, finish_only)


def _train(program, options, dtype, observers, checkpoint, start, given,
           finish_only) -> TrainResult:
    started = time.perf_counter()
    phases = plan(program, options, dtype)
    if finish_only:
        phases = phases[1:] if len(phases) > 1 and phases[0].name == "adam" else phases
    options = replace(options, points=resolved_points(program, options, phases))
    every, adaptive, causal = resolved_sampling(program, options)
    nets = program.init(jax.random.PRNGKey(options.seed), dtype) if start is None else \
        _cast(start, dtype)
    names = [t.name for t in program.terms]
    weights = _initial_weights(program, options)
    batch = _draw(program, options, options.seed)                 # on the host, float64
    placement = split_points(batch, options.devices)
    kernels = _kernels(program, options, placement, causal)
    placement = kernels.placement              # equal; the one its programs were built for
    constants = sorted(nets.get(CONSTANTS, {}))
    width = 1 + len(names) + len(constants)          # columns of the history table
    deadline = started + options.seconds

    loop = _Loop(nets, None, batch, weights, 0, 0, 0, [], {"resamples": 0},
                 causality.SCHEDULE[0] if causal else 0.0)
    if checkpoint is not None and checkpoint.resume:
        loop = _resume(checkpoint, loop, phases, kernels)
    nets, batch, weights, done, info = loop.nets, loop.batch, loop.weights, loop.done, loop.info
    history, chunks, eps = loop.history, loop.chunks, loop.eps
    info["phases"], stop = [], None
    counts = [p.steps for p in phases]
    total = f" of {sum(counts)}" if None not in counts else ""
    for k, phase in enumerate(phases):
        if k < loop.phase:
            continue
        if stop is not None:
            break
        nets = _cast(nets, phase.dtype)
        physical = _cast(given, phase.dtype)
        stored = placement.put(_cast_host(batch, phase.dtype))
        run = kernels.runner(phase.name, phase.dtype)
        state = loop.opt_state if k == loop.phase and loop.opt_state is not None \
            else kernels.init_state(phase.name, nets)
        balance = kernels.balancer(options.balancer, physical) if options.balancer and \
            phase.name == "adam" else None
        phase_start, taken = time.perf_counter(), 0
        if k == loop.phase and None not in counts:        # resumed inside this phase
            taken = done - sum(counts[:k])
        phase_end = min(deadline, phase_start + phase.seconds) if phase.seconds else deadline
        chunk = LM_CHUNK if phase.name == "lm" else options.chunk
        while phase.steps is None or taken < phase.steps:
            n = chunk if phase.steps is None else min(chunk, phase.steps - taken)
            if every.get(phase.name) and taken and taken % every[phase.name] < n:
                batch = _resample(program, options, nets, physical, info["resamples"] + 1,
                                  adaptive, kernels.rar(phase.dtype))
                stored = placement.put(_cast_host(batch, phase.dtype))
                info["resamples"] += 1
                if isinstance(state, LMState):
                    state.restart()
            if balance is not None and done % (options.balance_every or options.chunk) < n:
                weights = balance(nets, stored, weights)
            w = jnp.asarray(weights, phase.dtype)
            nets, state, values, terms, tracked, slabs = run(
                nets, state, physical, batch if phase.name == "lm" else stored, w,
                jnp.asarray(eps, phase.dtype), n)
            _check_finite(values, terms, names, done, phase.name)
            if len(values):
                history.append(np.column_stack([values, terms, tracked]))
            done += len(values)
            taken += len(values)
            chunks += 1
            if causal:
                eps = causality.next_eps(eps, slabs)
            for observe in observers:
                observe({"step": done, "loss": float(values[-1]) if len(values) else
                         float("nan"), "phase": phase.name,
                         "fraction": _fraction(phases, k, taken, phase_start, phase_end)})
            stop = _stop_reason(values, options, state, time.perf_counter(), deadline)
            if checkpoint is not None:
                saved = _Loop(nets, state, batch, weights, k, done, chunks, history, info, eps)
                if checkpoint.stop_signal() is not None:
                    raise _save(checkpoint, saved, width, stop=f"after step {done}{total}")
                if checkpoint.due(chunks):
                    _save(checkpoint, saved, width)
            if stop is not None or time.perf_counter() >= phase_end or not len(values):
                break
        info["phases"].append({"optimizer": phase.name, "steps": taken,
                               "seconds": round(time.perf_counter() - phase_start, 2),
                               "dtype": np.dtype(phase.dtype).name})
    info["stop_reason"] = stop or "every phase ran its steps"
    info["points"] = options.points
    info["causal_eps"] = eps if causal else None
    info["causal_min_weight"] = float(np.min(slabs)) if causal and chunks else None
    table = np.concatenate(history) if history else np.zeros((0, width))
    out_history = {"loss": table[:, 0]}
    out_history.update({name: table[:, i + 1] for i, name in enumerate(names)})
    trajectory = {c: table[:, 1 + len(names) + i] for i, c in enumerate(constants)}
    final_weights = dict(zip(names, map(float, weights)))
    last = phases[-1].dtype if phases else dtype
    return TrainResult(_cast(nets, last), _cast(given, last),
                       out_history, final_weights, done, time.perf_counter() - started, info,
                       trajectory, placement)


def _stop_reason(values, options: TrainOptions, state, now: float, deadline: float
                 ) -> str | None:
    """Why training stops after this chunk, or None to go on."""
    if len(values) and options.target_loss and values[-1] <= options.target_loss:
        return f"the loss reached the target {options.target_loss:g}"
    if isinstance(state, LMState) and state.converged:
        return state.reason
    if now >= deadline:
        return f"the budget of {options.seconds:g} s was spent"
    return None


def _fraction(phases, k, taken, phase_start, phase_end) -> float:
    """How far the training is, for progress bars: by steps or by time."""
    phase = phases[k]
    if phase.steps:
        inner = taken / phase.steps
    else:
        inner = (time.perf_counter() - phase_start) / max(phase_end - phase_start, 1e-9)
    return min((k + min(inner, 1.0)) / len(phases), 1.0)


def _cast(tree, dtype):
    return jax.tree.map(lambda x: jnp.asarray(x, dtype), tree)


def _cast_host(batch: Mapping[str, np.ndarray], dtype) -> dict:
    return {name: np.asarray(x, np.dtype(dtype)) for name, x in batch.items()}


class _Kernels:
    """The compiled pieces of training one program, kept between calls (`_kernels`): a
    chunk runner per optimiser and dtype, RAR-D's residual maps, the balancers."""

    def __init__(self, program: PINNProgram, options: TrainOptions, placement: Placement,
                 causal: bool):
        self.program, self.placement = program, placement
        self.objective = Objective.of(program, causal)
        self.points = options.points
        schedule = optax.exponential_decay(options.learning_rate, options.decay_steps,
                                           options.decay_rate, staircase=False)
        self.optimizers = {"adam": optax.adam(schedule), "lbfgs": optax.lbfgs()}
        self._cache: dict = {}
        nets = program.init(jax.random.PRNGKey(0))
        self.constants = sorted(nets.get(CONSTANTS, {}))

    def init_state(self, name: str, nets):
        if name == "lm":
            return LMState()
        return self.optimizers[name].init(nets)

    def _cached(self, key, build):
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def runner(self, name: str, dtype):
        """(nets, state, physical, batch, weights, eps, n) -> (nets, state, losses, terms,
        tracked constants, slab weights) over n steps; host arrays out."""
        return self._cached(("run", name, np.dtype(dtype).name),
                            lambda: self._lm_runner() if name == "lm" else
                            self._scan_runner(name))

    def _track(self, nets, physical):
        values = trained_constants(nets, physical)
        return jnp.stack([values[c] for c in self.constants]) if self.constants else \
            jnp.zeros((0,), jax.tree.leaves(nets)[0].dtype)

    def _scan_runner(self, name: str):
        optimizer, objective, placement = self.optimizers[name], self.objective, self.placement

        def loss(params, physical, stored, weights, eps):
            return objective.loss(params, physical, placement.load(stored), weights, eps)

        step = _adam_step if name == "adam" else _lbfgs_step

        def chunk(params, state, physical, stored, weights, eps, n):
            def body(carry, _):
                params, state = carry
                params, state, value, (terms, slabs) = step(
                    optimizer, loss, params, state, physical, stored, weights, eps)
                return (params, state), (value, terms, self._track(params, physical), slabs)

            (params, state), (values, terms, tracked, slabs) = jax.lax.scan(
                body, (params, state), None, length=n)
            return params, state, values, terms, tracked, slabs[-1]

        compiled = jit_split(chunk, placement, 3, 6, static=(6,))

        def run(*args):
            out = compiled(*args)
            return (out[0], out[1], *(np.asarray(x) for x in out[2:]))

        return run

    def _lm_runner(self):
        lm = LevenbergMarquardt(self.objective, self.program.init(jax.random.PRNGKey(0)))

        def run(nets, state, physical, batch, weights, eps, n):
            host = _cast_host(batch, weights.dtype)
            nets, state, values, terms, slabs = lm.run(nets, state, physical, host, weights,
                                                       eps, n)
            tracked = np.asarray(self._track(nets, physical))
            return nets, state, values, terms, np.tile(tracked, (len(values), 1)), slabs

        return run

    def rar(self, dtype):
        """RAR-D's residual of every equation at the candidate points, split over the
        devices."""
        shape = (RAR_CANDIDATES * self.points, len(self.program.coordinates))
        return self._cached(("rar", np.dtype(dtype).name), lambda: {
            t.name: make_point_map(t.residual, self.placement, shape)
            for t in self.program.terms if t.kind == "pde"})

    def balancer(self, kind: str, physical):
        objective, placement = self.objective, self.placement

        def terms_of(nets, stored):
            return objective.terms(nets, physical, placement.load(stored))

        return self._cached(("balance", kind, jax.tree.leaves(physical)[0].dtype.name
                             if physical else ""),
                            lambda: make_balancer(kind, self.program, physical, terms_of,
                                                  placement))


_KERNELS: OrderedDict = OrderedDict()


def _kernels(program: PINNProgram, options: TrainOptions, placement: Placement,
             causal: bool) -> _Kernels:
    """The compiled pieces for `program`, reused while its terms, the point layout and
    the options they depend on stay the same (the last KERNEL_CACHE programs): a program
    that differs only in where its points are drawn (`bounds`, as a time sweep's stages)
    compiles nothing again."""
    key = (id(program.terms), placement, options.learning_rate, options.decay_steps,
           options.decay_rate, options.points, causal)
    found = _KERNELS.get(key)
    if found is not None and found.program.terms is program.terms:
        _KERNELS.move_to_end(key)
        return found
    made = _Kernels(program, options, placement, causal)
    _KERNELS[key] = made
    while len(_KERNELS) > KERNEL_CACHE:
        _KERNELS.popitem(last=False)
    return made


def _adam_step(adam, loss, params, state, physical, stored, weights, eps):
    (value, aux), grads = jax.value_and_grad(loss, has_aux=True)(params, physical, stored,
                                                                 weights, eps)
    updates, state = adam.update(grads, state, params)
    return optax.apply_updates(params, updates), state, value, aux


def _lbfgs_step(lbfgs, loss, params, state, physical, stored, weights, eps):
    def value_fn(p):
        return loss(p, physical, stored, weights, eps)[0]

    value, grads = optax.value_and_grad_from_state(value_fn)(params, state=state)
    updates, state = lbfgs.update(grads, state, params, value=value, grad=grads,
                                  value_fn=value_fn)
    params = optax.apply_updates(params, updates)
    return params, state, value, loss(params, physical, stored, weights, eps)[1]


@dataclass
class _Loop:
    """Where the training loop stands between chunks: what a checkpoint holds."""

    nets: dict
    opt_state: object
    batch: dict                # the points on the host, unpadded: any device count resumes
    weights: np.ndarray
    phase: int                 # index into the phases
    done: int                  # steps done over all phases
    chunks: int
    history: list
    info: dict
    eps: float = 0.0           # the causality parameter


def _save(checkpoint: Checkpointing, loop: _Loop, width: int, stop: str = ""):
    opt = {k: np.asarray(v) for k, v in asdict(loop.opt_state).items()} \
        if isinstance(loop.opt_state, LMState) else loop.opt_state
    state = {"nets": loop.nets, "opt": opt, "batch": loop.batch}
    extra = {"history": np.concatenate(loop.history) if loop.history
             else np.zeros((0, width)), "weights": np.asarray(loop.weights)}
    info = {"phase": loop.phase, "step": loop.done, "chunks": loop.chunks,
            "train_info": {k: v for k, v in loop.info.items() if k != "phases"},
            "eps": loop.eps}
    if stop:
        return checkpoint.stop(state, info, extra, stop)
    checkpoint.save(state, info, extra)
    return None


def _resume(checkpoint: Checkpointing, fresh: _Loop, phases, kernels: _Kernels) -> _Loop:
    """The loop state saved in the checkpoint, in the structure of a fresh run's."""
    from ..observe.checkpoint import check_identity, load_checkpoint

    manifest, _, _ = load_checkpoint(checkpoint.folder)
    check_identity(checkpoint.folder, manifest.get("identity"), checkpoint.identity)
    k = int(manifest.get("phase", 0))
    if not 0 <= k < len(phases):
        raise OptionError(f"the checkpoint in {str(checkpoint.folder)!r} does not fit this "
                          "run (its training phase is not among this run's)",
                          hint="leave out --resume to start over")
    nets = _cast(fresh.nets, phases[k].dtype)
    lm = phases[k].name == "lm"
    opt = {k: np.asarray(v) for k, v in asdict(LMState()).items()} if lm else \
        kernels.init_state(phases[k].name, nets)
    state, manifest, extra = checkpoint.load({"nets": nets, "opt": opt, "batch": fresh.batch})
    opt = LMState(**{k: type(v)(state["opt"][k]) for k, v in asdict(LMState()).items()}) \
        if lm else state["opt"]
    weights = extra.get("weights", fresh.weights)
    batch = {name: np.asarray(x) for name, x in state["batch"].items()}
    return _Loop(state["nets"], opt, batch, weights, k, int(manifest["step"]),
                 int(manifest["chunks"]), [extra["history"]],
                 dict(manifest.get("train_info", {"resamples": 0})),
                 float(manifest.get("eps", fresh.eps)))


BY_KIND = {"data": "data_weight", "regularization": "regularization"}
UNSCALED = {"regularization": 0.0}          # where the program has no starting weight


def _initial_weights(program: PINNProgram, options: TrainOptions) -> np.ndarray:
    """Per term: the `weights` mapping's where it names the term; for data and
    regularization terms the `data_weight` and `regularization` options, or where those are
    None the program's `starting_weights` (on the equations' scale; else 1 for data, 0 for
    regularization); 1 for the rest."""
    names = [t.name for t in program.terms]
    given = options.weights if isinstance(options.weights, Mapping) else {}
    unknown = set(given) - set(names)
    if unknown:
        raise OptionError(f"weights name {', '.join(sorted(unknown))}, which is no loss term "
                          f"(terms: {', '.join(names)})")

    def start(term) -> float:
        if term.name in given:
            return float(given[term.name])
        option = getattr(options, BY_KIND[term.kind]) if term.kind in BY_KIND else None
        if option is not None:
            return float(option)
        return float(program.starting_weights.get(term.name, UNSCALED.get(term.kind, 1.0)))

    return np.asarray([start(t) for t in program.terms])


def _draw(program: PINNProgram, options: TrainOptions, seed: int) -> dict:
    """Points for every term (float64, on the host): interior (equations, regularization),
    shared boundary and initial budgets, by `sampler`; a data term's are its observation
    points."""
    boundary = [t for t in program.terms if t.kind == "boundary"]
    initial = [t for t in program.terms if t.kind == "initial"]
    domain = program.domain                 # a shaped domain: its points, drawn here too
    batch = {}
    for i, t in enumerate(program.terms):
        if domain is not None and t.kind in ("pde", "mean", "regularization"):
            batch[t.name] = domain.interior(options.points, seed * 7919 + i)
            continue
        if domain is not None and t.kind == "initial":
            (t0,) = t.fixed.values()
            batch[t.name] = domain.initial(t0, max(options.initial_points // len(initial), 8),
                                           seed * 7919 + i)
            continue
        if t.points is not None:
            batch[t.name] = np.asarray(t.points, np.float64)
            continue
        if t.kind in ("pde", "regularization", "mean"):
            n = options.points
        elif t.kind == "boundary":
            n = max(options.boundary_points // len(boundary), 8)
        else:
            n = max(options.initial_points // len(initial), 8)
        batch[t.name] = np.asarray(sample_points(options.sampler, n, program.coordinates,
                                                 program.bounds, t.fixed, seed * 7919 + i),
                                   np.float64)
    return batch


def _resample(program, options, nets, physical, count, adaptive, rar_residuals) -> dict:
    """New points (host arrays), the `count`-th draw. RAR-D: each equation's residual at
    candidate points (`rar_residuals`: split over the devices) picks them with density
    1 + r^2 / mean r^2."""
    seed = options.seed + 1000 * count
    batch = _draw(program, options, seed)
    if not adaptive:
        return batch
    rng = np.random.default_rng(seed)
    dtype = np.dtype(jax.tree.leaves(nets)[0].dtype)
    for t in program.terms:
        if t.kind != "pde":
            continue
        candidates = (program.domain.interior(RAR_CANDIDATES * options.points, seed)
                      if program.domain is not None else
                      sample_points("uniform", RAR_CANDIDATES * options.points,
                                    program.coordinates, program.bounds, t.fixed, seed))
        r2 = np.square(np.asarray(rar_residuals[t.name]((nets, physical),
                                                        np.asarray(candidates, dtype)),
                                  dtype=np.float64))
        r2 = r2.reshape(len(candidates), -1).sum(axis=1)
        density = r2 / max(float(np.mean(r2)), 1e-30) + 1.0
        pick = rng.choice(len(candidates), options.points, replace=False,
                          p=density / density.sum())
        batch[t.name] = candidates[pick]
    return batch


def _check_finite(values: np.ndarray, terms: np.ndarray, names: list[str], done: int,
                  phase: str) -> None:
    bad = ~np.isfinite(values)
    if not bad.any():
        return
    step = done + int(np.argmax(bad)) + 1
    row = terms[int(np.argmax(bad))]
    culprits = [n for n, v in zip(names, row) if not np.isfinite(v)] or names
    raise SolveError(f"the loss became NaN or infinite at {phase} step {step} (term "
                     f"{', '.join(culprits)})",
                     hint="lower the learning rate (--lr), or check the equations' scaling")
