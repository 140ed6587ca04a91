"""An expression of the language, made ready to evaluate on a result: its terms (a field or
an inferred coefficient field, maybe differentiated, maybe at a fixed coordinate) and a
NumPy function of their values and of the coordinates.

`d(psi*w, x)` becomes psi_x w + psi w_x (SymPy's product rule), so that every term is one
field's derivative, which a grid result takes by stencils and a network by automatic
differentiation; known constants and coefficient fields given by a formula become numbers
and formulas; inferred constants take the result's values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from pdelang import System
from pdelang.expressions import Mean, NetOutput, NormalDerivative
from pdelang.scope import Scope

from ..errors import OptionError


@dataclass(frozen=True)
class Term:
    """A field (or inferred coefficient field) `name`, differentiated by `derivative` (its
    coordinates, each repeated by its order: ("x", "x") is the second derivative), with
    the arguments `fixed` given numbers by the expression (u(0, y): x = 0)."""

    name: str
    derivative: tuple[str, ...] = ()
    fixed: tuple[tuple[str, float], ...] = ()

    def label(self) -> str:
        by = "".join(self.derivative)
        return f"d({self.name}, {', '.join(self.derivative)})" if by else self.name


@dataclass(frozen=True)
class Prepared:
    """`function(*term values, *coordinate values)`: the expression; `coordinates` the
    names it needs values of (those of its terms' free arguments and its own)."""

    text: str
    terms: tuple[Term, ...]
    coordinates: tuple[str, ...]
    function: Callable

    def __call__(self, terms: list[np.ndarray], coordinates: Mapping[str, np.ndarray]):
        return self.function(*terms, *(coordinates[c] for c in self.coordinates))


def prepare(expr: sp.Expr, text: str, system: System,
            inferred: Mapping[str, object]) -> Prepared:
    """`expr` (SymPy over the system's names) as terms and a NumPy function;
    `inferred`: the result's inferred parameters (constants and coefficient fields)."""
    for kind, what in ((NetOutput, "a learned function (net)"),
                       (NormalDerivative, "d(u, n)"), (Mean, "mean()")):
        if expr.has(kind):
            raise OptionError(f"{text!r}: {what} cannot be evaluated on a result",
                              hint="give the fields' expression; sol.integral() takes means "
                                   "and sol.discover() reads nets back as formulas")
    expr = _with_known_coefficients(expr, system).doit()
    constants = Scope(system.coordinates, system.fields, system.params).constants()
    constants.update({sp.Symbol(k): sp.Float(float(v)) for k, v in inferred.items()
                      if np.ndim(v) == 0 and not k.startswith("net.")})
    expr = expr.xreplace(constants)
    terms: dict[Term, sp.Dummy] = {}
    expr = _replace_terms(expr, system, terms)
    names = {c.name for c in system.coordinates}
    loose = sorted(s.name for s in expr.free_symbols if s not in terms.values()
                   and s.name not in names)
    if loose:
        raise OptionError(f"{text!r} uses {', '.join(loose)}, which has no value here "
                          "(an unknown parameter that was not inferred)")
    needed = {s.name for s in expr.free_symbols if s.name in names}
    for term in terms:
        owner = _owner(system, term.name)
        needed |= set(owner.args) - {a for a, _ in term.fixed}
    coordinates = tuple(c.name for c in system.coordinates if c.name in needed)
    symbols = [*terms.values(), *(sp.Symbol(c) for c in coordinates)]
    function = sp.lambdify(symbols, expr, modules="numpy")
    return Prepared(text, tuple(terms), coordinates, function)


def _owner(system: System, name: str):
    try:
        return system.field(name)
    except KeyError:
        return system.param(name)


def _with_known_coefficients(expr: sp.Expr, system: System) -> sp.Expr:
    """Coefficient fields defined by a formula, replaced by it (at their arguments)."""
    for p in system.params:
        if p.is_field and p.value is not None and not p.is_unknown:
            formula = sp.Lambda(tuple(sp.Symbol(a) for a in p.args), p.value)
            expr = expr.replace(sp.Function(p.name), formula)
    return expr


def _replace_terms(expr: sp.Expr, system: System, terms: dict[Term, sp.Dummy]) -> sp.Expr:
    """`expr` with each field, derivative and Subs of one replaced by a symbol of `terms`."""
    if isinstance(expr, sp.Subs):
        inner, variables, points = expr.args
        fixed = {v.name: float(p) for v, p in zip(variables, points)}
        return _term(inner, system, terms, fixed)
    if isinstance(expr, (sp.Derivative, AppliedUndef)):
        return _term(expr, system, terms, {})
    if not expr.args:
        return expr
    return expr.func(*(_replace_terms(a, system, terms) for a in expr.args))


def _term(expr: sp.Expr, system: System, terms: dict[Term, sp.Dummy],
          fixed: dict[str, float]) -> sp.Dummy:
    derivative: tuple[str, ...] = ()
    if isinstance(expr, sp.Derivative):
        derivative = tuple(v.name for v, count in expr.variable_count for _ in range(count))
        expr = expr.expr
    if not isinstance(expr, AppliedUndef):
        raise OptionError(f"cannot evaluate the derivative of {expr} on a result")
    name = expr.func.__name__
    owner = _owner(system, name)
    for arg, declared in zip(expr.args, owner.args):
        if arg != sp.Symbol(declared):
            if not arg.is_number:
                raise OptionError(f"{name}({', '.join(map(str, expr.args))}): an argument is "
                                  f"`{declared}` or a number")
            fixed[declared] = float(arg)
    term = Term(name, derivative, tuple(sorted(fixed.items())))
    return terms.setdefault(term, sp.Dummy(term.label()))
