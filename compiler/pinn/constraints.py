"""Hard constraints: fields that meet their Dirichlet and initial values by construction.

A field u whose value u = g is prescribed on some faces of the box is computed as

    u(z) = A(z) + D(z) * N(z)

with N the network's output, D the product of the normalised distances to those faces
((x - lo)/(hi - lo) for a lower face, (hi - x)/(hi - lo) for an upper one) and A the
transfinite (Coons) interpolation of the face data: the Boolean sum of one projector P_c
per constrained coordinate c, where P_c interpolates linearly between the two faces of c,
or extends its one constrained face constantly along c,

    A = sum over non-empty S of (-1)^(|S|+1) * prod_{c in S} P_c [data],

evaluated as A_k = A_(k-1) + P_k [data_k - A_(k-1)], one coordinate at a time. On a
constrained face D vanishes and A equals g, so the condition holds to rounding for any
weights and its loss term can go; A and D are smooth, so nested jvp derivatives see the
constrained field (Lagaris, Likas and Fotiadis 1998; Sukumar and Srivastava 2022).

Corner values come from the first coordinate of each S (time first, then the field's
argument order). Data that disagree where two faces meet cannot all hold (the Boolean sum
would spread the mismatch over whole faces), so such a field stays soft, with a note.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from pdelang import Condition, Field, System
from pdelang.expressions import net_outputs

from .residuals import NetworkGroup, inline_coefficients, sample_interpolator

Net = Callable[[jax.Array], jax.Array]
FaceData = Callable[[Mapping, jax.Array], jax.Array]      # (physical, z) -> g at z
CORNER_PROBES = 16            # random points on each edge where two faces' data must agree


@dataclass(frozen=True)
class Face:
    """`u = data` on the `side` end of one network input; `label` reads like `x=0`."""

    side: str
    data: FaceData
    label: str


@dataclass(frozen=True)
class Axis:
    """The constrained faces (one or both) of network input `index` over [lower, upper]."""

    index: int
    lower: float
    upper: float
    faces: tuple[Face, ...]

    def end(self, side: str) -> float:
        return self.lower if side == "lower" else self.upper

    def weight(self, side: str, z: jax.Array) -> jax.Array:
        """Linear blend between two faces (exactly 1 and 0 on them), or 1 for a lone face."""
        if len(self.faces) == 1:
            return jnp.ones((), z.dtype)
        return self.distance("upper" if side == "lower" else "lower", z)

    def distance(self, side: str, z: jax.Array) -> jax.Array:
        """Normalised distance to the `side` face: 0 on it, 1 on the opposite one."""
        if side == "lower":
            return (z[self.index] - self.lower) / (self.upper - self.lower)
        return (self.upper - z[self.index]) / (self.upper - self.lower)


@dataclass(frozen=True)
class FieldConstraint:
    """Output `output` of a network is A + D * N over `axes`, in the Boolean sum's order."""

    field: str
    output: int
    axes: tuple[Axis, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(f.label for a in self.axes for f in a.faces)


@dataclass(frozen=True)
class GroupConstraints:
    """The constrained outputs of one network group."""

    fields: tuple[FieldConstraint, ...]

    def apply(self, net: Net, physical: Mapping) -> Net:
        """`net` with each constrained output replaced by A + D * N."""

        def constrained(z: jax.Array) -> jax.Array:
            out = net(z)
            for c in self.fields:
                value = boolean_sum(c.axes, physical, z) + distance(c.axes, z) * out[c.output]
                out = out.at[c.output].set(value)
            return out

        return constrained


def boolean_sum(axes: tuple[Axis, ...], physical: Mapping, z: jax.Array) -> jax.Array:
    """A(z): the transfinite interpolation of the face data of `axes` (see the module)."""
    if not axes:
        return jnp.zeros((), z.dtype)
    *previous, last = axes
    total = boolean_sum(tuple(previous), physical, z)
    for face in last.faces:
        projected = z.at[last.index].set(last.end(face.side))
        gap = face.data(physical, projected) - boolean_sum(tuple(previous), physical, projected)
        total = total + last.weight(face.side, z) * gap
    return total


def distance(axes: tuple[Axis, ...], z: jax.Array) -> jax.Array:
    """D(z): the product of the normalised distances to every constrained face."""
    out = jnp.ones((), z.dtype)
    for axis in axes:
        for face in axis.faces:
            out = out * axis.distance(face.side, z)
    return out


def value_field(condition: Condition, system: System) -> str | None:
    """The field whose value a boundary or initial condition sets (one field, no
    derivatives), or None for Neumann, Robin, derivative and coupling conditions."""
    if condition.kind not in ("boundary", "initial") or condition.residual.has(sp.Derivative):
        return None
    names = {f.name for f in system.fields}
    present = [n for n in condition.fields if n in names]
    return present[0] if len(present) == 1 else None


def face_data(condition: Condition, field: Field, system: System) -> sp.Expr | None:
    """g when `condition` reads `field = g` (after dividing by a constant coefficient) on a
    face of one of the field's non-periodic coordinates, g free of every field and unknown
    coefficient field and every learned function (trained, not data); else None."""
    if value_field(condition, system) != field.name or condition.coordinate in system.periodic:
        return None
    if condition.coordinate not in field.args:
        return None
    u, residual = field.applied, condition.residual
    slope = residual.diff(u)
    if not (slope.is_number and slope != 0):
        return None
    g = u - residual / slope                  # SymPy cancels u here in all but odd forms
    g = sp.expand(g) if g.has(u) else g
    g = g.xreplace({sp.Symbol(condition.coordinate): system.coordinate(condition.coordinate)
                    .value(condition.side)})
    names = {f.name for f in system.fields}
    unknown = {p.name for p in system.unknown_params}
    coefficients = [a for a in g.atoms(AppliedUndef) if a.func.__name__ not in names]
    if g.has(*(f.function for f in system.fields)) or net_outputs(g) or any(
            not {s.name for s in a.free_symbols} <= set(field.args)
            or a.func.__name__ in unknown for a in coefficients):
        return None
    coordinates = {c.name for c in system.coordinates}
    if not {s.name for s in g.free_symbols if s.name in coordinates} <= set(field.args):
        return None
    return g


def hard_conditions(system: System) -> dict[str, tuple[int, ...]]:
    """Per field, the indices of the conditions it meets by construction: only fields whose
    every value condition is hard-able, with one per face; the others stay soft."""
    out = {}
    for f in system.fields:
        mine = [i for i, c in enumerate(system.conditions) if value_field(c, system) == f.name]
        faces = [(system.conditions[i].coordinate, system.conditions[i].side) for i in mine]
        hardable = all(face_data(system.conditions[i], f, system) is not None for i in mine)
        if mine and hardable and len(set(faces)) == len(faces):
            out[f.name] = tuple(mine)
    return out


def constrain_groups(system: System, groups: tuple[NetworkGroup, ...], physical: Mapping
                     ) -> tuple[tuple[NetworkGroup, ...], frozenset[int], tuple[str, ...]]:
    """The groups with hard constraints attached, the indices of the conditions they now
    meet exactly (to drop from the loss), and notes on the fields left soft."""
    chosen = hard_conditions(system)
    out, hard, notes = [], set(), []
    for f in system.fields:
        if f.name not in chosen and any(value_field(c, system) == f.name
                                        for c in system.conditions):
            notes.append(f"{f.name} soft: not each of its value conditions reads "
                         f"`{f.name} = data` on a face of its own")
    for g in groups:
        fields = []
        for name in (n for n in g.fields if n in chosen):
            constraint = make_field_constraint(system, g, name, chosen[name])
            box = tuple(system.coordinate(a).bounds for a in g.args)
            clash = corner_clash(constraint, physical, box)
            if clash:
                notes.append(f"{name} soft: its values at {clash[0]} and {clash[1]} disagree "
                             "where those faces meet")
                continue
            fields.append(constraint)
            hard.update(chosen[name])
        out.append(dataclasses.replace(g, constraints=GroupConstraints(tuple(fields)))
                   if fields else g)
    return tuple(out), frozenset(hard), tuple(notes)


def corner_clash(constraint: FieldConstraint, physical: Mapping,
                 box: tuple[tuple[float, float], ...], seed: int = 0) -> tuple[str, str] | None:
    """The labels of two faces whose data differ at random points of their common edge,
    or None when every pair agrees (to a thousand roundoffs); `box`: the network's inputs'
    bounds."""
    rng = np.random.default_rng(seed)
    lower, upper = np.asarray(box).T
    for a, b in itertools.combinations(constraint.axes, 2):
        for fa, fb in itertools.product(a.faces, b.faces):
            z = jnp.asarray(lower + (upper - lower) * rng.random((CORNER_PROBES, len(box))))
            z = z.at[:, a.index].set(a.end(fa.side)).at[:, b.index].set(b.end(fb.side))
            ga = np.asarray(jax.vmap(lambda p, f=fa: f.data(physical, p))(z))
            gb = np.asarray(jax.vmap(lambda p, f=fb: f.data(physical, p))(z))
            tolerance = 1e3 * np.finfo(ga.dtype).eps * (1 + np.max(np.abs(ga)))
            if np.max(np.abs(ga - gb)) > tolerance:
                return fa.label, fb.label
    return None


def make_field_constraint(system: System, group: NetworkGroup, name: str,
                          indices: tuple[int, ...]) -> FieldConstraint:
    """The axes of field `name`'s constrained faces, time first, then argument order."""
    field = system.field(name)
    by_axis: dict[str, list[Face]] = {}
    for i in indices:
        c = system.conditions[i]
        data = make_face_data(face_data(c, field, system), system, group.args)
        label = f"{c.coordinate}={float(system.coordinate(c.coordinate).value(c.side)):g}"
        by_axis.setdefault(c.coordinate, []).append(Face(c.side, data, label))
    order = sorted(by_axis, key=lambda a: (not system.coordinate(a).is_time,
                                           group.args.index(a)))
    axes = tuple(Axis(group.args.index(a), *system.coordinate(a).bounds,
                      tuple(sorted(by_axis[a], key=lambda f: f.side)))
                 for a in order)
    return FieldConstraint(name, group.fields.index(name), axes)


def make_face_data(expr: sp.Expr, system: System, args: tuple[str, ...]) -> FaceData:
    """g as a JAX function of (physical params, a point in the network's inputs `args`)."""
    expr = inline_coefficients(expr, system)
    samples = {a: sp.Dummy(a.func.__name__) for a in expr.atoms(AppliedUndef)}
    constants = [p.name for p in system.params if not p.is_field]
    symbols = [sp.Symbol(a) for a in args] + [sp.Symbol(c) for c in constants] + \
        list(samples.values())
    function = sp.lambdify(symbols, expr.xreplace(samples), modules="jax")
    interpolators = [sample_interpolator(system, a.func.__name__, args) for a in samples]

    def data(physical: Mapping, z: jax.Array) -> jax.Array:
        values = [z[i] for i in range(len(args))] + [physical[c] for c in constants]
        values += [interpolate(physical, z) for interpolate in interpolators]
        return jnp.asarray(function(*values), z.dtype)

    return data
