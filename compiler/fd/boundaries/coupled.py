"""The row that closes a coupled field at a face from another field's extra condition.

The lid-driven cavity writes two conditions on the stream function psi at each wall
(psi = 0, d(psi, n) = U) and none on the vorticity w. The second condition closes w:
at w's wall nodes, the equation that ties w to psi (`w = -laplace(psi)`, psi's equation)
holds on the face, with the normal derivative of psi in it taken by a one-sided stencil
that has the condition's derivative built in (Hermite-Birkhoff weights: values at the
face and the layers inside, and the normal derivative the condition gives). For
d(psi, n) = U this is Jensen's (1959) second-order wall-vorticity formula,
w0 = -(-7 psi0 + 8 psi1 - psi2) / (2 h^2) + 3 U / h (lower face).
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy.core.function import AppliedUndef

from pdelang import Condition, Equation, System

from ...errors import LoweringError
from ..ir import Access, Layout
from .conditions import Face


@cache
def hermite_weights(order: int, given: int, points: int,
                    sign: int) -> tuple[tuple[sp.Rational, ...], sp.Rational]:
    """Weights (on values at offsets 0, sign, 2*sign, ...; on the `given`-th derivative at
    0) of the `order`-th derivative at 0, exact for polynomials of degree `points` (h = 1)."""
    a = sp.symbols(f"a0:{points}")
    b = sp.Symbol("b")
    x = sp.Symbol("x")
    equations = []
    for p in range(points + 1):
        monomial = x**p
        value = sum(a[j] * monomial.subs(x, sign * j) for j in range(points))
        value += b * sp.diff(monomial, x, given).subs(x, 0)
        equations.append(sp.Eq(value, sp.diff(monomial, x, order).subs(x, 0)))
    solution = sp.solve(equations, (*a, b), dict=True)
    if not solution or len(solution[0]) != points + 1:
        raise ValueError(f"no stencil for derivative {order} from values and derivative "
                         f"{given} at the face")
    s = solution[0]
    return tuple(s[v] for v in a), s[b]


def coupled_row(face: Face, assigned_equation: Equation, system: System, layout: Layout,
                accuracy: int) -> tuple[sp.Expr, dict[sp.Symbol, Access]]:
    """The equation of the condition's field at `face`, closed by the condition (see the
    module docstring): (expression with layer placeholders, the layer accesses)."""
    c = face.condition
    where = f"{face.axis} = {system.coordinate(face.axis).value(face.side)}"
    name = next(n for n in c.fields if n in {f.name for f in system.fields})
    equation = assigned_equation.residual
    if not any(isinstance(a, AppliedUndef) and a.func.__name__ == face.field
               for a in equation.atoms(AppliedUndef)):
        raise LoweringError(
            f"the condition at {where} is one more than `{name}` takes there, and closes "
            f"`{face.field}`; the equation of `{name}` must then contain `{face.field}`",
            c.span)
    given_node, given_order = _normal_derivative(c.residual, name, face.axis, where, c)
    slope = sp.diff(c.residual, given_node)
    if slope == 0 or slope.has(given_node):
        raise LoweringError(f"the condition at {where} must be linear in {given_node} to "
                            f"close `{face.field}`", c.span)
    given = -c.residual.subs(given_node, 0) / slope
    info = layout.axes[face.axis]
    size = info.size
    sign = 1 if face.side == "lower" else -1
    index0 = 0 if face.side == "lower" else size - 1
    accesses: dict[sp.Symbol, Access] = {}
    field_axes = tuple(a for a in system.field(name).args if a in layout.axes)

    def layer(depth: int) -> sp.Symbol:
        symbol = sp.Symbol(f"{name}[{index0 + sign * depth}]")
        accesses[symbol] = Access("state", name, field_axes, layer=(face.axis, index0 +
                                                                    sign * depth))
        return symbol

    replacements: dict[sp.Expr, sp.Expr] = {}
    for node in equation.atoms(sp.Derivative):
        if not (isinstance(node.expr, AppliedUndef) and node.expr.func.__name__ == name):
            continue
        variables = {v.name: int(n) for v, n in node.variable_count}
        if face.axis not in variables:
            continue
        if len(variables) > 1:
            raise LoweringError(f"the equation of `{name}` has the mixed derivative {node}, "
                                f"which cannot be closed at {where}", assigned_equation.span)
        order = variables[face.axis]
        if order == given_order:
            replacements[node] = given
            continue
        points = order + accuracy - 1
        try:
            weights, weight = hermite_weights(order, given_order, points, sign)
        except ValueError as error:
            raise LoweringError(f"{error} at {where}", c.span) from None
        h = sp.Float(info.h)
        stencil = sum(sp.Float(w) * layer(j) for j, w in enumerate(weights) if w != 0)
        replacements[node] = (stencil + sp.Float(weight) * h**given_order * given) / h**order
    return equation.xreplace(replacements), accesses


def _normal_derivative(residual: sp.Expr, name: str, axis: str, where: str,
                       c: Condition) -> tuple[sp.Derivative, int]:
    """The one derivative of `name` in the condition, normal to the face, and its order."""
    found = [d for d in residual.atoms(sp.Derivative) if isinstance(d.expr, AppliedUndef)
             and d.expr.func.__name__ == name]
    normal = [d for d in found if {v.name for v, _ in d.variable_count} == {axis}]
    if len(normal) != 1 or len(found) != 1:
        raise LoweringError(f"the condition at {where} closes a coupled field: it must hold "
                            f"one normal derivative of `{name}`", c.span)
    node = normal[0]
    return node, sum(int(n) for _, n in node.variable_count)
