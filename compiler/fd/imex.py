"""The stiff and non-stiff parts of a method-of-lines system, for implicit-explicit (IMEX)
time stepping: each evolution equation d(u, t) = rhs is split by terms, those with a space
derivative of order two or more (diffusion: the stiff part, its eigenvalues ~ 1/h^2) into
the implicit system and the rest (reactions, transport, sources) into the explicit one.
Both are lowered by `lower_fd` with the same conditions; `runtime.time.host.esdirk` adds
their rates, the implicit part's only where its equation holds (`pde_mask`), so that a
boundary value set by a condition is stepped once.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from pdelang import Equation, System

from ..errors import LoweringError
from .equations import assign_equations


def split_stiff(system: System) -> tuple[System, System]:
    """(the implicit system: the diffusion terms, the explicit system: the rest).
    LoweringError where the split does not apply: equations of second order in time, flux
    nodes, a system with no stiff term."""
    if system.time is None:
        raise LoweringError("IMEX time stepping is for time-dependent problems",
                            system.equations[0].span)
    space = {c.name for c in system.space}
    time = system.time.symbol
    implicit, explicit, stiff_found = [], [], False
    for a in assign_equations(system):
        e = a.equation
        if a.time_order != 1:
            raise LoweringError("IMEX splitting takes equations of first order in time; "
                                f"this one is of order {a.time_order}", e.span,
                                hint="use --integrator kencarp4 (fully implicit) or bdf")
        if e.flux is not None:
            raise LoweringError("IMEX splitting takes equations without flux nodes "
                                "(d(k*d(u, x), x) written as a flux)", e.span,
                                hint="use --integrator kencarp4 (fully implicit) or bdf")
        terms = sp.Add.make_args(a.rhs)
        stiff = [t for t in terms if _space_order(t, space) >= 2]
        stiff_found = stiff_found or bool(stiff)
        leading = sp.Derivative(system.field(a.field).applied, time)
        for part, chosen in ((implicit, stiff), (explicit, [t for t in terms
                                                          if t not in stiff])):
            rhs = sp.Add(*chosen)
            part.append(Equation(residual=leading - rhs, lhs=leading, rhs=rhs, span=e.span))
    if not stiff_found:
        raise LoweringError("no equation has a term with a second (or higher) space "
                            "derivative: nothing stiff to step implicitly",
                            system.equations[0].span,
                            hint="use an explicit integrator, or kencarp4 / bdf")
    return (replace(system, equations=tuple(implicit)),
            replace(system, equations=tuple(explicit)))


def pde_mask(program, key: str) -> np.ndarray:
    """1 on the nodes of state array `key` where its field's equation holds (interior and
    one-sided corners), 0 on the nodes its conditions set."""
    if program.shaped is not None:          # a shaped domain: the nodes inside
        return program.shaped.inside.astype(float)
    nodes = program.nodes[key]
    mask = np.zeros(nodes.shape)
    for region in (nodes.interior, *nodes.corners):
        mask[region.index()] = 1.0
    return mask


def _space_order(term: sp.Expr, space: set[str]) -> int:
    return max((sum(int(n) for v, n in d.variable_count if v.name in space)
                for d in term.atoms(sp.Derivative) if isinstance(d.expr, AppliedUndef)),
               default=0)
