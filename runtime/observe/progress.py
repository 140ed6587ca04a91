"""Progress of long runs on stderr: one line rewritten in place on a terminal, plain lines
(at most one a second, and the last) when the stream is a file or a pipe.

An observer is called by the integrators and solvers between jitted chunks, so it never
slows the compiled loops; `Progress(enabled=False)` (the `--quiet` flag) prints nothing.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

PLAIN_INTERVAL_S = 1.0


class Progress:
    """An observer: `progress(t, U, stats)` for time loops, `progress(info_dict)` else.

    `span` = (t0, t1) lets it show the fraction done and the time remaining.
    """

    def __init__(self, enabled: bool = True, stream: TextIO | None = None,
                 span: tuple[float, float] | None = None) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.span = span
        self.started = time.perf_counter()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.width = 0
        self.printed_at = -1.0

    def __enter__(self) -> Progress:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled and self.tty and self.width:
            self.stream.write("\n")
            self.stream.flush()

    def __call__(self, *args) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.started
        text, fraction = self.describe(*args)
        done = fraction is not None and fraction >= 1.0
        if not self.tty and not done and elapsed - self.printed_at < PLAIN_INTERVAL_S:
            return
        line = f"{_bar(fraction)}{text}  elapsed {elapsed:.1f} s"
        if fraction and 0 < fraction < 1:
            line += f", about {elapsed * (1 - fraction) / fraction:.1f} s left"
        if self.tty:
            self.stream.write("\r" + line.ljust(self.width))
            self.width = max(self.width, len(line))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.printed_at = elapsed

    def describe(self, *args) -> tuple[str, float | None]:
        """A short text and the fraction done, from what the caller reports."""
        if args and hasattr(args[0], "iteration"):        # a steady solver's report
            report = args[0]
            text = f"iteration {report.iteration}: residual {report.residual_norm:.3e}"
            return text, None
        if args and isinstance(args[0], dict):
            info = args[0]
            parts = [f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in info.items() if k != "fraction"]
            fraction = info.get("fraction")
            return "  ".join(parts), fraction
        t = float(args[0])
        fraction = None
        text = f"t = {t:.4g}"
        if self.span is not None:
            t0, t1 = self.span
            fraction = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
            text += f" of {t1:.4g}"
        stats = args[2] if len(args) > 2 else None
        if stats is not None and hasattr(stats, "steps"):
            text += f", {stats.steps} steps"
        return text, fraction


def _bar(fraction: float | None, width: int = 20) -> str:
    if fraction is None:
        return ""
    filled = int(round(max(0.0, min(fraction, 1.0)) * width))
    return f"[{'#' * filled}{'.' * (width - filled)}] {100 * fraction:5.1f}%  "
