"""Training by time marching (`compiler.pinn.marching`): the windows in turn, each from the
previous window's networks, within one budget.

Each window gets its share of what is left of the budget (FIRST_SHARE for the first,
which also compiles and starts from random networks; 1 for every later one), so a window
that stops early (target loss reached, Levenberg-Marquardt levelled off) leaves its time
to the later ones; with step counts each window runs them all. Adam trains the first
window only: a later one starts from the previous window's networks, close to its own
solution already, and the finish (Levenberg-Marquardt or L-BFGS) goes on from there (with
no finish, Adam trains every window). The windows share one program, so only the first
compiles.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np

from compiler.pinn.marching import MarchingProgram

from ..errors import OptionError
from .points import Derivatives, PointValues
from .train import TrainOptions, TrainResult, train

FIRST_SHARE = 2.0             # the first window's share of the budget, a later one's 1


@dataclass(frozen=True)
class MarchResult:
    """Each window's training (`windows`, in time order) and the whole's wall time."""

    march: MarchingProgram
    windows: tuple[TrainResult, ...]
    wall_time: float

    @property
    def last(self) -> TrainResult:
        return self.windows[-1]

    def history(self) -> dict[str, np.ndarray]:
        """The windows' histories one after another."""
        names = self.windows[0].history.keys()
        return {n: np.concatenate([w.history[n] for w in self.windows]) for n in names}

    def info(self) -> dict:
        """What happened: per window its steps, final loss, seconds and why it stopped."""
        per = [{"window": [float(a), float(b)], "steps": w.steps,
                "final_loss": float(w.history["loss"][-1]) if len(w.history["loss"])
                else float("nan"), "seconds": round(w.wall_time, 2),
                "stop_reason": w.info.get("stop_reason")}
               for (a, b), w in zip(self.march.windows, self.windows)]
        worst = max(range(len(per)), key=lambda k: per[k]["final_loss"])
        return {**self.last.info, "time_windows": per,
                "stop_reason": f"{len(per)} time windows trained; the worst (window "
                               f"{worst + 1}) stopped: {per[worst]['stop_reason']}"}

    def evaluate(self, evaluate: Callable, points: np.ndarray) -> dict[str, np.ndarray]:
        """`evaluate(nets, local points, physical)` of the window each point's time lies
        in, put together (host arrays)."""
        windows = self.march.window_of(points[:, self.march.time_column])
        out: dict[str, np.ndarray] = {}
        for k, result in enumerate(self.windows):
            chosen = np.flatnonzero(windows == k)
            if not chosen.size:
                continue
            local = jnp.asarray(self.march.local(points[chosen], k), points.dtype)
            found = evaluate(result.nets, local, result.physical)
            for name, value in found.items():
                column = out.setdefault(name, np.zeros(len(points), np.asarray(value).dtype))
                column[chosen] = np.asarray(value)
        return out

    def point_values(self, derivatives: Derivatives) -> PointValues:
        """(name, axes, points) -> values (`runtime.pinn.points`), each point's from the
        networks of the window its time lies in (`window_of`: a time on an edge, the later
        window's), at its local time: the window's start subtracted, which leaves every
        derivative as it is. The windows are routed here, on the host, and each window's
        networks differentiated at its own points."""

        def at(name: str, axes: tuple[int, ...], points: np.ndarray) -> np.ndarray:
            windows = self.march.window_of(points[:, self.march.time_column])
            out = np.zeros(len(points), points.dtype)
            for k, result in enumerate(self.windows):
                chosen = np.flatnonzero(windows == k)
                if chosen.size:
                    out[chosen] = derivatives(result.nets, result.physical, name, axes,
                                              self.march.local(points[chosen], k))
            return out

        return at


def train_marching(march: MarchingProgram, options: TrainOptions, *, dtype=jnp.float32,
                   observers: Sequence[Callable] = ()) -> MarchResult:
    """Train window after window, each starting from the previous one's networks."""
    started = time.perf_counter()
    deadline = started + options.seconds
    program, count = march.program, len(march.windows)
    nets: Mapping = program.init(jax.random.PRNGKey(options.seed), dtype)
    shares = [FIRST_SHARE] + [1.0] * (count - 1)
    results = []
    for k in range(count):
        window = stage_options(options, deadline, shares, k)
        result = train(program, window, dtype=dtype, start=nets,
                       observers=[stage_observer(o, k, count) for o in observers],
                       physical=march.physical(k, nets), finish_only=k > 0)
        results.append(result)
        nets = result.nets
    return MarchResult(march, tuple(results), time.perf_counter() - started)


def stage_options(options: TrainOptions, deadline: float, shares: Sequence[float],
                  k: int) -> TrainOptions:
    """The options of stage `k` of a training in stages within one budget (`deadline`,
    `time.perf_counter()`): by time, its share (`shares`) of what is left; with step
    counts, all that is left as the bound."""
    left = max(deadline - time.perf_counter(), 1e-3)
    return replace(options, budget=left * shares[k] / sum(shares[k:]) if options.by_time
                   else left)


def stage_observer(observe: Callable, k: int, count: int, stage: str = "window") -> Callable:
    """An observer that sees the whole run's progress rather than the `k`-th stage's (a
    time window, a sweep's slab) of `count`."""

    def seen(event: Mapping) -> None:
        observe({**event, "fraction": (k + event.get("fraction", 0.0)) / count,
                 "phase": f"{event.get('phase', '')} {stage} {k + 1}/{count}"})

    return seen


def check_marching_options(options) -> None:
    """Options a marching run cannot honour."""
    if options.checkpoint:
        raise OptionError("checkpoints are not kept across time windows",
                          hint="give time_windows=1 (--time-windows 1) to checkpoint")
