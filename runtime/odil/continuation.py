"""Coarse-to-fine continuation: fit on coarser grids first, each fit (fields and
parameters, interpolated) the start of the next.

The ODIL loss has spurious local minima that a far first guess can fall into, and more
of them on fine grids, where the fields can bend between observations (measured: the
speed of periodic advection from a guess of half the truth is found on 33 and 65 points,
but a fit on 129 x 129 from the same guess stops at 0.56; started from the 65-point
result it finds the truth). Coarse fits are also cheap, and leave the finest grid only
the last few Levenberg-Marquardt steps (heat coefficient on 129 x 129: 10 steps after 19
on 65 x 65, 4.0 s in all, against 28 steps and 7.2 s at once). Each grid costs its own
compilation, about half a second, so grids of at most LARGEST nodes are fitted at once
(Lorenz on 401 time points: 1.4 s at once, 3.1 s through four coarser grids).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from scipy.interpolate import RegularGridInterpolator

from compiler.common.nets import net_key
from compiler.common.observations import FieldObservations
from compiler.fd import FDProgram

from ..parallel.sharding import Placement
from .fit import FitOutcome, FitSettings, fit_odil
from .nets import fit_odil_nets

LARGEST = 5000   # grids of more nodes than this are fitted on a coarser one first
COARSEST = 33    # the fewest points along an axis that coarsening leaves


def grid_levels(points: Mapping[str, int], largest: int = LARGEST,
                coarsest: int = COARSEST) -> list[dict[str, int]]:
    """Grids from coarse to fine, the last being `points`: while a grid has more than
    `largest` nodes, the level below halves every axis of more than `coarsest` points
    (n -> (n + 1) // 2, so that odd grids nest)."""
    levels = [dict(points)]
    while math.prod(levels[0].values()) > largest and \
            any(n > coarsest for n in levels[0].values()):
        levels.insert(0, {a: (n + 1) // 2 if n > coarsest else n for a, n in levels[0].items()})
    return levels


def interpolate(name: str, value: np.ndarray, coarse: FDProgram,
                fine: FDProgram) -> np.ndarray:
    """Field or coefficient field `name`, `value` on `coarse`'s stored nodes, multilinearly
    on `fine`'s (the periodic end, stored nowhere, added by `to_output`)."""
    axes = coarse.axes_of(name)
    interpolator = RegularGridInterpolator(
        [coarse.grid.axis(a).coordinates() for a in axes], coarse.to_output(name, value))
    mesh = np.meshgrid(*(fine.grid.axis(a).node_coordinates() for a in axes), indexing="ij")
    return interpolator(np.stack([m.ravel() for m in mesh], axis=-1)).reshape(mesh[0].shape)


def transfer(outcome: FitOutcome, coarse: FDProgram,
             fine: FDProgram) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The fields and unknown parameters of a fit on `coarse`, as the start on `fine`:
    constants and nets' weights as they are, fields and coefficient fields interpolated to
    the fine nodes."""
    nets = {net_key(n.name) for n in fine.system.nets}
    params = {name: value if np.ndim(value) == 0 or name in nets else
              interpolate(name, value, coarse, fine)
              for name, value in outcome.params.items()}
    fields = {name: interpolate(name, value, coarse, fine)
              for name, value in outcome.U.items()}
    return fields, params


def fit_coarse_to_fine(programs: Sequence[FDProgram],
                       observations: Sequence[FieldObservations], settings: FitSettings,
                       observers: Sequence[Callable] = (),
                       placements: Sequence[Placement | None] | None = None
                       ) -> tuple[FitOutcome, list[dict]]:
    """Fit `programs` (one system on grids from coarse to fine) in turn, each with its
    fields split as `placements` says (None: on one device); the outcome on the finest
    grid, and for each coarser one its grid, steps and constants found."""
    start, levels, outcome = None, [], None
    placements = placements or [None] * len(programs)
    for k, (program, placement) in enumerate(zip(programs, placements)):
        if outcome is not None:
            start = transfer(outcome, programs[k - 1], program)
        if program.system.nets:
            outcome = fit_odil_nets(program, observations, settings, observers, start)
        else:
            outcome = fit_odil(program, observations, settings, observers, start, placement)
        if k < len(programs) - 1:
            levels.append({"grid": {a.name: a.points for a in program.grid.axes},
                           "iterations": outcome.result.iterations,
                           "converged": outcome.result.converged,
                           "params": {n: float(v) for n, v in outcome.params.items()
                                      if np.ndim(v) == 0}})
    return outcome, levels
