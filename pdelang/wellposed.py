"""Checks that the system can determine its unknowns: counts, initial and boundary data."""

from __future__ import annotations

import sympy as sp
from sympy.core.function import AppliedUndef

from .errors import PdeSemanticError, Span
from .faces import assign_faces, conditions_taken
from .ir import Condition, Coordinate, Equation, Field, FieldInfo, Observations, Param
from .printing import expression_to_pde as show


def check_counts(fields: tuple[Field, ...], equations: tuple[Equation, ...],
                 system_span: Span) -> None:
    if not fields:
        raise PdeSemanticError("the system declares no field: there is nothing to solve for",
                               system_span, hint="declare the unknowns, e.g. `field u(x)`, "
                               "and give a `pde` line for each")
    if len(fields) > len(equations):
        names = ", ".join(f.name for f in fields)
        raise PdeSemanticError(
            f"more unknowns than equations: {len(fields)} field(s) ({names}) but "
            f"{len(equations)} equation(s)", fields[-1].span,
            hint="add a `pde` line for each field, or remove a field")
    if len(equations) > len(fields):
        raise PdeSemanticError(
            f"more equations than unknowns: {len(equations)} equations for {len(fields)} "
            "field(s)", equations[len(fields)].span, hint="remove an equation or add a field")
    for f in fields:
        if not any(_mentions(e.residual, f.name) for e in equations):
            raise PdeSemanticError(f"the field `{f.name}` appears in no equation", f.span)


def check_initial(fields: tuple[Field, ...], infos: tuple[FieldInfo, ...],
                  conditions: tuple[Condition, ...], time: Coordinate | None,
                  system_span: Span) -> None:
    """Each field of order k in time needs its value and first k-1 time derivatives at t0."""
    if time is None:
        return
    initial = [c for c in conditions if c.kind == "initial"]
    if not initial and any(i.time_order for i in infos):
        raise PdeSemanticError(
            f"the problem depends on time `{time.name}` but has no initial condition",
            time.span if time.span.has_position else system_span,
            hint=f"add `ic {fields[0].name} = ... at {time.name} = {show(time.lower)}`")
    for f, info in zip(fields, infos):
        given = {_time_order(c.residual, f.name, time.name) for c in initial
                 if f.name in c.fields}
        for k in range(info.time_order):
            if k not in given:
                target = f.name if k == 0 else f"d({f.name}, {time.name}" + (
                    f", {k})" if k > 1 else ")")
                raise PdeSemanticError(
                    f"`{f.name}` is of order {info.time_order} in time and needs an initial "
                    f"condition for {target} at {time.name} = {show(time.lower)}", f.span,
                    hint=f"add `ic {target} = ... at {time.name} = {show(time.lower)}`")


def check_boundaries(fields: tuple[Field, ...], infos: tuple[FieldInfo, ...],
                     equations: tuple[Equation, ...], conditions: tuple[Condition, ...],
                     data: tuple[Observations, ...], coordinates: tuple[Coordinate, ...]) -> None:
    """Each field takes as many conditions on each face as its order there needs.

    First order needs one face (the inflow); order 2k needs k on each face (pdelang/faces.py),
    a coupled field's surplus making up for a field with none (the vorticity of a cavity);
    periodicity covers both faces. Inverse problems with observations may leave faces open.
    """
    if data:
        return
    space = {c.name: c for c in coordinates if not c.is_time}
    periodic = {c.coordinate for c in conditions if c.kind == "periodic"}
    names = tuple(f.name for f in fields)
    bounded = tuple(c for c in conditions if c.kind != "boundary" or (
        c.coordinate in space and c.coordinate not in periodic))
    _, counts = assign_faces(names, infos, equations, bounded)
    taken = {(n.coordinate, n.side): n for n in counts}
    for n in counts:
        if n.left_over:
            _too_many(n, n.left_over[0], infos, space[n.coordinate])
    for f, info in zip(fields, infos):
        for coordinate, order in info.orders:
            if order == 0 or coordinate in periodic or coordinate not in space:
                continue
            got = {side: taken[(coordinate, side)].taken[f.name] if (coordinate, side) in taken
                   else 0 for side in ("lower", "upper")}
            missing = {side for side, k in got.items() if k == 0}
            if (order >= 2 and missing) or (order == 1 and len(missing) == 2):
                where = ("the " + " and ".join(sorted(missing)) + " end") if order >= 2 else (
                    "either end")
                raise PdeSemanticError(
                    f"`{f.name}` has derivatives of order {order} in `{coordinate}` but no "
                    f"condition on {where} of `{coordinate}`", f.span,
                    hint=f"add `bc ... at {coordinate} = ...` or `bc periodic {coordinate}`")
            fewest = conditions_taken(order)[0]
            for side, k in got.items():
                if k < fewest:
                    _too_few(f, order, coordinate, side, k, fewest, conditions, space[coordinate])


def _face(coordinate: Coordinate, side: str) -> str:
    return f"{coordinate.name} = {show(coordinate.value(side))}"


def _too_many(count, extra: Condition, infos: tuple[FieldInfo, ...],
              coordinate: Coordinate) -> None:
    names = [n for n in extra.fields if n in count.taken] or list(count.taken)
    orders = {i.name: i.order(coordinate.name) for i in infos}
    takes = ", ".join(f"`{n}` (order {orders[n]} in `{coordinate.name}`) takes "
                      f"{conditions_taken(orders[n])[1]}" for n in names)
    raise PdeSemanticError(
        f"too many boundary conditions at {_face(coordinate, count.side)}: {takes} on "
        "each face, and no coupled field there is left without one", extra.span,
        hint="an equation of order 2k in a coordinate takes k conditions on each face; "
             "remove this one")


def _too_few(f: Field, order: int, coordinate: str, side: str, got: int, need: int,
             conditions: tuple[Condition, ...], coord: Coordinate) -> None:
    given = [c for c in conditions if c.kind == "boundary" and c.coordinate == coordinate
             and c.side == side and f.name in c.fields]
    span = given[-1].span if given else f.span
    raise PdeSemanticError(
        f"`{f.name}` has derivatives of order {order} in `{coordinate}` and needs {need} "
        f"conditions at {_face(coord, side)}; {got} given", span,
        hint=f"a clamped edge is `bc {f.name} = 0 at {_face(coord, side)}` and "
             f"`bc d({f.name}, {coordinate}) = 0 at {_face(coord, side)}`; a simply "
             f"supported one has d({f.name}, {coordinate}, 2) = 0 instead")


def check_constants(fields: tuple[Field, ...], equations: tuple[Equation, ...],
                    conditions: tuple[Condition, ...], data: tuple[Observations, ...],
                    steady: frozenset[str]) -> None:
    """A steady field (of a steady problem, or without a time derivative in a time-dependent
    one: named in `steady`) that appears only differentiated, in the equations and in every
    condition (pure Neumann, periodic), is determined up to a constant: it needs exactly
    one point or mean condition; a field determined otherwise must have none."""
    for f in fields:
        fixing = [c for c in conditions if c.fixes_constant and f.name in c.fields]
        free = f.name in steady and not data and not any(
            _value_of(x.residual, f.name) for x in (*equations, *conditions)
            if not getattr(x, "fixes_constant", False) and getattr(x, "kind", "") != "initial")
        if free and not fixing:
            args = ", ".join(f"{a} = 0" for a in f.args)
            raise PdeSemanticError(
                f"`{f.name}` is determined only up to a constant: the equations and the "
                f"boundary conditions involve only its derivatives (pure Neumann or periodic), "
                f"so {f.name} + C solves the problem for every C", f.span,
                hint=f"fix the constant: add `bc mean({f.name}) = 0`, or "
                f"`bc {f.name} = 0 at {args}`")
        if fixing and not free:
            why = ("it has a time derivative (its initial condition fixes it)"
                   if f.name not in steady else "the problem has observations" if data
                   else "the equations or boundary conditions already fix its value")
            raise PdeSemanticError(
                f"this condition fixes a constant of `{f.name}`, but {why}: the problem would "
                "be over-determined", fixing[0].span,
                hint="point and mean conditions are for fields known only up to a constant "
                "(pure Neumann or periodic); remove it")
        if len(fixing) > 1:
            raise PdeSemanticError(
                f"`{f.name}` is fixed up to a constant by one condition; this is a second one",
                fixing[1].span, hint="keep one point or mean condition per field")


def _value_of(expr: sp.Expr, name: str) -> bool:
    """Whether the field `name` appears in `expr` other than differentiated: derivatives of
    a bare field are dropped, a derivative of an expression (`d(k*u, x)`) keeps what is
    inside it, since that sees the constant unless the inside itself is a derivative."""
    stripped = expr.replace(
        lambda e: isinstance(e, sp.Derivative) and isinstance(e.expr, AppliedUndef),
        lambda e: sp.S.Zero)
    return _mentions(stripped, name)


def check_unknown_params(params: tuple[Param, ...], data: tuple[Observations, ...]) -> None:
    unknown = [p for p in params if p.is_unknown]
    if unknown and not data:
        raise PdeSemanticError(
            f"the parameter `{unknown[0].name}` is unknown (`~`) but there are no observations "
            "to infer it from", unknown[0].span, hint='add `data "observations.csv"`')


def _mentions(expr: sp.Expr, name: str) -> bool:
    return any(a.func.__name__ == name for a in expr.atoms(AppliedUndef))


def _time_order(expr: sp.Expr, name: str, time: str) -> int:
    """The highest time-derivative order of field `name` in an initial condition."""
    order = 0
    for node in expr.atoms(sp.Derivative):
        if isinstance(node.expr, AppliedUndef) and node.expr.func.__name__ == name:
            order = max(order, sum(int(n) for v, n in node.variable_count if v.name == time))
    return order
