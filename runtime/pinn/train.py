"""Training a PINN: Adam with a decaying learning rate, then L-BFGS, in jitted chunks.

The loss is the weighted sum over terms of the mean squared residual (data misfit and
regularization terms of inverse problems included; unknown constants train with the
networks, and their values are kept at every step). Each chunk runs
`chunk` steps in one `lax.scan` (one host round trip); between chunks, in Python, points
may be resampled (uniformly again, or by residual-based adaptive distribution: RAR-D of
Wu et al., 2023), loss weights may be balanced (`balancing`: learning-rate annealing,
gradient norms or NTK traces, every `balance_every` Adam steps), the history is kept and
observers are called. Seeded: the same seed gives the same result.

Over several devices (`devices`) the point sets are split along their points and the
networks replicated (data parallel, `parallel`); the points are drawn on the host as for
one device, so the result is one device's to rounding.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import optax

from compiler.pinn import CONSTANTS, PINNProgram, trained_constants

from ..errors import OptionError, SolveError
from ..observe.checkpoint import Checkpointing
from ..options import defaults
from ..parallel.sharding import Placement
from .balancing import BALANCERS, make_balancer
from .parallel import jit_split, make_point_map, split_points
from .sampling import SAMPLERS, sample_points

RAR_CANDIDATES = 8            # candidate points per kept point for RAR-D

_DEFAULT = defaults("pinn")         # the table of options (runtime.options) holds them


@dataclass(frozen=True)
class TrainOptions:
    """`steps` Adam steps at `learning_rate`, multiplied by `decay_rate` every `decay_steps`;
    then `lbfgs_steps` L-BFGS steps. `points` interior collocation points, `boundary_points`
    shared by the boundary terms, `initial_points` by the initial ones, drawn by `sampler`;
    `resample_every` steps (0: never) they are drawn again, by RAR-D when `adaptive_sampling`.
    `weights`: a weight per term name (the initial weights), or "adaptive" (the same as
    `balance="annealing"`). `balance`: how the weights are balanced (`balancing.BALANCERS`,
    or "none"), every `balance_every` Adam steps (a multiple of `chunk`; None: every
    chunk). Inverse problems: data terms start at weight `data_weight`, regularization
    terms have weight `regularization` (never balanced), unless `weights` names them. `devices`:
    how many devices the point sets are split over (None: all of the run's)."""

    steps: int = _DEFAULT["steps"]
    lbfgs_steps: int = _DEFAULT["lbfgs_steps"]
    learning_rate: float = _DEFAULT["learning_rate"]
    decay_rate: float = _DEFAULT["decay_rate"]
    decay_steps: int = _DEFAULT["decay_steps"]
    points: int = _DEFAULT["points"]
    boundary_points: int = _DEFAULT["boundary_points"]
    initial_points: int = _DEFAULT["initial_points"]
    sampler: str = _DEFAULT["sampler"]
    resample_every: int = _DEFAULT["resample_every"]
    adaptive_sampling: bool = _DEFAULT["adaptive_sampling"]
    weights: Mapping[str, float] | str | None = _DEFAULT["weights"]
    balance: str = _DEFAULT["balance"]
    balance_every: int | None = _DEFAULT["balance_every"]
    chunk: int = _DEFAULT["chunk"]
    seed: int = _DEFAULT["seed"]
    data_weight: float = _DEFAULT["data_weight"]
    regularization: float = _DEFAULT["regularization"]
    devices: int | None = _DEFAULT["devices"]

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise OptionError(f"sampler {self.sampler!r} is not available; choose one of "
                              f"{', '.join(SAMPLERS)}")
        for name in ("steps", "lbfgs_steps", "resample_every"):
            if getattr(self, name) < 0:
                raise OptionError(f"{name} must not be negative")
        for name in ("points", "chunk"):
            if getattr(self, name) < 1:
                raise OptionError(f"{name} must be at least 1")
        if not self.learning_rate > 0:
            raise OptionError("learning_rate must be positive")
        if not self.data_weight > 0:
            raise OptionError(f"data_weight must be positive, not {self.data_weight}")
        if not self.regularization >= 0:
            raise OptionError(f"regularization must be >= 0, not {self.regularization}")
        if isinstance(self.weights, str) and self.weights != "adaptive":
            raise OptionError(f"weights must be a mapping or \"adaptive\", not {self.weights!r}")
        _check_balance(self)

    @property
    def balancer(self) -> str | None:
        """The balancing rule in use: `balance`, or "annealing" for weights="adaptive"
        (None: the weights stay as they start)."""
        if self.balance != "none":
            return self.balance
        return "annealing" if self.weights == "adaptive" else None


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
class TrainResult:
    """The trained `nets` (unknown constants under `CONSTANTS`); per step: the loss and each
    term (`history`) and each unknown constant (`trajectory`); how the points lay over the
    devices (`placement`)."""

    nets: dict
    physical: dict
    history: Mapping[str, np.ndarray]          # "loss" and one entry per term, per step
    weights: Mapping[str, float]
    steps: int
    wall_time: float
    info: Mapping[str, object] = field(default_factory=dict)
    trajectory: Mapping[str, np.ndarray] = field(default_factory=dict)
    placement: Placement | None = None


def train(program: PINNProgram, options: TrainOptions, *, dtype=jnp.float32,
          observers: Sequence[Callable] = (),
          checkpoint: Checkpointing | None = None) -> TrainResult:
    """Train the networks of `program`. With `checkpoint`, the state (networks, optimiser
    state, phase, step, loss weights, points, history) is saved every `checkpoint.every`
    chunks and, when a signal tripped its latch, after the current chunk, which then raises
    `Interrupted`; `checkpoint.resume` starts from the saved state at its chunk boundary, so
    the result equals that of an uninterrupted run (the chunks do not depend on the stop)."""
    started = time.perf_counter()
    key = jax.random.PRNGKey(options.seed)
    nets = program.init(key, dtype)
    physical = {k: jnp.asarray(v, dtype) for k, v in program.physical.items()}
    names = [t.name for t in program.terms]
    weights = _initial_weights(program, options)
    batch = _draw(program, options, options.seed, dtype)          # on the host
    placement = split_points(batch, options.devices)
    constants = sorted(nets.get(CONSTANTS, {}))
    width = 1 + len(names) + len(constants)          # columns of the history table

    def terms_of(nets, stored):
        batch = placement.load(stored)               # the real points, split
        return jnp.stack([_mean_square(t.residual(nets, physical, batch[t.name]))
                          for t in program.terms])

    def track(nets):
        values = trained_constants(nets, physical)
        return jnp.stack([values[c] for c in constants]) if constants else \
            jnp.zeros((0,), dtype)

    def loss(nets, batch, w):
        values = terms_of(nets, batch)
        return jnp.sum(w * values), values

    schedule = optax.exponential_decay(options.learning_rate, options.decay_steps,
                                       options.decay_rate, staircase=False)
    adam = optax.adam(schedule)
    adam_chunk = _chunk(lambda p, s, b, w: _adam_step(adam, loss, p, s, b, w), track,
                        placement)
    lbfgs = optax.lbfgs()
    lbfgs_chunk = _chunk(lambda p, s, b, w: _lbfgs_step(lbfgs, loss, p, s, b, w), track,
                         placement)
    balance = make_balancer(options.balancer, program, physical, terms_of, placement) \
        if options.balancer else None
    balance_every = options.balance_every or options.chunk
    candidate_shape = (RAR_CANDIDATES * options.points, len(program.coordinates))
    rar_residuals = {t.name: make_point_map(t.residual, placement, candidate_shape)
                     for t in program.terms if t.kind == "pde"}

    phases = [(p, n, run, opt) for p, n, run, opt in
              (("adam", options.steps, adam_chunk, adam),
               ("lbfgs", options.lbfgs_steps, lbfgs_chunk, lbfgs)) if n]
    total = options.steps + options.lbfgs_steps
    loop = _Loop(nets, None, batch, weights, 0, 0, 0, [], {"resamples": 0})
    if checkpoint is not None and checkpoint.resume:
        loop = _resume(checkpoint, loop, phases)
    nets, batch, weights, done, info = loop.nets, loop.batch, loop.weights, loop.done, loop.info
    history, chunks = loop.history, loop.chunks
    stored = placement.put(batch)
    first = 0
    for k, (phase, steps, run, opt) in enumerate(phases):
        if k < loop.phase:
            first += steps
            continue
        state = loop.opt_state if k == loop.phase and loop.opt_state is not None \
            else opt.init(nets)
        left = first + steps - done
        first += steps
        while left:
            n = min(options.chunk, left)
            if options.resample_every and phase == "adam" and done and \
                    done % options.resample_every < n:
                batch = _resample(program, options, nets, physical, done, dtype,
                                  rar_residuals)
                stored = placement.put(batch)
                info["resamples"] += 1
            if balance and phase == "adam" and done % balance_every < n:
                weights = balance(nets, stored, weights)
            w = jnp.asarray(weights, dtype)
            nets, state, values, terms, tracked = run(nets, state, stored, w, n)
            values, terms = np.asarray(values), np.asarray(terms)
            _check_finite(values, terms, names, done, phase)
            history.append(np.column_stack([values, terms, np.asarray(tracked)]))
            done += n
            left -= n
            chunks += 1
            for observe in observers:
                observe({"step": done, "loss": float(values[-1]), "phase": phase,
                         "fraction": done / total})
            if checkpoint is None:
                continue
            saved = _Loop(nets, state, batch, weights, k, done, chunks, history, info)
            if checkpoint.stop_signal() is not None:
                raise _save(checkpoint, saved, width, stop=f"after step {done} of {total}")
            if checkpoint.due(chunks):
                _save(checkpoint, saved, width)
    table = np.concatenate(history) if history else np.zeros((0, width))
    out_history = {"loss": table[:, 0]}
    out_history.update({name: table[:, i + 1] for i, name in enumerate(names)})
    trajectory = {c: table[:, 1 + len(names) + i] for i, c in enumerate(constants)}
    final_weights = dict(zip(names, map(float, weights)))
    return TrainResult(nets, physical, out_history, final_weights, done,
                       time.perf_counter() - started, info, trajectory,
                       placement)


def _mean_square(residual: jax.Array) -> jax.Array:
    """Mean over points of the squared residual (its squared norm, for a vector residual
    such as a gradient)."""
    return jnp.mean(jnp.sum(jnp.square(residual.reshape(residual.shape[0], -1)), axis=1))


@dataclass
class _Loop:
    """Where the training loop stands between chunks: what a checkpoint holds."""

    nets: dict
    opt_state: object
    batch: dict                # the points on the host, unpadded: any device count resumes
    weights: np.ndarray
    phase: int                 # index into the phases that have steps
    done: int                  # steps done over all phases
    chunks: int
    history: list
    info: dict


def _save(checkpoint: Checkpointing, loop: _Loop, width: int, stop: str = ""):
    state = {"nets": loop.nets, "opt": loop.opt_state, "batch": loop.batch}
    extra = {"history": np.concatenate(loop.history) if loop.history
             else np.zeros((0, width)), "weights": np.asarray(loop.weights)}
    info = {"phase": loop.phase, "step": loop.done, "chunks": loop.chunks,
            "train_info": loop.info}
    if stop:
        return checkpoint.stop(state, info, extra, stop)
    checkpoint.save(state, info, extra)
    return None


def _resume(checkpoint: Checkpointing, fresh: _Loop, phases) -> _Loop:
    """The loop state saved in the checkpoint, in the structure of a fresh run's."""
    from ..observe.checkpoint import check_identity, load_checkpoint

    manifest, _, _ = load_checkpoint(checkpoint.folder)
    check_identity(checkpoint.folder, manifest.get("identity"), checkpoint.identity)
    k = int(manifest.get("phase", 0))
    if not 0 <= k < len(phases):
        raise OptionError(f"the checkpoint in {str(checkpoint.folder)!r} does not fit this "
                          "run (its training phase is not among this run's)",
                          hint="leave out --resume to start over")
    template = {"nets": fresh.nets, "opt": phases[k][3].init(fresh.nets),
                "batch": fresh.batch}
    state, manifest, extra = checkpoint.load(template)
    weights = extra.get("weights", fresh.weights)
    batch = {name: np.asarray(x) for name, x in state["batch"].items()}
    return _Loop(state["nets"], state["opt"], batch, weights, k,
                 int(manifest["step"]), int(manifest["chunks"]), [extra["history"]],
                 dict(manifest.get("train_info", {"resamples": 0})))


def _chunk(step, track, placement):
    """A jitted function running `n` steps of `step` in one lax.scan; per step it keeps the
    loss, the terms and `track(params)` (the unknown constants). The batch is split over the
    devices of `placement`, everything else replicated."""

    def run(params, state, batch, weights, n):
        def body(carry, _):
            params, state = carry
            params, state, value, terms = step(params, state, batch, weights)
            return (params, state), (value, terms, track(params))

        (params, state), (values, terms, tracked) = jax.lax.scan(body, (params, state), None,
                                                                 length=n)
        return params, state, values, terms, tracked

    return jit_split(run, placement, 2, 4, static=(4,))


def _adam_step(adam, loss, params, state, batch, weights):
    (value, terms), grads = jax.value_and_grad(loss, has_aux=True)(params, batch, weights)
    updates, state = adam.update(grads, state, params)
    return optax.apply_updates(params, updates), state, value, terms


def _lbfgs_step(lbfgs, loss, params, state, batch, weights):
    def value_fn(p):
        return loss(p, batch, weights)[0]

    value, grads = optax.value_and_grad_from_state(value_fn)(params, state=state)
    updates, state = lbfgs.update(grads, state, params, value=value, grad=grads,
                                  value_fn=value_fn)
    params = optax.apply_updates(params, updates)
    return params, state, value, loss(params, batch, weights)[1]


def _initial_weights(program: PINNProgram, options: TrainOptions) -> np.ndarray:
    """1 per term, `data_weight` for data terms and `regularization` for regularization
    terms, except where a `weights` mapping names the term."""
    names = [t.name for t in program.terms]
    by_kind = {"data": options.data_weight, "regularization": options.regularization}
    given = options.weights if isinstance(options.weights, Mapping) else {}
    unknown = set(given) - set(names)
    if unknown:
        raise OptionError(f"weights name {', '.join(sorted(unknown))}, which is no loss term "
                          f"(terms: {', '.join(names)})")
    return np.asarray([float(given.get(t.name, by_kind.get(t.kind, 1.0)))
                       for t in program.terms])


def _draw(program: PINNProgram, options: TrainOptions, seed: int, dtype) -> dict:
    """Points for every term: interior (equations, regularization), shared boundary and
    initial budgets, by `sampler`; a data term's are its observation points."""
    boundary = [t for t in program.terms if t.kind == "boundary"]
    initial = [t for t in program.terms if t.kind == "initial"]
    batch = {}
    for i, t in enumerate(program.terms):
        if t.points is not None:
            batch[t.name] = np.asarray(t.points, dtype)
            continue
        if t.kind in ("pde", "regularization", "mean"):
            n = options.points
        elif t.kind == "boundary":
            n = max(options.boundary_points // len(boundary), 8)
        else:
            n = max(options.initial_points // len(initial), 8)
        batch[t.name] = np.asarray(sample_points(options.sampler, n, program.coordinates,
                                                 program.bounds, t.fixed, seed * 7919 + i),
                                   dtype)
    return batch


def _resample(program, options, nets, physical, step, dtype, rar_residuals) -> dict:
    """New points (host arrays). RAR-D: each equation's residual at candidate points
    (`rar_residuals`: split over the devices) picks them with density 1 + r^2 / mean r^2."""
    seed = options.seed + 1000 * (step // max(options.resample_every, 1))
    batch = _draw(program, options, seed, dtype)
    if not options.adaptive_sampling:
        return batch
    rng = np.random.default_rng(seed)
    for t in program.terms:
        if t.kind != "pde":
            continue
        candidates = sample_points("uniform", RAR_CANDIDATES * options.points,
                                   program.coordinates, program.bounds, t.fixed, seed)
        r2 = np.square(np.asarray(rar_residuals[t.name]((nets, physical),
                                                        np.asarray(candidates, dtype))))
        density = r2 / max(float(np.mean(r2)), 1e-30) + 1.0
        pick = rng.choice(len(candidates), options.points, replace=False,
                          p=density / density.sum())
        batch[t.name] = np.asarray(candidates[pick], dtype)
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
