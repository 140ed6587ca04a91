"""Parameter values for the compiled programs: constants, and coefficient fields on grids.

Known and unknown constants become scalars in the `params` pytree (so that inverse
problems can differentiate with respect to them). A coefficient field defined by an
expression of time is put into the equations in place of its name; one that depends on
space only is evaluated once on the grid; one loaded from a file is interpolated
(multilinear) from its samples, which span the domain with both ends included.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import sympy as sp

from pdelang import Param, System
from pdelang.flux import is_flux

from ..errors import LoweringError


def inline_time_coefficients(system: System) -> System:
    """The system with expression-defined coefficient fields of time written out."""
    time = system.time.name if system.time is not None else None
    table = {p.symbol: p.value for p in system.params
             if p.is_field and p.value is not None and time in p.args}
    if not table:
        return system

    def inline(expr: sp.Expr) -> sp.Expr:
        return expr.xreplace(table).doit() if expr.has(*table) else expr

    fields = {f.name for f in system.fields}

    def inline_flux(expr: sp.Expr | None) -> sp.Expr | None:
        """As `inline`, carrying out only derivatives of coefficients (fluxes stay)."""
        if expr is None or not expr.has(*table):
            return expr
        return expr.xreplace(table).replace(
            lambda e: isinstance(e, sp.Derivative) and not is_flux(e, fields),
            lambda e: e.doit())

    equations = tuple(dataclasses.replace(e, residual=inline(e.residual), lhs=inline(e.lhs),
                                          rhs=inline(e.rhs), flux=inline_flux(e.flux))
                      for e in system.equations)
    conditions = tuple(dataclasses.replace(c, residual=inline(c.residual), lhs=inline(c.lhs),
                                           rhs=inline(c.rhs)) for c in system.conditions)
    params = tuple(p for p in system.params if p.symbol not in table)
    return dataclasses.replace(system, equations=equations, conditions=conditions,
                               params=params)


def constant_values(system: System) -> dict[str, float]:
    """Known constants at their values, unknown ones at their guesses."""
    out = {}
    for p in system.params:
        if not p.is_field:
            out[p.name] = float(p.guess if p.is_unknown else p.value)
    return out


def coefficient_on_grid(param: Param, system: System,
                        coordinates: dict[str, np.ndarray]) -> np.ndarray:
    """The coefficient field `param` at the grid nodes (one axis per space argument)."""
    axes = [a for a in param.args]
    if system.time is not None and system.time.name in axes:
        raise LoweringError(f"the coefficient field `{param.name}` depends on time and is "
                            f"given as data or unknown; the fd method needs it to depend on "
                            "space only", param.span)
    mesh = np.meshgrid(*(coordinates[a] for a in axes), indexing="ij")
    if param.samples is not None:
        return interpolate_samples(param, system, np.stack([m.ravel() for m in mesh], -1)) \
            .reshape(mesh[0].shape)
    expr = param.guess if param.is_unknown else param.value
    expr = expr.xreplace({sp.Symbol(k): v for k, v in constant_values(system).items()})
    function = sp.lambdify([sp.Symbol(a) for a in axes], expr, modules="numpy")
    return np.broadcast_to(np.asarray(function(*mesh), dtype=float), mesh[0].shape).copy()


def interpolate_samples(param: Param, system: System, points: np.ndarray) -> np.ndarray:
    """Multilinear interpolation of a sampled coefficient field at `points` (n, dims)."""
    samples = param.samples.array
    axes = [np.linspace(*system.coordinate(a).bounds, n) for a, n in
            zip(param.args, samples.shape)]
    from scipy.interpolate import RegularGridInterpolator  # slow to import: when used

    interpolator = RegularGridInterpolator(axes, samples, method="linear", bounds_error=False,
                                           fill_value=None)
    return interpolator(points)
