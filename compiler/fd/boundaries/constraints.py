"""Point and mean conditions on the grid: the scalar equations that fix a steady solution
known only up to a constant (pure Neumann, periodic).

Such a problem's Jacobian is singular (constants are in its kernel), so the condition
cannot simply be added as one more row. It is added with a Lagrange multiplier instead:
the unknowns become (U, lam) and the equations

    R(U) + lam * b = 0,    g(U) = 0,

a bordered system [[J, b], [dg/dU, 0]] that is nonsingular when g sees the constant
(dg/dU . 1 != 0) and b is not in the range of J. `b` is 1 on the nodes where the field's
PDE holds (its interior rows) and 0 on boundary rows, so the boundary conditions hold
exactly and lam is the constant taken off the source to make the discrete problem
solvable: zero up to the discretisation error for a compatible problem, and the mean
incompatibility otherwise (the solution then solves the nearest compatible problem).
Replacing one equation by the condition instead would leave the singular row's residual
unsatisfied wherever the source is incompatible, and a dense mean row would spoil the
stencil colouring of the Jacobian. `g` is the mean over the domain by the trapezoid rule
(`bc mean(u) = 0`) or the value at one grid node (`bc u = 0 at x = 0, y = 0`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from pdelang import Condition, System

from ...common.grid import Grid
from ...errors import LoweringError
from ..accesses import collect
from ..ir import Layout, Region
from ..kernels import CompiledKernel, make_kernel
from ..options import FDOptions
from .conditions import FieldNodes

Array = jnp.ndarray


@dataclass(frozen=True)
class Constraint:
    """One point or mean condition of `field`: `value(U, params)` is the scalar g(U) that
    must vanish; `column` is b, the multiplier's column on the field's residual rows."""

    condition: Condition
    field: str
    column: np.ndarray
    kernel: CompiledKernel
    weights: np.ndarray  # g = sum(weights * integrand on the field's nodes)

    def value(self, U: Mapping[str, Array], params: Mapping[str, Array]) -> Array:
        integrand = self.kernel(jnp.zeros(()), U, params)
        return jnp.sum(jnp.asarray(self.weights, integrand.dtype) * integrand)

    def describe(self) -> str:
        what = "mean over the grid (trapezoid rule)" if self.condition.kind == "mean" else (
            "value at the node " + ", ".join(
                f"{n} = {float(v):g}" for n, v in self.condition.point))
        return f"{self.field}: {what}, with a Lagrange multiplier on its interior rows"


def trapezoid_weights(grid: Grid, axes: tuple[str, ...]) -> np.ndarray:
    """Weights on the stored nodes whose sum with a field is its mean over the domain
    (trapezoid rule; on a periodic axis every stored node weighs the same)."""
    weights = np.ones(())
    for name in axes:
        axis = grid.axis(name)
        w = np.full(axis.nodes, axis.h)
        if not axis.periodic:
            w[0] = w[-1] = axis.h / 2
        weights = np.multiply.outer(weights, w / (axis.upper - axis.lower))
    return weights


def point_weights(grid: Grid, axes: tuple[str, ...], condition: Condition) -> np.ndarray:
    """1 at the grid node of a point condition, 0 elsewhere; the point must be a node."""
    where = dict(condition.point)
    index = []
    for name in axes:
        axis = grid.axis(name)
        value = float(where[name])
        k = (value - axis.lower) / axis.h
        if abs(k - round(k)) > 1e-6:
            nodes = ", ".join(f"{x:g}" for x in axis.coordinates()[:4])
            raise LoweringError(
                f"the point {name} = {value:g} of this condition is not a node of the grid "
                f"({axis.points} points on [{axis.lower:g}, {axis.upper:g}]: {nodes}, ...)",
                condition.span,
                hint="put the point on a node (an end of the interval always is), or choose "
                "a grid that has it")
        index.append(int(round(k)) % axis.nodes)
    weights = np.zeros(grid.shape(axes))
    weights[tuple(index)] = 1.0
    return weights


def interior_column(nodes: FieldNodes) -> np.ndarray:
    """1 on the nodes where the field's PDE holds, 0 on its boundary rows."""
    column = np.zeros(nodes.shape)
    column[nodes.interior.index()] = 1.0
    return column


def make_constraints(system: System, grid: Grid, layout: Layout, options: FDOptions,
                     constants: tuple[str, ...],
                     nodes: Mapping[str, FieldNodes]) -> tuple[Constraint, ...]:
    """The point and mean conditions of a steady `system`, ready for a bordered solve."""
    out = []
    for c in system.conditions:
        if not c.fixes_constant:
            continue
        field = c.fields[0]
        n = nodes[field]
        region = Region(n.axes, tuple((0, size) for size in n.shape))
        collected = collect(c.residual, system, options, where=f" ({c.kind} condition)")
        kernel = make_kernel(collected.expr, collected.accesses, region, layout, None,
                             constants)
        weights = (trapezoid_weights(grid, n.axes) if c.kind == "mean"
                   else point_weights(grid, n.axes, c))
        out.append(Constraint(c, field, interior_column(n), kernel, weights))
    return tuple(out)


def constraint_values(constraints: tuple[Constraint, ...]) -> Callable | None:
    """g(U, params) -> the vector of every condition's value; None when there are none."""
    if not constraints:
        return None

    def values(U: Mapping[str, Array], params: Mapping[str, Array]) -> Array:
        return jnp.stack([c.value(U, params) for c in constraints])

    return values
