"""Seconds spent per named stage of a solver, for the `timings` its result reports."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Stopwatch:
    """Sums the wall time of every `with watch.timed(stage):` block per stage."""

    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, stages: Iterable[str]) -> Stopwatch:
        """A stopwatch reporting every one of `stages`, zero until timed."""
        return cls(dict.fromkeys(stages, 0.0))

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - start
