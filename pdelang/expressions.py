"""Building SymPy expressions safely, and what the language allows inside them.

The text front end builds every expression through these functions, never through
`sympify` or `eval`; they refuse values that would hang SymPy (huge powers, exponentials of
huge numbers) or that are not real numbers (division by zero, square roots of negatives).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.core.symbol import Str

from .errors import PdeSemanticError, Span
from .limits import (
    MAX_EXPONENT,
    MAX_EXPRESSION_NODES,
    MAX_FUNCTION_ARGUMENT,
    MAX_MAGNITUDE_DIGITS,
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
FUNCTION_NAMES = {function: name for name, function in FUNCTIONS.items()}
LOG10_2 = math.log10(2)

# Names with a meaning of their own in expressions; they cannot be declared.
BUILTIN_NAMES = frozenset(FUNCTIONS) | {"pi", "d", "laplace", "where", "load", "mean"}
KEYWORDS = frozenset({"problem", "param", "space", "time", "field", "pde", "bc", "ic", "at",
                      "periodic", "data", "exact", "in", "domain", "on", "boundary", "net"})

# SymPy function classes a compiler can lower; a SymPy-built system may use these too.
SUPPORTED_FUNCTIONS: tuple[type, ...] = (
    sp.sin, sp.cos, sp.tan, sp.exp, sp.log, sp.tanh, sp.sinh, sp.cosh, sp.Abs, sp.sign,
    sp.Min, sp.Max, sp.Piecewise, sp.asin, sp.acos, sp.atan, sp.atan2, sp.erf,
    sp.Heaviside, sp.sec, sp.csc, sp.cot, sp.asinh, sp.acosh, sp.atanh,
)

BAD_NUMBERS = (sp.zoo, sp.nan, sp.oo, -sp.oo)


class NormalDerivative(sp.Function):
    """`d(u, n)`: the derivative of field u along the outward normal of a shaped domain's
    boundary; only in conditions `on boundary` (the language's `n` is not a coordinate)."""

    nargs = 1


class Mean(sp.Function):
    """`mean(u)`: the mean of an expression of the fields over the space domain.

    Only the whole left side of a condition (`bc mean(u) = 0`) may be one: it fixes a
    solution that the equations and boundary conditions determine up to a constant.
    """

    nargs = 1


class NetOutput(sp.Function):
    """Output `index` of the learned function `net` (a `net` line) at `inputs`: args
    (Str(net), index, outputs, *inputs). It knows its output count so that it prints back
    as the language writes it: `F(u, v)` for one output, `G(u, v)[1]` for several."""

    is_real = True

    @classmethod
    def of(cls, net: str, index: int, outputs: int, inputs) -> NetOutput:
        return cls(Str(net), sp.Integer(index), sp.Integer(outputs), *inputs)

    @property
    def net(self) -> str:
        return self.args[0].name

    @property
    def index(self) -> int:
        return int(self.args[1])

    @property
    def outputs(self) -> int:
        return int(self.args[2])

    @property
    def inputs(self) -> tuple[sp.Expr, ...]:
        return self.args[3:]

    def _eval_derivative(self, s: sp.Symbol) -> sp.Expr:
        # the chain rule would need the network's own derivatives: kept whole, d(F(u), x),
        # for the compilers (a stencil over its values, or forward mode through it)
        return sp.Derivative(self, s, evaluate=False) if self.has(s) else sp.S.Zero

    def label(self, show) -> str:
        """How the language writes it, `show` printing each input."""
        call = f"{self.net}({', '.join(show(a) for a in self.inputs)})"
        return call if self.outputs == 1 else f"{call}[{self.index}]"

    def _sympystr(self, printer) -> str:
        return self.label(printer._print)

    def _latex(self, printer) -> str:
        inputs = ", ".join(printer._print(a) for a in self.inputs)
        call = rf"\operatorname{{{self.net}}}\left({inputs}\right)"
        return call if self.outputs == 1 else rf"{call}_{{{self.index}}}"


class NetSlope(NetOutput):
    """The partial derivative of output `index` of the net `net` with respect to its input
    number `wrt`, at `inputs`: args (Str(net), index, outputs, wrt, *inputs). The chain
    rule through a learned function gives these (`compiler.common.nets.chain_rule`), for
    a compiler that differences the inputs (fd) instead of differentiating the whole."""

    @classmethod
    def of(cls, net: str, index: int, outputs: int, inputs, wrt: int = 0) -> NetSlope:
        return cls(Str(net), sp.Integer(index), sp.Integer(outputs), sp.Integer(wrt), *inputs)

    @property
    def wrt(self) -> int:
        return int(self.args[3])

    @property
    def inputs(self) -> tuple[sp.Expr, ...]:
        return self.args[4:]

    def label(self, show) -> str:
        return f"d{super().label(show)}/d#{self.wrt + 1}"

    def _latex(self, printer) -> str:
        return rf"\partial_{{{self.wrt + 1}}} {super()._latex(printer)}"


def net_outputs(expr: sp.Basic) -> list[NetOutput]:
    """The uses of learned functions in `expr`, in tree order."""
    return [n for n in sp.preorder_traversal(expr) if isinstance(n, NetOutput)]


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
    """`base ^ exponent`, refusing exponents or numeric results too large to compute.

    A symbolic exponent is held to the numbers in it: SymPy splits `b^(x + c)` into `b^c`
    when it simplifies or asks whether the power is real, so `c` must be small too.
    """
    if exponent.is_number:
        magnitude = _magnitude(exponent)
        shown = _short(exponent)
    else:
        magnitudes = [_magnitude(n) for n in exponent.atoms(sp.Number)]
        magnitude = max(magnitudes, default=0.0) if None not in magnitudes else None
        shown = f"{_short(exponent)} (with numbers up to {magnitude:g})" if magnitude else (
            _short(exponent))
    check(magnitude is not None and magnitude <= MAX_EXPONENT,
          f"the exponent {shown} is too large (at most {MAX_EXPONENT})", span)
    if base.is_number:
        size = _magnitude(base)
        if size is None:
            digits = math.inf
        else:
            digits = 0.0 if size == 0 else abs(math.log10(size)) * magnitude
        check(digits <= MAX_NUMBER_DIGITS,
              f"{_operand(base)}^{_operand(exponent)} has about {digits:.0f} digits; at most "
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
    """`expr` itself, if it is not a number that is infinite, undefined or complex, and
    holds no number too large or too small to compute with."""
    check_magnitude(expr, span)
    if expr.is_number:
        if expr.has(*BAD_NUMBERS):
            raise PdeSemanticError("the expression has no finite value (a division by zero, "
                                   "or log of zero?)", span)
        if expr.is_real is False:
            raise PdeSemanticError(f"the expression has the complex value {_short(expr)}; "
                                   "only real values are allowed", span)
    return expr


def check_magnitude(expr: sp.Basic, span: Span) -> sp.Basic:
    """Refuse numbers beyond about 10^(+-MAX_MAGNITUDE_DIGITS), such as the `exp(1e300)` that
    SymPy computes from `exp(x + 1e300)`: comparing or simplifying them makes SymPy build
    exact integers of that many bits, which is slow or raises `OverflowError`."""
    for n in expr.atoms(sp.Float, sp.Rational):
        digits = _digits(n)
        check(digits <= MAX_MAGNITUDE_DIGITS, f"a number in the expression is too large or "
              f"too small to compute with (about 10^{_exponent10(n)}; the limit is "
              f"10^+-{MAX_MAGNITUDE_DIGITS})", span)
    return expr


def substitute(expr: sp.Expr, values: Mapping[sp.Symbol, sp.Expr], span: Span) -> sp.Expr:
    """`expr` with `values` put in for symbols, rebuilt node by node with the checks above.

    `xreplace` or `subs` would let SymPy compute `2^x` at `x = 10^300` exactly (a hang);
    here every rebuilt power, function and product goes through `power`, `call` or `real`.
    """
    keys = set(values)
    done: dict[sp.Basic, sp.Basic] = {}

    def walk(node: sp.Basic) -> sp.Basic:
        if node in values:
            return values[node]
        if not (node.free_symbols & keys):
            return node
        if node not in done:
            args = [walk(a) for a in node.args]
            if isinstance(node, sp.Pow):
                result = power(args[0], args[1], span)
            elif FUNCTION_NAMES.get(node.func) in FAST_GROWING:
                result = call(FUNCTION_NAMES[node.func], args, span)
            else:
                result = node.func(*args)
                if isinstance(result, sp.Expr):
                    result = real(result, span)
            done[node] = result
        return done[node]

    return walk(expr)


COMPLEX_PARTS = (sp.re, sp.im, sp.arg, sp.conjugate)


def realify(expr: sp.Expr) -> sp.Expr:
    """`expr` as SymPy writes it when every symbol and field is real, in plain symbols again.

    The language is real-valued, but plain SymPy symbols are complex: `abs(exp(x))` becomes
    `exp(re(x))` and `d(abs(u), x)` a sum of `re` and `im` terms. Redone with real symbols
    and functions they are `exp(x)` and `sign(u)*u_x`.
    """
    if not isinstance(expr, sp.Basic) or not expr.has(*COMPLEX_PARTS):
        return expr
    symbols = {s: sp.Symbol(s.name, real=True) for s in expr.free_symbols
               if isinstance(s, sp.Symbol)}
    real = expr.xreplace(symbols).replace(
        lambda e: isinstance(e, AppliedUndef),
        lambda e: sp.Function(e.func.__name__, real=True)(*e.args))
    plain = real.xreplace({r: s for s, r in symbols.items()})
    return plain.replace(lambda e: isinstance(e, AppliedUndef),
                         lambda e: sp.Function(e.func.__name__)(*e.args))


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


def _digits(n: sp.Number) -> float:
    """Decimal digits needed to write `n` exactly (Integer, Rational) or its exponent (Float)."""
    if isinstance(n, sp.Float):
        _, mantissa, exponent, bits = n._mpf_
        return 0.0 if not mantissa else abs(exponent + bits) * LOG10_2
    return max(abs(n.p).bit_length(), abs(n.q).bit_length()) * LOG10_2


def _exponent10(n: sp.Number) -> str:
    if isinstance(n, sp.Float):
        _, mantissa, exponent, bits = n._mpf_
        value = (exponent + bits) * LOG10_2
    else:
        value = (abs(n.p).bit_length() - abs(n.q).bit_length()) * LOG10_2
    return f"{value:+.0f}" if abs(value) < 1e6 else f"({value:+.3g})"


def _operand(expr: sp.Expr) -> str:
    """`_short(expr)`, bracketed unless it is a symbol or a non-negative number."""
    text = _short(expr)
    return text if expr.is_Symbol or (expr.is_Number and expr >= 0) else f"({text})"


def _short(expr: sp.Expr) -> str:
    from .printing import expression_to_pde

    text = expression_to_pde(expr)
    return text if len(text) <= 40 else text[:37] + "..."
