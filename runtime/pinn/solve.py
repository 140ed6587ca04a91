"""`method="pinn"`: lower the system to residuals of a network, train it, and evaluate it
on an output grid as a `Solution` (whose call evaluates the network itself). Inverse
problems train their unknowns with the networks: `Solution.params` holds the inferred
constants and coefficient fields, `meta["unknown_history"]` each constant's trajectory.
Over several devices the points of training and of the output grid are split between
them, the networks replicated (`pinn.parallel`); `meta` records the devices."""

from __future__ import annotations

import time as clock
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import fields

import jax
import jax.numpy as jnp
import numpy as np

from compiler.common.grid import grid_sizes
from compiler.common.observations import field_observations
from compiler.pinn import PINNOptions, PINNProgram, lower_pinn, trained_constants
from pdelang import System

from ..errors import OptionError
from ..observe.checkpoint import check_checkpoint_options, checkpointing
from ..options import OPTIONS
from ..output.convergence import (
    Convergence,
    misfit_verdict,
    settled_verdict,
    training_verdict,
)
from ..output.finish import finish_solution
from ..output.solution import Solution
from .parallel import make_point_map
from .train import TrainOptions, train

HISTORY_POINTS = 200          # loss history entries kept in meta (evenly spaced steps)
LM_LAYERS = (20, 20, 20)      # default widths when Levenberg-Marquardt finishes


def check_pinn_options(options) -> None:
    check_checkpoint_options(options.checkpoint, options.checkpoint_every, options.resume)
    options.training()                     # TrainOptions checks the training options


def _network(self) -> PINNOptions:
    """The options of the pinn compiler (`compiler.pinn.PINNOptions`); layers None: small
    ones (LM_LAYERS) when Levenberg-Marquardt may finish (chosen, or auto when training by
    time), else the compiler's."""
    lm = self.optimizer == "lm" or (self.optimizer == "auto" and self.training().by_time)
    layers = self.layers or (LM_LAYERS if lm else PINNOptions.layers)
    return PINNOptions(tuple(layers), self.activation, self.initialiser,
                       self.fourier_features, self.fourier_scale, self.harmonics,
                       self.hard_constraints, self.data_scaling, self.architecture,
                       self.weight_factorisation)


def _training(self) -> TrainOptions:
    """The options of training (`TrainOptions`)."""
    names = [f.name for f in fields(TrainOptions)]
    return TrainOptions(**{n: getattr(self, n) for n in names})


PINNSolveOptions = OPTIONS.options_class(
    "pinn", "PINNSolveOptions", module=__name__, check=check_pinn_options,
    namespace={"network": _network, "training": _training},
    doc="Everything `solve(..., method=\"pinn\")` accepts (see "
        "`runtime.options.describe(\"pinn\")`): the network (`network()`: compiler.pinn's "
        "PINNOptions), training (`training()`: TrainOptions), the output grid (`grid`, "
        "`frames`), dtype, checkpoints.")


def solve_pinn(system: System, options: PINNSolveOptions,
               observers: Sequence[Callable] = ()) -> Solution:
    """Train and sample. Matrix products run at full precision of the dtype: on GPUs JAX's
    default lets float32 products round their inputs to TF32 (10-bit mantissa), which
    stalled L-BFGS on Poisson at loss 6.4e-7 (error 1.5e-4 on an H200, 1.5e-5 with full
    products, for 13% more time per Adam step); on CPUs nothing changes."""
    x64 = options.dtype == "float64" or options.finish_dtype == "float64"
    with jax.enable_x64(x64), jax.default_matmul_precision("highest"):
        return _solve(system, options, observers, x64)


def _solve(system: System, options: PINNSolveOptions, observers, x64: bool) -> Solution:
    started = clock.perf_counter()
    dtype = jnp.float64 if options.dtype == "float64" else jnp.float32
    program = lowered(system, options.network())
    if options.regularization and not any(p.is_field for p in system.unknown_params):
        raise OptionError("regularization smooths unknown coefficient fields "
                          "(`param c(x) ~ guess`), and this system has none",
                          hint="leave out --regularization")
    same_run = {k: v for k, v in _options_meta(options).items() if k != "devices"}
    with checkpointing("pinn", system, options, same_run) as checkpoint:   # any devices
        result = train(program, options.training(), dtype=dtype, observers=observers,
                       checkpoint=checkpoint)
    grid = output_grid(system, options)
    mesh = np.meshgrid(*(grid[c] for c in program.coordinates), indexing="ij")
    dtype = jax.tree.leaves(result.nets)[0].dtype          # the last phase's
    points = np.asarray(np.stack([m.ravel() for m in mesh], axis=1), dtype)
    on_grid = make_point_map(lambda nets, physical, p: program.evaluate(nets, p, physical),
                             result.placement, points.shape)
    flat = on_grid((result.nets, result.physical), points)
    nets = jax.device_get(result.nets)             # calls evaluate on one device
    evaluate = jax.jit(program.evaluate)
    values = {}
    for f in system.fields:
        full = np.asarray(flat[f.name]).reshape(mesh[0].shape)
        values[f.name] = _reduce_to_args(full, program.coordinates, f.args)
    params = inferred_params(program, result.nets, flat, mesh[0].shape)

    def evaluator(name: str, coordinates: dict[str, np.ndarray]) -> np.ndarray:
        columns = [coordinates.get(c, np.zeros_like(next(iter(coordinates.values()))))
                   for c in program.coordinates]
        shape = np.shape(columns[0])
        with jax.enable_x64(x64):          # the networks' dtype, outside the solve too
            pts = jnp.asarray(np.stack([np.ravel(c) for c in columns], axis=1), dtype)
            out = np.asarray(evaluate(nets, pts, result.physical)[name], dtype=float)
        out = out.reshape(shape)
        return out if out.ndim else float(out)

    extra = {"steps": result.steps, "final_loss": float(result.history["loss"][-1]),
             "loss_weights": result.weights, "training_time_s": result.wall_time,
             "loss_history": _history(result.history), **result.info,
             **result.placement.describe()}
    if result.trajectory:
        extra["unknown_history"] = _history(result.trajectory)
    return finish_solution("pinn", system, grid, values, params, _options_meta(options), extra,
                           started, evaluator, convergence=training_convergence(program, result))


_LOWERED: OrderedDict = OrderedDict()
LOWERED_CACHE = 8             # systems whose lowered programs are kept


def lowered(system: System, network: PINNOptions) -> PINNProgram:
    """`lower_pinn(system, network)`, the same program for an equal system and network
    (the last LOWERED_CACHE), so that training reuses its compiled chunks."""
    try:
        key = (system, network)
        hash(key)
    except TypeError:                       # a system holding something unhashable
        return lower_pinn(system, network)
    if key not in _LOWERED:
        _LOWERED[key] = lower_pinn(system, network)
        while len(_LOWERED) > LOWERED_CACHE:
            _LOWERED.popitem(last=False)
    _LOWERED.move_to_end(key)
    return _LOWERED[key]


def training_convergence(program: PINNProgram, result) -> Convergence:
    """The verdict on a training (`runtime.output.convergence`): the loss fell and levelled;
    for inverse problems also the unknown constants settled and each observed field's RMS
    misfit (the last value of its data term) within MISFIT of its data's RMS."""
    helps = ("budget", "steps", "lbfgs_steps", "lm_steps", "learning_rate", "layers", "points")
    phases = result.info.get("phases") or [{}]
    verdict = training_verdict(result.history["loss"], helps, phases[-1].get("steps"))
    data = [t for t in program.terms if t.kind == "data"]
    if result.trajectory:
        verdict = verdict & settled_verdict(result.trajectory, ("budget", "steps", "lbfgs_steps"))
    if data:
        scale = {o.field: o.rms or 1.0 for o in field_observations(program.system)}
        relative = {}
        for term in data:
            name = term.name.removeprefix("data ")
            series = np.asarray(result.history[term.name])
            relative[name] = float(np.sqrt(series[-1])) / scale[name] if series.size else \
                float("inf")
        verdict = verdict & misfit_verdict(relative, ("data_weight", "steps", "lbfgs_steps"))
    return verdict


def output_grid(system: System, options: PINNSolveOptions) -> dict[str, np.ndarray]:
    sizes = grid_sizes(options.grid, system)
    grid = {}
    for c in system.coordinates:
        n = options.frames if c.is_time else sizes[c.name]
        grid[c.name] = np.linspace(*c.bounds, n)
    return grid


def inferred_params(program: PINNProgram, nets: dict, flat: dict, shape: tuple[int, ...]
                    ) -> dict[str, float | np.ndarray]:
    """The unknown constants as floats; each unknown coefficient field as its network on the
    output grid of its arguments (`flat`: every network output on the whole grid)."""
    out: dict[str, float | np.ndarray] = {}
    for p in program.system.unknown_params:
        if p.is_field:
            full = np.asarray(flat[p.name], dtype=float).reshape(shape)
            out[p.name] = _reduce_to_args(full, program.coordinates, p.args)
        else:
            out[p.name] = float(trained_constants(nets, program.physical)[p.name])
    return out


def _reduce_to_args(full: np.ndarray, coordinates, args) -> np.ndarray:
    """A field of fewer coordinates than the grid: take it where the others are first."""
    index = tuple(slice(None) if c in args else 0 for c in coordinates)
    reduced = full[index]
    kept = [c for c in coordinates if c in args]
    return np.transpose(reduced, [kept.index(a) for a in args])


def _history(history) -> dict[str, list[float]]:
    """Every series of `history` at HISTORY_POINTS evenly spaced steps."""
    n = len(next(iter(history.values())))
    picks = np.unique(np.linspace(0, n - 1, min(HISTORY_POINTS, n)).astype(int)) if n else []
    out = {"step": [int(i) + 1 for i in picks]}
    out.update({k: [float(v[i]) for i in picks] for k, v in history.items()})
    return out


def _options_meta(options: PINNSolveOptions) -> dict:
    out = {f.name: getattr(options, f.name) for f in fields(options)}
    out["layers"] = list(options.network().layers)
    return out
