"""Hard Dirichlet conditions on a shaped domain's boundary: u = g + phi * N.

A field whose first condition on the boundary reads `u = g` on all of it (no `where`, no
derivatives, g free of fields and unknowns) is computed as g + phi * N, N the network's
output and phi the region's approximate distance function (`distance`): zero
on the boundary, so the condition holds there for any weights and its loss term goes, as
box faces do it (`compiler.pinn.constraints`). A field whose initial value is built in
already keeps its boundary condition soft (the two constructions do not compose), with a
note.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import sympy as sp
from sympy.core.function import AppliedUndef

from pdelang import Condition, Field, System
from pdelang.expressions import NormalDerivative
from pdelang.geometry import Shape

from ..constraints import FaceData, GroupConstraints, make_face_data
from ..residuals import NetworkGroup
from .distance import Distance, distance_function

Net = Callable[[jax.Array], jax.Array]


@dataclass(frozen=True)
class BoundaryConstraint:
    """Output `output` is g + phi * N; phi takes the network inputs `columns` (the space
    coordinates in the region's order)."""

    field: str
    output: int
    data: FaceData
    distance: Distance
    columns: tuple[int, ...]
    labels: tuple[str, ...] = ("boundary",)


@dataclass(frozen=True)
class ShapedConstraints:
    """A group's constrained outputs: those of the box faces and initial values (`inner`,
    applied first), then those of the shape's boundary. `fields` lists both, for the
    networks stage."""

    inner: GroupConstraints | None
    boundary: tuple[BoundaryConstraint, ...]

    @property
    def fields(self) -> tuple:
        return (self.inner.fields if self.inner else ()) + self.boundary

    def apply(self, net: Net, physical: Mapping) -> Net:
        """`net` with each constrained output replaced."""
        inner = net if self.inner is None else self.inner.apply(net, physical)

        def constrained(z: jax.Array) -> jax.Array:
            out = inner(z)
            for c in self.boundary:
                phi = c.distance(jnp.stack([z[i] for i in c.columns]))
                out = out.at[c.output].set(c.data(physical, z) + phi * out[c.output])
            return out

        return constrained


def boundary_value(condition: Condition, field: Field, system: System) -> sp.Expr | None:
    """g when `condition` reads `field = g` (after dividing by a constant coefficient) on
    the whole boundary, g free of every field and unknown coefficient field; else None."""
    if condition.kind != "shape" or condition.where is not None:
        return None
    residual = condition.residual
    if residual.has(NormalDerivative) or residual.has(sp.Derivative):
        return None
    names = {f.name for f in system.fields}
    if [n for n in condition.fields if n in names] != [field.name]:
        return None
    u = field.applied
    slope = residual.diff(u)
    if not (slope.is_number and slope != 0):
        return None
    g = u - residual / slope
    g = sp.expand(g) if g.has(u) else g
    unknown = {p.name for p in system.unknown_params}
    if g.has(*(f.function for f in system.fields)) or any(
            a.func.__name__ in unknown or not {s.name for s in a.free_symbols} <= set(field.args)
            for a in g.atoms(AppliedUndef)):
        return None
    coordinates = {c.name for c in system.coordinates}
    if not {s.name for s in g.free_symbols if s.name in coordinates} <= set(field.args):
        return None
    return g


def hard_boundary(system: System) -> dict[str, int]:
    """Per field, the index of the condition it meets by construction: its first condition
    on the boundary, when that one is a value on all of it."""
    space = {c.name for c in system.space}
    out = {}
    for f in system.fields:
        first = next((i for i, c in enumerate(system.conditions)
                      if c.kind == "shape" and f.name in c.fields), None)
        if first is not None and space <= set(f.args) and \
                boundary_value(system.conditions[first], f, system) is not None:
            out[f.name] = first
    return out


def constrain_to_boundary(system: System, groups: tuple[NetworkGroup, ...], region: Shape
                          ) -> tuple[tuple[NetworkGroup, ...], frozenset[int], tuple[str, ...]]:
    """The groups with the boundary's hard conditions attached, the indices of the
    conditions now met exactly, and notes on the fields left soft."""
    chosen = hard_boundary(system)
    distance = distance_function(region)
    space = tuple(c.name for c in system.space)
    out, hard, notes = [], set(), []
    for g in groups:
        inner = g.constraints
        built = {c.field for c in inner.fields} if inner is not None else set()
        constraints = []
        for name in (n for n in g.fields if n in chosen):
            if name in built:
                notes.append(f"{name} soft on the boundary: its initial value is built in")
                continue
            i = chosen[name]
            value = boundary_value(system.conditions[i], system.field(name), system)
            constraints.append(BoundaryConstraint(
                name, g.fields.index(name), make_face_data(value, system, g.args), distance,
                tuple(g.args.index(a) for a in space)))
            hard.add(i)
        if constraints:
            g = dataclasses.replace(g, constraints=ShapedConstraints(inner, tuple(constraints)))
        out.append(g)
    return tuple(out), frozenset(hard), tuple(notes)
