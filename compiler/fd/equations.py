"""assign_equations: which field each equation determines, and its method-of-lines form.

A time-dependent equation is solved for the highest time derivative of its field,
d^k u / dt^k = rhs (it must be linear in that derivative); a steady equation keeps its
residual and is matched to a field it contains.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from pdelang import Equation, System

from ..errors import LoweringError


@dataclass(frozen=True)
class Assigned:
    field: str
    equation: Equation
    time_order: int
    rhs: sp.Expr | None          # d^k field / dt^k = rhs, for time-dependent systems
    flux: sp.Expr | None = None  # rhs (or the steady residual) with flux nodes kept

    @property
    def discretised(self) -> sp.Expr:
        """What the kernel evaluates: the flux form where there is one."""
        if self.flux is not None:
            return self.flux
        return self.rhs if self.rhs is not None else self.equation.residual


def assign_equations(system: System) -> tuple[Assigned, ...]:
    if system.time is None:
        return _match_steady(system)
    return tuple(_evolution(e, system) for e in _match_time(system))


def _time_derivatives(expr: sp.Expr, time: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for node in expr.atoms(sp.Derivative):
        if isinstance(node.expr, AppliedUndef):
            k = sum(int(n) for v, n in node.variable_count if v.name == time)
            if k:
                name = node.expr.func.__name__
                found[name] = max(found.get(name, 0), k)
    return found


def _match_time(system: System) -> list[tuple[str, Equation]]:
    time = system.time.name
    pairs = []
    for e in system.equations:
        orders = _time_derivatives(e.residual, time)
        if not orders:
            raise LoweringError("the equation has no time derivative; the fd method integrates "
                                "evolution equations d(u, t) = ... (constraints need odil)",
                                e.span)
        top = max(orders.values())
        leaders = [n for n, k in orders.items() if k == top]
        if len(leaders) > 1:
            raise LoweringError(f"the equation has time derivatives of several fields "
                                f"({', '.join(leaders)}); write one equation per field, each "
                                f"solved for its own time derivative", e.span)
        pairs.append((leaders[0], e))
    names = [n for n, _ in pairs]
    for f in system.fields:
        if names.count(f.name) != 1:
            raise LoweringError(f"{names.count(f.name)} equations have `{f.name}` as their "
                                "leading time derivative; each field needs exactly one",
                                f.span)
    return pairs


def _evolution(pair: tuple[str, Equation], system: System) -> Assigned:
    name, e = pair
    time = system.time.symbol
    order = system.field_info(name).time_order
    leading = sp.Derivative(system.field(name).applied, (time, order))
    slope = sp.diff(e.residual, leading)
    if slope.has(leading) or slope == 0:
        raise LoweringError(f"the equation is not linear in {leading}; the fd method needs "
                            f"it solvable for the time derivative", e.span)
    for node in slope.atoms(sp.Derivative):
        if node != leading and _time_derivatives(node, time.name):
            raise LoweringError(f"the coefficient of {leading} contains another time "
                                "derivative", e.span)
    rhs = -e.residual.subs(leading, 0) / slope
    flux = -e.flux.xreplace({leading: 0}) / slope if e.flux is not None else None
    return Assigned(name, e, order, rhs, flux)


def _match_steady(system: System) -> tuple[Assigned, ...]:
    """Match equations to fields: each field the highest-order unknown of one equation."""
    free = [f.name for f in system.fields]
    out = []
    for e in system.equations:
        contained = [n for n in free if any(a.func.__name__ == n
                                            for a in e.residual.atoms(AppliedUndef))]
        if not contained:
            contained = free
        name = max(contained, key=lambda n: (_order_in(e.residual, n), -free.index(n)))
        free.remove(name)
        out.append(Assigned(name, e, 0, None, e.flux))
    return tuple(out)


def _order_in(expr: sp.Expr, name: str) -> int:
    best = 0
    for node in expr.atoms(sp.Derivative):
        if isinstance(node.expr, AppliedUndef) and node.expr.func.__name__ == name:
            best = max(best, sum(int(n) for _, n in node.variable_count))
    return best
