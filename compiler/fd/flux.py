"""Flux form: `d(F, x)` differenced at cell faces, (F[i+1/2] - F[i-1/2]) / h.

A flux node of an equation (`pdelang.flux`) is split along its axis into
- diffusion terms `k * d(u, x)`: F[i+1/2] = k[i+1/2] (u[i+1] - u[i]) / h, k at the face by
  the harmonic (default) or arithmetic mean (`FDOptions.face_mean`) of its values on the
  two sides. A k of coordinates and constants only is sampled a quarter cell from each node
  towards the face (x[i] + h/4 and x[i+1] - h/4), so that a jump of k on a node or halfway
  between nodes is seen on its correct side (the discrete flux is then exact for layered
  media); any other k (fields, data, unknowns) is taken at the nodes. Order 2. The
  harmonic mean of two values of opposite signs (or a zero) is 0: no flux through the face.
- a convective rest f(fields): with a shock-capturing scheme (`ReconstructionScheme`) in a
  time-dependent equation, Lax-Friedrichs flux splitting with the wave speed bound of
  `wave_speed`; otherwise the product rule is applied and the terms are treated as any
  other (upwinded transport, central differences).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jax.numpy as jnp
import sympy as sp
from sympy.core.function import AppliedUndef

from pdelang import System
from pdelang.errors import Span
from pdelang.flux import is_flux
from pdelang.printing import expression_to_pde

from ..common.operators import restrict
from ..errors import LoweringError
from .ir import Layout, Region
from .options import FDOptions
from .schemes.base import ReconstructionScheme, _continued, _take


@dataclass(frozen=True)
class Diffusion:
    """One term `coefficient * d(field, axis)` of a flux along `axis`."""

    coefficient: sp.Expr
    field: str


@dataclass(frozen=True)
class FaceFlux:
    """A flux node `d(F, axis)` as it is differenced: its diffusion terms at faces, and the
    convective rest `convective` split by `scheme` with the conserved field's value and the
    wave speed bound `speed`."""

    node: sp.Expr
    axis: str
    diffusion: tuple[Diffusion, ...]
    convective: sp.Expr = sp.S.Zero
    conserved: str | None = None
    speed: sp.Expr | None = None
    scheme: ReconstructionScheme | None = None
    mean: str = "harmonic"

    def describe(self, h: str) -> str:
        """How `pdelang show` prints it."""
        parts = []
        if self.diffusion:
            parts.append(f"(F[i+1/2] - F[i-1/2]) / {h}, F[i+1/2] = k[i+1/2] (u[i+1] - u[i]) / "
                         f"{h}, k[i+1/2] the {self.mean} mean of k on both sides (order 2)")
        if self.scheme is not None:
            parts.append(f"{self.scheme.name}: (F[i+1/2] - F[i-1/2]) / {h} by Lax-Friedrichs "
                         f"splitting f+- = (f +- a u)/2, a the wave speed bound (max of i, "
                         f"i+1), f+ and f- at faces by {self.scheme.formula}")
        return "flux form: " + "; ".join(parts)


def split_fluxes(expr: sp.Expr, system: System, field: str, options: FDOptions,
                 scheme: ReconstructionScheme | None,
                 speeds: Mapping[str, sp.Expr],
                 span: Span | None = None) -> tuple[sp.Expr, dict[sp.Symbol, FaceFlux]]:
    """`expr` with each flux node replaced by placeholders, and what each stands for.

    Diffusion terms always become a placeholder. With a shock-capturing `scheme`, so do
    the convective parts `c * d(f, x)` (c a constant: the conservation law u_t + (c f)_x
    = 0), bare first derivatives `c * d(v, x)` of fields included (the `d(m, x)` of a
    mass equation). Everything else is expanded in place (the product rule).
    """
    fields = {f.name for f in system.fields}
    axes = _axes(system, field)
    found: dict[sp.Symbol, FaceFlux] = {}
    convective = {node: (c, f) for node, _, c, f in convective_parts(expr, system, axes)} \
        if scheme is not None else {}

    def split(node: sp.Derivative, c: sp.Expr, f: sp.Expr) -> sp.Expr:
        axis = node.variable_count[0][0].name
        symbol = sp.Dummy(f"flux_{axis}")
        found[symbol] = FaceFlux(node, axis, (), c * f, field, speeds[axis], scheme,
                                 options.face_mean)
        return symbol / c

    def lower(node: sp.Derivative) -> sp.Expr:
        if isinstance(node.expr, AppliedUndef):
            return split(node, *convective[node]) if node in convective else node
        variable = node.variable_count[0][0]
        axis = variable.name
        diffusion, rest = _diffusion_terms(node.expr, axis, system, axes)
        out = sp.S.Zero
        if diffusion:
            if options.accuracy != 2:
                raise LoweringError(
                    f"the flux {_show(node, system)} is differenced at cell faces, to "
                    f"order 2; --accuracy {options.accuracy} would not hold for it", span,
                    hint="use --accuracy 2 (a smooth coefficient may also be written out: "
                         "k*d(u, x, 2) + d(k, x)*d(u, x))")
            symbol = sp.Dummy(f"flux_{axis}")
            found[symbol] = FaceFlux(node, axis, tuple(diffusion), mean=options.face_mean)
            out += symbol
        if rest != 0 and node in convective:
            out += split(node, *convective[node])
        elif rest != 0:
            out += sp.Derivative(rest, variable).doit()
        return out

    def candidate(e: sp.Basic) -> bool:
        return is_flux(e, fields) or e in convective

    return expr.replace(candidate, lower), found


def convective_parts(expr: sp.Expr, system: System, axes: tuple[str, ...]
                     ) -> list[tuple[sp.Derivative, str, sp.Expr, sp.Expr]]:
    """(node, axis, c, f) for each flux node or bare first derivative d(v, x) of a field in
    `expr` whose convective part f (a function of the fields' values, not their
    derivatives) enters as -c d(f, x) with c a constant."""
    fields = {f.name for f in system.fields}
    space = {c.name for c in system.space}
    constants = {sp.Symbol(p.name) for p in system.params if not p.is_field}
    inside = {d for n in expr.atoms(sp.Derivative) if is_flux(n, fields)
              for d in n.expr.atoms(sp.Derivative)}
    out = []
    for node in set(expr.atoms(sp.Derivative)) - inside:
        if len(node.variable_count) != 1 or node.variable_count[0][1] != 1:
            continue
        axis = node.variable_count[0][0].name
        if axis not in space or axis not in axes:
            continue
        if isinstance(node.expr, AppliedUndef):
            if node.expr.func.__name__ not in fields:
                continue
            f = node.expr
        elif is_flux(node, fields):
            f = _diffusion_terms(node.expr, axis, system, axes)[1]
        else:
            continue
        if f == 0 or not _state_only(f, fields):
            continue
        s = sp.Dummy()
        c = -sp.diff(expr.xreplace({node: s}), s)
        if c == 0 or not c.free_symbols <= constants or c.atoms(AppliedUndef):
            continue
        out.append((node, axis, c, f))
    return out


def _show(expr: sp.Expr, system: System) -> str:
    signatures = {f.name: f.args for f in system.fields}
    signatures.update({p.name: p.args for p in system.params if p.is_field})
    return expression_to_pde(expr, signatures)


def _axes(system: System, name: str) -> tuple[str, ...]:
    space = {c.name for c in system.space}
    return tuple(a for a in system.field(name).args if a in space)


def _diffusion_terms(inner: sp.Expr, axis: str, system: System,
                     axes: tuple[str, ...]) -> tuple[list[Diffusion], sp.Expr]:
    """The terms `k * d(v, axis)` of `inner` (k free of that derivative), and the rest."""
    out, rest = [], sp.S.Zero
    for term in sp.Add.make_args(sp.expand(inner, deep=False, mul=True, power_exp=False,
                                           power_base=False, log=False, multinomial=False)):
        derivative = _first_derivative(term, axis, system, axes)
        if derivative is None:
            rest += term
            continue
        coefficient = sp.cancel(term / derivative) if not term == derivative else sp.S.One
        if coefficient.has(derivative):
            rest += term
            continue
        out.append(Diffusion(coefficient, derivative.expr.func.__name__))
    return out, rest


def _first_derivative(term: sp.Expr, axis: str, system: System,
                      axes: tuple[str, ...]) -> sp.Derivative | None:
    """The one factor d(v, axis) of `term` with v a field on the same axes, if any."""
    fields = {f.name for f in system.fields}
    found = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Derivative)
             and isinstance(f.expr, AppliedUndef) and f.expr.func.__name__ in fields
             and f.variable_count == ((sp.Symbol(axis), 1),)
             and _axes(system, f.expr.func.__name__) == axes]
    return found[0] if len(found) == 1 else None


def _state_only(expr: sp.Expr, fields: set[str]) -> bool:
    """Whether `expr` depends on fields through their values only (no derivatives)."""
    return not any(isinstance(d, sp.Derivative) and isinstance(d.expr, AppliedUndef)
                   and d.expr.func.__name__ in fields for d in sp.preorder_traversal(expr))


def wave_speed(fluxes: Mapping[str, sp.Expr], system: System) -> sp.Expr:
    """A bound on the largest |eigenvalue| of the Jacobian J = d flux / d conserved fields.

    One field: |f'(u)|. Several: |tr J|/n + sqrt((n-1)/n (tr J^2 - (tr J)^2/n)), Samuelson's
    bound on the distance of each eigenvalue from their mean (exact for n <= 2; for the
    Euler equations |v| + 1.15 c instead of |v| + c), valid when the eigenvalues are real,
    as they are for a hyperbolic system."""
    names = list(fluxes)
    unknowns = [system.field(n).applied for n in names]
    jacobian = sp.Matrix([[sp.diff(fluxes[a], v) for v in unknowns] for a in names])
    n = len(names)
    if n == 1:
        return sp.Abs(jacobian[0, 0])
    trace = jacobian.trace()
    square = (jacobian * jacobian).trace()
    spread = sp.Rational(n - 1, n) * (square - trace**2 / n)
    return sp.Abs(trace) / n + sp.sqrt(sp.Max(spread, 0))


# -- evaluation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CompiledFlux:
    """A `FaceFlux` with the kernels of its parts on the whole grid of the field."""

    flux: FaceFlux
    coefficients: tuple[tuple[object, object, str], ...]   # (k toward right, k toward left, v)
    convective: tuple[object, object] | None                # (f, speed) kernels
    layout: Layout

    def __call__(self, t, U, params, region: Region) -> jnp.ndarray:
        axis = self.flux.axis
        position = region.axes.index(axis)
        info = self.layout.axes[axis]
        lo, hi = region.range_of(axis)
        total = 0.0
        for right, left, name in self.coefficients:
            total = total + _diffusion(right(t, U, params), left(t, U, params), U[name],
                                       position, info, lo, hi, self.flux.mean)
        if self.convective is not None:
            f, speed = (k(t, U, params) for k in self.convective)
            u = U[self.flux.conserved]
            total = total + self.flux.scheme.flux_difference(f, u, speed, position, info, lo, hi)
        ranges = tuple(None if a == axis else region.range_of(a) for a in region.axes)
        return restrict(total, ranges)


def compile_flux(flux: FaceFlux, system: System, layout: Layout, field: str,
                 make: Callable[[sp.Expr, Region], Callable]) -> CompiledFlux:
    """Kernels of the parts of `flux` on every node of `field`'s grid; `make(expr, region)`
    builds one (lower.py: collect, then make_kernel)."""
    axes = _axes(system, field)
    whole = Region(axes, tuple((0, layout.axes[a].size) for a in axes))
    h = layout.axes[flux.axis].h
    x = sp.Symbol(flux.axis)
    coefficients = []
    for term in flux.diffusion:
        k = _inline_params(term.coefficient, system)
        if _sampled_anywhere(k):
            right = make(k.xreplace({x: x + h / 4}), whole)
            left = make(k.xreplace({x: x - h / 4}), whole)
        else:
            right = left = make(term.coefficient, whole)
        coefficients.append((right, left, term.field))
    convective = None
    if flux.scheme is not None:
        convective = (make(flux.convective, whole), make(flux.speed, whole))
    return CompiledFlux(flux, tuple(coefficients), convective, layout)


def _inline_params(expr: sp.Expr, system: System) -> sp.Expr:
    """`expr` with coefficient fields defined by expressions written out."""
    table = {p.symbol: p.value for p in system.params
             if p.is_field and p.value is not None and not p.is_unknown}
    return expr.xreplace(table)


def _sampled_anywhere(expr: sp.Expr) -> bool:
    """Whether `expr` can be evaluated between nodes: coordinates and constants only."""
    return not expr.atoms(AppliedUndef) and not expr.atoms(sp.Derivative)


def _diffusion(right: jnp.ndarray, left: jnp.ndarray, u: jnp.ndarray, axis: int, info,
               lo: int, hi: int, mean: str) -> jnp.ndarray:
    """(F[i+1/2] - F[i-1/2]) / h at nodes lo..hi-1, F = k (u[i+1] - u[i]) / h at faces."""
    right, left = (jnp.broadcast_to(k, u.shape) for k in (right, left))
    n = hi - lo + 1                              # faces lo-1/2 .. hi-1/2
    padded = [_continued(a, axis, info, 1, 2) for a in (right, left, u)]
    k_right, _, u_low = (_take(a, axis, lo, n) for a in padded)       # node j = lo-1 ..
    _, k_left, u_high = (_take(a, axis, lo + 1, n) for a in padded)   # node j+1
    if mean == "harmonic":
        product = k_right * k_left
        positive = product > 0
        k = jnp.where(positive, 2 * product / jnp.where(positive, k_right + k_left, 1.0), 0.0)
    else:
        k = (k_right + k_left) / 2
    faces = k * (u_high - u_low) / info.h
    return (_take(faces, axis, 1, n - 1) - _take(faces, axis, 0, n - 1)) / info.h
