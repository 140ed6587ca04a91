"""apply_conditions: which grid nodes each equation and each boundary condition owns.

On a face with a condition, the boundary nodes of the field are set by that condition and
the PDE holds inside; on a face without one (an outflow boundary) the PDE holds up to the
edge with one-sided stencils; a periodic axis wraps around. Where two faces meet, the
Dirichlet face owns the corner.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from pdelang import Condition, System

from ..errors import LoweringError
from .ir import Region


@dataclass(frozen=True)
class Face:
    """A boundary condition assigned to the boundary nodes of one field on one face."""

    field: str
    axis: str
    side: str
    condition: Condition
    dirichlet: bool


@dataclass(frozen=True)
class FieldNodes:
    """The nodes of one field: where its PDE holds, and the faces that set the rest."""

    field: str
    axes: tuple[str, ...]
    shape: tuple[int, ...]
    interior: Region
    faces: tuple[Face, ...]                  # in priority order (Dirichlet first)
    slabs: tuple[Region, ...]                # per face, without corners owned by others

    def face_region(self, face: Face, whole: bool) -> Region:
        """The nodes of `face`: the whole face (closures) or its own part (residuals)."""
        if not whole:
            return self.slabs[self.faces.index(face)]
        return _face_box(self, face, ())


def apply_conditions(system: System, shapes: dict[str, tuple[int, ...]],
                     periodic: set[str]) -> dict[str, FieldNodes]:
    """Assign every boundary condition to a field and face, and derive the node regions."""
    faces = _assign(system)
    out = {}
    for f in system.fields:
        axes = tuple(a for a in f.args if a in {c.name for c in system.space})
        shape = shapes[f.name]
        own = sorted((face for face in faces if face.field == f.name),
                     key=lambda face: (not face.dirichlet, axes.index(face.axis), face.side))
        _check_orders(system, f.name, axes, own, periodic)
        ranges = []
        for axis, n in zip(axes, shape):
            sides = {face.side for face in own if face.axis == axis}
            ranges.append((1 if "lower" in sides else 0, n - 1 if "upper" in sides else n))
        nodes = FieldNodes(f.name, axes, shape, Region(axes, tuple(ranges)), tuple(own), ())
        slabs = tuple(_face_box(nodes, face, own[:i]) for i, face in enumerate(own))
        out[f.name] = FieldNodes(f.name, axes, shape, nodes.interior, tuple(own), slabs)
    return out


def _face_box(nodes: FieldNodes, face: Face, earlier: tuple[Face, ...] | list[Face]) -> Region:
    ranges = []
    for axis, n in zip(nodes.axes, nodes.shape):
        if axis == face.axis:
            ranges.append((0, 1) if face.side == "lower" else (n - 1, n))
            continue
        sides = {e.side for e in earlier if e.axis == axis}
        ranges.append((1 if "lower" in sides else 0, n - 1 if "upper" in sides else n))
    return Region(nodes.axes, tuple(ranges))


def _assign(system: System) -> list[Face]:
    faces: list[Face] = []
    field_names = {f.name for f in system.fields}
    for c in system.conditions:
        if c.kind != "boundary":
            continue
        mentioned = [n for n in c.fields if n in field_names]
        taken = {f.field for f in faces if f.axis == c.coordinate and f.side == c.side}
        free = [n for n in mentioned if n not in taken]
        if not free:
            raise LoweringError(
                f"two boundary conditions for `{mentioned[0]}` at {c.coordinate} = "
                f"{system.coordinate(c.coordinate).value(c.side)}; the fd method takes one per "
                "field and face", c.span)
        name = free[0]
        faces.append(Face(name, c.coordinate, c.side, c, _is_dirichlet(c.residual, name)))
    return faces


def _is_dirichlet(residual: sp.Expr, name: str) -> bool:
    return not any(isinstance(d.expr, AppliedUndef) and d.expr.func.__name__ == name
                   for d in residual.atoms(sp.Derivative))


def _check_orders(system: System, name: str, axes: tuple[str, ...], faces: list[Face],
                  periodic: set[str]) -> None:
    info = system.field_info(name)
    for axis in axes:
        if info.order(axis) > 2 and axis not in periodic:
            raise LoweringError(
                f"`{name}` has derivatives of order {info.order(axis)} in `{axis}`; the fd "
                f"method handles orders above 2 on periodic axes only",
                system.field(name).span, hint=f"add `bc periodic {axis}` if the problem is "
                                              "periodic, or use --method pinn")
