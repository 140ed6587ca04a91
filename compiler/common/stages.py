"""Stages: what each compiler pass produced, kept as data for tests and `pdelang show`.

A `Stage` holds the IR objects of one pass (`items`: a grid's axes, equations with the
nodes they own, stencils, networks, loss terms) and how one item reads as text (`render`),
so that tests assert on the objects and `pdelang show` prints `lines()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Stage:
    """The output of one pass. `render(item)` gives the item's line, or several lines;
    `empty` is the line shown when there are no items (none: nothing is shown)."""

    name: str
    items: tuple[Any, ...]
    render: Callable[[Any], str | tuple[str, ...]] = field(default=str, compare=False,
                                                          repr=False)
    empty: str | None = None

    def lines(self) -> tuple[str, ...]:
        out: list[str] = []
        for item in self.items:
            shown = self.render(item)
            out.extend((shown,) if isinstance(shown, str) else shown)
        return tuple(out) if out or self.empty is None else (self.empty,)

    def __iter__(self) -> Iterator:
        """A stage unpacks as (name, lines): `dict(stages)` maps names to printed lines."""
        return iter((self.name, self.lines()))

    def __getitem__(self, index: int):
        return (self.name, self.lines())[index]


def find_stage(stages: Iterable[Stage], name: str) -> Stage:
    """The stage called `name`."""
    stages = tuple(stages)
    for s in stages:
        if s.name == name:
            return s
    raise KeyError(f"no stage named {name!r} (stages: {', '.join(s.name for s in stages)})")
