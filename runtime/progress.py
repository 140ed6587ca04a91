"""Progress of long runs on stderr: a line per chunk, rewritten in place on a terminal.

An observer is called by the integrators and solvers between jitted chunks, so it never
slows the compiled loops; `Progress(enabled=False)` (the `--quiet` flag) prints nothing.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.last = ""

    def __enter__(self) -> Progress:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled and self.tty and self.last:
            self.stream.write("\n")
            self.stream.flush()

    def __call__(self, *args, **kwargs) -> None:
        if not self.enabled:
            return
        text = self.describe(*args, **kwargs)
        elapsed = time.perf_counter() - self.started
        line = f"{text}  [{elapsed:6.1f} s]"
        if self.tty:
            self.stream.write("\r" + line.ljust(len(self.last)))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.last = line

    @staticmethod
    def describe(*args, **kwargs) -> str:
        """A short text from whatever the caller reports (time, step, loss, residual)."""
        info = kwargs or (args[-1] if args and isinstance(args[-1], dict) else {})
        parts = []
        if args and not isinstance(args[0], dict):
            parts.append(f"t = {float(args[0]):.4g}")
        for key in ("fraction", "step", "iteration", "loss", "residual"):
            if key in info:
                value = info[key]
                parts.append(f"{key} {value:.3g}" if isinstance(value, float) else
                             f"{key} {value}")
        return "  ".join(parts) or "working"
