"""Stopping a long run cleanly: SIGINT and SIGTERM set a latch that the loops read between
chunks; they then save a checkpoint and raise `Interrupted`, which the command line turns
into exit status 130 (SIGINT) or 143 (SIGTERM) and a line saying how to resume.

A second signal while the first is being honoured stops at once (the usual
KeyboardInterrupt), for a run that hangs in a chunk.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(Exception):  # noqa: N818 - a stop the user asked for, not a failure
    """The run stopped on a signal after saving its state in `folder`."""

    def __init__(self, signum: int, folder: Path, where: str) -> None:
        self.signum, self.folder, self.where = signum, Path(folder), where
        name = signal.Signals(signum).name
        super().__init__(f"interrupted by {name} {where}; the state is saved in "
                         f"{self.folder}")

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


class SignalLatch:
    """Which signal arrived (None: none yet)."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def _catch(self, signum: int, frame) -> None:
        if self.signum is not None:          # asked twice: stop now
            raise KeyboardInterrupt
        self.signum = signum


@contextmanager
def catching_signals() -> Iterator[SignalLatch]:
    """SIGINT and SIGTERM set the latch instead of stopping the process, within the block.

    Outside the main thread, where handlers cannot be installed, the latch never trips."""
    latch = SignalLatch()
    if threading.current_thread() is not threading.main_thread():
        yield latch
        return
    previous = {s: signal.signal(s, latch._catch) for s in SIGNALS}
    try:
        yield latch
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
