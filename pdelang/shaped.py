"""Checks of the conditions of a problem on a shaped domain (`domain` line): conditions hold
`on boundary`, not at the box's faces, and every field with space derivatives has one."""

from __future__ import annotations

import numpy as np

from .errors import PdeDataError, PdeSemanticError
from .geometry import Shape
from .ir import Condition, Field, FieldInfo, Observations


def check_unshaped(conditions: tuple[Condition, ...]) -> None:
    """`on boundary` without a `domain`: an error at the condition."""
    for c in conditions:
        if c.kind == "shape":
            raise PdeSemanticError(
                "`on boundary` is the boundary of a shaped domain, and this problem has no "
                "`domain` line", c.span,
                hint="on the box, give each face: `bc ... at x = 0`; or add "
                     "`domain disk(0, 0, 1)` (rect, disk, ellipse, polygon, box, ball, ...)")


def check_shaped(fields: tuple[Field, ...], infos: tuple[FieldInfo, ...],
                 conditions: tuple[Condition, ...], data: tuple[Observations, ...],
                 domain: Shape, space: tuple[str, ...]) -> None:
    for c in conditions:
        if c.kind in ("boundary", "periodic"):
            what = "periodic" if c.kind == "periodic" else f"at {c.coordinate} = ..."
            raise PdeSemanticError(
                f"a condition `{what}` holds on a face of the box, and this problem's domain "
                "is the shape of its `domain` line", c.span,
                hint="give the conditions on the shape's boundary: `bc u = 0 on boundary`, "
                     "or on a part of it: `bc ... on boundary where x > 0`")
        if c.kind in ("point", "mean"):
            raise PdeSemanticError("point and mean conditions are not supported on a shaped "
                                   "domain yet", c.span)
    for table in data:
        _check_in_region(table, domain, space)
    if data:
        return
    held = {name for c in conditions if c.kind == "shape" for name in c.fields}
    for f, info in zip(fields, infos):
        if any(order > 0 for _, order in info.orders) and f.name not in held:
            raise PdeSemanticError(
                f"`{f.name}` has space derivatives but no condition on the domain's boundary",
                f.span, hint=f"add `bc {f.name} = ... on boundary`")


def _check_in_region(table: Observations, domain: Shape, space: tuple[str, ...]) -> None:
    """Observations at points outside the region: an error naming the CSV line."""
    if not all(name in table.columns for name in space):
        return
    points = [table.column(name) for name in space]
    level = np.asarray(domain.level(points, np))
    extent = max(hi - lo for lo, hi in domain.bounds())
    outside = level > 1e-9 * extent
    if np.any(outside):
        row = int(np.argmax(outside))
        line = f"line {table.lines[row]}, " if table.lines else ""
        where = repr(table.path) if table.path else "the observations"
        at = ", ".join(f"{name} = {p[row]:g}" for name, p in zip(space, points))
        raise PdeDataError(f"{where} {line}row {row + 1}: ({at}) lies outside the domain "
                           f"{domain}", table.span,
                           hint="every observation must lie in the region of the `domain` line")
