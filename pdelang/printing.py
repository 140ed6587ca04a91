"""Showing a system: as `.pde` text (which parses back to the same IR) and as LaTeX."""

from __future__ import annotations

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from .flux import expand_fluxes

NAMES = {"Abs": "abs", "Min": "min", "Max": "max"}


class PdePrinter(StrPrinter):
    """SymPy's string printer, speaking the `.pde` expression language.

    Fields called with their own coordinates print as their bare name; derivatives print
    as the shorthand `u_xx` where every coordinate name is one letter, else as `d(u, x, 2)`.
    """

    def __init__(self, fields: dict[str, tuple[str, ...]] | None = None,
                 shorthand: bool = True) -> None:
        super().__init__({"full_prec": True})
        self.fields = fields or {}
        self.shorthand = shorthand

    def _print_Float(self, expr: sp.Float) -> str:
        text = repr(float(expr))
        return text.replace("inf", "1e999")

    def _print_Mul(self, expr: sp.Mul) -> str:
        # "2*(x - y)*(x + y)" parses as (2*x - 2*y)*(x + y) and "1/(2*(x + y))" as
        # 1/(2*x + 2*y): SymPy distributes a number over a sum that it multiplies alone.
        # Where that would happen, the number multiplies the bracketed rest instead.
        coefficient, rest = expr.as_coeff_Mul()
        if coefficient is sp.S.One or not _distributes(coefficient, rest):
            return super()._print_Mul(expr)
        inner = self._print(rest)
        if coefficient == -1:
            return f"-({inner})"
        return f"{self._print(coefficient)}*({inner})"

    def _print_Pi(self, expr) -> str:
        return "pi"

    def _print_Exp1(self, expr) -> str:
        return "exp(1)"

    def _print_Function(self, expr) -> str:
        name = NAMES.get(type(expr).__name__, type(expr).__name__)
        return f"{name}({', '.join(self._print(a) for a in expr.args)})"

    _print_Abs = _print_Min = _print_Max = _print_Function

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        inner = expr.expr
        variables = [(v.name, int(n)) for v, n in expr.variable_count]
        if isinstance(inner, AppliedUndef) and self._is_plain(inner):
            name = inner.func.__name__
            if self.shorthand and all(len(v) == 1 for v, _ in variables):
                return f"{name}_" + "".join(v * n for v, n in variables)
            target = name
        else:
            target = self._print(inner)
        parts = [f"{v}, {n}" if n > 1 else v for v, n in variables]
        return f"d({target}, {', '.join(parts)})"

    def _print_NormalDerivative(self, expr) -> str:
        inner = expr.args[0]
        target = inner.func.__name__ if self._is_plain(inner) else self._print(inner)
        return f"d({target}, n)"

    def _print_Subs(self, expr: sp.Subs) -> str:
        inner = expr.expr
        point = dict(zip(expr.variables, expr.point))
        if isinstance(inner, sp.Derivative) and isinstance(inner.expr, AppliedUndef):
            call = inner.expr.func(*(point.get(a, a) for a in inner.expr.args))
            parts = [f"{v}, {int(n)}" if n > 1 else str(v) for v, n in inner.variable_count]
            return f"d({self._print(call)}, {', '.join(parts)})"
        return self._print(inner.xreplace(point))

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        (value, condition), *rest = expr.args
        otherwise = sp.Piecewise(*rest) if rest and rest[0][1] is not sp.true else (
            rest[0][0] if rest else sp.nan)
        return (f"where({self._print(condition)}, {self._print(value)}, "
                f"{self._print(otherwise)})")

    def _print_AppliedUndef(self, expr) -> str:
        if self._is_plain(expr):
            return expr.func.__name__
        return f"{expr.func.__name__}({', '.join(self._print(a) for a in expr.args)})"

    def _is_plain(self, expr: AppliedUndef) -> bool:
        args = self.fields.get(expr.func.__name__)
        return args is not None and tuple(str(a) for a in expr.args) == args


def _distributes(coefficient: sp.Number, rest: sp.Expr) -> bool:
    """Whether printing `coefficient*rest` the usual way would parse as another tree."""
    factors = rest.args if rest.is_Mul else (rest,)
    printed_first = not (coefficient.is_Rational and coefficient.p == 1)   # 1/q goes last
    sum_factor = printed_first and rest.is_Mul and any(f.is_Add for f in factors)
    sum_denominator = coefficient.is_Rational and not coefficient.is_Integer and any(
        f.is_Pow and f.base.is_Add and f.exp.is_negative for f in factors)
    return bool(sum_factor or sum_denominator)


class PdeLatexPrinter(LatexPrinter):
    """LaTeX with fields shown by name: `\\frac{\\partial u}{\\partial t}` for `d(u, t)`."""

    def __init__(self, fields: dict[str, tuple[str, ...]]) -> None:
        super().__init__()
        self.fields = fields

    def _print_Function(self, expr, exp=None):
        if isinstance(expr, AppliedUndef) and self.fields.get(expr.func.__name__) == tuple(
                str(a) for a in expr.args):
            name = self._deal_with_super_sub(expr.func.__name__)
            return f"{name}^{{{exp}}}" if exp else name
        return super()._print_Function(expr, exp)

    def _print_NormalDerivative(self, expr, exp=None):
        inner = self._print(expr.args[0])
        return rf"\frac{{\partial {inner}}}{{\partial n}}"


def expression_to_pde(expr: sp.Expr, fields: dict[str, tuple[str, ...]] | None = None,
                      shorthand: bool = False) -> str:
    """One expression in `.pde` syntax."""
    return PdePrinter(fields, shorthand).doprint(expr)


def _signatures(system) -> dict[str, tuple[str, ...]]:
    out = {f.name: f.args for f in system.fields}
    out.update({p.name: p.args for p in system.params if p.is_field})
    return out


def _short(system) -> bool:
    return all(len(c.name) == 1 for c in system.coordinates)


def system_to_pde(system) -> str:
    """The system as `.pde` text; parsing it gives an equal system (data paths aside)."""
    printer = PdePrinter(_signatures(system), _short(system))
    show = printer.doprint
    lines = []
    if system.name:
        lines.append(f'problem "{system.name}"')
    for p in system.params:
        head = f"param {p.name}" + (f"({', '.join(p.args)})" if p.args else "")
        if p.samples is not None:
            lines.append(f'{head} = load("{p.samples.path}")')
        elif p.is_unknown:
            bounds = (f" in [{show(p.bounds[0])}, {show(p.bounds[1])}]" if p.bounds is not None
                      else "")
            lines.append(f"{head} ~ {show(p.guess)}{bounds}")
        else:
            lines.append(f"{head} = {show(p.value)}")
    space = [c for c in system.coordinates if not c.is_time]
    if space:
        lines.append("space " + ", ".join(f"{c.name} in [{show(c.lower)}, {show(c.upper)}]"
                                          for c in space))
    if system.time is not None:
        t = system.time
        lines.append(f"time  {t.name} in [{show(t.lower)}, {show(t.upper)}]")
    if system.domain is not None:
        lines.append(f"domain {system.domain.describe()}")
    lines.append("field " + ", ".join(f"{f.name}({', '.join(f.args)})" for f in system.fields))
    lines += [n.declaration(show) for n in system.nets]
    for e in system.equations:
        lines.append(f"pde   {_equation(show, e.lhs, e.rhs, e.residual)}")
    for c in system.conditions:
        if c.kind == "periodic":
            lines.append(f"bc    periodic {c.coordinate}")
            continue
        if c.kind == "mean":
            lines.append(f"bc    mean({show(c.lhs)}) = {show(c.rhs)}")
            continue
        if c.kind == "shape":
            part = "" if c.where is None else (
                f" where {show(c.where.lhs)} {c.where.rel_op} {show(c.where.rhs)}")
            lines.append(f"bc    {_equation(show, c.lhs, c.rhs, c.residual)} on boundary{part}")
            continue
        if c.kind == "point":
            where = ", ".join(f"{n} = {show(v)}" for n, v in c.point)
            lines.append(f"bc    {_equation(show, c.lhs, c.rhs, c.residual)} at {where}")
            continue
        keyword = "ic" if c.kind == "initial" else "bc"
        value = system.coordinate(c.coordinate).value(c.side)
        lines.append(f"{keyword}    {_equation(show, c.lhs, c.rhs, c.residual)} at "
                     f"{c.coordinate} = {show(value)}")
    for e in system.exact:
        lines.append(f"exact {e.field} = {show(e.expr)}")
    for d in system.data:
        lines.append(f'data  "{d.path}"')
    return "\n".join(lines) + "\n"


def _equation(show, lhs: sp.Expr, rhs: sp.Expr, residual: sp.Expr) -> str:
    if expand_fluxes(lhs - rhs) != residual or (lhs == 0 and rhs == 0):
        return f"{show(residual)} = 0"
    return f"{show(lhs)} = {show(rhs)}"


def system_summary(system) -> str:
    """What `pdelang check` prints: the classification, then the system as text."""
    title = system.name or (system.source or "system")
    return f"# {title}: {system.classification()}\n{system_to_pde(system)}"


def system_to_latex(system) -> str:
    printer = PdeLatexPrinter(_signatures(system))
    rows = []
    for e in system.equations:
        rows.append(f"{printer.doprint(e.lhs)} &= {printer.doprint(e.rhs)}")
    for c in system.conditions:
        if c.kind == "periodic":
            rows.append(rf"&\text{{periodic in }} {c.coordinate}")
            continue
        if c.kind == "mean":
            rows.append(rf"\overline{{{printer.doprint(c.lhs)}}} &= {printer.doprint(c.rhs)}")
            continue
        if c.kind == "shape":
            part = "" if c.where is None else rf",\ {printer.doprint(c.where)}"
            rows.append(f"{printer.doprint(c.lhs)} &= {printer.doprint(c.rhs)} "
                        rf"&& \text{{on the boundary}}{part}")
            continue
        if c.kind == "point":
            where = ", ".join(f"{n} = {printer.doprint(v)}" for n, v in c.point)
            rows.append(f"{printer.doprint(c.lhs)} &= {printer.doprint(c.rhs)} "
                        rf"&& \text{{at }} {where}")
            continue
        value = printer.doprint(system.coordinate(c.coordinate).value(c.side))
        rows.append(f"{printer.doprint(c.lhs)} &= {printer.doprint(c.rhs)} "
                    rf"&& \text{{at }} {c.coordinate} = {value}")
    domain = ", ".join(rf"{c.name} \in [{printer.doprint(c.lower)}, {printer.doprint(c.upper)}]"
                       for c in system.coordinates)
    rows.append(rf"&{domain}")
    body = r" \\ ".join(rows)
    return rf"$$\begin{{aligned}} {body} \end{{aligned}}$$"
