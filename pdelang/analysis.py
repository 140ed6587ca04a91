"""What the equations say about each field: derivative orders, linearity, the PDE's type."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy as sp
from sympy.core.function import AppliedUndef

if TYPE_CHECKING:                   # ir imports this module; these are annotations only
    from .ir import Coordinate, Equation, Field, System


@dataclass(frozen=True)
class FieldInfo:
    """What a compiler needs to know about one field, derived from the equations.

    `orders` holds the highest derivative order in each of the field's coordinates.
    """

    name: str
    orders: tuple[tuple[str, int], ...]
    time_order: int
    linear: bool
    mixed: bool

    def order(self, coordinate: str) -> int:
        return dict(self.orders).get(coordinate, 0)


def occurrences(expr: sp.Expr, field_names: set[str]) -> list[sp.Expr]:
    """Every distinct field value or derivative of a field in `expr`."""
    found: dict[sp.Expr, None] = {}
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Derivative) and isinstance(node.expr, AppliedUndef) \
                and node.expr.func.__name__ in field_names:
            found.setdefault(node, None)
        elif isinstance(node, AppliedUndef) and node.func.__name__ in field_names:
            found.setdefault(node, None)
    return list(found)


def derivative_orders(name: str, equations: tuple[Equation, ...]) -> dict[str, int]:
    """Highest derivative order of field `name` in each coordinate, over all equations."""
    orders: dict[str, int] = defaultdict(int)
    for equation in equations:
        for node in equation.residual.atoms(sp.Derivative):
            if isinstance(node.expr, AppliedUndef) and node.expr.func.__name__ == name:
                for variable, count in node.variable_count:
                    orders[variable.name] = max(orders[variable.name], int(count))
    return orders


def is_linear_in(expr: sp.Expr, unknowns: list[sp.Expr], among: list[sp.Expr]) -> bool:
    """True when `expr` is affine in `unknowns`, with coefficients free of `among`."""
    if not unknowns:
        return True
    placeholders = {u: sp.Dummy() for u in among}
    replaced = expr.xreplace(placeholders)
    dummies = set(placeholders.values())
    for u in unknowns:
        slope = sp.diff(replaced, placeholders[u])
        if slope.free_symbols & dummies:
            return False
    return True


def field_info(fields: tuple[Field, ...], equations: tuple[Equation, ...],
               coordinates: tuple[Coordinate, ...]) -> tuple[FieldInfo, ...]:
    names = {f.name for f in fields}
    time = next((c.name for c in coordinates if c.is_time), None)
    infos = []
    for f in fields:
        orders = derivative_orders(f.name, equations)
        linear, mixed = True, False
        for equation in equations:
            among = occurrences(equation.residual, names)
            mine = [o for o in among if _name(o) == f.name]
            linear = linear and is_linear_in(equation.residual, mine, among)
            mixed = mixed or any(isinstance(o, sp.Derivative) and len(o.variable_count) > 1
                                 for o in mine)
        ordered = tuple((a, orders.get(a, 0)) for a in f.args)
        infos.append(FieldInfo(f.name, ordered, orders.get(time, 0) if time else 0, linear,
                               mixed))
    return tuple(infos)


def _name(occurrence: sp.Expr) -> str:
    inner = occurrence.expr if isinstance(occurrence, sp.Derivative) else occurrence
    return inner.func.__name__


def classify(system: System) -> str:
    """A one-line description such as "parabolic, linear, 1 field, 1D + time"."""
    infos = system.info
    time_order = max((i.time_order for i in infos), default=0)
    space_names = {c.name for c in system.space}
    space_order = max((o for i in infos for a, o in i.orders if a in space_names), default=0)
    if not system.space:
        kind = "ODE" if time_order else "algebraic"
    elif system.time is None:
        kind = ("elliptic" if space_order >= 2 else "first-order steady" if space_order == 1
                else "algebraic")
    elif time_order >= 2:
        kind = "hyperbolic"
    elif space_order >= 2:
        kind = "parabolic" if space_order == 2 else f"parabolic, order {space_order} in space"
    elif space_order == 1:
        kind = "hyperbolic"
    else:
        kind = "ODE at each point"
    linear = "linear" if all(i.linear for i in infos) else "nonlinear"
    count = len(system.fields)
    fields = f"{count} field" + ("s" if count != 1 else "")
    dims = f"{len(system.space)}D" if system.space else "0D"
    if system.time is not None:
        dims = f"{dims} + time" if system.space else "time only"
    parts = [kind, linear, fields, dims]
    if system.unknown_params:
        parts.append(f"{len(system.unknown_params)} unknown parameter(s)")
    return ", ".join(parts)
