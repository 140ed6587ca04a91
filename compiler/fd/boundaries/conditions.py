"""apply_conditions: which grid nodes each equation and each boundary condition owns.

On a face with a condition, the boundary nodes of the field are set by that condition and
the PDE holds inside; on a face without one (an outflow boundary) the PDE holds up to the
edge with one-sided stencils; a periodic axis wraps around. Where two faces meet, the
Dirichlet face owns the corner.

A field of order 4 takes two conditions per face (pdelang/faces.py): the first sets the
nodes on the face, the second the layer next to it (its derivatives are still taken at the
face, with one-sided stencils two orders more accurate, which keeps the solution second
order although the PDE no longer holds on that layer). A condition that closes a coupled
field (the cavity's second condition on psi, the closure of the vorticity w) takes that
field's face nodes; where two such faces meet, the field's own equation holds at the
corner with one-sided stencils (the condition there would not involve the corner value).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from pdelang import Condition, System
from pdelang.faces import assign_faces, is_dirichlet

from ...errors import LoweringError
from ..ir import Region


@dataclass(frozen=True)
class Face:
    """A boundary condition assigned to the boundary nodes of one field on one face."""

    field: str
    axis: str
    side: str
    condition: Condition
    dirichlet: bool
    depth: int = 0               # the layer of nodes it sets, counted from the face
    transferred: bool = False    # `field` is not in the condition: it closes a coupled field
    stacked: bool = False        # the condition's field takes several conditions here


@dataclass(frozen=True)
class FieldNodes:
    """The nodes of one field: where its PDE holds, and the faces that set the rest."""

    field: str
    axes: tuple[str, ...]
    shape: tuple[int, ...]
    interior: Region
    faces: tuple[Face, ...]                  # in priority order (Dirichlet first)
    slabs: tuple[Region, ...]                # per face, without corners owned by others
    corners: tuple[Region, ...] = ()         # nodes where the equation holds one-sided

    def face_region(self, face: Face, whole: bool) -> Region:
        """The nodes of `face`: the whole face (closures) or its own part (residuals)."""
        if not whole:
            return self.slabs[self.faces.index(face)]
        return _face_box(self, face, ())

    def source_region(self, face: Face, whole: bool) -> Region:
        """The nodes on the face itself where the condition of `face` is evaluated: the
        face's region moved from its layer to the face."""
        region = self.face_region(face, whole)
        k = self.axes.index(face.axis)
        n = self.shape[k]
        ranges = list(region.ranges)
        ranges[k] = (0, 1) if face.side == "lower" else (n - 1, n)
        return Region(region.axes, tuple(ranges))


def apply_conditions(system: System, shapes: dict[str, tuple[int, ...]],
                     periodic: set[str]) -> dict[str, FieldNodes]:
    """Assign every boundary condition to a field and face, and derive the node regions."""
    faces = _assign(system, periodic)
    out = {}
    for f in system.fields:
        axes = tuple(a for a in f.args if a in {c.name for c in system.space})
        shape = shapes[f.name]
        own = sorted((face for face in faces if face.field == f.name),
                     key=lambda face: (face.transferred, face.depth, not face.dirichlet,
                                       axes.index(face.axis), face.side))
        _check_orders(system, f.name, axes, own, periodic)
        ranges = []
        for axis, n in zip(axes, shape):
            ranges.append((_layers(own, axis, "lower"), n - _layers(own, axis, "upper")))
        nodes = FieldNodes(f.name, axes, shape, Region(axes, tuple(ranges)), tuple(own), ())
        slabs = tuple(_face_box(nodes, face, own[:i] if not face.transferred else
                                [o for o in own if o is not face])
                      for i, face in enumerate(own))
        out[f.name] = FieldNodes(f.name, axes, shape, nodes.interior, tuple(own), slabs,
                                 _corners(nodes, slabs))
    return out


def _layers(faces, axis: str, side: str) -> int:
    return sum(face.axis == axis and face.side == side for face in faces)


def _face_box(nodes: FieldNodes, face: Face, earlier: tuple[Face, ...] | list[Face]) -> Region:
    ranges = []
    for axis, n in zip(nodes.axes, nodes.shape):
        if axis == face.axis:
            ranges.append((face.depth, face.depth + 1) if face.side == "lower" else
                          (n - 1 - face.depth, n - face.depth))
            continue
        ranges.append((_layers(earlier, axis, "lower"), n - _layers(earlier, axis, "upper")))
    return Region(nodes.axes, tuple(ranges))


def _corners(nodes: FieldNodes, slabs: tuple[Region, ...]) -> tuple[Region, ...]:
    """The boxes of nodes that neither the interior nor a face covers (where faces that
    close a coupled field meet): the field's own equation holds there."""
    if not any(face.transferred for face in nodes.faces):
        return ()
    covered = np.zeros(nodes.shape, bool)
    for region in (nodes.interior, *slabs):
        covered[region.index()] = True
    cuts = []
    for (lo, hi), n in zip(nodes.interior.ranges, nodes.shape):
        cuts.append([(i, i + 1) for i in range(lo)] + [(lo, hi)] +
                    [(i, i + 1) for i in range(hi, n)])
    boxes = []
    for ranges in itertools.product(*cuts):
        index = tuple(slice(lo, hi) for lo, hi in ranges)
        if not covered[index].any():
            boxes.append(Region(nodes.axes, tuple(ranges)))
        elif not covered[index].all():
            raise LoweringError(f"the conditions of `{nodes.field}` leave part of a face "
                                "without an equation")
    return tuple(boxes)


def _assign(system: System, periodic: set[str]) -> list[Face]:
    conditions = tuple(c for c in system.conditions if c.kind == "boundary"
                       and c.coordinate not in periodic)
    names = tuple(f.name for f in system.fields)
    assignments, counts = assign_faces(names, system.info, system.equations, conditions)
    for count in counts:
        if count.left_over:
            c = count.left_over[0]
            mentioned = [n for n in c.fields if n in names] or list(names)
            raise LoweringError(
                f"too many boundary conditions for `{mentioned[0]}` at {c.coordinate} = "
                f"{system.coordinate(c.coordinate).value(c.side)}; the fd method takes k per "
                "field and face for an equation of order 2k", c.span)
    return [Face(a.field, a.condition.coordinate, a.condition.side, a.condition,
                 not a.transferred and is_dirichlet(a.condition.residual, [a.field]),
                 a.depth, a.transferred, a.stacked) for a in assignments]


def _check_orders(system: System, name: str, axes: tuple[str, ...], faces: list[Face],
                  periodic: set[str]) -> None:
    """Orders above 2 on a bounded axis need their conditions on both faces (order // 2
    each), or the equation would hold next to a face with nothing to close it."""
    info = system.field_info(name)
    for axis in axes:
        order = info.order(axis)
        if order <= 2 or axis in periodic:
            continue
        counts = [_layers(faces, axis, side) for side in ("lower", "upper")]
        if min(counts) < order // 2 or sum(counts) < order:
            raise LoweringError(
                f"`{name}` has derivatives of order {order} in `{axis}` and takes "
                f"{order // 2} conditions on each face of `{axis}` in the fd method; it has "
                f"{counts[0]} and {counts[1]}", system.field(name).span,
                hint=f"add `bc periodic {axis}` if the problem is periodic; a clamped edge is "
                     f"`bc {name} = 0` and `bc d({name}, {axis}) = 0` at the face")
