"""The solvability condition of a problem known up to a constant: source vs boundary flux.

`laplace(u) = f` with `d(u, n) = g` on every face (or periodic faces) has a solution only
when the divergence theorem holds: the integral of f over the domain equals the net flux
of g through its boundary. Periodic faces carry no net flux. When the two differ, no
function solves the problem; the solvers (a Lagrange multiplier on the PDE rows,
compiler/fd/boundaries/constraints.py) still return the solution of the nearest compatible
problem, f shifted by a constant, so the mismatch is a warning naming both numbers, not an
error. The check covers equations that are a constant times the Laplacian of the field
plus a source, and faces whose condition is a constant times the normal derivative plus
data; other forms are not checked.
"""

from __future__ import annotations

import warnings

import numpy as np
import sympy as sp

from .errors import PdeWarning
from .ir import Condition, System

_POINTS = (48, 96)     # Gauss-Legendre points per axis: two rules, their gap the error
_RELATIVE = 1e-6       # a mismatch below this fraction of the data's size is roundoff


def check_compatibility(system: System) -> tuple[float, float] | None:
    """(source integral, boundary flux) of each field fixed by a point or mean condition,
    with a `PdeWarning` when they differ; None when the form is not one checked here."""
    result = None
    for c in system.conditions:
        if c.fixes_constant:
            found = _check_field(system, c.fields[0], c)
            result = found if found is not None else result
    return result


def _check_field(system: System, name: str, fixing: Condition) -> tuple[float, float] | None:
    field = system.field(name)
    if len(system.equations) != 1 or len(system.fields) != 1 or system.params and any(
            p.is_unknown or p.samples is not None for p in system.params):
        return None
    u = field.applied
    space = [sp.Symbol(a) for a in field.args]
    laplacian = sum((sp.Derivative(u, (x, 2)) for x in space), sp.S.Zero)
    constants = {sp.Symbol(p.name): p.value for p in system.params if not p.is_field}
    residual = system.equations[0].residual.xreplace(constants)
    source = _split(residual, laplacian, u)
    if source is None:
        return None
    scale, rest = source
    f = -rest / scale                                    # laplace(u) = f
    flux_terms = []
    for x in space:
        if x.name in system.periodic:
            continue
        for side, sign in (("lower", -1), ("upper", 1)):
            g = _normal_data(system, name, x.name, side, u)
            if g is None:
                return None
            flux_terms.append((sign, x, side, g.xreplace(constants)))
    try:
        integral = _integrate(system, f, space)
        faces = [(sign, _integrate_face(system, g, space, x, side))
                 for sign, x, side, g in flux_terms]
        size = max(abs(integral[0]), _integrate(system, sp.Abs(f), space)[0])
    except _Unsupported:
        return None
    flux = (sum(sign * value for sign, (value, _) in faces),
            sum(error for _, (_, error) in faces))
    size = max(size, abs(flux[0]))
    tolerance = max(_RELATIVE * size, 10 * (integral[1] + flux[1]), 1e-12)
    if abs(integral[0] - flux[0]) > tolerance:
        warnings.warn(PdeWarning(
            f"the problem for `{name}` is incompatible: the integral of the source over the "
            f"domain is {integral[0]:.6g} but the net flux of the boundary data is "
            f"{flux[0]:.6g} (they differ by {integral[0] - flux[0]:.3g}); no function solves "
            "it, and the solution returned solves it with the source shifted by a constant "
            "(the mean mismatch, reported as the multiplier)", fixing.span,
            hint="check the source and the Neumann data: for laplace(u) = f with d(u, n) = g, "
            "the integral of f must equal the integral of g over the boundary"),
            stacklevel=2)
    return integral[0], flux[0]


def _split(residual: sp.Expr, laplacian: sp.Expr, u: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    """(c, rest) with residual = c * laplacian + rest, c a nonzero number and rest free of u."""
    expanded = sp.expand(residual)
    terms = sp.Add.make_args(expanded)
    rest = sp.S.Zero
    derivatives = sp.Add.make_args(laplacian)
    coefficients = {}
    for term in terms:
        hit = [d for d in derivatives if term.has(d)]
        if not hit:
            if term.has(u):
                return None
            rest += term
            continue
        if len(hit) != 1:
            return None
        coefficient = sp.simplify(term / hit[0])
        if coefficient.free_symbols or coefficient.has(u) or coefficient == 0:
            return None
        coefficients[hit[0]] = coefficients.get(hit[0], 0) + coefficient
    if set(coefficients) != set(derivatives) or len(set(coefficients.values())) != 1:
        return None
    scale = next(iter(coefficients.values()))
    return scale, rest


def _normal_data(system: System, name: str, coordinate: str, side: str,
                 u: sp.Expr) -> sp.Expr | None:
    """g in `d(u, x) = g` on a face (the outward sign is applied by the caller)."""
    x = sp.Symbol(coordinate)
    derivative = sp.Derivative(u, x)
    for c in system.conditions:
        if c.kind == "boundary" and c.coordinate == coordinate and c.side == side \
                and name in c.fields:
            residual = sp.expand(c.residual)
            slope = residual.coeff(derivative)
            rest = residual - slope * derivative
            if slope == 0 or slope.free_symbols or rest.has(u):
                return None
            return -rest / slope
    return None


def _nodes(lower: float, upper: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    t, w = np.polynomial.legendre.leggauss(n)
    half = (upper - lower) / 2
    return lower + half * (t + 1), w * half


def _integrate(system: System, expr: sp.Expr, space: list[sp.Symbol]) -> tuple[float, float]:
    """(the integral of expr over the space domain, an estimate of its error)."""
    return _gauss(system, expr, space)


def _integrate_face(system: System, expr: sp.Expr, space: list[sp.Symbol], x: sp.Symbol,
                    side: str) -> tuple[float, float]:
    coordinate = system.coordinate(x.name)
    on_face = expr.xreplace({x: coordinate.value(side)})
    return _gauss(system, on_face, [s for s in space if s != x])


def _gauss(system: System, expr: sp.Expr, axes: list[sp.Symbol]) -> tuple[float, float]:
    values = []
    for n in _POINTS:
        grids, weights = [], np.ones(())
        for s in axes:
            lo, hi = system.coordinate(s.name).bounds
            t, w = _nodes(lo, hi, n)
            grids.append(t)
            weights = np.multiply.outer(weights, w)
        mesh = np.meshgrid(*grids, indexing="ij") if grids else []
        with np.errstate(all="ignore"):
            sample = np.broadcast_to(np.asarray(_evaluate(expr, dict(zip(axes, mesh))),
                                                dtype=float), weights.shape)
        values.append(float(np.sum(weights * sample)))
    return values[-1], abs(values[-1] - values[0])


class _Unsupported(Exception):
    """An expression outside what `_evaluate` knows: the check is skipped."""


_NUMPY = {sp.sin: np.sin, sp.cos: np.cos, sp.tan: np.tan, sp.exp: np.exp, sp.log: np.log,
          sp.tanh: np.tanh, sp.sinh: np.sinh, sp.cosh: np.cosh, sp.Abs: np.abs,
          sp.sign: np.sign, sp.asin: np.arcsin, sp.acos: np.arccos, sp.atan: np.arctan,
          sp.asinh: np.arcsinh, sp.acosh: np.arccosh, sp.atanh: np.arctanh}
_COMPARE = {sp.StrictLessThan: np.less, sp.LessThan: np.less_equal,
            sp.StrictGreaterThan: np.greater, sp.GreaterThan: np.greater_equal}


def _evaluate(expr: sp.Basic, values: dict) -> np.ndarray | float:
    """`expr` on NumPy arrays of its coordinates, by walking the tree (no code is generated
    or evaluated: pdelang never turns expressions into code)."""
    if expr.is_Symbol:
        if expr not in values:
            raise _Unsupported(str(expr))
        return values[expr]
    if expr.is_number:
        return float(expr)
    if isinstance(expr, sp.Piecewise):
        return _piecewise(expr, values)
    args = [_evaluate(a, values) for a in expr.args]
    if isinstance(expr, sp.Add):
        return sum(args[1:], args[0])
    if isinstance(expr, sp.Mul):
        out = args[0]
        for a in args[1:]:
            out = out * a
        return out
    if isinstance(expr, sp.Pow):
        return np.power(np.asarray(args[0], float), args[1])
    if isinstance(expr, (sp.Min, sp.Max)):
        reduce = np.minimum if isinstance(expr, sp.Min) else np.maximum
        return reduce.reduce(np.broadcast_arrays(*args))
    if type(expr) in _NUMPY:
        return _NUMPY[type(expr)](*args)
    raise _Unsupported(type(expr).__name__)


def _piecewise(expr: sp.Piecewise, values: dict) -> np.ndarray:
    choices = [_evaluate(value, values) for value, _ in expr.args]
    conditions = [_condition(c, values) for _, c in expr.args]
    shape = np.broadcast(*[np.asarray(v) for v in values.values()]).shape if values else ()
    return np.select([np.broadcast_to(c, shape) for c in conditions],
                     [np.broadcast_to(v, shape) for v in choices])


def _condition(condition: sp.Basic, values: dict) -> np.ndarray | bool:
    if condition is sp.true:
        return True
    if type(condition) in _COMPARE:
        return _COMPARE[type(condition)](*(_evaluate(a, values) for a in condition.args))
    raise _Unsupported(type(condition).__name__)
