"""How many boundary conditions each field takes on each face, and which field takes which.

An equation of order k in a coordinate needs k conditions in that coordinate: one face
for first order (the inflow), k/2 on each face for even orders (a clamped plate,
laplace(laplace(u)) = f, takes u = 0 and d(u, n) = 0 on every edge). A condition belongs
to a field it mentions while that field has room on the face; a condition beyond that
closes a coupled field that has none there instead (the lid-driven cavity in stream
function-vorticity form writes psi = 0 and d(psi, n) = U on each wall and nothing for the
vorticity w: the second condition on psi becomes w's closure). The validation
(wellposed.py) and the fd lowering share this one assignment, so what is accepted is what
the solver can lay out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from .ir import Condition, Equation, FieldInfo


def conditions_taken(order: int) -> tuple[int, int]:
    """(fewest, most) conditions a field of derivative `order` in a coordinate takes on
    each of its two faces; first order needs one on either face (checked apart)."""
    if order <= 0:
        return 0, 0
    if order == 1:
        return 0, 1
    return order // 2, (order + 1) // 2


@dataclass(frozen=True)
class Assignment:
    """One boundary condition and the field whose boundary nodes its rows take.

    `depth` is the layer of nodes counted from the face (0 on it, 1 next to it, ...),
    `transferred` says that `field` is not in the condition (it closes a coupled field),
    `stacked` that the condition's field takes more than one condition on the face (the
    fd method then uses one-sided stencils two orders more accurate).
    """

    condition: Condition
    field: str
    depth: int
    transferred: bool
    stacked: bool


@dataclass(frozen=True)
class FaceCount:
    """What the assignment found on one face: the conditions left over (more than the
    fields there take) and the fields with fewer than they need."""

    coordinate: str
    side: str
    taken: dict[str, int]
    left_over: tuple[Condition, ...]
    short: tuple[str, ...]


def is_dirichlet(residual: sp.Expr, names: Iterable[str]) -> bool:
    """Whether a condition contains no derivative of the fields `names`."""
    names = set(names)
    return not any(isinstance(d.expr, AppliedUndef) and d.expr.func.__name__ in names
                   for d in residual.atoms(sp.Derivative))


def coupled_fields(equations: Iterable[Equation], names: Iterable[str]) -> set[frozenset]:
    """Pairs of fields that appear together in some equation."""
    names = set(names)
    pairs = set()
    for e in equations:
        found = sorted({a.func.__name__ for a in e.residual.atoms(AppliedUndef)} & names)
        pairs.update(frozenset((a, b)) for a in found for b in found if a != b)
    return pairs


def assign_faces(fields: tuple[str, ...], infos: tuple[FieldInfo, ...],
                 equations: tuple[Equation, ...],
                 conditions: tuple[Condition, ...]) -> tuple[list[Assignment], list[FaceCount]]:
    """Assign every boundary condition to a field on its face (see the module docstring).

    Conditions without derivatives come first on each face, so that a field's value is set
    on the face itself and a derivative condition takes the next layer.
    """
    orders = {info.name: dict(info.orders) for info in infos}
    coupled = coupled_fields(equations, fields)
    faces: dict[tuple[str, str], list[Condition]] = {}
    for c in conditions:
        if c.kind == "boundary":
            faces.setdefault((c.coordinate, c.side), []).append(c)
    assignments: list[Assignment] = []
    counts: list[FaceCount] = []
    for (coordinate, side), given in faces.items():
        need = {f: conditions_taken(orders.get(f, {}).get(coordinate, 0)) for f in fields}
        taken = dict.fromkeys(fields, 0)
        ordered = sorted(given, key=lambda c: not is_dirichlet(c.residual, c.fields))
        placed: list[tuple[Condition, str, int, bool]] = []
        pending = []
        for c in ordered:
            mentioned = [n for n in c.fields if n in taken]
            room = [n for n in mentioned if taken[n] < need[n][1]]
            # a field of order 0 in this coordinate still takes one condition (as before)
            name = room[0] if room else next((n for n in mentioned if not taken[n]), None)
            if name is None:
                pending.append(c)
                continue
            placed.append((c, name, taken[name], False))
            taken[name] += 1
        left_over = []
        for c in pending:
            mentioned = [n for n in c.fields if n in taken]
            partner = next((g for g in fields if taken[g] < need[g][0] and any(
                frozenset((g, n)) in coupled for n in mentioned)), None)
            if partner is None:
                left_over.append(c)
                continue
            placed.append((c, partner, taken[partner], True))
            taken[partner] += 1
        per_field: dict[str, int] = {}
        for c, name, _, transferred in placed:
            key = next((n for n in c.fields if n in taken), name) if transferred else name
            per_field[key] = per_field.get(key, 0) + 1
        for c, name, depth, transferred in placed:
            key = next((n for n in c.fields if n in taken), name) if transferred else name
            assignments.append(Assignment(c, name, depth, transferred, per_field[key] > 1))
        short = tuple(f for f in fields if taken[f] < need[f][0])
        counts.append(FaceCount(coordinate, side, taken, tuple(left_over), short))
    return assignments, counts
