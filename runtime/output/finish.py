"""The end of every solve: the `Solution` with its `meta` (what ran, with which options;
what the solver did; whether it converged, by which criterion; the wall time; the relative
L2 error against an exact solution)."""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Mapping

import numpy as np

from pdelang import System

from .convergence import Convergence
from .discover import warn_uncovered
from .meta import base_meta
from .solution import Solution, worst_member


def finish_solution(method: str, system: System, grid: Mapping[str, np.ndarray],
                    values: Mapping[str, np.ndarray], params: Mapping[str, object],
                    shown_options: dict, extra: Mapping[str, object], started: float,
                    evaluator: Callable | None = None, *,
                    convergence: Convergence,
                    sweep: Mapping[str, np.ndarray] | None = None,
                    rates: Mapping[str, np.ndarray] | None = None) -> Solution:
    """The Solution of `values` on `grid` (`params`: inferred parameters); `meta` holds
    `shown_options`, then `extra` (what the solver did), the verdict (`converged`, and
    `convergence`: criterion, reason, figures, options that may help), the seconds since
    `started` (`time.perf_counter()`), and the relative L2 error of each field that the
    system states an exact solution for (the worst member's, for a `sweep`: the swept
    constants' values, one per member along the values' new first axis; `rates`: the
    fields' time derivatives at the frames, `Solution.rates`)."""
    meta = base_meta(method, system, shown_options)
    meta.update(extra)
    meta["converged"] = convergence.converged
    meta["convergence"] = convergence.as_meta()
    meta["wall_time_s"] = clock.perf_counter() - started
    if sweep:
        meta["members_of"] = list(sweep)     # the arrays along the members' axis (load)
    solution = Solution(system, grid, values, params, meta, evaluator, dict(sweep or {}),
                        dict(rates or {}))
    members = solution.member_errors() if sweep else {}    # each member's exact solution once
    errors = worst_member(members) if sweep else solution.errors()
    if errors:
        meta["relative_l2_error"] = errors
    if members:
        meta["relative_l2_error_members"] = members
    if system.nets:
        warn_uncovered(solution)
    return solution
