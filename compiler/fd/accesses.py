"""collect_derivatives: every field value and derivative in an expression becomes an access.

Each occurrence is replaced by a placeholder symbol and described by an `Access` (which
array, which stencil along which axis). First derivatives of transport terms may be
upwinded: their stencil is chosen at run time by the sign of the local velocity, taken
as minus the derivative of the right-hand side with respect to that term.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef

from pdelang import System

from ..common.stencils import central
from ..errors import LoweringError
from .ir import Access, Step
from .options import FDOptions
from .schemes import DEFAULT_TRANSPORT, get_scheme


def time_key(name: str, order: int) -> str:
    """State key of the `order`-th time derivative of field `name` (`u`, `u_t`, ...)."""
    return name if order == 0 else f"{name}_" + "t" * order


@dataclass
class Collected:
    """An expression with placeholders, what each stands for, and upwind velocities."""

    expr: sp.Expr
    accesses: dict[sp.Symbol, Access] = field(default_factory=dict)
    velocities: dict[sp.Symbol, sp.Expr] = field(default_factory=dict)
    stencils: list[tuple[sp.Expr, Step]] = field(default_factory=list)
    fluxes: list[tuple[object, int]] = field(default_factory=list)   # (FaceFlux, inner reach)


def collect(expr: sp.Expr, system: System, options: FDOptions, *, upwind_terms: bool = False,
            where: str = "") -> Collected:
    """Replace field values and derivatives in `expr` by placeholders with their accesses."""
    time = system.time.name if system.time is not None else None
    replacements: dict[sp.Expr, sp.Symbol] = {}
    out = Collected(expr)
    for node in sp.preorder_traversal(expr):
        if node in replacements:
            continue
        if isinstance(node, sp.Derivative) and isinstance(node.expr, AppliedUndef):
            symbol, access = _derivative(node, system, options, time, where)
        elif isinstance(node, AppliedUndef):
            symbol, access = _value(node, system)
        else:
            continue
        replacements[node] = symbol
        out.accesses[symbol] = access
        out.stencils += [(node, s) for s in access.steps]
    out.expr = expr.xreplace(replacements)
    if upwind_terms:
        _upwind_first_derivatives(out, options)
    return out


def _value(node: AppliedUndef, system: System) -> tuple[sp.Symbol, Access]:
    name = node.func.__name__
    source, axes = _source(name, system)
    return sp.Dummy(name), Access(source, name, axes)


def _source(name: str, system: System) -> tuple[str, tuple[str, ...]]:
    space = {c.name for c in system.space}
    if any(f.name == name for f in system.fields):
        args = system.field(name).args
        return "state", tuple(a for a in args if a in space)
    param = system.param(name)
    return "params", tuple(a for a in param.args if a in space)


def _derivative(node: sp.Derivative, system: System, options: FDOptions, time: str | None,
                where: str) -> tuple[sp.Symbol, Access]:
    name = node.expr.func.__name__
    source, axes = _source(name, system)
    time_order = sum(int(n) for v, n in node.variable_count if v.name == time)
    key = name
    if time_order:
        if source != "state":
            raise LoweringError(f"the time derivative {node} of a coefficient cannot be "
                                f"discretised{where}")
        key = time_key(name, time_order)
    steps = []
    for variable, count in node.variable_count:
        if variable.name == time:
            continue
        steps.append(Step(variable.name, central(int(count), options.accuracy)))
    label = f"{key}_" + "".join(v.name * int(n) for v, n in node.variable_count if v.name != time)
    return sp.Dummy(label.rstrip("_")), Access(source, key, axes, tuple(steps))


def _upwind_first_derivatives(out: Collected, options: FDOptions) -> None:
    """Give first-derivative accesses of fields the transport scheme and their velocity."""
    scheme = get_scheme(options.scheme) if options.scheme else DEFAULT_TRANSPORT
    if not scheme.upwinded_terms:
        return
    for symbol, access in list(out.accesses.items()):
        if access.source != "state" or len(access.steps) != 1:
            continue
        step = access.steps[0]
        if step.stencil.order != 1:
            continue
        upwinded = Step(step.axis, step.stencil, scheme)
        out.accesses[symbol] = Access(access.source, access.key, access.axes, (upwinded,))
        out.velocities[symbol] = -sp.diff(out.expr, symbol)
        out.stencils = [(n, upwinded) if s is step else (n, s) for n, s in out.stencils]


def describe_step(step: Step, h_name: str) -> str:
    """How one derivative step reads in `pdelang show`."""
    if step.scheme is not None:
        return f"d/d{step.axis} {step.scheme.describe(h_name)}"
    return f"d{'^' + str(step.stencil.order) if step.stencil.order > 1 else ''}/" \
           f"d{step.axis}{'^' + str(step.stencil.order) if step.stencil.order > 1 else ''}: " \
           f"{str(step.stencil).replace('h', h_name).replace('u[', 'f[')}"
