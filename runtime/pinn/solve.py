"""`method="pinn"`: lower the system to residuals of a network, train it, and evaluate it
on an output grid as a `Solution` (whose call evaluates the network itself). Inverse
problems train their unknowns with the networks: `Solution.params` holds the inferred
constants and coefficient fields, `meta["unknown_history"]` each constant's trajectory.
Learned functions (`net` lines) train with the networks too, their weights in
`Solution.params` as `net.NAME.W0`, `b0`, ... (as fd writes them: `Solution.discover()`
reads them).
Over several devices the points of training and of the output grid are split between
them, the networks replicated (`pinn.parallel`); `meta` records the devices."""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Sequence
from dataclasses import fields, replace

import jax
import jax.numpy as jnp
import numpy as np

from compiler.common.grid import grid_sizes
from compiler.common.nets import net_arrays, net_key
from compiler.common.observations import field_observations
from compiler.pinn import PINNOptions, PINNProgram, lower_pinn, trained_constants
from compiler.pinn.balance import balance_points, equation_balance
from compiler.pinn.marching import (
    MarchingProgram,
    check_marching,
    lower_marching,
    transport_windows,
)
from pdelang import System

from ..errors import OptionError
from ..observe.checkpoint import check_checkpoint_options, checkpointing
from ..options import OPTIONS
from ..output.convergence import (
    Convergence,
    balance_verdict,
    misfit_verdict,
    settled_verdict,
    training_verdict,
)
from ..output.finish import finish_solution
from ..output.solution import Solution
from ..reuse import Remembered
from .marching import check_marching_options, train_marching
from .parallel import make_point_map
from .points import make_point_derivatives, network_values, point_evaluator
from .train import TrainOptions, train

HISTORY_POINTS = 200          # loss history entries kept in meta (evenly spaced steps)
LM_LAYERS = (20, 20, 20)      # default widths when Levenberg-Marquardt finishes


def check_pinn_options(options) -> None:
    check_checkpoint_options(options.checkpoint, options.checkpoint_every, options.resume)
    options.training()                     # TrainOptions checks the training options


def network_options(self, default_layers: tuple[int, ...] = PINNOptions.layers
                    ) -> PINNOptions:
    """The options of the pinn compiler (`compiler.pinn.PINNOptions`); layers None: small
    ones (LM_LAYERS) when Levenberg-Marquardt may finish (chosen, or auto when training by
    time), else `default_layers`."""
    lm = self.optimizer == "lm" or (self.optimizer == "auto" and self.training().by_time)
    layers = self.layers or (LM_LAYERS if lm else default_layers)
    return PINNOptions(tuple(layers), self.activation, self.initialiser,
                       self.fourier_features, self.fourier_scale, self.harmonics,
                       self.hard_constraints, self.data_scaling, self.architecture,
                       self.weight_factorisation)


def training_options(self) -> TrainOptions:
    """The options of training (`TrainOptions`)."""
    names = [f.name for f in fields(TrainOptions)]
    return TrainOptions(**{n: getattr(self, n) for n in names})


PINNSolveOptions = OPTIONS.options_class(
    "pinn", "PINNSolveOptions", module=__name__, check=check_pinn_options,
    namespace={"network": network_options, "training": training_options},
    doc="Everything `solve(..., method=\"pinn\")` accepts (see "
        "`runtime.options.describe(\"pinn\")`): the network (`network()`: compiler.pinn's "
        "PINNOptions), training (`training()`: TrainOptions), the output grid (`grid`, "
        "`frames`), dtype, checkpoints.")


def solve_pinn(system: System, options: PINNSolveOptions,
               observers: Sequence[Callable] = (), method: str = "pinn",
               trainer: Callable = train) -> Solution:
    """Train (by `trainer`, `train`'s signature; fbpinn's time sweep has its own) and
    sample. Matrix products run at full precision of the dtype: on GPUs JAX's
    default lets float32 products round their inputs to TF32 (10-bit mantissa), which
    stalled L-BFGS on Poisson at loss 6.4e-7 (error 1.5e-4 on an H200, 1.5e-5 with full
    products, for 13% more time per Adam step); on CPUs nothing changes."""
    x64 = options.dtype == "float64" or options.finish_dtype == "float64"
    with jax.enable_x64(x64), jax.default_matmul_precision("highest"):
        return _solve(system, options, observers, x64, method, trainer)


def _solve(system: System, options: PINNSolveOptions, observers, x64: bool,
           method: str, trainer: Callable) -> Solution:
    started = clock.perf_counter()
    dtype = jnp.float64 if options.dtype == "float64" else jnp.float32
    if options.regularization and not any(p.is_field for p in system.unknown_params):
        raise OptionError("regularization smooths unknown coefficient fields "
                          "(`param c(x) ~ guess`), and this system has none",
                          hint="leave out --regularization")
    windows = time_windows(system, options)
    if windows > 1:
        return _solve_marching(system, options, observers, x64, dtype, windows, started,
                               method)
    program = lowered(system, options.network())
    same_run = {k: v for k, v in _options_meta(options).items() if k != "devices"}
    with checkpointing("pinn", system, options, same_run) as checkpoint:   # any devices
        result = trainer(program, options.training(), dtype=dtype, observers=observers,
                         checkpoint=checkpoint)
    grid = output_grid(system, options)
    mesh = np.meshgrid(*(grid[c] for c in program.coordinates), indexing="ij")
    dtype = jax.tree.leaves(result.nets)[0].dtype          # the last phase's
    points = np.asarray(np.stack([m.ravel() for m in mesh], axis=1), dtype)
    on_grid = make_point_map(lambda nets, physical, p: program.evaluate(nets, p, physical),
                             result.placement, points.shape)
    flat = on_grid((result.nets, result.physical), points)
    nets = jax.device_get(result.nets)             # calls evaluate on one device
    params = inferred_params(program, result.nets, flat, mesh[0].shape)
    evaluator = point_evaluator(program.coordinates, x64, dtype, network_values(
        make_point_derivatives(program.evaluate), nets, result.physical))
    extra = {"steps": result.steps, "final_loss": float(result.history["loss"][-1]),
             "loss_weights": result.weights, "training_time_s": result.wall_time,
             "loss_history": _history(result.history), **result.info,
             **result.placement.describe()}
    if result.trajectory:
        extra["unknown_history"] = _history(result.trajectory)
    return finish_solution(method, system, grid, grid_values(system, program, flat, mesh),
                           params, _options_meta(options), extra, started, evaluator,
                           convergence=training_convergence(program, result))


def _solve_marching(system: System, options: PINNSolveOptions, observers, x64: bool, dtype,
                    windows: int, started: float, method: str = "pinn") -> Solution:
    """Time marching (`runtime.pinn.marching`): one network per time window."""
    check_marching_options(options)
    march = marched(system, options.network(), windows)
    result = train_marching(march, options.training(), dtype=dtype, observers=observers)
    program = march.program
    grid = output_grid(system, options)
    mesh = np.meshgrid(*(grid[c] for c in program.coordinates), indexing="ij")
    dtype = jax.tree.leaves(result.last.nets)[0].dtype
    flat = result.evaluate(jax.jit(program.evaluate),
                           np.asarray(np.stack([m.ravel() for m in mesh], axis=1), dtype))
    info = result.info()
    extra = {"steps": sum(w.steps for w in result.windows),
             "final_loss": max(w["final_loss"] for w in info["time_windows"]),
             "loss_weights": result.last.weights, "training_time_s": result.wall_time,
             "loss_history": _history(result.history()), **info,
             **result.last.placement.describe()}
    evaluator = point_evaluator(program.coordinates, x64, dtype, result.point_values(
        make_point_derivatives(program.evaluate)))      # each point's window's networks
    return finish_solution(method, system, grid, grid_values(system, program, flat, mesh), {},
                           _options_meta(options), extra, started, evaluator,
                           convergence=marching_convergence(result))


def marching_convergence(result) -> Convergence:
    """Every window's training verdict; the run's: the first window that did not converge
    (else the last), named in the reason with the count that did. A later window starts
    from the previous one's networks, near its solution already: its fall is counted from
    the first window's first loss (the untrained networks')."""
    helps = ("budget", "time_windows", "layers", "points")
    start = result.windows[0].history["loss"][:1]
    verdicts = []
    for k, w in enumerate(result.windows):
        loss = w.history["loss"] if k == 0 else np.concatenate([start, w.history["loss"]])
        verdicts.append(training_verdict(loss, helps, (w.info.get("phases") or [{}])[-1]
                                         .get("steps")))
    failed = [k for k, v in enumerate(verdicts) if not v.converged]
    k = failed[0] if failed else len(verdicts) - 1
    counted = f"{len(verdicts) - len(failed)} of {len(verdicts)} time windows converged"
    return replace(verdicts[k], criterion=f"in every time window: {verdicts[k].criterion}",
                   reason=f"{counted}; window {k + 1}: {verdicts[k].reason}")


def grid_values(system: System, program: PINNProgram, flat: dict, mesh) -> dict:
    """Each field on the output grid (over its own arguments)."""
    return {f.name: _reduce_to_args(np.asarray(flat[f.name]).reshape(mesh[0].shape),
                                    program.coordinates, f.args) for f in system.fields}


def time_windows(system: System, options: PINNSolveOptions) -> int:
    """`time_windows`, or auto (None): `transport_windows` of the spec."""
    if options.time_windows is not None:
        if options.time_windows > 1:
            check_marching(system)
        return options.time_windows
    return transport_windows(system)


_LOWERED = Remembered(8)           # systems whose lowered programs are kept


def marched(system: System, network: PINNOptions, windows: int) -> MarchingProgram:
    """`lower_marching`, cached as `lowered` is."""
    return _LOWERED.get((system, network, windows),
                   lambda: lower_marching(system, network, windows))


def lowered(system: System, network: PINNOptions) -> PINNProgram:
    """`lower_pinn(system, network)`, the same program for an equal system and network
    (the last 8), so that training reuses its compiled chunks."""
    return _LOWERED.get((system, network), lambda: lower_pinn(system, network))


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
        scale = {o.field: o.rms or 1.0 for o in field_observations(program.system, "pinn")}
        relative = {}
        for term in data:
            name = term.name.removeprefix("data ")
            series = np.asarray(result.history[term.name])
            relative[name] = float(np.sqrt(series[-1])) / scale[name] if series.size else \
                float("inf")
        verdict = verdict & misfit_verdict(relative, ("data_weight", "steps", "lbfgs_steps"))
        verdict = verdict & balance_verdict(equation_residuals(program, result),
                                            ("data_weight", "budget", "lbfgs_steps"))
    return verdict


def equation_residuals(program: PINNProgram, result) -> dict[str, float]:
    """Each equation's RMS residual over the RMS size of its terms, on the trained
    networks at a regular grid of the box (`compiler.pinn.balance`)."""
    balance = jax.jit(equation_balance(program.system, program.groups, program.coordinates))
    dtype = jax.tree.leaves(result.nets)[0].dtype
    points = jnp.asarray(balance_points(program.system, program.coordinates), dtype)
    residual, size = (np.asarray(a, np.float64)
                      for a in balance(result.nets, result.physical, points))
    names = [t.name for t in program.terms if t.kind == "pde"]
    return {name: float(np.sqrt(r / s)) if s > 0 else (0.0 if r == 0 else float("inf"))
            for name, r, s in zip(names, residual, size)}


def output_grid(system: System, options: PINNSolveOptions) -> dict[str, np.ndarray]:
    sizes = grid_sizes(options.grid, system)
    grid = {}
    for c in system.coordinates:
        n = options.frames if c.is_time else sizes[c.name]
        grid[c.name] = np.linspace(*c.bounds, n)
    return grid


def inferred_params(program: PINNProgram, nets: dict, flat: dict, shape: tuple[int, ...]
                    ) -> dict[str, float | np.ndarray]:
    """Each learned function's weights as `net.NAME.W0`, `b0`, ... (`net_arrays`, as fd
    writes them); the unknown constants as floats; each unknown coefficient field as its
    network on the output grid of its arguments (`flat`: every network output on the
    whole grid)."""
    out: dict[str, float | np.ndarray] = {}
    for net in program.system.nets:
        out.update(net_arrays(net, np.asarray(nets[net_key(net.name)], np.float64)))
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
