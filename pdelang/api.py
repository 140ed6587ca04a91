"""The SymPy front end: `PDESystem(...)` in the style of ModelingToolkit.

A system written with plain SymPy (`sp.Function("u")(x, y)`, `.diff`, `sp.Eq`) becomes the
same IR as its `.pde` text. Symbols and functions are matched by name, so symbols created
with assumptions (`real=True`) are the same coordinates as plain ones.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from .build import build_system, check_declarations
from .data import load_observations, load_samples, observations
from .declarations import ConditionDecl, Declarations, EquationDecl
from .errors import PdeSemanticError, Span
from .geometry import Inequality, Shape
from .ir import Coordinate, Exact, Field, Net, Observations, Param, Samples, System
from .regions import check_region


@dataclass(frozen=True)
class At:
    """A condition that holds on the face `coordinate = value`: `At(Eq(u, 0), x, 0)`; or,
    with a mapping of every coordinate of the field to a value, at one point of the
    domain: `At(Eq(u, 0), {x: 0, y: 0})` (it fixes a solution known up to a constant)."""

    equation: object
    coordinate: object
    value: object = None


@dataclass(frozen=True)
class OnBoundary:
    """A condition on the boundary of the shaped `region` of the system (the language's
    `bc ... on boundary`), on the part where the relational `where` holds (None: all)."""

    equation: object
    where: object = None


@dataclass(frozen=True)
class Periodic:
    """Periodicity of every field in one space coordinate."""

    coordinate: sp.Symbol


@dataclass(frozen=True)
class Unknown:
    """A parameter to infer from data, starting from `guess` (a number, or an expression of
    the coefficient field's coordinates); a constant may have `bounds=(lower, upper)`."""

    guess: object = 1.0
    bounds: tuple[object, object] | None = None


@dataclass(frozen=True, eq=False)
class Sampled:
    """A coefficient field sampled on a uniform grid (both ends included), one axis per
    argument: a path to a `.npy` file, or an array."""

    source: object


class Differential:
    """ModelingToolkit's `Differential(x)`: `Dx(u)`, `Dx**2`, and composition `Dx * Dy`."""

    def __init__(self, *variables: sp.Symbol) -> None:
        self.variables = tuple(variables)

    def __call__(self, expr: sp.Expr) -> sp.Expr:
        return sp.diff(expr, *self.variables)

    def __pow__(self, n: int) -> Differential:
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"a Differential can be raised to a positive integer, not {n!r}")
        return Differential(*(self.variables * n))

    def __mul__(self, other: Differential) -> Differential:
        if not isinstance(other, Differential):
            return NotImplemented
        return Differential(*self.variables, *other.variables)

    __matmul__ = __mul__

    def __repr__(self) -> str:
        return f"Differential({', '.join(map(str, self.variables))})"


def PDESystem(  # noqa: N802 - named like the ModelingToolkit constructor it mirrors
    equations: Iterable[object],
    conditions: Iterable[object],
    domain: Mapping[sp.Symbol, object],
    unknowns: Iterable[object] | None = None,
    params: Mapping[object, object] | None = None,
    time: sp.Symbol | None = None,
    *,
    exact: Mapping[object, object] | None = None,
    data: Iterable[object] | object | None = None,
    name: str = "",
    base: str | Path | None = None,
    region: object = None,
    nets: Iterable[Net] = (),
) -> System:
    """Build and validate a system from SymPy objects; returns the IR (`System`).

    `domain` maps each coordinate to `(start, end)`; a coordinate named `t`, or the one
    given as `time`, is time. `params` maps a symbol to a number or `Unknown(guess)`, and
    an applied function `c(x, y)` to an expression, `Sampled(...)` or `Unknown(guess)`
    (`Unknown(0.3, bounds=(0, 10))` keeps a constant inside an interval). Conditions are
    `Eq(...)` (faces written positionally), `At(...)`, `Periodic(x)`, or
    `Eq(Mean(u), 0)`: the mean over the domain. `exact` maps a field to its known
    solution; `data` gives observations as CSV paths or
    mappings from column name to values. Relative paths start at `base`. `region` makes
    the domain a shape inside that box (the language's `domain` line): shapes from
    `pl.rect`, `pl.disk`, `pl.ellipse`, `pl.polygon`, `pl.box`, `pl.ball`, `pl.cylinder`
    combined with +, - and &, or a SymPy inequality of the coordinates; its conditions are
    `OnBoundary(Eq(u, 0))` or `OnBoundary(Eq(u, 0), where=x > 0)`. `nets` lists the
    learned functions the equations use (`Net("F", inputs=(u, v), width=16, depth=2)`,
    called like a function: `F(u, v)`, or `G[k]` for output k of a vector-valued one).
    """
    if not isinstance(name, str) or any(ch in name for ch in '"\r\n'):
        raise PdeSemanticError(f"the name {name!r} must be text without double quotes or line "
                               'breaks (it is written as problem "..." in .pde text)',
                               _label("name"))
    decls = Declarations(name=name)
    equations = _items(equations, "equations")
    conditions = _items(conditions, "conditions")
    decls.coordinates = _coordinates(domain, time)
    decls.params = _params(params or {}, base)
    param_names = {p.name for p in decls.params}
    decls.nets = [_net(n, i) for i, n in enumerate(_items(nets, "nets"))]
    decls.fields = _fields(unknowns, equations, decls.coordinates, param_names)
    decls.equations = [EquationDecl(*_sides(e, f"equation {i + 1}"), _label(f"equation {i + 1}"))
                       for i, e in enumerate(equations)]
    decls.conditions = [_condition(c, i) for i, c in enumerate(conditions)]
    decls.exact = [_exact(k, v) for k, v in (exact or {}).items()]
    scope = check_declarations(decls)
    if region is not None:
        decls.domain = _region(region, decls.coordinates)
        decls.domain_span = _label("region")
    known = {c.name for c in decls.coordinates} | {f.name for f in decls.fields}
    decls.data = _data(data, base, known)
    return build_system(decls, scope)


def _net(net: object, index: int) -> Net:
    if not isinstance(net, Net):
        raise PdeSemanticError(f"nets[{index}] is {type(net).__name__} {net!r}; give "
                               "pl.Net(name, inputs=(...), width=..., depth=...)",
                               _label(f"nets[{index}]"))
    inputs = tuple(plain(a, f"input of the net {net.name}") for a in net.inputs)
    return replace(net, inputs=inputs, span=_label(f"net {net.name}"))


def _label(text: str) -> Span:
    return Span(label=text)


def _items(value: object, what: str) -> list[object]:
    """A list of the items of `value`; a single item or text is refused with a clear message."""
    if isinstance(value, (str, bytes, sp.Basic, Mapping)) or not isinstance(value, Iterable):
        raise PdeSemanticError(f"`{what}` must be a list, not {type(value).__name__} "
                               f"{value!r}", _label(what), hint=f"e.g. {what}=[sp.Eq(..., ...)]")
    return list(value)


def plain(expr: object, where: str) -> sp.Expr:
    """A SymPy expression with symbols and functions matched by name alone."""
    if isinstance(expr, bool) or not isinstance(expr, (sp.Basic, numbers.Number)):
        raise PdeSemanticError(f"the {where} is {type(expr).__name__} {expr!r}; give a SymPy "
                               "expression or a number (text is never evaluated)", _label(where))
    expr = sp.S(expr)
    symbols = {s: sp.Symbol(s.name) for s in expr.free_symbols if isinstance(s, sp.Symbol)}
    expr = expr.xreplace(symbols)
    return expr.replace(lambda e: isinstance(e, AppliedUndef),
                        lambda e: sp.Function(e.func.__name__)(*e.args))


def _sides(equation: object, where: str) -> tuple[sp.Expr, sp.Expr]:
    if isinstance(equation, sp.Eq):
        return plain(equation.lhs, where), plain(equation.rhs, where)
    if isinstance(equation, sp.core.relational.Relational) or equation in (sp.true, sp.false):
        raise PdeSemanticError(f"the {where} is {equation!r}; give sp.Eq(lhs, rhs) (an Eq of "
                               "two equal things evaluates to True: build it with "
                               "evaluate=False or write the residual)", _label(where))
    return plain(equation, where), sp.S.Zero


def _coordinates(domain: Mapping[sp.Symbol, object], time: sp.Symbol | None) -> list[Coordinate]:
    if not isinstance(domain, Mapping) or not domain:
        raise PdeSemanticError("`domain` must map each coordinate to its interval, e.g. "
                               "{x: (0, 1)}", _label("domain"))
    time_name = getattr(time, "name", None) if time is not None else (
        "t" if any(getattr(s, "name", None) == "t" for s in domain) else None)
    coordinates = []
    for symbol, interval in domain.items():
        where = f"domain[{symbol}]"
        if not isinstance(symbol, sp.Symbol):
            raise PdeSemanticError(f"the domain key {symbol!r} is not a SymPy symbol",
                                   _label(where))
        if isinstance(interval, sp.Interval):
            ends = (interval.start, interval.end)
        elif isinstance(interval, (tuple, list)) and len(interval) == 2:
            ends = tuple(interval)
        else:
            raise PdeSemanticError(f"the interval of `{symbol}` is {interval!r}; give (start, "
                                   "end)", _label(where))
        lower, upper = (plain(e, where) for e in ends)
        coordinates.append(Coordinate(symbol.name, lower, upper, symbol.name == time_name,
                                      _label(where)))
    if time_name is not None and not any(c.is_time for c in coordinates):
        raise PdeSemanticError(f"time={time_name} is not a coordinate of the domain",
                               _label("time"))
    return coordinates


def _params(params: Mapping[object, object], base: str | Path | None) -> list[Param]:
    out = []
    for key, value in params.items():
        where = f"params[{key}]"
        if isinstance(key, sp.Symbol):
            name, args = key.name, ()
        elif isinstance(key, AppliedUndef) and all(isinstance(a, sp.Symbol) for a in key.args):
            name, args = key.func.__name__, tuple(a.name for a in key.args)
        else:
            raise PdeSemanticError(f"the parameter key {key!r} is neither a symbol nor a "
                                   "function of coordinates such as c(x, y)", _label(where))
        span = _label(where)
        if isinstance(value, Unknown):
            bounds = (None if value.bounds is None else
                      tuple(plain(b, f"{where}.bounds") for b in _pair(value.bounds, where)))
            out.append(Param(name, args, guess=plain(value.guess, where), span=span,
                             bounds=bounds))
        elif isinstance(value, Sampled):
            out.append(Param(name, args, samples=_samples(value, base, len(args), span),
                             span=span))
        else:
            out.append(Param(name, args, value=plain(value, where), span=span))
    return out


def _pair(bounds: object, where: str) -> tuple[object, object]:
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
        raise PdeSemanticError(f"the bounds are (lower, upper), not {bounds!r}",
                               _label(f"{where}.bounds"))
    return bounds[0], bounds[1]


def _samples(value: Sampled, base: str | Path | None, axes: int, span: Span) -> Samples:
    if not axes:
        raise PdeSemanticError("Sampled(...) defines a coefficient field; use a key such as "
                               "c(x, y)", span)
    if isinstance(value.source, (str, Path)):
        return load_samples(str(value.source), base, axes, span)
    array = np.asarray(value.source, dtype=float)
    if array.ndim != axes or min(array.shape) < 2 or not np.all(np.isfinite(array)):
        raise PdeSemanticError(f"the sampled array has shape {array.shape}; it needs {axes} "
                               "axes of at least 2 finite samples each", span)
    return Samples(array)


def _fields(unknowns: Iterable[object] | None, equations: list[object],
            coordinates: list[Coordinate], param_names: set[str]) -> list[Field]:
    coordinate_names = {c.name for c in coordinates}
    seen: dict[str, tuple[str, ...]] = {}
    for i, equation in enumerate(equations):
        lhs, rhs = _sides(equation, f"equation {i + 1}")
        for expr in (lhs, rhs):
            for app in sp.preorder_traversal(expr):
                if isinstance(app, AppliedUndef) and app.func.__name__ not in param_names:
                    args = tuple(getattr(a, "name", "") for a in app.args)
                    if all(a in coordinate_names for a in args):
                        seen.setdefault(app.func.__name__, args)
    if unknowns is None:
        return [Field(n, a, _label(f"field {n}")) for n, a in seen.items()]
    fields = []
    for item in unknowns:
        if isinstance(item, AppliedUndef):
            args = tuple(getattr(a, "name", str(a)) for a in item.args)
            fields.append(Field(item.func.__name__, args, _label(f"field {item}")))
        elif isinstance(item, sp.core.function.UndefinedFunction):
            name = item.__name__
            if name not in seen:
                raise PdeSemanticError(f"the unknown `{name}` is not used with its coordinates "
                                       f"in any equation; give it applied, e.g. {name}(x, y)",
                                       _label("unknowns"))
            fields.append(Field(name, seen[name], _label(f"field {name}")))
        else:
            raise PdeSemanticError(f"the unknown {item!r} is not a function such as u or "
                                   "u(t, x)", _label("unknowns"))
    return fields


def _region(region: object, coordinates: list[Coordinate]) -> Shape:
    """A shape, or an inequality of the space coordinates, checked against the box."""
    space = tuple(c for c in coordinates if not c.is_time)
    span = _label("region")
    if isinstance(region, sp.core.relational.Relational) and not isinstance(
            region, (sp.Eq, sp.Ne)):
        lhs, rhs = plain(region.lhs, "region"), plain(region.rhs, "region")
        level = lhs - rhs if region.rel_op in ("<", "<=") else rhs - lhs
        names = tuple(c.name for c in space)
        stray = sorted(str(s) for s in level.free_symbols if str(s) not in names)
        if stray:
            raise PdeSemanticError(f"the region's inequality uses {', '.join(stray)}; it may "
                                   "use the space coordinates only", span)
        region = Inequality(level, names, tuple((float(c.lower), float(c.upper))
                                                for c in space), str(region))
    if not isinstance(region, Shape):
        raise PdeSemanticError(f"region= takes a shape (pl.disk(...), pl.rect(...) - ...) or "
                               f"an inequality of the coordinates, not {region!r}", span)
    if region.dims != len(space):
        raise PdeSemanticError(f"the region is {region.dims}-D and the system has "
                               f"{len(space)} space coordinate(s)", span)
    check_region(region, space, span)
    return region


def _condition(condition: object, index: int) -> ConditionDecl:
    where = f"condition {index + 1}"
    span = _label(where)
    if isinstance(condition, OnBoundary):
        lhs, rhs = _sides(condition.equation, where)
        part = condition.where
        if part is not None and not isinstance(part, sp.core.relational.Relational):
            raise PdeSemanticError(f"OnBoundary(where=...) takes a comparison of the "
                                   f"coordinates such as x > 0, not {part!r}", span)
        return ConditionDecl(lhs, rhs, span, keyword="bc", on_boundary=True, where=part)
    if isinstance(condition, Periodic):
        name = getattr(condition.coordinate, "name", str(condition.coordinate))
        return ConditionDecl(sp.S.Zero, sp.S.Zero, span, periodic=name)
    if isinstance(condition, At) and isinstance(condition.coordinate, Mapping):
        lhs, rhs = _sides(condition.equation, where)
        point = tuple((getattr(k, "name", str(k)), plain(v, where))
                      for k, v in condition.coordinate.items())
        return ConditionDecl(lhs, rhs, span, point=point)
    if isinstance(condition, At):
        lhs, rhs = _sides(condition.equation, where)
        name = getattr(condition.coordinate, "name", None)
        if name is None:
            raise PdeSemanticError(f"At(...) needs a coordinate symbol, not "
                                   f"{condition.coordinate!r}", span)
        return ConditionDecl(lhs, rhs, span, at=(name, plain(condition.value, where)))
    lhs, rhs = _sides(condition, where)
    return ConditionDecl(lhs, rhs, span)


def _exact(key: object, value: object) -> Exact:
    name = key.func.__name__ if isinstance(key, AppliedUndef) else getattr(key, "__name__", None)
    if not isinstance(name, str):
        raise PdeSemanticError(f"the exact solution key {key!r} is not a field", _label("exact"))
    return Exact(name, plain(value, f"exact[{name}]"), _label(f"exact[{name}]"))


def _data(data: object, base: str | Path | None, known: set[str]) -> list[Observations]:
    if data is None:
        return []
    if isinstance(data, (str, Path, Mapping, Observations)):
        items = [data]
    elif isinstance(data, Iterable) and not isinstance(data, (bytes, sp.Basic)):
        items = list(data)
    else:
        raise PdeSemanticError(f"`data` is {type(data).__name__} {data!r}; give a CSV path, a "
                               "mapping from column name to values, or a list of them",
                               _label("data"))
    out = []
    for i, item in enumerate(items):
        span = _label(f"data {i + 1}")
        if isinstance(item, Observations):
            out.append(item)
        elif isinstance(item, (str, Path)):
            out.append(load_observations(str(item), base, known, span))
        elif isinstance(item, Mapping):
            columns = tuple(str(k) for k in item)
            arrays = [np.ravel(np.asarray(v, dtype=float)) for v in item.values()]
            if len({a.size for a in arrays}) != 1:
                raise PdeSemanticError("the observation columns have different lengths", span)
            out.append(observations(columns, np.stack(arrays, axis=1), known, span))
        else:
            raise PdeSemanticError(f"data item {item!r} is neither a CSV path nor a mapping "
                                   "of columns", span)
    return out
