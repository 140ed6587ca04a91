"""fd on a shaped domain: the box grid, the equations at the nodes inside the region, and
Dirichlet conditions on its boundary through cut-cell (Shortley-Weller) stencils.

The region's cut cells (compiler/common/cut.py) give, along each axis, the distance from a
node inside to the boundary where the boundary lies before its neighbour. A first or second
derivative of a field at every node is then `w_lo * lower + w_mid * value + w_hi * upper`,
with static weights from those distances and, where the boundary cuts, the condition's
value at the boundary point in place of the neighbour (`ShapedDomain.derivative`). The
equations hold at the nodes inside; the nodes on the boundary hold the condition's value
(steady: a residual row `u - g`; in time: the rate dg/dt), and the nodes outside are
not part of the solution (residual `u`, rate 0; NaN in the output, with a `mask`).

Supported in this version: second-order stencils (`--accuracy 2`), derivatives of order 1
and 2 along one axis at a time (no mixed derivatives of fields), Dirichlet conditions
(`bc u = g on boundary [where ...]`), steady and time-dependent problems; refused, with the
line: normal derivatives in conditions, periodic axes, fields that do not span every space
coordinate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from pdelang import Condition, System
from pdelang.analysis import occurrences
from pdelang.geometry import evaluate

from ..common.cut import CutGrid, cut_grid
from ..common.grid import Grid
from ..errors import LoweringError

Array = jax.Array
State = Mapping[str, Array]


@dataclass(frozen=True, eq=False)
class DirichletValues:
    """A field's boundary values: per condition (in the order given), its `where` choice at
    every boundary point, and the value g(coordinates, t, constants) as a JAX function."""

    field: str
    values: tuple[Callable, ...]
    lower: tuple[tuple[np.ndarray, ...], ...]   # per axis: which condition (0, 1, ...) at
    upper: tuple[tuple[np.ndarray, ...], ...]   # the lower / upper crossing; -1 none
    on_boundary: tuple[np.ndarray, ...]          # which condition at each boundary node


@dataclass(frozen=True, eq=False)
class ShapedDomain:
    """The cut cells of the domain on the grid and each field's boundary values."""

    cut: CutGrid
    dirichlet: Mapping[str, DirichletValues]
    constants: tuple[str, ...]
    dtype: object

    @property
    def inside(self) -> np.ndarray:
        return self.cut.inside

    def _g(self, values: DirichletValues, choices, points, t, params) -> Array:
        """The boundary value at `points` (grid-shaped coordinate arrays), by condition."""
        out = jnp.zeros(points[0].shape, self.dtype)
        for g, choice in zip(values.values, choices):
            out = jnp.where(choice, g(points, t, params), out)
        return out

    def crossing_values(self, key: str, axis: int, side: int, t, params) -> Array:
        values = self.dirichlet[key]
        choices = (values.lower if side == 0 else values.upper)[axis]
        name = self.cut.axes[axis]
        return self._g(values, choices, self.cut.cuts[name].points[side], t, params)

    def node_values(self, key: str, t, params) -> Array:
        """The condition's value at the nodes on the boundary (0 elsewhere)."""
        values = self.dirichlet.get(key)
        if values is None:
            return jnp.zeros(self.cut.inside.shape, self.dtype)
        return self._g(values, values.on_boundary, self.cut.nodes, t, params)

    def derivative(self, array: Array, key: str, axis_name: str, order: int, t,
                   params) -> Array:
        """The order-1 or order-2 derivative of the field `key` along `axis_name` at every
        node, with the boundary's values where it cuts between a node and its neighbour."""
        if key not in self.dirichlet:
            raise LoweringError(f"`{key}` is differentiated in space on a shaped domain but "
                                "has no condition on its boundary")
        k = self.cut.axes.index(axis_name)
        axis_cut = self.cut.cuts[axis_name]
        lower = jnp.roll(array, 1, axis=k)
        upper = jnp.roll(array, -1, axis=k)
        lower = jnp.where(axis_cut.cut[0], self.crossing_values(key, k, 0, t, params), lower)
        upper = jnp.where(axis_cut.cut[1], self.crossing_values(key, k, 1, t, params), upper)
        w_lo, w_mid, w_hi = (jnp.asarray(w, self.dtype)
                             for w in axis_cut.weights(self.cut.spacing[k], order))
        return w_lo * lower + w_mid * array + w_hi * upper

    def residual(self, residual: Callable[[State, State], State]) -> Callable:
        """Equations at the nodes inside, the boundary values on the boundary, 0 outside."""
        inside = self.cut.inside

        def shaped(U: State, params: State) -> State:
            R = residual(U, params)
            return {k: jnp.where(inside, R[k], U[k] - self.node_values(k, None, params))
                    for k in R}

        return shaped

    def rhs(self, rhs: Callable[[Array, State, State], State]) -> Callable:
        """Rates at the nodes inside; on the boundary, the boundary value's rate; 0 outside."""
        inside = self.cut.inside

        def shaped(t: Array, U: State, params: State) -> State:
            rates = rhs(t, U, params)
            return {k: jnp.where(inside, rates[k], self._boundary_rate(k, t, params))
                    for k in rates}

        return shaped

    def _boundary_rate(self, key: str, t, params) -> Array:
        if key not in self.dirichlet:
            return jnp.zeros(self.cut.inside.shape, self.dtype)
        return jax.jvp(lambda s: self.node_values(key, s, params), (t,),
                       (jnp.ones_like(t),))[1]

    def initial(self, initial: Callable[[State], State], t0: float) -> Callable:
        inside = self.cut.inside

        def shaped(params: State) -> State:
            U = initial(params)
            t = jnp.asarray(t0, self.dtype)
            return {k: jnp.where(inside, v, self.node_values(k, t, params)).astype(v.dtype)
                    for k, v in U.items()}

        return shaped


def shaped_domain(system: System, grid: Grid, accuracy: int, constants: tuple[str, ...],
                  dtype) -> ShapedDomain:
    """The cut cells of `system.domain` on `grid` and the Dirichlet values of each field,
    with the checks that this version can solve the problem (see the module docstring)."""
    span = system.domain_span
    if accuracy != 2:
        raise LoweringError("a shaped domain takes second-order stencils (--accuracy 2): "
                            "the cut cells next to its boundary are second order", span)
    axes = tuple(c.name for c in system.space)
    for f in system.fields:
        if tuple(a for a in f.args if a in axes) != axes:
            raise LoweringError(f"on a shaped domain every field spans all space coordinates "
                                f"({', '.join(axes)}); `{f.name}` is declared "
                                f"{f.name}({', '.join(f.args)})", f.span)
    for e in system.equations:
        for d in e.residual.atoms(sp.Derivative):
            space = [(v, n) for v, n in d.variable_count if str(v) in axes]
            if len(space) > 1 or any(n > 2 for _, n in space):
                raise LoweringError(
                    "on a shaped domain fd takes space derivatives of order 1 or 2 along one "
                    f"coordinate at a time; `{d}` is not one", e.span)
    cut = cut_grid(system.domain.level, axes,
                   {a.name: a.node_coordinates() for a in grid.axes})
    if not cut.inside.any():
        raise LoweringError(f"the grid has no node inside the domain {system.domain}: refine "
                            "it (--grid)", span)
    dirichlet = {}
    for f in system.fields:
        conditions = [c for c in system.conditions if c.kind == "shape" and f.name in c.fields]
        if conditions:
            dirichlet[f.name] = _dirichlet(system, f.name, conditions, cut, axes, constants,
                                           dtype)
    return ShapedDomain(cut, dirichlet, constants, dtype)


def _dirichlet(system: System, name: str, conditions: list[Condition], cut: CutGrid,
               axes: tuple[str, ...], constants: tuple[str, ...], dtype) -> DirichletValues:
    applied = system.field(name).applied
    time = system.time.symbol if system.time is not None else None
    values, predicates = [], []
    for c in conditions:
        if c.residual.has(sp.Derivative) or c.residual.has(sp.Subs):
            raise LoweringError(
                "fd solves Dirichlet conditions (values) on a shaped domain's boundary in this "
                "version; normal derivatives there are not supported yet", c.span,
                hint="give the value on this part of the boundary, or solve on a box")
        others = [o for o in occurrences(c.residual, {f.name for f in system.fields})
                  if o != applied]
        coefficient = sp.diff(c.residual, applied)
        if others or coefficient.has(applied) or coefficient == 0:
            raise LoweringError(f"a condition on the boundary gives the value of `{name}`: "
                                f"`{name} = ...` (found {c.residual} = 0)", c.span)
        g = sp.simplify(-c.residual.subs(applied, 0) / coefficient)
        values.append(_pointwise(g, axes, time, constants, dtype))
        predicates.append(_predicate(c.where, axes))
    lower, upper = [], []
    for a in axes:
        axis_cut = cut.cuts[a]
        for side, out in ((0, lower), (1, upper)):
            out.append(_choose(predicates, axis_cut.points[side], axis_cut.cut[side]))
    on_boundary = _choose(predicates, cut.nodes, cut.boundary)
    _check_coverage(name, conditions, lower + upper + [on_boundary], cut)
    return DirichletValues(name, tuple(values), tuple(lower), tuple(upper), on_boundary)


def _pointwise(g: sp.Expr, axes, time, constants, dtype) -> Callable:
    used = [c for c in constants if sp.Symbol(c) in g.free_symbols]
    arguments = [sp.Symbol(a) for a in axes] + ([time] if time is not None else []) + \
        [sp.Symbol(c) for c in used]
    function = sp.lambdify(arguments, g, modules="jax")

    def value(points, t, params):
        extra = ([t if t is not None else jnp.asarray(0.0, dtype)] if time is not None
                 else [])
        out = function(*points, *extra, *[params[c] for c in used])
        return jnp.broadcast_to(jnp.asarray(out, dtype), points[0].shape)

    return value


def _predicate(where: sp.Expr | None, axes) -> Callable[[tuple], np.ndarray]:
    if where is None:
        return lambda points: np.ones(np.shape(points[0]), bool)
    symbols = [sp.Symbol(a) for a in axes]
    return lambda points: np.broadcast_to(
        np.asarray(evaluate(where, dict(zip(symbols, points)), np), bool),
        np.shape(points[0]))


def _choose(predicates, points, mask: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per condition, a grid-shaped mask of the points in `mask` it holds at: the first
    condition whose `where` holds there (as the conditions are written)."""
    taken = ~mask
    out = []
    for predicate in predicates:
        here = predicate(points) & ~taken
        out.append(here)
        taken = taken | here
    return tuple(out)


def _check_coverage(name: str, conditions: list[Condition], choices: list[tuple],
                    cut: CutGrid) -> None:
    """Every point where the boundary is read has a condition; every condition has a
    point."""
    used = [any(c[k].any() for c in choices) for k in range(len(conditions))]
    for condition, hit in zip(conditions, used):
        if not hit:
            raise LoweringError("this condition selects no point of the domain's boundary on "
                                "this grid", condition.span,
                                hint="check its `where`: it must hold somewhere on the boundary")
    sets = [(cut.cuts[a], side) for side in (0, 1) for a in cut.axes]   # as `choices`
    for (axis_cut, side), chosen in zip(sets, choices[:-1]):
        covered = np.logical_or.reduce(chosen) if chosen else np.zeros_like(cut.inside)
        missing = axis_cut.cut[side] & ~covered
        if missing.any():
            point = tuple(float(p[missing][0]) for p in axis_cut.points[side])
            raise LoweringError(
                f"`{name}` has no condition at the boundary point "
                f"({', '.join(f'{v:.4g}' for v in point)}): the `where` parts of its "
                "`on boundary` conditions do not cover the whole boundary",
                conditions[0].span, hint="add a condition for the rest, e.g. "
                f"`bc {name} = 0 on boundary` after the others")
    missing = cut.boundary & ~np.logical_or.reduce(choices[-1])
    if missing.any():
        point = tuple(float(p[missing][0]) for p in cut.nodes)
        raise LoweringError(
            f"`{name}` has no condition at the boundary node "
            f"({', '.join(f'{v:.4g}' for v in point)})", conditions[0].span,
            hint=f"add a condition for the rest, e.g. `bc {name} = 0 on boundary`")
