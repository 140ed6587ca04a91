"""Probes: an expression at fixed coordinates, over the result's own grid lines of the
others (`pdelang solve ... --probe "d(psi, y) at x = 0.5"`: the velocity along the
vertical centreline; `--probe "u at x = 0.3"` of a time problem: a series over the
frames). The output file keeps each probe as `probe.K` with its expression and axes in
`meta["probes"]`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp

from pdelang import System
from pdelang.query import Query, parse_query

from ..errors import OptionError
from .expression import Prepared


@dataclass(frozen=True)
class Probe:
    """`values` of `text` at `at`, on the grid lines of `axes` (in that order)."""

    text: str
    at: Mapping[str, float]
    axes: tuple[str, ...]
    values: np.ndarray

    def as_meta(self, name: str) -> dict:
        return {"name": name, "expression": self.text, "at": dict(self.at),
                "axes": list(self.axes)}

    def describe(self) -> str:
        values = np.asarray(self.values)
        finite = values[np.isfinite(values)]
        span = (f"from {finite.min():.6g} to {finite.max():.6g}" if finite.size else
                "no finite value")
        over = f" over {' x '.join(self.axes)} ({' x '.join(map(str, values.shape))} values)" \
            if self.axes else f" = {float(values):.6g}"
        return f"probe {self.text}:{over}" + (f", {span}" if self.axes else "")


def parse_probe(text: str, system: System) -> Query:
    """A probe's text, checked against the system's names (positioned errors, as in a
    spec) and its `at` coordinates against the domain's box."""
    query = parse_query(text, system, source="--probe", allow_at=True)
    for name, value in query.at.items():
        lo, hi = system.coordinate(name).bounds
        if not lo - 1e-12 * (hi - lo) <= value <= hi + 1e-12 * (hi - lo):
            raise OptionError(f"--probe {text!r}: {name} = {value:g} is outside "
                              f"[{lo:g}, {hi:g}]")
    return query


def probe(text: str, system: System, grid: Mapping[str, np.ndarray],
          prepared_for: Callable[[sp.Expr, str], Prepared],
          evaluate: Callable[..., np.ndarray],
          members: int = 0) -> Probe:
    """The probe `text` on a result: `evaluate(expression, **coordinates)` is the result's
    own `sol(...)`, which `prepared_for(expression, text)` made ready (once, for both); `grid` its
    coordinates; `members` the sweep's size (a first axis "member" then)."""
    query = parse_probe(text, system)
    prepared = prepared_for(query.expr, text)
    axes = tuple(a for a in prepared.coordinates if a not in query.at)
    lines = np.meshgrid(*(np.asarray(grid[a], float) for a in axes), indexing="ij")
    coordinates = {**{a: v for a, v in query.at.items() if a in prepared.coordinates},
                   **dict(zip(axes, lines))}
    values = np.asarray(evaluate(query.expr, **coordinates), float)
    return Probe(text, dict(query.at), (("member",) if members else ()) + axes, values)
