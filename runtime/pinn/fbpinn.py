"""`method="fbpinn"`: finite-basis PINNs (compiler/pinn/networks/decomposition.py), trained and
sampled exactly as the pinn method's networks are (`runtime.pinn.solve`), with the
subdomain grid, overlap and levels as three more options; `layers` is each subdomain's
network.

`time_sweep` trains the subdomains' time slabs in turn (the time-marching subdomains of
Moseley, Markham and Nissen-Meyer 2023): stage k draws its points from the start of slab
k's reach to the end of its own width and trains slabs k and k+1 (the next one looks
ahead: the points near slab k's end lie in both), with the earlier slabs fixed (out of
the gradient) and the later ones switched off (the live windows a partition of unity
among themselves), so each stage fits a short time with the past already in place, as a
time-stepper would. Slab k alone did worse: on the damped oscillator its first stage
stalled with u'(0) at 11 where two slabs reach 0.02. The last stage has every slab
live, and the network it leaves is the whole solution. The stages share one compiled
program: only where the points are drawn and the masks (physical parameters) change.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np

from compiler.pinn import PINNProgram
from compiler.pinn.options import SUBDOMAIN_LAYERS
from compiler.pinn.residuals import STAGE
from pdelang import System

from ..errors import OptionError
from ..options import OPTIONS
from ..output.solution import Solution
from .marching import FIRST_SHARE, stage_observer, stage_options
from .solve import check_pinn_options, network_options, solve_pinn, training_options
from .train import TrainOptions, TrainResult, train


def _network(self):
    """The pinn compiler's options with the decomposition; small subdomain networks
    unless `layers` is given: pinn's LM_LAYERS when Levenberg-Marquardt may finish, else
    SUBDOMAIN_LAYERS."""
    network = network_options(self, SUBDOMAIN_LAYERS)
    given = self.subdomains
    subdomains = given if isinstance(given, int) else tuple(sorted(given.items()))
    return replace(network, subdomains=subdomains, overlap=self.overlap, levels=self.levels)


def _check(options) -> None:
    check_pinn_options(options)
    if not options.time_sweep:
        return
    if options.levels > 1:
        raise OptionError("a time sweep trains one level of subdomains slab by slab; "
                          f"levels={options.levels} adds coarser ones that span every slab",
                          hint="leave out --levels, or --time-sweep")
    if options.checkpoint:
        raise OptionError("checkpoints are not kept across a time sweep's stages",
                          hint="leave out --time-sweep to checkpoint")


FBPINNSolveOptions = OPTIONS.options_class(
    "fbpinn", "FBPINNSolveOptions", module=__name__, check=_check,
    namespace={"network": _network, "training": training_options},
    doc="Everything `solve(..., method=\"fbpinn\")` accepts (see "
        "`runtime.options.describe(\"fbpinn\")`): the pinn method's options, `subdomains`, "
        "`overlap`, `levels` and `time_sweep`.")


def solve_fbpinn(system: System, options: FBPINNSolveOptions,
                 observers: Sequence[Callable] = ()) -> Solution:
    """Train the finite-basis network and sample it (as `solve_pinn`)."""
    trainer = train_sweep if options.time_sweep else train
    return solve_pinn(system, options, observers, method="fbpinn", trainer=trainer)


def sweep_stages(program: PINNProgram) -> list[tuple[float, float, dict]]:
    """Per time slab but the last, in order: the time interval its stage draws points
    from and the (trained, live) masks of every decomposed network over time."""
    time = program.system.time
    if time is None:
        raise OptionError("a time sweep marches the subdomains along time, and this "
                          "system has none", hint="leave out --time-sweep")
    timed = [g for g in program.groups if time.name in g.args]
    decomposition = timed[0].spec.decomposition
    axis = timed[0].args.index(time.name)
    count = decomposition.counts[axis]
    if count < 3:
        raise OptionError(f"a time sweep needs three or more subdomains along time, not "
                          f"{count}", hint=f"e.g. --subdomains {time.name}=8")
    t0, t1 = time.bounds
    width, reach = decomposition.widths[axis], decomposition.reach[axis]
    stages = []
    for k in range(count - 1):
        masks = {}
        for g in timed:
            slab = g.spec.slabs(g.args.index(time.name))
            masks[g.key] = (((slab == k) | (slab == k + 1)).astype(np.float64),
                            (slab <= k + 1).astype(np.float64))
        end = t1 if k == count - 2 else t0 + (k + 1) * width
        stages.append((max(t0, t0 + (k + 0.5) * width - reach), end, masks))
    return stages


def train_sweep(program: PINNProgram, options: TrainOptions, *, dtype=jnp.float32,
                observers: Sequence[Callable] = (), checkpoint=None) -> TrainResult:
    """Train stage after stage (`sweep_stages`), each from the last one's networks, within
    one budget shared as time marching shares it (`stage_options`: the first stage, which
    compiles, twice a later one's share of what is left; with step counts each stage runs
    them all, the whole bounded by the budget). Causal weighting is off: the sweep is the
    causality."""
    del checkpoint                               # refused with time_sweep (`_check`)
    stages = sweep_stages(program)
    time = program.system.time.name
    options = replace(options, causal=False)
    started = clock.perf_counter()
    deadline = started + options.seconds
    nets: Mapping = program.init(jax.random.PRNGKey(options.seed), dtype)
    shares = [FIRST_SHARE] + [1.0] * (len(stages) - 1)
    results, report = [], []
    for k, (lo, hi, masks) in enumerate(stages):
        stage = replace(program, bounds={**program.bounds, time: (lo, hi)})
        physical = {**program.physical, STAGE: masks}
        seen = [stage_observer(o, k, len(stages), "stage") for o in observers]
        result = train(stage, stage_options(options, deadline, shares, k), dtype=dtype,
                       start=nets, physical=physical, observers=seen)
        results.append(result)
        nets = result.nets
        report.append({"slabs": [k + 1, k + 2], "t": [lo, hi], "steps": result.steps,
                       "final_loss": float(result.history["loss"][-1]),
                       "stop_reason": result.info.get("stop_reason")})
    last = results[-1]
    history = {name: np.concatenate([np.asarray(r.history[name]) for r in results])
               for name in last.history}
    return replace(last, physical=dict(program.physical), history=history,
                   steps=sum(r.steps for r in results),
                   wall_time=clock.perf_counter() - started,
                   info={**last.info, "time_sweep": report})
