"""Multiple shooting for fd fits (`--windows N`): a long series' observation times split into
windows, each integrated from its own start (fitted states after the first window), the
defects at the windows' joins penalised, and mini-batches of windows (`--batch-windows`).

A fit from a poor guess through many cycles of an oscillation has many minima: the
simulation drifts from the data within a cycle. Short windows each start near the data,
so the misfit surface of each is simple, and the penalty on the joins pulls the windows
into one trajectory (the fit then finishes by single shooting, `runtime.fd.fit`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from compiler.common.observations import FieldObservations
from compiler.errors import LoweringError
from compiler.fd import FDProgram

from .observed import on_nodes
from .simulate import FixedSteps, StepPlan, plan_steps, window_trajectories

CONTINUITY = 100.0      # weight of the windows' continuity defects


@dataclass(frozen=True)
class Windows:
    """Multiple shooting's windows of the observation times `times`: `count` windows of
    `length` intervals each (the last padded with empty ones), window k starting at
    `times[firsts[k]]`; time i is `index_in[i]` of window `window_of[i]`."""

    times: np.ndarray
    count: int
    length: int

    @classmethod
    def of(cls, times: np.ndarray, windows: int) -> Windows:
        """About `windows` windows of equal numbers of intervals (at most one per interval)."""
        intervals = len(times) - 1
        length = -(-intervals // min(windows, intervals))
        return cls(times, -(-intervals // length), length)

    @property
    def firsts(self) -> np.ndarray:
        return np.arange(self.count) * self.length

    @property
    def window_of(self) -> np.ndarray:
        return np.minimum(np.arange(len(self.times)) // self.length, self.count - 1)

    @property
    def index_in(self) -> np.ndarray:
        return np.arange(len(self.times)) - self.window_of * self.length

    def plans(self, dt: float) -> list[StepPlan]:
        """Each window's steps of at most `dt` (empty intervals pad the last)."""
        last = len(self.times) - 1
        return [plan_steps(self.times[np.minimum(first + np.arange(self.length + 1), last)],
                           dt) for first in self.firsts]


def march_windows(rhs, params, starts: Mapping[str, jax.Array], later: Mapping[str, jax.Array],
                  windows: Windows, steps: FixedSteps, remat: bool,
                  scale: Mapping[str, float], batch: jax.Array | None = None
                  ) -> tuple[dict, list[jax.Array]]:
    """The states at every observation time (run, time, ...) of the windows started from
    `starts` (run, ...: the first windows) and `later` (run, window - 1, ...: the others,
    boundaries closed), and the rows of the continuity defects: each window's end less the
    next one's start, over the key's `scale`, weighted by CONTINUITY. `batch`: the indices
    (run * windows + window) of the only windows integrated; the others' states are zeros
    (`in_batch` masks their rows)."""
    runs = len(jax.tree_util.tree_leaves(starts)[0])
    segments_count = runs * windows.count
    U0s = {k: jnp.concatenate([starts[k][:, None], later[k]], axis=1).reshape(
        (segments_count, *starts[k].shape[1:])) for k in starts}
    segments = window_trajectories(rhs, U0s, params, windows.plans(steps.dt) * runs,
                                   steps.tableau, remat, batch)
    if batch is not None:
        segments = {k: jnp.zeros((segments_count, *v.shape[1:]), v.dtype).at[batch].set(v)
                    for k, v in segments.items()}
    segments = {k: v.reshape((runs, windows.count, windows.length + 1, *v.shape[2:]))
                for k, v in segments.items()}
    states = {k: v[:, windows.window_of, windows.index_in] for k, v in segments.items()}
    defects = [((segments[k][:, :-1, -1] - later[k]) / (scale[k] * np.sqrt(
        later[k].size / CONTINUITY))).ravel() for k in later]
    return states, defects


def in_batch(misfit: jax.Array, defects: list[jax.Array], segment_of_row: np.ndarray,
             batch: jax.Array, count: int, total: int) -> tuple[jax.Array, list[jax.Array]]:
    """The data rows (each of window `segment_of_row`) and defect rows of the windows in
    `batch` only, scaled by sqrt(total / batch) so that the loss is the whole one in
    expectation over random batches; `count`: windows per run, `total`: in all runs."""
    joins = np.arange(total).reshape(-1, count)[:, :-1].ravel()
    scale = np.sqrt(total / len(batch))
    misfit = jnp.where(jnp.isin(segment_of_row, batch), misfit * scale, 0.0)
    inside = jnp.isin(joins, batch)
    defects = [jnp.where(jnp.repeat(inside, d.size // len(joins)), d * scale, 0.0)
               for d in defects]
    return misfit, defects


def window_guess(program: FDProgram, times: np.ndarray, windows: Windows,
                 observations: Sequence[FieldObservations], simulated: Mapping[str, jax.Array]
                 ) -> tuple[dict, dict]:
    """The first guess of each window's start (run, window - 1, ...): the `simulated`
    single shooting states (run, time, ...) at the first guess, each observed field
    replaced by its observations at the window's start where they cover the grid; and each
    key's scale, the RMS of those guesses."""
    states = {k: np.asarray(v, np.float64) for k, v in simulated.items()}
    guess = {k: v[:, windows.firsts[1:]].copy() for k, v in states.items()}
    time = program.system.time.name
    for o in observations:
        if o.field not in guess:
            continue
        for r in range(guess[o.field].shape[0]):
            mine = np.ones(o.count, bool) if o.runs is None else o.runs == r
            for j, t in enumerate(times[windows.firsts[1:]]):
                rows = mine & (np.abs(o.coordinate(time) - t) <= 1e-12 * max(1, abs(t)))
                if rows.any():
                    try:
                        guess[o.field][r, j] = on_nodes(program, o, rows, r)
                    except LoweringError:
                        pass            # they do not cover the grid: the simulation's
    for k, v in guess.items():
        bad = ~np.isfinite(v)           # the first guess blew up: its start instead
        if bad.any():
            v[bad] = np.broadcast_to(states[k][:, :1], v.shape)[bad]
    scale = {k: max(float(np.sqrt(np.nanmean(np.square(v)))), 1e-12) for k, v in guess.items()}
    return guess, scale
