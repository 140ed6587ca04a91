"""The pinn method on a shaped domain: where each loss term's points lie.

The equations (and mean and regularization terms) hold at points inside the region, the
initial conditions at such points at t = t0, and each condition `on boundary` at the points
of the region's boundary where its `where` holds (`sampling`): a point belongs
to the first condition, as written, of each field it constrains whose `where` holds there.
A condition's residual is evaluated with `d(u, n)` = n . grad u, n the outward unit normal
of the point and grad u the network's exact derivatives (nested jvp, as every derivative),
and is weighted by sqrt(w / mean w), w the length (area) the point stands for, so its loss
is a mean per unit length, not per point.

The points are drawn once, here, seeded (SEED), and travel in the terms (`Term.points`), a
boundary term's with the normal and the weight as extra columns after the coordinates;
INTERIOR, BOUNDARY and INITIAL say how many.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp

from pdelang import Condition, System
from pdelang.expressions import NormalDerivative
from pdelang.geometry import Shape, evaluate
from pdelang.printing import expression_to_pde

from ...errors import LoweringError
from ..residuals import NetworkGroup, Term, make_residual
from .sampling import BoundarySample, sample_boundary, sample_inside

INTERIOR = 4096         # collocation points inside the region
BOUNDARY = 1024         # points on its boundary, shared by the conditions there
INITIAL = 1024          # points inside the region at t = t0, per initial condition
SEED = 0
NORMAL = "n~"           # a normal's column is named NORMAL + the coordinate's name
GOLDEN = 0.6180339887498949     # boundary points' times: k * GOLDEN mod 1 (a Kronecker
                                # sequence, even over the interval for any count)


@dataclass(frozen=True)
class ShapedDomain:
    """The region of a system and how its points fill the columns `coordinates` (space
    coordinates from the region, time uniform over its interval)."""

    region: Shape
    space: tuple[str, ...]
    coordinates: tuple[str, ...]
    time: tuple[str, float, float] | None = None      # name, t0, t1

    def _columns(self, space: np.ndarray, times: np.ndarray | None) -> np.ndarray:
        out = np.empty((len(space), len(self.coordinates)))
        for j, name in enumerate(self.space):
            out[:, self.coordinates.index(name)] = space[:, j]
        if self.time is not None:
            out[:, self.coordinates.index(self.time[0])] = times
        return out

    def interior(self, n: int = INTERIOR, seed: int = SEED) -> np.ndarray:
        """Points inside the region (and over the time interval)."""
        extra = () if self.time is None else (self.time[1:],)
        drawn = sample_inside(self.region, n, seed, extra)
        return self._columns(drawn[:, :len(self.space)],
                             None if self.time is None else drawn[:, -1])

    def initial(self, t0: float, n: int = INITIAL, seed: int = SEED) -> np.ndarray:
        """Points inside the region at time t0."""
        drawn = sample_inside(self.region, n, seed)
        return self._columns(drawn, np.full(len(drawn), t0))

    def boundary(self, n: int = BOUNDARY, seed: int = SEED
                 ) -> tuple[np.ndarray, BoundarySample]:
        """Points on the region's boundary (with uniform times), and the sample itself."""
        sample = sample_boundary(self.region, n, seed)
        times = None
        if self.time is not None:
            _, t0, t1 = self.time
            shift = np.random.default_rng(seed).random()
            times = t0 + (t1 - t0) * ((np.arange(len(sample)) * GOLDEN + shift) % 1.0)
        return self._columns(sample.points, times), sample


def shaped_domain(system: System, coordinates: tuple[str, ...]) -> ShapedDomain:
    """The region of `system.domain` (inside the box: the language checks it) and the
    columns of its points."""
    time = system.time
    return ShapedDomain(system.domain, tuple(c.name for c in system.space), coordinates,
                        None if time is None else (time.name, *map(float, time.bounds)))


def place_terms(terms: tuple[Term, ...], domain: ShapedDomain) -> tuple[Term, ...]:
    """The interior terms with points inside the region; the initial ones at t0 there."""
    interior = domain.interior()
    out = []
    for t in terms:
        if t.points is None and t.kind in ("pde", "mean", "regularization"):
            t = dataclasses.replace(t, points=interior)
        elif t.points is None and t.kind == "initial":
            (t0,) = t.fixed.values()
            t = dataclasses.replace(t, points=domain.initial(t0))
        out.append(t)
    return tuple(out)


def boundary_terms(system: System, groups: tuple[NetworkGroup, ...], domain: ShapedDomain,
                   physical: Mapping[str, np.ndarray], hard: frozenset[int] = frozenset()
                   ) -> tuple[Term, ...]:
    """A term per condition on the boundary, but those in `hard` (met by construction),
    at the boundary points it takes (see the module docstring)."""
    points, sample = domain.boundary()
    values = {sp.Symbol(c): points[:, j] for j, c in enumerate(domain.coordinates)}
    values.update({sp.Symbol(k): float(v) for k, v in physical.items() if np.ndim(v) == 0})
    taken = {f.name: np.zeros(len(points), bool) for f in system.fields}
    signatures = {f.name: f.args for f in system.fields}
    terms: list[Term] = []
    for i, c in enumerate(system.conditions):
        if c.kind != "shape":
            continue
        mine = [n for n in c.fields if n in taken]
        wanted = _where(c, values, len(points))
        chosen = wanted & ~np.logical_or.reduce([taken[n] for n in mine]) if mine else wanted
        if not chosen.any():
            raise _nowhere(c, domain, len(points), bool(wanted.any()))
        for n in mine:
            taken[n] |= chosen
        if i in hard:
            continue
        name = "bc boundary" + (f" where {_text(c.where, signatures)}" if c.where is not None
                                else "")
        names = [t.name for t in terms]
        if name in names:
            name = f"{name} ({names.count(name) + 1})"
        terms.append(boundary_term(c, name, system, groups, domain, points[chosen],
                                   sample.subset(chosen)))
    return tuple(terms)


def boundary_term(c: Condition, name: str, system: System, groups: tuple[NetworkGroup, ...],
                  domain: ShapedDomain, points: np.ndarray, sample: BoundarySample) -> Term:
    """The condition's residual at its points, weighted by sqrt(w / mean w); the points'
    columns: the coordinates, the normal, the weight."""
    normals = tuple(NORMAL + a for a in domain.space)
    expr = along_normal(c.residual, system, normals)
    residual, _ = make_residual(expr, system, groups, domain.coordinates + normals,
                                " (condition on the boundary)")
    width = len(domain.coordinates) + len(normals)

    def weighted(nets, physical, batch):
        return residual(nets, physical, batch[:, :width]) * batch[:, width]

    scale = np.sqrt(sample.weights / np.mean(sample.weights))
    text = expression_to_pde(c.residual, {f.name: f.args for f in system.fields},
                             shorthand=True)
    where = "" if c.where is None else f" where {_text(c.where, {})}"
    return Term(name, "boundary", weighted, {}, f"{text} = 0 on the boundary{where}",
                points=np.column_stack([points, sample.normals, scale]))


def along_normal(expr: sp.Expr, system: System, normals: tuple[str, ...]) -> sp.Expr:
    """`expr` with every d(u, n) written n_x u_x + n_y u_y (+ n_z u_z), the normal's
    components the symbols `normals`."""
    space = [c.symbol for c in system.space]

    def expand(node: NormalDerivative) -> sp.Expr:
        (argument,) = node.args
        return sp.Add(*(sp.Symbol(n) * sp.diff(argument, x) for n, x in zip(normals, space)))

    return expr.replace(lambda e: isinstance(e, NormalDerivative), expand)


def _where(c: Condition, values: Mapping, n: int) -> np.ndarray:
    if c.where is None:
        return np.ones(n, bool)
    try:
        holds = evaluate(c.where, values, np)
    except ValueError as error:
        raise LoweringError(f"the `where` of this condition cannot be evaluated on the "
                            f"boundary points: {error}", c.span) from None
    return np.broadcast_to(np.asarray(holds, bool), (n,))


def _nowhere(c: Condition, domain: ShapedDomain, n: int, earlier: bool) -> LoweringError:
    where = f"its `where {_text(c.where, {})}`" if c.where is not None else "it"
    why = ("conditions written before it on the same field take all of them" if earlier
           else f"{where} holds at none of them")
    return LoweringError(f"this condition holds on no part of the boundary of "
                         f"{domain.region}: of the {n} points drawn on the boundary, {why}",
                         c.span, hint="check the `where` against the domain's boundary "
                                      "(`where x > 0`: the part right of x = 0), or leave "
                                      "the condition out")


def _text(expr: sp.Expr, signatures: Mapping) -> str:
    """An expression, or a relational `a > b`, as the language writes it."""
    if isinstance(expr, sp.core.relational.Relational):
        return f"{_text(expr.lhs, signatures)} {expr.rel_op} {_text(expr.rhs, signatures)}"
    return expression_to_pde(expr, signatures, shorthand=True)
