"""Bringing equations and conditions into the IR's normal form.

- derivatives list their variables in the field's argument order (so `u_yx == u_xy`);
- a condition is tied to exactly one face: found from `at x = 0`, from a positional call
  such as `u(t, 0)`, or from a SymPy `Subs`; its residual then uses the full field `u(t, x)`
  and has the face value put in for the coordinate everywhere outside the field.
"""

from __future__ import annotations

from collections import defaultdict

import sympy as sp
from sympy.core.function import AppliedUndef

from .declarations import ConditionDecl, EquationDecl
from .errors import PdeSemanticError, Span
from .expressions import Mean, applied_functions, realify, substitute
from .flux import has_flux, is_flux
from .ir import Condition, Coordinate, Equation
from .printing import expression_to_pde as show
from .scope import Scope
from .validate import check_expression, numeric


def order_derivatives(expr: sp.Expr, scope: Scope, *, keep_fluxes: bool = False) -> sp.Expr:
    """Rewrite every derivative of a field with its variables in argument order; carry out
    derivatives of expressions (the product rule), unless `keep_fluxes` keeps the flux
    nodes (`pdelang.flux`) of fields as written."""
    fields = {f.name for f in scope.fields}

    def canonical(derivative: sp.Derivative) -> sp.Expr:
        inner = derivative.expr
        if keep_fluxes and is_flux(derivative, fields):
            return derivative
        if not isinstance(inner, AppliedUndef):
            return realify(derivative.doit())
        args = scope.args_of(inner.func.__name__)
        counts: dict[sp.Symbol, int] = defaultdict(int)
        for variable, count in derivative.variable_count:
            counts[variable] += int(count)
        ordered = sorted(counts.items(), key=lambda vc: _index(args, vc[0].name))
        return sp.Derivative(inner, *ordered)

    return expr.replace(lambda e: isinstance(e, sp.Derivative), canonical)


def _index(args: tuple[str, ...], name: str) -> int:
    return args.index(name) if name in args else len(args)


def normalize_equation(decl: EquationDecl, scope: Scope) -> Equation:
    residual = decl.lhs - decl.rhs
    check_expression(residual, scope, decl.span, context="equation")
    if not any(scope.kind(f.func.__name__) == "field" for f in applied_functions(residual)):
        raise PdeSemanticError("the equation involves no field", decl.span,
                               hint="every `pde` line must constrain at least one field")
    lhs, rhs = (order_derivatives(side, scope, keep_fluxes=True)
                for side in (decl.lhs, decl.rhs))
    flux = order_derivatives(residual, scope, keep_fluxes=True)
    return Equation(order_derivatives(residual, scope), lhs, rhs, decl.span,
                    flux if has_flux(flux, {f.name for f in scope.fields}) else None)


def normalize_condition(decl: ConditionDecl, scope: Scope) -> Condition:
    if decl.periodic is not None:
        return _periodic(decl, scope)
    if decl.on_boundary:
        return _on_boundary(decl, scope)
    if isinstance(decl.lhs, Mean) or decl.rhs.has(Mean):
        return _mean(decl, scope)
    if decl.point is not None:
        return _point(decl, scope)
    residual = decl.lhs - decl.rhs
    check_expression(residual, scope, decl.span, context="condition", positional=True)
    fields = [f for f in applied_functions(residual) if scope.kind(f.func.__name__) == "field"]
    if not fields:
        raise PdeSemanticError("the condition involves no field", decl.span)
    faces, replacements = _faces(residual, scope)
    if decl.at is not None:
        faces.append(decl.at)
    if not faces:
        time = scope.time
        if decl.keyword == "ic" and time is not None:
            faces.append((time.name, time.lower))
        else:
            raise PdeSemanticError("the condition does not say where it holds", decl.span,
                                   hint="add the face, e.g. `at x = 0`, or use the positional "
                                        "form `u(0) = ...`")
    coordinate, side = _one_face(faces, scope, decl)
    kind = "initial" if coordinate.is_time else "boundary"
    _check_keyword(decl, coordinate, side, kind)
    for f in fields:
        args = scope.args_of(f.func.__name__)
        if coordinate.name not in args:
            name = f.func.__name__
            raise PdeSemanticError(
                f"the condition holds at {coordinate.name} = {show(coordinate.value(side))}, "
                f"but the field `{name}` is declared {name}({', '.join(args)}) and has no "
                f"coordinate `{coordinate.name}`", decl.span)
    value = coordinate.value(side)

    def on_face(expr: sp.Expr) -> sp.Expr:
        expr = order_derivatives(expr.xreplace(replacements), scope)
        return _substitute_outside_fields(expr, coordinate.symbol, value, decl.span)

    return Condition(kind, coordinate.name, side, on_face(residual), on_face(decl.lhs),
                     on_face(decl.rhs), decl.span)


def _on_boundary(decl: ConditionDecl, scope: Scope) -> Condition:
    """`bc ... on boundary [where ...]`: a condition on (part of) the shaped domain's
    boundary, where the fields keep their coordinates."""
    residual = decl.lhs - decl.rhs
    check_expression(residual, scope, decl.span, context="condition on the boundary")
    fields = [f for f in applied_functions(residual) if scope.kind(f.func.__name__) == "field"]
    if not fields:
        raise PdeSemanticError("the condition involves no field", decl.span)
    if residual.has(sp.Subs):
        raise PdeSemanticError("a condition on the boundary holds where the boundary is: "
                               "write the fields with their coordinates, not at a face",
                               decl.span)
    return Condition("shape", "", None, order_derivatives(residual, scope),
                     order_derivatives(decl.lhs, scope), order_derivatives(decl.rhs, scope),
                     decl.span, where=part_of_boundary(decl.where, scope, decl.span))


def part_of_boundary(where: sp.Expr | None, scope: Scope, span) -> sp.Expr | None:
    """The `where` of a condition on the boundary: an inequality of the space coordinates
    (constants put in), as both front ends must give it."""
    if where is None:
        return None
    if not isinstance(where, sp.core.relational.Relational) or where.rel_op not in (
            "<", "<=", ">", ">="):
        raise PdeSemanticError(f"the part of the boundary is chosen by an inequality of the "
                               f"coordinates (<, <=, >, >=), not {where}", span)
    where = where.xreplace(scope.constants())
    space = {c.name for c in scope.coordinates if not c.is_time}
    stray = sorted({str(s) for s in where.free_symbols} - space)
    if stray or where.atoms(AppliedUndef):
        raise PdeSemanticError("the part of the boundary is chosen by the space coordinates "
                               "and constants" + (f"; this uses {', '.join(stray)}" if stray
                                                  else ", not fields"), span)
    return where


def _constant_fixing_fields(residual: sp.Expr, scope: Scope, decl: ConditionDecl,
                            what: str) -> None:
    """A point or mean condition: one field's values, no derivatives, no faces. In a
    time-dependent problem it may fix only a field without a time derivative (an algebraic
    field of a DAE, at every time): `pdelang.wellposed` checks that against the equations."""
    fields = {f.func.__name__ for f in applied_functions(residual)
              if scope.kind(f.func.__name__) == "field"}
    if len(fields) != 1:
        raise PdeSemanticError(f"a {what} condition constrains exactly one field; this one "
                               f"involves {len(fields) or 'no'} field(s)", decl.span)
    if residual.has(sp.Derivative) or residual.has(sp.Subs):
        raise PdeSemanticError(f"a {what} condition takes field values, not derivatives",
                               decl.span, hint="e.g. `bc mean(u) = 0` or "
                               "`bc u = 0 at x = 0, y = 0`")


def _mean(decl: ConditionDecl, scope: Scope) -> Condition:
    """`mean(expr) = value`: the residual `expr - value` has mean zero over the domain."""
    if not isinstance(decl.lhs, Mean) or decl.rhs.has(Mean) or decl.at or decl.point:
        raise PdeSemanticError("a mean condition reads `bc mean(EXPR) = VALUE`, with no `at`",
                               decl.span, hint="e.g. `bc mean(u) = 0`")
    integrand = decl.lhs.args[0]
    check_expression(integrand, scope, decl.span, context="mean condition")
    check_expression(decl.rhs, scope, decl.span, context="value of the mean",
                     coordinates=(), fields_allowed=False)
    residual = integrand - decl.rhs
    _constant_fixing_fields(residual, scope, decl, "mean")
    return Condition("mean", "", None, residual, integrand, decl.rhs, decl.span)


def _point(decl: ConditionDecl, scope: Scope) -> Condition:
    """`u = value at x = a, y = b`: every space coordinate of the field named, inside the
    domain; the residual with the point put in outside the field."""
    residual = decl.lhs - decl.rhs
    check_expression(residual, scope, decl.span, context="point condition")
    _constant_fixing_fields(residual, scope, decl, "point")
    field = next(f for f in applied_functions(residual) if scope.kind(f.func.__name__) == "field")
    args = scope.args_of(field.func.__name__)
    named = [n for n, _ in decl.point]
    if set(named) != set(args):
        raise PdeSemanticError(
            f"a point condition names every coordinate of `{field.func.__name__}` "
            f"({', '.join(args)}) once; this one names {', '.join(named)}", decl.span,
            hint=f"e.g. `at {', '.join(f'{a} = 0' for a in args)}`")
    point = []
    for name, value in decl.point:
        coordinate = scope.coordinate(name)
        number = numeric(substitute(value, scope.constants(), decl.span))
        lower, upper = coordinate.bounds
        tolerance = 1e-9 * max(1.0, abs(lower), abs(upper))
        if number is None or not lower - tolerance <= number <= upper + tolerance:
            raise PdeSemanticError(
                f"the point is outside the domain: {name} = {show(value)} is not in "
                f"[{show(coordinate.lower)}, {show(coordinate.upper)}]", decl.span)
        point.append((name, value))
    order = {a: i for i, a in enumerate(args)}
    point.sort(key=lambda p: order[p[0]])

    def at_point(expr: sp.Expr) -> sp.Expr:
        expr = order_derivatives(expr, scope)
        for name, value in point:
            expr = _substitute_outside_fields(expr, sp.Symbol(name), value, decl.span)
        return expr

    return Condition("point", "", None, at_point(residual), at_point(decl.lhs),
                     at_point(decl.rhs), decl.span, point=tuple(point))


def _periodic(decl: ConditionDecl, scope: Scope) -> Condition:
    name = decl.periodic
    coordinate = scope.coordinate(name)
    if coordinate is None:
        raise scope.unknown_name(name, decl.span)
    if coordinate.is_time:
        raise PdeSemanticError(f"`{name}` is the time coordinate; only space can be periodic",
                               decl.span)
    return Condition("periodic", name, None, span=decl.span)


def _faces(expr: sp.Expr, scope: Scope) -> tuple[list[tuple[str, sp.Expr]], dict]:
    """Faces named by positional calls `u(t, 0)` and by `Subs`, and how to undo them."""
    faces: list[tuple[str, sp.Expr]] = []
    replacements: dict[sp.Expr, sp.Expr] = {}
    for app in applied_functions(expr):
        if scope.kind(app.func.__name__) != "field":
            continue
        args = scope.args_of(app.func.__name__)
        full = app.func(*(sp.Symbol(a) for a in args))
        if app != full:
            faces += [(a, v) for a, v in zip(args, app.args) if v != sp.Symbol(a)]
            replacements[app] = full
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Subs):
            faces += [(v.name, p) for v, p in zip(node.variables, node.point)]
            replacements[node] = node.expr
    return faces, replacements


def _one_face(faces: list[tuple[str, sp.Expr]], scope: Scope,
              decl: ConditionDecl) -> tuple[Coordinate, str]:
    located: dict[str, set[str]] = defaultdict(set)
    for name, value in faces:
        coordinate = scope.coordinate(name)
        if coordinate is None:
            raise scope.unknown_name(name, decl.span)
        located[name].add(_side(coordinate, value, scope, decl.span))
    if len(located) > 1:
        raise PdeSemanticError(
            f"the condition is evaluated on more than one face ({', '.join(located)}); a "
            "condition holds on one face of the domain", decl.span)
    name, sides = next(iter(located.items()))
    if len(sides) > 1:
        raise PdeSemanticError(f"the condition mixes both ends of `{name}`", decl.span)
    return scope.coordinate(name), next(iter(sides))


def _side(coordinate: Coordinate, value: sp.Expr, scope: Scope, span: Span) -> str:
    number = numeric(substitute(value, scope.constants(), span))
    lower, upper = coordinate.bounds
    tolerance = 1e-9 * max(1.0, abs(lower), abs(upper))
    if number is not None and abs(number - lower) <= tolerance:
        return "lower"
    if number is not None and abs(number - upper) <= tolerance:
        return "upper"
    name, lo, hi = coordinate.name, show(coordinate.lower), show(coordinate.upper)
    raise PdeSemanticError(
        f"the condition is not on a face of the domain: {name} = {show(value)} is not an end "
        f"of {name} in [{lo}, {hi}]", span,
        hint=f"a condition holds at {name} = {lo} or {name} = {hi}")


def _check_keyword(decl: ConditionDecl, coordinate: Coordinate, side: str, kind: str) -> None:
    if kind == "initial" and side == "upper":
        raise PdeSemanticError(
            f"the condition is at the final time {coordinate.name} = {show(coordinate.upper)}; "
            f"initial conditions hold at {coordinate.name} = {show(coordinate.lower)}", decl.span)
    if decl.keyword == "ic" and kind != "initial":
        raise PdeSemanticError(
            f"`ic` holds at the start of time, but this condition is at "
            f"{coordinate.name} = {show(coordinate.value(side))}", decl.span,
            hint="use `bc` for a condition on a space boundary")
    if decl.keyword == "bc" and kind == "initial":
        raise PdeSemanticError(
            f"a condition at {coordinate.name} = {show(coordinate.lower)} is an initial condition",
            decl.span, hint="write it as `ic ...`")


def _substitute_outside_fields(expr: sp.Expr, symbol: sp.Symbol, value: sp.Expr,
                               span: Span) -> sp.Expr:
    """Put `value` in for `symbol`, leaving fields and their derivatives untouched."""
    protected = [n for n in sp.preorder_traversal(expr)
                 if isinstance(n, (sp.Derivative, AppliedUndef))]
    placeholders = {node: sp.Dummy() for node in protected}
    restored = {d: node for node, d in placeholders.items()}
    return substitute(expr.xreplace(placeholders), {symbol: value}, span).xreplace(restored)
