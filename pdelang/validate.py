"""Checks of declarations and expressions, shared by both front ends.

Each check raises `PdeSemanticError` at the span of the offending declaration; text
input therefore gets line, column and caret, SymPy input the equation or condition label.
"""

from __future__ import annotations

import math

import sympy as sp
from sympy.core.function import AppliedUndef

from .errors import PdeSemanticError, Span
from .expressions import (
    BAD_NUMBERS,
    BUILTIN_NAMES,
    KEYWORDS,
    SUPPORTED_FUNCTIONS,
    Mean,
    NetOutput,
    NormalDerivative,
)
from .ir import NET_ACTIVATIONS, Coordinate, Field, Net, Param
from .limits import MAX_DERIVATIVE_ORDER, MAX_FIELDS, MAX_NAMES, check
from .printing import expression_to_pde as show
from .scope import Scope

# -- names ------------------------------------------------------------------------------

def check_names(coordinates: list[Coordinate], fields: list[Field], params: list[Param],
                nets: list[Net] = ()) -> None:
    """Every name declared once, none reserved, none that reads as a derivative shorthand."""
    declared: dict[str, Span] = {}
    items = [("coordinate", c) for c in coordinates] + [("field", f) for f in fields] + \
        [("parameter", p) for p in params] + [("net", n) for n in nets]
    # in the order of the text, so that "declared twice" points at the second one
    items.sort(key=lambda item: (item[1].span.line, item[1].span.column))
    span0 = items[0][1].span if items else Span()
    check(len(items) <= MAX_NAMES, f"{len(items)} names are declared; at most {MAX_NAMES}", span0)
    check(len(fields) <= MAX_FIELDS, f"{len(fields)} fields are declared; at most {MAX_FIELDS}",
          fields[MAX_FIELDS].span if len(fields) > MAX_FIELDS else span0)
    for what, item in items:
        name = item.name
        if not name.isidentifier() or not name.isascii():
            raise PdeSemanticError(f"{name!r} is not a valid name (ASCII letters, digits and "
                                   "_, not starting with a digit)", item.span)
        if name in BUILTIN_NAMES or name in KEYWORDS:
            kind = "keyword" if name in KEYWORDS else "built-in name"
            raise PdeSemanticError(f"`{name}` is a {kind} and cannot name a {what}",
                                   item.span, hint="choose another name")
        if name in declared:
            first = declared[name]
            where = f" (first declared at line {first.line})" if first.has_position else ""
            raise PdeSemanticError(f"`{name}` is declared twice{where}", item.span)
        declared[name] = item.span
    coordinate_names = {c.name for c in coordinates}
    for what, item in items:
        for f in fields:
            suffix = shorthand_suffix(item.name, f)
            if suffix is not None and split_coordinates(suffix, set(f.args) & coordinate_names):
                raise PdeSemanticError(
                    f"`{item.name}` is both a declared {what} and the derivative shorthand of "
                    f"field `{f.name}`", item.span, hint=f"rename the {what}")


def shorthand_suffix(name: str, field: Field) -> str | None:
    prefix = field.name + "_"
    return name[len(prefix):] if name.startswith(prefix) and len(name) > len(prefix) else None


def split_coordinates(suffix: str, coordinates: set[str]) -> list[str] | None:
    """Split `xxy` into coordinate names (`x`, `x`, `y`), or None if it does not split."""
    if not suffix:
        return []
    for name in sorted(coordinates, key=len, reverse=True):
        if suffix.startswith(name):
            rest = split_coordinates(suffix[len(name):], coordinates)
            if rest is not None:
                return [name] + rest
    return None


# -- coordinates, fields, params ------------------------------------------------------

def check_coordinates(coordinates: list[Coordinate],
                      system_span: Span | None = None) -> tuple[Coordinate, ...]:
    """Intervals with finite ends, end above start; at most one time; time first."""
    if not coordinates:
        raise PdeSemanticError("the system declares no coordinates",
                               system_span or Span(label="the system"),
                               hint="add `space x in [0, 1]` or `time t in [0, 1]`")
    times = [c for c in coordinates if c.is_time]
    if len(times) > 1:
        names = ", ".join(c.name for c in times)
        raise PdeSemanticError(f"more than one time coordinate ({names})", times[1].span,
                               hint="declare the others with `space`")
    for c in coordinates:
        ends = []
        for end in (c.lower, c.upper):
            value = numeric(end)
            if value is None:
                raise PdeSemanticError(f"the interval of `{c.name}` has the end {show(end)}, which "
                                       "is not a finite real number", c.span)
            ends.append(value)
        if not ends[1] > ends[0]:
            lower, upper = show(c.lower), show(c.upper)
            raise PdeSemanticError(
                f"the interval of `{c.name}` is [{lower}, {upper}]: its end is not above its "
                f"start", c.span, hint=f"write `{c.name} in [{upper}, {lower}]`?"
                if ends[1] < ends[0] else "give an interval of positive length")
    return tuple(times + [c for c in coordinates if not c.is_time])


def check_field_args(items: list[Field] | list[Param], coordinates: tuple[Coordinate, ...],
                     what: str) -> None:
    names = [c.name for c in coordinates]
    for item in items:
        if what == "field" and not item.args:
            raise PdeSemanticError(f"field `{item.name}` has no arguments", item.span,
                                   hint=f"write `field {item.name}({', '.join(names)})`")
        for arg in item.args:
            if arg not in names:
                raise PdeSemanticError(
                    f"{what} `{item.name}` has the argument `{arg}`, which is not a declared "
                    f"coordinate (coordinates: {', '.join(names)})", item.span)
        if len(set(item.args)) != len(item.args):
            raise PdeSemanticError(f"{what} `{item.name}` names a coordinate twice", item.span)


def numeric(value: sp.Expr) -> float | None:
    """The finite real value of a constant expression, else None."""
    if not isinstance(value, sp.Basic) or not value.is_number:
        return None  # evalf of a field, derivative or Subs can recurse without end
    try:
        number = complex(sp.N(value))
    except (TypeError, ValueError, OverflowError):
        return None
    if number.imag != 0 or not math.isfinite(number.real):
        return None
    return number.real


# -- expressions ----------------------------------------------------------------------

def check_expression(expr: sp.Expr, scope: Scope, span: Span, *, context: str,
                     coordinates: tuple[str, ...] | None = None, positional: bool = False,
                     fields_allowed: bool = True) -> None:
    """Names declared, fields called with their own arguments, derivatives by coordinates.

    `coordinates` limits which coordinates may appear (for exact solutions and coefficient
    fields); `positional` admits face values as field arguments (conditions only).
    """
    if not isinstance(expr, sp.Basic):
        raise PdeSemanticError(f"the {context} is {type(expr).__name__} {expr!r}, not a SymPy "
                               "expression", span)
    if expr.has(*BAD_NUMBERS) or expr.has(sp.I):
        raise PdeSemanticError(f"the {context} contains a value that is not a finite real "
                               "number (a division by zero, or an imaginary unit?)", span)
    for symbol in sorted(expr.free_symbols, key=str):
        kind = scope.kind(symbol.name)
        if kind == "coordinate":
            if coordinates is not None and symbol.name not in coordinates:
                raise PdeSemanticError(f"the {context} uses the coordinate `{symbol.name}`, "
                                       f"which it does not depend on (allowed: "
                                       f"{', '.join(coordinates) or 'none'})", span)
        elif kind != "constant":
            if kind in ("field", "coefficient"):
                args = ", ".join(scope.args_of(symbol.name))
                raise PdeSemanticError(f"`{symbol.name}` is a function of ({args}); write "
                                       f"`{symbol.name}({args})`", span)
            raise scope.unknown_name(symbol.name, span)
    for node in sp.preorder_traversal(expr):
        if isinstance(node, AppliedUndef):
            _check_application(node, scope, span, context, positional, fields_allowed)
        elif isinstance(node, sp.Derivative):
            _check_derivative(node, scope, span, context)
        elif isinstance(node, sp.Subs):
            if not positional:
                raise PdeSemanticError(f"the {context} evaluates an expression at a point "
                                       "(Subs); that belongs in a condition", span)
        elif isinstance(node, sp.Piecewise) and node.args[-1].cond is not sp.true:
            raise PdeSemanticError(f"the {context} has a Piecewise without a last (value, True) "
                                   "branch, so it has no value where no condition holds", span,
                                   hint="end it with (otherwise, True), as where(c, a, b) does")
        elif isinstance(node, Mean):
            raise PdeSemanticError(f"mean() in the {context}: a mean is only allowed as the "
                                   "whole left side of a condition", span,
                                   hint="write it as its own line, e.g. `bc mean(u) = 0`")
        elif isinstance(node, NormalDerivative):
            if context != "condition on the boundary":
                raise PdeSemanticError(f"d(u, n), the outward normal derivative, in the "
                                       f"{context}: it is allowed in conditions `on boundary` "
                                       "only", span)
        elif isinstance(node, NetOutput):
            _check_net_use(node, scope, span, context, fields_allowed)
        elif isinstance(node, sp.Function) and not isinstance(node, SUPPORTED_FUNCTIONS):
            supported = ", ".join(sorted(f.__name__ for f in SUPPORTED_FUNCTIONS))
            raise PdeSemanticError(f"the function `{type(node).__name__}` in the {context} is "
                                   f"not supported (supported: {supported})", span)


def _check_net_use(node: NetOutput, scope: Scope, span: Span, context: str,
                   fields_allowed: bool) -> None:
    """A learned function used as declared: its count of inputs, an output it has, and
    only where fields may be (equations and conditions)."""
    net = scope.net(node.net)
    if net is None:
        raise PdeSemanticError(f"the net `{node.net}` in the {context} is not declared",
                               span, hint="declare it with a `net` line (from Python: pass "
                                          "it in nets=[...])")
    if not fields_allowed:
        raise PdeSemanticError(f"the {context} cannot use the net `{net.name}`: a learned "
                               "function belongs in equations and conditions", span)
    if len(node.inputs) != len(net.inputs):
        raise PdeSemanticError(f"`{net.name}` is declared with {len(net.inputs)} input(s) "
                               f"but is used with {len(node.inputs)}: {node}", span)
    if not 0 <= node.index < net.outputs or node.outputs != net.outputs:
        raise PdeSemanticError(f"`{net.name}` has {net.outputs} output(s), numbered 0 to "
                               f"{net.outputs - 1}: {node} is not one of them", span)


def check_net(net: Net, scope: Scope) -> None:
    """A net's declaration: each input a field, a coordinate or a derivative of a field,
    none twice; sizes positive; a known activation."""
    def written(value: sp.Expr) -> str:
        return show(value, {f.name: f.args for f in scope.fields})

    seen = set()
    for value in net.inputs:
        ok = (isinstance(value, sp.Symbol) and scope.kind(value.name) == "coordinate") or \
            (isinstance(value, AppliedUndef) and scope.kind(value.func.__name__) == "field") or \
            (isinstance(value, sp.Derivative) and isinstance(value.expr, AppliedUndef) and
             scope.kind(value.expr.func.__name__) == "field")
        if not ok:
            raise PdeSemanticError(f"an input of the net `{net.name}` is a field, a coordinate "
                                   f"or a derivative of a field, not {written(value)}", net.span,
                                   hint="e.g. net q(T, d(T, z))")
        if value in seen:
            raise PdeSemanticError(f"the net `{net.name}` takes {written(value)} twice",
                                   net.span)
        seen.add(value)
    for what, size in (("outputs", net.outputs), ("width", net.width), ("depth", net.depth)):
        if not isinstance(size, int) or size < 1:
            raise PdeSemanticError(f"the net `{net.name}`'s {what} must be a positive whole "
                                   f"number, not {size}", net.span)
    if net.activation not in NET_ACTIVATIONS:
        raise PdeSemanticError(f"the net `{net.name}`'s activation {net.activation!r} is not "
                               f"available; choose one of {', '.join(NET_ACTIVATIONS)}",
                               net.span)


def _check_application(node: AppliedUndef, scope: Scope, span: Span, context: str,
                       positional: bool, fields_allowed: bool) -> None:
    name = node.func.__name__
    kind = scope.kind(name)
    if kind not in ("field", "coefficient"):
        if kind is None:
            raise scope.unknown_name(name, span)
        raise PdeSemanticError(f"`{name}` is a {kind}, not a function; write it without "
                               "arguments", span)
    if kind == "field" and not fields_allowed:
        raise PdeSemanticError(f"the {context} cannot depend on the field `{name}`", span)
    declared = scope.args_of(name)
    if len(node.args) != len(declared):
        raise PdeSemanticError(
            f"`{name}` is declared as {name}({', '.join(declared)}) but is used with "
            f"{len(node.args)} argument(s): {node}", span)
    for arg, expected in zip(node.args, declared):
        if arg == sp.Symbol(expected):
            continue
        if positional and kind == "field" and not arg.free_symbols and numeric(arg) is not None:
            continue
        if positional and kind == "field":
            raise PdeSemanticError(
                f"`{node}`: each argument of `{name}` must be its coordinate or a face value "
                f"(declared {name}({', '.join(declared)}))", span)
        raise PdeSemanticError(
            f"`{name}` is declared as {name}({', '.join(declared)}) but is used as {node}"
            + ("; a field evaluated on a face belongs in a condition"
               if kind == "field" and not arg.free_symbols else ""), span)


def _check_derivative(node: sp.Derivative, scope: Scope, span: Span, context: str) -> None:
    inner = node.expr
    names = [f.func.__name__ for f in inner.atoms(AppliedUndef)]
    for variable, count in node.variable_count:
        if not isinstance(variable, sp.Symbol) or scope.kind(variable.name) != "coordinate":
            raise PdeSemanticError(f"the derivative {node} is taken with respect to "
                                   f"`{variable}`, which is not a coordinate", span)
        check(int(count) <= MAX_DERIVATIVE_ORDER, f"derivative of order {count} in "
              f"`{variable}`; at most {MAX_DERIVATIVE_ORDER}", span)
        for name in names:
            if variable.name not in scope.args_of(name):
                raise PdeSemanticError(
                    f"the derivative with respect to `{variable}` of `{name}`, which is "
                    f"declared {name}({', '.join(scope.args_of(name))}) and does not depend on "
                    f"`{variable}`", span)


def check_bounds(param: Param) -> None:
    """`param D ~ guess in [lower, upper]`: numbers, lower < upper, the guess inside."""
    if param.bounds is None:
        return
    if not param.is_unknown or param.is_field:
        raise PdeSemanticError(f"bounds apply to an unknown constant (`param {param.name} ~ "
                               f"guess in [a, b]`); `{param.name}` is not one", param.span)
    lower, upper = (numeric(b) for b in param.bounds)
    if lower is None or upper is None:
        raise PdeSemanticError(f"the bounds of `{param.name}` must be numbers", param.span)
    if not lower < upper:
        raise PdeSemanticError(f"the bounds of `{param.name}` are an empty interval: "
                               f"[{lower:g}, {upper:g}]", param.span,
                               hint="write the lower bound first: `in [lower, upper]`")
    guess = numeric(param.guess)
    if guess is None or not lower < guess < upper:
        raise PdeSemanticError(f"the guess {param.guess} of `{param.name}` is not strictly "
                               f"inside its bounds [{lower:g}, {upper:g}]", param.span,
                               hint="start from a value between the bounds")
