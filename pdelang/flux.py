"""Flux form: `d(expr, x)` of an expression that is not a bare field.

The text front end keeps such a derivative unevaluated (a *flux* node), so that a compiler
can difference the flux itself at cell faces (conservation: what leaves one cell enters the
next). Everything that analyses an equation (orders, linearity, the PDE's type, the pinn
residual) works on the expanded form, where SymPy's product rule has been applied; the
IR keeps both (`Equation.residual` expanded, `Equation.flux` as written).
"""

from __future__ import annotations

import sympy as sp
from sympy.core.function import AppliedUndef


def is_flux(node: sp.Basic, fields: set[str] | None = None) -> bool:
    """Whether `node` is a first derivative along one coordinate of an expression (not a
    bare function) that contains a field (any applied function when `fields` is None)."""
    if not isinstance(node, sp.Derivative) or isinstance(node.expr, AppliedUndef):
        return False
    if len(node.variable_count) != 1 or int(node.variable_count[0][1]) != 1:
        return False
    applied = node.expr.atoms(AppliedUndef)
    return any(fields is None or a.func.__name__ in fields for a in applied)


def has_flux(expr: sp.Expr, fields: set[str] | None = None) -> bool:
    """Whether `expr` contains a flux node."""
    return any(is_flux(n, fields) for n in sp.preorder_traversal(expr))


def expand_fluxes(expr: sp.Expr) -> sp.Expr:
    """`expr` with every derivative of an expression carried out (the product rule)."""
    return expr.replace(lambda e: isinstance(e, sp.Derivative)
                        and not isinstance(e.expr, AppliedUndef), lambda e: e.doit())
