"""The initial state on probe points: what `auto` reads from a spec before any training.

Time marching takes the transport speeds there (how often the state crosses the domain);
an inverse problem takes the size of its equations' terms there against the size of its
data, to weight the data (`runtime`'s data weight). The initial state is each field's
`ic u = g` value, constant in time; probes are a regular grid of about `PROBES` points of
the space box at the initial time.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from pdelang import System

PROBES = 65536                        # points of the initial state, all axes together

Probes = Mapping[sp.Symbol, np.ndarray]


def initial_values(system: System) -> dict[str, sp.Expr]:
    """Each field's initial value where an initial condition gives it as `u = g`."""
    out = {}
    for c in system.conditions:
        if c.kind != "initial" or c.residual.has(sp.Derivative):
            continue
        for f in system.fields:
            if not c.residual.has(f.applied):
                continue
            slope = coefficient(c.residual, f.applied)
            if slope.is_number and slope != 0:
                out[f.name] = -c.residual.xreplace({f.applied: sp.Integer(0)}) / slope
    return out


def probe_points(system: System) -> dict[sp.Symbol, np.ndarray]:
    """A regular grid of about PROBES points of the space box (flat, one array per
    coordinate), at the initial time; for a system without space, the one initial point."""
    space, time = system.space, system.time
    per_axis = max(int(round(PROBES ** (1 / len(space)))), 2) if space else 1
    grid = np.meshgrid(*(np.linspace(*c.bounds, per_axis) for c in space), indexing="ij")
    at = {sp.Symbol(c.name): g.ravel() for c, g in zip(space, grid)}
    size = grid[0].size if space else 1
    if time is not None:
        at[time.symbol] = np.full(size, time.bounds[0])
    return at


def evaluate(expr: sp.Expr, system: System, initial: Mapping[str, sp.Expr],
             at: Probes) -> np.ndarray:
    """`expr` (a coefficient of the equations) on the probes: fields by their initial
    values, remaining derivatives by zero. ValueError/KeyError when something in it cannot
    be evaluated there."""
    derivatives = {d: sp.Integer(0) for d in expr.atoms(sp.Derivative)}
    fields = {f.applied: initial.get(f.name, sp.Integer(0)) for f in system.fields}
    return on_probes(expr.xreplace(derivatives).xreplace(fields), at)


def on_initial_state(expr: sp.Expr, system: System, initial: Mapping[str, sp.Expr],
                     at: Probes) -> np.ndarray:
    """`expr` (an equation's residual) with the fields replaced by their initial values
    held constant in time, derivatives carried out: time derivatives vanish, space
    derivatives act on the initial values. Unknown constants and coefficient fields at
    their guesses. ValueError/KeyError when a field has no initial value or something else
    cannot be evaluated."""
    missing = [f.name for f in system.fields if f.name not in initial]
    if missing:
        raise ValueError(f"no initial value of {', '.join(missing)}")
    table: dict[sp.Expr, sp.Expr] = {f.applied: initial[f.name] for f in system.fields}
    for p in system.params:
        value = p.guess if p.is_unknown else p.value
        if value is not None:
            table[p.symbol] = sp.sympify(value)
    return on_probes(expr.xreplace(table).doit(), at)


def coefficient(expr: sp.Expr, node: sp.Expr) -> sp.Expr:
    """d expr / d node, with the derivative node treated as a symbol."""
    symbol = sp.Dummy()
    return sp.diff(expr.xreplace({node: symbol}), symbol).xreplace({symbol: node})


def on_probes(expr: sp.Expr, at: Probes) -> np.ndarray:
    """An expression of the coordinates on the probes (non-finite values where it has
    none there: no warnings)."""
    if expr.atoms(AppliedUndef):
        raise ValueError("a coefficient field the probe cannot evaluate")
    symbols = sorted(expr.free_symbols, key=str)
    if any(s not in at for s in symbols):
        raise KeyError("an unknown symbol")
    with np.errstate(all="ignore"):
        value = sp.lambdify(symbols, expr, modules="numpy")(*(at[s] for s in symbols))
        value = np.asarray(value, dtype=complex if np.iscomplexobj(value) else float)
    if np.iscomplexobj(value):
        value = np.where(value.imag == 0, value.real, np.nan)
    return np.broadcast_to(value, next(iter(at.values())).shape)
