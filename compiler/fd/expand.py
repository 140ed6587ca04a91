"""expand_stencils: derivatives written out as sums of shifted values, then regrouped.

Where every stencil of a kernel fits inside the grid on its region (the interior of a
field away from periodic axes), each derivative becomes the weighted sum of the shifted
arrays it reads, with exact rational weights. When the kernel is linear in those shifted
values, equal terms merge and common factors come out: alpha*(u_xx + u_yy) becomes
alpha/h^2 * (u[i-1,j] + u[i+1,j] + u[i,j-1] + u[i,j+1] - 4*u[i,j]), the arithmetic a
hand-written kernel does. Kernels nonlinear in the shifted values are left as they are
(expanding products of stencils would add work).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from fractions import Fraction
from itertools import product

import sympy as sp

from pdelang.analysis import is_linear_in

from .ir import Access, Layout, Region

MAX_TERMS = 400          # beyond this many shifted values a kernel is left unexpanded


def expand_stencils(expr: sp.Expr, accesses: Mapping[sp.Symbol, Access], region: Region,
                    layout: Layout) -> tuple[sp.Expr, dict[sp.Symbol, Access]]:
    """`expr` with regular derivative accesses written out as shifted values, or unchanged."""
    derivatives = {s: a for s, a in accesses.items() if a.steps and s in expr.free_symbols}
    if not derivatives or not all(_regular(a, region, layout) for a in derivatives.values()):
        return expr, dict(accesses)
    shifted: dict[tuple, sp.Symbol] = {}
    table: dict[sp.Symbol, sp.Expr] = {}
    for symbol, access in derivatives.items():
        table[symbol] = _written_out(access, layout, shifted)
    if len(shifted) > MAX_TERMS:
        return expr, dict(accesses)
    values = list(shifted.values())
    result = expr.xreplace(table)
    if not is_linear_in(result, values, values):
        return expr, dict(accesses)
    out = {s: a for s, a in accesses.items() if s not in derivatives}
    for (source, key, axes, shift), symbol in shifted.items():
        out[symbol] = Access(source, key, axes, shift=shift)
    return _regroup(result, values), out


def _regular(access: Access, region: Region, layout: Layout) -> bool:
    if access.layer is not None:
        return False
    for step in access.steps:
        info = layout.axes[step.axis]
        if step.scheme is not None or info.periodic:
            return False
        lo, hi = region.range_of(step.axis)
        if lo + min(step.stencil.offsets) < 0 or hi - 1 + max(step.stencil.offsets) > \
                info.size - 1:
            return False
    return True


def _written_out(access: Access, layout: Layout, shifted: dict) -> sp.Expr:
    """The weighted sum of shifted values that one derivative access stands for."""
    per_step = []
    for step in access.steps:
        h = sp.Rational(Fraction(layout.axes[step.axis].h).limit_denominator(10**12))
        weights = [w / h**step.stencil.order for w in _exact(step)]
        per_step.append([(step.axis, o, w) for o, w in zip(step.stencil.offsets, weights)])
    total = sp.S.Zero
    for combination in product(*per_step):
        offsets = defaultdict(int)
        weight = sp.S.One
        for axis, offset, w in combination:
            offsets[axis] += offset
            weight *= w
        if weight == 0:
            continue
        shift = tuple(offsets.get(a, 0) for a in access.axes)
        key = (access.source, access.key, access.axes, shift)
        if key not in shifted:
            label = ",".join(f"{o:+d}" if o else "0" for o in shift)
            shifted[key] = sp.Dummy(f"{access.key}[{label}]")
        total += weight * shifted[key]
    return total


def _exact(step) -> tuple[sp.Rational, ...]:
    from ..common.stencils import exact_weights

    return exact_weights(step.stencil.order, step.stencil.offsets)


def _regroup(expr: sp.Expr, values: list[sp.Symbol]) -> sp.Expr:
    """Collect the coefficient of each shifted value and factor the common parts out."""
    expanded = sp.expand(expr, power_base=False, power_exp=False, multinomial=False,
                         log=False)
    parts = sp.collect(expanded, values, evaluate=False)
    rest = parts.pop(sp.S.One, sp.S.Zero)
    groups: dict[sp.Expr, list[sp.Expr]] = defaultdict(list)
    for value, coefficient in parts.items():
        number, symbolic = coefficient.as_coeff_Mul()
        groups[symbolic].append(number * value)
    return rest + sp.Add(*(symbolic * sp.factor_terms(sp.Add(*terms))
                           for symbolic, terms in groups.items()))
