"""Did a solve converge? One verdict type for every method, and the criteria that make it.

Every solver ends with a `Convergence`: whether it converged, the criterion it was judged
by (a sentence), the reason for the verdict, the numbers behind it, and the options that may
help when it did not (names of rows of `runtime/options/table.py`). `finish_solution` puts
it in `meta["converged"]` and `meta["convergence"]`; the summary prints a WARNING line, the
command line exits with status 4, and `strict=True` (`--strict`) turns it into an error.

The criteria (docs/architecture.md, "Convergence"):

- training (pinn): the loss is finite, fell by at least `FALL` from its first step, and
  levelled off: its best value over the last `WINDOW` of the steps is at most `LEVEL` times
  lower than its best before them (a loss still falling faster than that would change
  with more steps; one falling by less is judged by the first test);
- a fit (pinn, fd, odil inverse problems): the minimiser met its own stopping test
  (Levenberg-Marquardt, L-BFGS) or the training criterion (pinn), the unknown constants
  settled (pinn: each moved by at most `SETTLED` over the last window), and each observed
  field's RMS misfit is at most `MISFIT` of its data's RMS. The noise level of the data is
  not known, so a misfit beyond that is taken to mean that the fit does not explain the data.
  pinn fits also: each equation's RMS residual at most `BALANCE` of the RMS size of its
  terms, on a regular grid (`compiler.pinn.balance`): data can be matched by networks that
  do not solve the equations, the unknowns then absorbing the difference;
- Newton (steady fd, forward odil): the RMS residual fell to `tol` times its first value
  (or to `tol`), or to roundoff;
- time stepping (fd): every state finite at every output time (a blow-up stops the run
  with a `SolveError` naming the time and the step).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

FALL = 100.0        # training: the loss must fall by at least this factor from its start
WINDOW = 0.1        # training: the last tenth of the steps...
LEVEL = 10.0        # ...may lower the best loss by at most this factor (else: still falling)
SETTLED = 0.01      # pinn fits: an unknown constant moves by at most 1% over that window
MISFIT = 0.1        # fits: RMS misfit of each observed field at most 10% of its data's RMS
MIN_WINDOW = 5      # the window holds at least this many steps
BALANCE = 0.05      # pinn fits: each equation's RMS residual at most 5% of its terms' size


@dataclass(frozen=True)
class Convergence:
    """A solve's verdict: `converged`; `criterion` (what was asked, one sentence); `reason`
    (why the verdict, with the numbers); `figures` (those numbers by name, for `meta`);
    `options`: names of options (`runtime/options/table.py`) that may help when it did not."""

    converged: bool
    criterion: str
    reason: str
    figures: Mapping[str, object] = field(default_factory=dict)
    options: tuple[str, ...] = ()

    def as_meta(self) -> dict:
        """The record kept in `meta["convergence"]` (JSON-ready)."""
        return {"converged": self.converged, "criterion": self.criterion,
                "reason": self.reason, "figures": _plain(self.figures),
                "options": list(self.options)}

    @classmethod
    def from_meta(cls, record: Mapping[str, object]) -> Convergence:
        """The verdict from its `meta["convergence"]` record (a saved file's, too)."""
        return cls(bool(record["converged"]), str(record["criterion"]),
                   str(record["reason"]), dict(record.get("figures", {})),
                   tuple(record.get("options", ())))

    def warning(self) -> str:
        """The WARNING line of a run that did not converge ("" when it did): the reason and
        the options that may help (the criterion is in `meta` and the summary)."""
        if self.converged:
            return ""
        helps = option_flags(self.options)
        return f"WARNING: not converged: {self.reason}" + (f"; may help: {helps}"
                                                           if helps else "")

    def __and__(self, other: Convergence) -> Convergence:
        """Both verdicts: converged when both are, the first failure's reason first."""
        failed = [c for c in (self, other) if not c.converged]
        return Convergence(
            not failed, f"{self.criterion}; and {other.criterion}",
            "; ".join(c.reason for c in failed) if failed else
            f"{self.reason}; {other.reason}",
            {**self.figures, **other.figures},
            tuple(dict.fromkeys(o for c in (failed or [self, other]) for o in c.options)))


def option_flags(names: Sequence[str]) -> str:
    """Options as users give them: `--flag` on the command line, `name=` for the options of
    the Python API only."""
    from ..options import OPTIONS

    shown = []
    for name in names:
        option = OPTIONS.option(name)
        shown.append(option.cli_flag if option.cli else f"{name}= (Python API)")
    return ", ".join(shown)


def training_verdict(loss: np.ndarray, options: Sequence[str] = (),
                     last_phase: int | None = None) -> Convergence:
    """The training criterion on the loss at every step (see the module docstring).
    `last_phase`: the steps of the last optimiser, whose last `WINDOW` is the window (an
    optimiser's steps are not another's: a Levenberg-Marquardt finish falls orders of
    magnitude below Adam in a few steps)."""
    loss = np.asarray(loss, dtype=np.float64)
    criterion = (f"the loss is finite, fell by at least {FALL:g}x from its first step and "
                 f"levelled off (the last {WINDOW:.0%} of the steps lowered its best value "
                 f"by at most {LEVEL:g}x)")
    if loss.size == 0:
        return Convergence(False, criterion, "no training steps were taken", {"steps": 0},
                           tuple(options))
    start, final = float(loss[0]), float(loss[-1])
    figures: dict[str, object] = {"steps": int(loss.size), "first_loss": start,
                                  "final_loss": final}
    if not np.all(np.isfinite(loss)):
        return Convergence(False, criterion, "the loss is not finite", figures, tuple(options))
    fall = start / final if final > 0 else float("inf")
    w = window(loss.size if last_phase is None else min(max(last_phase, 1), loss.size))
    before, last = float(np.min(loss[:-w])) if loss.size > w else start, float(np.min(loss[-w:]))
    change = before / last if last > 0 else float("inf")
    figures.update(fall=fall, window_steps=w, last_window_fall=change)
    failures = []
    if not fall >= FALL:
        failures.append(f"the loss fell only {fall:.3g}x (from {start:.3e} to {final:.3e}; "
                        f"needed {FALL:g}x)")
    if change > LEVEL:
        failures.append(f"the loss was still falling: the last {w} steps lowered its best "
                        f"value {change:.3g}x")
    if failures:
        return Convergence(False, criterion, "; ".join(failures), figures, tuple(options))
    return Convergence(True, criterion, f"the loss fell {fall:.3g}x to {final:.3e}, "
                       f"{change:.3g}x over the last {w} steps", figures)


def settled_verdict(trajectories: Mapping[str, np.ndarray],
                    options: Sequence[str] = ()) -> Convergence:
    """Each unknown constant moved by at most SETTLED (relative) over the last window."""
    criterion = (f"each unknown constant moved by at most {SETTLED:.0%} over the last "
                 f"{WINDOW:.0%} of the steps")
    moved = {}
    for name, values in trajectories.items():
        values = np.asarray(values, dtype=np.float64)
        if values.size == 0:
            continue
        tail = values[-window(values.size) - 1:]
        scale = max(abs(float(values[-1])), 1e-300)
        moved[name] = float((np.max(tail) - np.min(tail)) / scale)
    figures = {"constant_moved": moved}
    drifting = {k: v for k, v in moved.items() if not v <= SETTLED}
    if drifting:
        text = ", ".join(f"{k} by {v:.1%}" for k, v in drifting.items())
        return Convergence(False, criterion, f"the unknowns were still moving: {text}",
                           figures, tuple(options))
    return Convergence(True, criterion, "the unknown constants settled", figures)


def misfit_verdict(relative: Mapping[str, float], options: Sequence[str] = ()) -> Convergence:
    """Each observed field's RMS misfit, relative to its data's RMS, at most MISFIT."""
    return _each_at_most(
        relative, MISFIT, "relative_misfit",
        f"each observed field's RMS misfit is at most {MISFIT:.0%} of its data's RMS (the "
        "noise level is not known; a larger misfit means that the fit does not explain the "
        "data)",
        "the data misfit is large: {} of the data's RMS (a wrong minimum, which a better "
        "first guess `param NAME ~ guess` may avoid, or data that noisy)",
        "relative data misfit {}", options)


def balance_verdict(relative: Mapping[str, float], options: Sequence[str] = ()) -> Convergence:
    """Each equation's RMS residual, relative to the RMS size of its terms, at most BALANCE."""
    return _each_at_most(
        relative, BALANCE, "relative_equation_residual",
        f"each equation's RMS residual is at most {BALANCE:.0%} of the RMS size of its terms "
        "on a regular grid (data matched by networks that do not solve the equations leave "
        "the unknowns wrong)",
        "the equations do not hold: residual {} of the size of their terms, so the unknowns "
        "found need not be those of the equations",
        "relative equation residual {}", options)


def _each_at_most(relative: Mapping[str, float], bound: float, key: str, criterion: str,
                  failed: str, passed: str, options: Sequence[str]) -> Convergence:
    """Converged when every relative figure is at most `bound`; `failed` and `passed` are
    formatted with the figures over the bound, or all of them."""
    figures = {key: {k: float(v) for k, v in relative.items()}}
    large = {k: v for k, v in relative.items() if not v <= bound}
    text = ", ".join(f"{k} {v:.3g}" for k, v in (large or relative).items())
    if large:
        return Convergence(False, criterion, failed.format(text), figures, tuple(options))
    return Convergence(True, criterion, passed.format(text), figures)


def minimiser_verdict(converged: bool, reason: str, iterations: int, loss: float,
                      options: Sequence[str] = ()) -> Convergence:
    """The minimiser's own stopping test (Levenberg-Marquardt: the relative loss decrease or
    step below its tolerance; L-BFGS-B: SciPy's tests), not its step limit."""
    criterion = "the minimiser met its stopping test before its step limit"
    figures = {"iterations": int(iterations), "loss": float(loss), "stop_reason": reason}
    if converged:
        return Convergence(True, criterion, f"{reason} after {iterations} iterations", figures)
    return Convergence(False, criterion, f"the fit {reason} without meeting its stopping "
                       "test", figures, tuple(options))


def newton_verdict(converged: bool, reason: str, residual: float, target: float,
                   iterations: int, options: Sequence[str] = ()) -> Convergence:
    """Newton's (or a direct solve's) residual at or below its target."""
    criterion = (f"the RMS residual at most {target:.3e} (tol times its first value, or "
                 "tol), or at roundoff")
    figures = {"final_residual": float(residual), "target": float(target),
               "iterations": int(iterations)}
    return Convergence(converged, criterion, reason, figures,
                       () if converged else tuple(options))


def integration_verdict(steps: int, final_time: float) -> Convergence:
    """Time stepping that reached its end: every state was finite (a blow-up raises)."""
    return Convergence(True, "every state finite at every output time (a blow-up stops "
                       "the run with an error naming the time)",
                       f"{steps} steps to t = {final_time:.6g}, all finite",
                       {"steps": int(steps), "final_time": float(final_time)})


def window(steps: int) -> int:
    """The steps of the last window: WINDOW of them, at least MIN_WINDOW (at most all)."""
    return min(steps, max(MIN_WINDOW, int(round(WINDOW * steps))))


def _plain(value: object) -> object:
    """`value` with NumPy scalars as Python numbers (for JSON)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
