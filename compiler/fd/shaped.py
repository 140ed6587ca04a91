"""fd on a shaped domain: the box grid, the equations at the nodes inside the region, and
the conditions on its boundary through cut-cell (Shortley-Weller) stencils.

The region's cut cells (compiler/common/cut.py) give, along each axis, the distance from a
node inside to the boundary where the boundary lies before its neighbour. A first or second
derivative of a field at every node is then `w_lo * lower + w_mid * value + w_hi * upper`,
with static weights from those distances and, where the boundary cuts, the condition's
value at the boundary point in place of the neighbour (`ShapedDomain.derivative`). The
equations hold at the nodes inside; the nodes on the boundary hold the condition's value
(steady: a residual row `u - g`; in time: the rate dg/dt), and the nodes outside are
not part of the solution (residual `u`, rate 0; NaN in the output, with a `mask`).

A condition on the normal derivative (`bc d(u, n) + a u = g on boundary`: Neumann, Robin)
gives the boundary value from the field inside: along the inward normal, two probes at one
and two grid spacings interpolated quadratically from the 3^d nodes around each
(compiler/common/probes.py), so that alpha u + beta (3 u - 4 u1 + u2) / (2 delta) = g holds
at the boundary point to second order; the boundary value then enters the cut stencils as a
Dirichlet value does. The probes reach a few nodes further than the stencils: the program's
`reach` grows to cover them (its coloured Jacobians).

Supported in this version: second-order stencils (`--accuracy 2`), derivatives of order 1
and 2 along one axis at a time (no mixed derivatives of fields; flux-form terms expanded),
central first derivatives, conditions linear in the field and its normal derivative with
constant or coordinate-dependent coefficients, steady and time-dependent problems; refused,
with the line: other derivatives in conditions, coefficient fields in conditions, periodic
axes, fields that do not span every space coordinate, DAEs, upwind and shock schemes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from pdelang import Condition, System
from pdelang.analysis import occurrences
from pdelang.expressions import NormalDerivative
from pdelang.geometry import Extruded, evaluate
from pdelang.printing import expression_to_pde

from ..common.cut import CutGrid, cut_grid
from ..common.grid import Grid
from ..common.probes import Probes, make_probes
from ..common.stages import Stage
from ..errors import LoweringError

Array = jax.Array
State = Mapping[str, Array]


@dataclass(frozen=True, eq=False)
class LinearCondition:
    """`alpha u + beta d(u, n) = g` at boundary points; each a JAX function of (coordinate
    arrays, t, params); beta None for a value (Dirichlet) condition."""

    alpha: Callable
    beta: Callable | None
    g: Callable


@dataclass(frozen=True, eq=False)
class PointSet:
    """Boundary points where values are read: the crossings below or above the nodes
    along one axis, or the nodes on the boundary; grid-shaped coordinate arrays, per
    condition the points it holds at, and the normal probes of the points that a
    condition on the normal derivative holds at (`at`: their flat grid positions)."""

    points: tuple[np.ndarray, ...]
    mask: np.ndarray                            # where the set has a point
    choices: tuple[np.ndarray, ...]
    probes: Probes | None = None
    at: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class BoundaryValues:
    """A field's conditions on the boundary and its point sets: `crossings[axis][side]`
    (per axis the boundary cuts), `nodes`."""

    field: str
    conditions: tuple[LinearCondition, ...]
    crossings: Mapping[str, tuple[PointSet, PointSet]]
    nodes: PointSet

    def reach(self, shape: tuple[int, ...], in_time: bool) -> int:
        """How far the values reach: a crossing's probes from the node whose stencil reads
        it; a boundary node's from itself, and in time, whose rate is the probe nodes'
        rates, those rates' own reach further (stencils, and their crossings' probes)."""
        crossings = max((s.probes.reach(s.at, shape) for pair in self.crossings.values()
                         for s in pair if s.probes is not None), default=0)
        if self.nodes.probes is None:
            return crossings
        nodes = self.nodes.probes.reach(self.nodes.at, shape)
        return max(crossings, nodes + 1 + crossings if in_time else nodes)


@dataclass(frozen=True, eq=False)
class ShapedDomain:
    """The cut cells of the domain on the grid and each field's boundary values."""

    cut: CutGrid
    boundary: Mapping[str, BoundaryValues]
    dtype: object

    @property
    def inside(self) -> np.ndarray:
        return self.cut.inside

    def reach(self, in_time: bool) -> int:
        """How far (in nodes, along any axis) the boundary values reach into the grid."""
        shape = self.cut.inside.shape
        return max((b.reach(shape, in_time) for b in self.boundary.values()), default=0)

    def values(self, key: str, point_set: PointSet, t, params, field: Array) -> Array:
        """The boundary values at a point set (grid-shaped, 0 where no point), from each
        condition: g / alpha, or with the normal probes of `field` where beta is given."""
        conditions = self.boundary[key].conditions
        shape = point_set.points[0].shape
        probed = None
        if point_set.probes is not None:
            flat = jnp.ravel(field)
            probed = []
            for indices, weights in (point_set.probes.first, point_set.probes.second):
                at_probe = jnp.sum(flat[indices] * jnp.asarray(weights, self.dtype), axis=1)
                probed.append(jnp.zeros(flat.size, self.dtype).at[point_set.at].set(at_probe)
                              .reshape(shape))
        out = jnp.zeros(shape, self.dtype)
        for condition, choice in zip(conditions, point_set.choices):
            if not choice.any():
                continue
            alpha = condition.alpha(point_set.points, t, params)
            g = condition.g(point_set.points, t, params)
            if condition.beta is None:
                value = g / alpha
            else:
                beta = condition.beta(point_set.points, t, params)
                two_delta = 2 * point_set.probes.delta
                value = (two_delta * g + beta * (4 * probed[0] - probed[1])) / (
                    two_delta * alpha + 3 * beta)
            out = jnp.where(choice, value, out)
        return out

    def stage(self, system: System) -> Stage:
        """What `pdelang show` prints of the domain: the region, its nodes, the cut cells
        and, per condition on the boundary, the points it holds at."""
        cut = self.cut
        lines = [f"region {system.domain}",
                 f"nodes: {int(cut.inside.sum())} inside (equations), "
                 f"{int(cut.boundary.sum())} on the boundary, "
                 f"{int((~cut.closed).sum())} outside (NaN in the output)"]
        for name, axis_cut in cut.cuts.items():
            cuts = [axis_cut.theta[side][axis_cut.cut[side]] for side in (0, 1)]
            count = sum(c.size for c in cuts)
            smallest = min((float(c.min()) for c in cuts if c.size), default=1.0)
            lines.append(f"cut along {name}: {count} stencils reach the boundary "
                         f"(Shortley-Weller), the nearest at {smallest:.3g} h")
        for key, values in self.boundary.items():
            conditions = [c for c in system.conditions if c.kind == "shape" and
                          key in c.fields]
            sets = [s for pair in values.crossings.values() for s in pair] + [values.nodes]
            for k, condition in enumerate(conditions):
                points = sum(int(s.choices[k].sum()) for s in sets)
                kind = "value" if values.conditions[k].beta is None else \
                    "normal derivative (probes at 1 and 2 spacings inward)"
                part = "" if condition.where is None else f" where {condition.where}"
                fields = {f.name: f.args for f in system.fields}
                shown = " = ".join(expression_to_pde(side, fields)
                                   for side in (condition.lhs, condition.rhs))
                lines.append(f"{key}: {shown} on boundary{part}: {kind}, at {points} points")
        return Stage("domain", tuple(lines))

    def node_values(self, key: str, t, params, field: Array) -> Array:
        """The boundary values at the nodes on the boundary (0 elsewhere)."""
        if key not in self.boundary:
            return jnp.zeros(self.cut.inside.shape, self.dtype)
        return self.values(key, self.boundary[key].nodes, t, params, field)

    def derivative(self, array: Array, key: str, axis_name: str, order: int, t,
                   params) -> Array:
        """The order-1 or order-2 derivative of the field `key` along `axis_name` at every
        node, with the boundary's values where it cuts between a node and its neighbour."""
        if key not in self.boundary:
            raise LoweringError(f"`{key}` is differentiated in space on a shaped domain but "
                                "has no condition on its boundary")
        k = self.cut.axes.index(axis_name)
        axis_cut = self.cut.cuts[axis_name]
        below, above = self.boundary[key].crossings[axis_name]
        lower = jnp.roll(array, 1, axis=k)
        upper = jnp.roll(array, -1, axis=k)
        lower = jnp.where(axis_cut.cut[0], self.values(key, below, t, params, array), lower)
        upper = jnp.where(axis_cut.cut[1], self.values(key, above, t, params, array), upper)
        w_lo, w_mid, w_hi = (jnp.asarray(w, self.dtype)
                             for w in axis_cut.weights(self.cut.spacing[k], order))
        return w_lo * lower + w_mid * array + w_hi * upper

    def residual(self, residual: Callable[[State, State], State]) -> Callable:
        """Equations at the nodes inside, the boundary values on the boundary, 0 outside."""
        inside = self.cut.inside

        def shaped(U: State, params: State) -> State:
            R = residual(U, params)
            return {k: jnp.where(inside, R[k], U[k] - self.node_values(k, None, params, U[k]))
                    for k in R}

        return shaped

    def rhs(self, rhs: Callable[[Array, State, State], State]) -> Callable:
        """Rates at the nodes inside; on the boundary, the boundary value's rate; 0 outside."""
        inside = self.cut.inside

        def shaped(t: Array, U: State, params: State) -> State:
            rates = rhs(t, U, params)
            return {k: jnp.where(inside, rates[k], self._boundary_rate(k, t, params, U[k],
                                                                        rates[k]))
                    for k in rates}

        return shaped

    def _boundary_rate(self, key: str, t, params, field: Array, rate: Array) -> Array:
        """d/dt of the boundary nodes' values: through t, and through the field inside
        where a probe reads it (the chain rule, by one jvp)."""
        if key not in self.boundary:
            return jnp.zeros(self.cut.inside.shape, self.dtype)
        inside_rate = jnp.where(self.cut.inside, rate, 0)
        return jax.jvp(lambda s, v: self.node_values(key, s, params, v), (t, field),
                       (jnp.ones_like(t), inside_rate))[1]

    def initial(self, initial: Callable[[State], State], t0: float) -> Callable:
        inside = self.cut.inside

        def shaped(params: State) -> State:
            U = initial(params)
            t = jnp.asarray(t0, self.dtype)
            return {k: jnp.where(inside, v, self.node_values(k, t, params, v)).astype(v.dtype)
                    for k, v in U.items()}

        return shaped


def unshaped_fluxes(system: System, options) -> System:
    """A system on a shaped domain as the cut cells take it: equations in their expanded
    form (flux nodes such as d(k*d(u, x), x) carried out, since faces between a node and the
    boundary have no flux stencil); refused, by line: a differential-algebraic system (its
    algebraic fields would reach the equations as coefficients, without cut cells) and an
    upwind or shock-capturing --scheme (first derivatives are central here)."""
    if options.scheme not in (None, "central"):
        raise LoweringError(f"--scheme {options.scheme}: on a shaped domain first derivatives "
                            "are central (cut cells); upwind and shock-capturing schemes are "
                            "not available there yet", system.domain_span)
    if system.time is not None:
        time = system.time.name
        for e in system.equations:
            if not any(str(v) == time for d in e.residual.atoms(sp.Derivative)
                       for v, _ in d.variable_count):
                raise LoweringError("an equation without a time derivative in a "
                                    "time-dependent problem (a differential-algebraic system) "
                                    "is not solved on a shaped domain yet", e.span)
    return replace(system, equations=tuple(replace(e, flux=None) for e in system.equations))


def shaped_domain(system: System, grid: Grid, accuracy: int, constants: tuple[str, ...],
                  dtype) -> ShapedDomain:
    """The cut cells of `system.domain` on `grid` and the Dirichlet values of each field,
    with the checks that this version can solve the problem (see the module docstring)."""
    span = system.domain_span
    if accuracy != 2:
        raise LoweringError("a shaped domain takes second-order stencils (--accuracy 2): "
                            "the cut cells next to its boundary are second order", span)
    axes = tuple(c.name for c in system.space)
    along = (system.domain.name,) if isinstance(system.domain, Extruded) else ()
    cut_axes = tuple(a for a in axes if a not in along)
    for f in system.fields:
        if tuple(a for a in f.args if a in axes) != axes:
            raise LoweringError(f"on a shaped domain every field spans all space coordinates "
                                f"({', '.join(axes)}); `{f.name}` is declared "
                                f"{f.name}({', '.join(f.args)})", f.span)
    for e in system.equations:
        for d in e.residual.atoms(sp.Derivative):
            space = [(v, n) for v, n in d.variable_count if str(v) in cut_axes]
            if len(space) > 1 or any(n > 2 for _, n in space) or (
                    space and len(space) < len(d.variable_count)):
                raise LoweringError(
                    "on a shaped domain fd takes space derivatives of order 1 or 2 of a field "
                    f"along one coordinate at a time; `{d}` is not one", e.span)
    held = {name for c in system.conditions if c.kind == "shape" for name in c.fields}
    for e in system.equations:
        for d in e.residual.atoms(sp.Derivative):
            name = d.expr.func.__name__
            if any(str(v) in cut_axes for v, _ in d.variable_count) and name not in held and \
                    any(f.name == name for f in system.fields):
                raise LoweringError(f"`{name}` is differentiated in space but has no "
                                    "condition on the domain's boundary", e.span,
                                    hint=f"add `bc {name} = ... on boundary`")
    cut = cut_grid(system.domain.level, axes,
                   {a.name: a.node_coordinates() for a in grid.axes}, along)
    if not cut.inside.any():
        raise LoweringError(f"the grid has no node inside the domain {system.domain}: refine "
                            "it (--grid)", span)
    boundary = {}
    for f in system.fields:
        conditions = [c for c in system.conditions if c.kind == "shape" and f.name in c.fields]
        if conditions:
            boundary[f.name] = _boundary_values(system, f.name, conditions, cut, axes,
                                                constants, dtype)
    return ShapedDomain(cut, boundary, dtype)


def _boundary_values(system: System, name: str, conditions: list[Condition], cut: CutGrid,
                     axes: tuple[str, ...], constants: tuple[str, ...], dtype
                     ) -> BoundaryValues:
    linear = tuple(_linear(system, name, c, axes, constants, dtype) for c in conditions)
    predicates = [_predicate(c.where, axes) for c in conditions]
    robin = [c.beta is not None for c in linear]
    lines = tuple(np.unique(cut.nodes[k]) for k in range(len(axes)))

    def point_set(points, mask) -> PointSet:
        choices = _choose(predicates, points, mask)
        needs = np.logical_or.reduce([c for c, r in zip(choices, robin) if r]) if any(
            robin) else None
        if needs is None or not needs.any():
            return PointSet(points, mask, choices)
        at = np.flatnonzero(needs)
        probes = make_probes(system.domain.level, tuple(p.ravel()[at] for p in points),
                             cut.inside, lines, conditions[robin.index(True)].span,
                             tuple(k for k, a in enumerate(axes) if a not in cut.cuts))
        return PointSet(points, mask, choices, probes, at)

    crossings = {a: (point_set(c.points[0], c.cut[0]), point_set(c.points[1], c.cut[1]))
                 for a, c in cut.cuts.items()}
    nodes = point_set(cut.nodes, cut.boundary)
    _check_coverage(name, conditions, [s for pair in crossings.values() for s in pair], nodes)
    return BoundaryValues(name, linear, crossings, nodes)


def _linear(system: System, name: str, condition: Condition, axes, constants, dtype
            ) -> LinearCondition:
    """`alpha u + beta d(u, n) = g` from a condition's residual, linear in u and d(u, n)."""
    applied = system.field(name).applied
    normal = NormalDerivative(applied)
    value, slope = sp.Dummy("value"), sp.Dummy("slope")
    residual = condition.residual.xreplace({normal: slope}).xreplace({applied: value})
    stray = [o for o in occurrences(residual, {f.name for f in system.fields})]
    if stray or residual.has(sp.Derivative) or residual.has(sp.Subs) or \
            residual.has(NormalDerivative):
        raise LoweringError(
            f"a condition on the boundary of a shaped domain gives `{name}`, its normal "
            f"derivative d({name}, n), or a linear combination of the two (Robin); this one "
            f"has {stray[0] if stray else 'other terms'}", condition.span,
            hint="derivatives along x, y, ... are not taken on a curved boundary: write "
                 f"d({name}, n)")
    coefficients = sorted({a.func.__name__ for a in residual.atoms(AppliedUndef)})
    if coefficients:
        raise LoweringError(f"a condition on the boundary of a shaped domain takes constants "
                            f"and coordinates; the coefficient field `{coefficients[0]}` is not "
                            "evaluated between nodes yet", condition.span)
    alpha, beta = sp.diff(residual, value), sp.diff(residual, slope)
    if alpha.has(value, slope) or beta.has(value, slope):
        raise LoweringError(f"the condition on the boundary is not linear in `{name}` and "
                            f"d({name}, n)", condition.span)
    if alpha == 0 and beta == 0:
        raise LoweringError(f"the condition does not involve `{name}`", condition.span)
    g = -residual.xreplace({value: sp.S.Zero, slope: sp.S.Zero})
    time = system.time.symbol if system.time is not None else None

    def pointwise(expr):
        return _pointwise(expr, axes, time, constants, dtype)

    return LinearCondition(pointwise(alpha), None if beta == 0 else pointwise(beta),
                           pointwise(g))


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


def _check_coverage(name: str, conditions: list[Condition], crossings: list[PointSet],
                    nodes: PointSet) -> None:
    """Every point where the boundary is read has a condition; every condition has a
    point."""
    for k, condition in enumerate(conditions):
        if not any(s.choices[k].any() for s in crossings + [nodes]):
            raise LoweringError("this condition selects no point of the domain's boundary on "
                                "this grid", condition.span,
                                hint="check its `where`: it must hold somewhere on the boundary")
    for point_set in crossings:
        missing = point_set.mask & ~np.logical_or.reduce(point_set.choices)
        if missing.any():
            point = tuple(float(p[missing][0]) for p in point_set.points)
            raise LoweringError(
                f"`{name}` has no condition at the boundary point "
                f"({', '.join(f'{v:.4g}' for v in point)}): the `where` parts of its "
                "`on boundary` conditions do not cover the whole boundary",
                conditions[0].span, hint="add a condition for the rest, e.g. "
                f"`bc {name} = 0 on boundary` after the others")
    missing = nodes.mask & ~np.logical_or.reduce(nodes.choices)
    if missing.any():
        point = tuple(float(p[missing][0]) for p in nodes.points)
        raise LoweringError(
            f"`{name}` has no condition at the boundary node "
            f"({', '.join(f'{v:.4g}' for v in point)})", conditions[0].span,
            hint=f"add a condition for the rest, e.g. `bc {name} = 0 on boundary`")
