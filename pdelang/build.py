"""Declarations to IR: the one path both front ends take, checks first, then normal form."""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from .analysis import derivative_orders, is_linear_in, occurrence_name, occurrences
from .compatibility import check_compatibility
from .data import check_observations
from .declarations import Declarations
from .errors import PdeSemanticError, Span
from .expressions import check_size, net_outputs, realify
from .ir import Coordinate, Equation, Exact, Field, FieldInfo, Net, Param, System
from .normalize import normalize_condition, normalize_equation, order_derivatives
from .scope import Scope
from .shaped import check_shaped, check_unshaped
from .validate import (
    check_bounds,
    check_coordinates,
    check_expression,
    check_field_args,
    check_names,
    check_net,
)
from .wellposed import (
    check_boundaries,
    check_constants,
    check_counts,
    check_initial,
    check_unknown_params,
)


def check_declarations(decls: Declarations) -> Scope:
    """Check the declared names and return the scope that expressions are checked in."""
    check_names(decls.coordinates, decls.fields, decls.params, decls.nets)
    coordinates = check_coordinates(decls.coordinates, _system_span(decls))
    check_field_args(decls.fields, coordinates, "field")
    check_field_args([p for p in decls.params if p.is_field], coordinates, "parameter")
    scope = Scope(coordinates, tuple(decls.fields), tuple(decls.params), tuple(decls.nets))
    for net in decls.nets:
        check_net(net, scope)
    return scope


def build_system(decls: Declarations, scope: Scope | None = None) -> System:
    """Validate `decls` and return the IR; raises a `PdeError` subclass at the culprit."""
    for e in decls.equations:
        check_size(e.lhs, e.span), check_size(e.rhs, e.span)
    decls = _real_valued(decls)
    scope = replace(scope, params=tuple(decls.params)) if scope else check_declarations(decls)
    for p in scope.params:
        for expr in (p.value, p.guess):
            if expr is not None:
                check_size(expr, p.span)
                check_expression(expr, scope, p.span, context=f"value of `{p.name}`",
                                 coordinates=p.args, fields_allowed=False)
    equations = tuple(normalize_equation(e, scope) for e in decls.equations)
    conditions = tuple(normalize_condition(c, scope) for c in decls.conditions)
    exact = tuple(_exact(e, scope) for e in decls.exact)
    system_span = _system_span(decls)
    check_counts(scope.fields, equations, system_span)
    infos = field_info(scope.fields, equations, scope.coordinates)
    check_initial(scope.fields, infos, conditions, scope.time, system_span)
    if decls.domain is None:
        check_unshaped(conditions)
        check_boundaries(scope.fields, infos, equations, conditions, tuple(decls.data),
                         scope.coordinates)
    else:
        check_shaped(scope.fields, infos, conditions, tuple(decls.data), decls.domain,
                     tuple(c.name for c in scope.coordinates if not c.is_time))
    check_unknown_params(scope.params, tuple(decls.data))
    check_nets_used(scope.nets, equations, conditions, tuple(decls.data))
    check_observations(tuple(decls.data), scope.coordinates, scope.fields)
    check_constants(scope.fields, equations, conditions, tuple(decls.data),
                    frozenset(i.name for i in infos if i.time_order == 0))
    for p in scope.params:
        check_bounds(p)
    system = System(
        name=decls.name,
        coordinates=scope.coordinates,
        fields=scope.fields,
        params=tuple(sorted(scope.params, key=lambda p: p.name)),
        equations=equations,
        conditions=conditions,
        exact=exact,
        data=tuple(decls.data),
        info=infos,
        source=decls.file,
        domain=decls.domain,
        domain_span=decls.domain_span or system_span,
        nets=scope.nets,
    )
    if any(c.fixes_constant for c in conditions):
        check_compatibility(system)
    return system


def check_nets_used(nets: tuple[Net, ...], equations: tuple[Equation, ...],
                    conditions: tuple, data: tuple) -> None:
    """Every net used by an equation or condition, and data to learn it from."""
    used = {n.net for e in (*equations, *conditions) for n in net_outputs(e.residual)}
    for net in nets:
        if net.name not in used:
            raise PdeSemanticError(f"the net `{net.name}` is declared but no equation or "
                                   "condition uses it", net.span)
        if not data:
            raise PdeSemanticError(f"the net `{net.name}` has no data to learn from: a "
                                   "learned function is fitted to observations of the fields",
                                   net.span, hint='add a `data "file.csv"` line')


def _real_valued(decls: Declarations) -> Declarations:
    """The declarations with `re(...)`, `im(...)` that plain SymPy symbols bring in removed."""
    def param(p: Param) -> Param:
        return replace(p, value=realify(p.value), guess=realify(p.guess))

    return replace(
        decls,
        params=[param(p) for p in decls.params],
        equations=[replace(e, lhs=realify(e.lhs), rhs=realify(e.rhs)) for e in decls.equations],
        conditions=[replace(c, lhs=realify(c.lhs), rhs=realify(c.rhs))
                    for c in decls.conditions],
        exact=[replace(e, expr=realify(e.expr)) for e in decls.exact],
    )


def _system_span(decls: Declarations) -> Span:
    if decls.span is not None:
        return decls.span
    return Span(file=decls.file or "<input>", label=decls.file or "the system")


def _exact(exact: Exact, scope: Scope) -> Exact:
    from .errors import PdeSemanticError

    field = scope.field(exact.field)
    if field is None:
        kind = scope.kind(exact.field)
        if kind is None:
            raise scope.unknown_name(exact.field, exact.span)
        raise PdeSemanticError(f"`exact` gives the solution of a field, and `{exact.field}` is "
                               f"a {kind}", exact.span)
    check_size(exact.expr, exact.span)
    check_expression(exact.expr, scope, exact.span, context=f"exact solution of `{field.name}`",
                     coordinates=field.args, fields_allowed=False)
    return Exact(exact.field, order_derivatives(exact.expr, scope), exact.span)


def field_info(fields: tuple[Field, ...], equations: tuple[Equation, ...],
               coordinates: tuple[Coordinate, ...]) -> tuple[FieldInfo, ...]:
    """What the equations say about each field (derivative orders, linearity, mixed
    derivatives), recorded in the IR for the compilers."""
    names = {f.name for f in fields}
    time = next((c.name for c in coordinates if c.is_time), None)
    infos = []
    for f in fields:
        orders = derivative_orders(f.name, equations)
        linear, mixed = True, False
        for equation in equations:
            among = occurrences(equation.residual, names)
            mine = [o for o in among if occurrence_name(o) == f.name]
            linear = linear and is_linear_in(equation.residual, mine, among)
            mixed = mixed or any(isinstance(o, sp.Derivative) and len(o.variable_count) > 1
                                 for o in mine)
        ordered = tuple((a, orders.get(a, 0)) for a in f.args)
        infos.append(FieldInfo(f.name, ordered, orders.get(time, 0) if time else 0, linear,
                               mixed))
    return tuple(infos)
