"""Building SymPy expressions safely, and what the language allows inside them.

The text front end builds every expression through these functions, never through
`sympify` or `eval`; they refuse values that would hang SymPy (huge powers, exponentials of
huge numbers) or that are not real numbers (division by zero, square roots of negatives).
"""

from __future__ import annotations

import math

import sympy as sp
from sympy.core.function import AppliedUndef

from .errors import PdeSemanticError, Span
from .limits import (
    MAX_EXPONENT,
    MAX_EXPRESSION_NODES,
    MAX_FUNCTION_ARGUMENT,
    MAX_NUMBER_DIGITS,
    check,
)

# The functions of the `.pde` language, by their name in the language.
FUNCTIONS: dict[str, sp.FunctionClass] = {
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "tanh": sp.tanh,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "abs": sp.Abs,
    "sign": sp.sign,
    "min": sp.Min,
    "max": sp.Max,
}
VARIADIC = {"min", "max"}
FAST_GROWING = {"exp", "sinh", "cosh"}

# Names with a meaning of their own in expressions; they cannot be declared.
BUILTIN_NAMES = frozenset(FUNCTIONS) | {"pi", "d", "laplace", "where", "load"}

# SymPy function classes a compiler can lower; a SymPy-built system may use these too.
SUPPORTED_FUNCTIONS: tuple[type, ...] = (
    sp.sin, sp.cos, sp.tan, sp.exp, sp.log, sp.tanh, sp.sinh, sp.cosh, sp.Abs, sp.sign,
    sp.Min, sp.Max, sp.Piecewise, sp.asin, sp.acos, sp.atan, sp.atan2, sp.erf,
    sp.Heaviside, sp.sec, sp.csc, sp.cot, sp.asinh, sp.acosh, sp.atanh,
)

BAD_NUMBERS = (sp.zoo, sp.nan, sp.oo, -sp.oo)


def number(text: str, span: Span) -> sp.Expr:
    """A numeric literal: an exact integer, or a float as Python reads it."""
    if text.isdigit():
        check(len(text) <= MAX_NUMBER_DIGITS, f"the number has {len(text)} digits; at most "
              f"{MAX_NUMBER_DIGITS} are allowed", span)
        return sp.Integer(int(text))
    value = float(text)
    if not math.isfinite(value):
        raise PdeSemanticError(f"the number {text} is too large to represent", span)
    return sp.Float(value)


def power(base: sp.Expr, exponent: sp.Expr, span: Span) -> sp.Expr:
    """`base ^ exponent`, refusing exponents or numeric results too large to compute."""
    if exponent.is_number:
        magnitude = _magnitude(exponent)
        check(magnitude is not None and magnitude <= MAX_EXPONENT,
              f"the exponent {_short(exponent)} is too large (at most {MAX_EXPONENT})", span)
        if base.is_number:
            size = _magnitude(base)
            if size is None:
                digits = math.inf
            else:
                digits = 0.0 if size == 0 else abs(math.log10(size)) * magnitude
            check(digits <= MAX_NUMBER_DIGITS,
                  f"{_short(base)}^{_short(exponent)} has about {digits:.0f} digits; at most "
                  f"{MAX_NUMBER_DIGITS} are allowed", span)
    return real(base**exponent, span)


def call(name: str, args: list[sp.Expr], span: Span) -> sp.Expr:
    """Apply the language function `name` to `args`, checking the count and range."""
    function = FUNCTIONS[name]
    if name in VARIADIC:
        if len(args) < 2:
            raise PdeSemanticError(f"{name}() takes at least 2 arguments, got {len(args)}", span)
    elif len(args) != 1:
        raise PdeSemanticError(f"{name}() takes 1 argument, got {len(args)}", span)
    if name in FAST_GROWING and args[0].is_number:
        magnitude = _magnitude(args[0])
        check(magnitude is not None and magnitude <= MAX_FUNCTION_ARGUMENT,
              f"{name}({_short(args[0])}) is too large to compute", span)
    return real(function(*args), span)


def real(expr: sp.Expr, span: Span) -> sp.Expr:
    """`expr` itself, if it is not a number that is infinite, undefined or complex."""
    if expr.is_number:
        if expr.has(*BAD_NUMBERS):
            raise PdeSemanticError("the expression has no finite value (a division by zero, "
                                   "or log of zero?)", span)
        if expr.is_real is False:
            raise PdeSemanticError(f"the expression has the complex value {_short(expr)}; "
                                   "only real values are allowed", span)
    return expr


def check_size(expr: sp.Expr, span: Span) -> sp.Expr:
    """Refuse expressions with more nodes than the limit (after SymPy's own evaluation)."""
    count = 0
    for _ in sp.preorder_traversal(expr):
        count += 1
        if count > MAX_EXPRESSION_NODES:
            check(False, f"the expression has more than {MAX_EXPRESSION_NODES} terms", span)
    return expr


def applied_functions(expr: sp.Expr) -> list[AppliedUndef]:
    """Applied undefined functions (`u(t, x)`, `c(x)`, `u(t, 0)`) in tree order, no repeats."""
    seen: dict[sp.Expr, None] = {}
    for node in sp.preorder_traversal(expr):
        if isinstance(node, AppliedUndef):
            seen.setdefault(node, None)
    return list(seen)


def _magnitude(value: sp.Expr) -> float | None:
    try:
        result = abs(complex(value))
    except (OverflowError, TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def _short(expr: sp.Expr) -> str:
    text = str(expr)
    return text if len(text) <= 40 else text[:37] + "..."
