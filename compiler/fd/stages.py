"""The stages of the fd driver as data: what each pass produced, and how it reads.

    grid                a `common.grid.Axis` per space coordinate
    parameters          `ParamValue`: each parameter with its value (a scalar or an array)
    equations           `OwnedEquation`: each field's method-of-lines equation and its nodes
    boundary closures   `ClosureRow`: a face's condition solved for its boundary value
    boundary rows       `BoundaryRows` (steady): a face's condition as residual rows
    stencils            `FluxUse` per flux node differenced at faces, `StencilUse` per
                        derivative and axis, then `Spacing` per axis
    program             `ProgramSignature`: the function, its state and parameter arrays
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

import numpy as np
import sympy as sp

from pdelang import Param, System
from pdelang.printing import expression_to_pde

from ..common.grid import Axis, Grid
from ..common.stages import Stage
from .accesses import Collected, describe_step
from .boundaries.conditions import Face, FieldNodes
from .equations import Assigned
from .flux import FaceFlux
from .ir import Region, Step

Show = Callable[[sp.Expr], str]


@dataclass(frozen=True)
class ParamValue:
    param: Param
    value: np.ndarray

    @property
    def name(self) -> str:
        return self.param.name


@dataclass(frozen=True)
class OwnedEquation:
    """One equation in method-of-lines form, d^k field/dt^k = rhs (time-dependent) or
    residual = 0 (steady, `rhs` None), and the nodes where it holds."""

    field: str
    time_order: int
    rhs: sp.Expr | None
    residual: sp.Expr
    nodes: Region


@dataclass(frozen=True)
class ClosureRow:
    """A face's condition solved for the field's boundary value: `equation` is
    Eq(u[i0], formula in the neighbour values u[i1], ...)."""

    face: Face
    equation: sp.Eq

    @property
    def field(self) -> str:
        return self.face.field


@dataclass(frozen=True)
class BoundaryRows:
    """A face's condition as the residual rows of the nodes it owns (steady systems)."""

    face: Face
    nodes: Region
    row: sp.Expr | None = None      # for a face that closes a coupled field: the row held

    @property
    def field(self) -> str:
        return self.face.field

    @property
    def residual(self) -> sp.Expr:
        return self.face.condition.residual


@dataclass(frozen=True)
class CornerRows:
    """Nodes where faces that close a coupled field meet: the field's own equation holds
    there, with one-sided stencils (steady systems)."""

    field: str
    nodes: Region
    residual: sp.Expr


@dataclass(frozen=True)
class StencilUse:
    """The stencil (or upwind pair) of one derivative `term` along one axis."""

    term: sp.Expr
    step: Step

    @property
    def axis(self) -> str:
        return self.step.axis

    @property
    def scheme(self) -> str:
        """The name of the upwinded scheme of a transport term (its stencil picked by the
        velocity's sign at run time: `compiler.fd.schemes`), or "central" (one stencil,
        moved one-sided near the edges of the grid)."""
        return self.step.scheme.name if self.step.scheme is not None else "central"


@dataclass(frozen=True)
class FluxUse:
    """A flux node `d(F, x)` differenced at cell faces (compiler/fd/flux.py)."""

    flux: FaceFlux

    @property
    def axis(self) -> str:
        return self.flux.axis

    @property
    def scheme(self) -> str:
        """"flux" (diffusion at faces, order 2), or the shock-capturing scheme's name."""
        return self.flux.scheme.name if self.flux.scheme is not None else "flux"


@dataclass(frozen=True)
class Spacing:
    axis: str
    h: float

    def __str__(self) -> str:
        return f"h{self.axis} = {self.h:.6g}"


@dataclass(frozen=True)
class ProgramSignature:
    """The generated function and the arrays it takes: state keys and parameter names
    with their shapes."""

    function: str
    state: Mapping[str, tuple[int, ...]]
    params: Mapping[str, tuple[int, ...]]

    @property
    def unknowns(self) -> int:
        return sum(int(np.prod(s)) for s in self.state.values())

    def lines(self) -> tuple[str, ...]:
        return (self.function, "U: " + ", ".join(f"{k}{list(s)}" for k, s in self.state.items()),
                "params: " + (", ".join(f"{k}{list(s)}" for k, s in self.params.items())
                              or "none"),
                f"unknowns: {self.unknowns}")


# -- builders ---------------------------------------------------------------------------

def printer(system: System) -> Show:
    signatures = {f.name: f.args for f in system.fields}
    signatures.update({p.name: p.args for p in system.params if p.is_field})
    return lambda expr: expression_to_pde(expr, signatures, shorthand=True)


def grid_stage(grid: Grid) -> Stage:
    return Stage("grid", grid.axes, _axis_line, "no space coordinates (ODE system)")


def params_stage(system: System, params: Mapping[str, np.ndarray]) -> Stage:
    items = tuple(ParamValue(p, params.get(p.name)) for p in system.params)
    return Stage("parameters", items, _param_line, "none")


def nets_stage(system: System, show: Show) -> Stage:
    """The learned functions: each `net` line and its count of weights, fitted with the
    unknowns."""
    from ..common.nets import parameter_count

    how = "through the integrator" if system.time is not None else "on the grid"

    def line(net) -> str:
        return (f"{net.declaration(show)}: {parameter_count(net)} weights, fitted with the "
                f"unknowns {how}")

    return Stage("learned functions", system.nets, line, "none")


def equation_stage(assigned: tuple[Assigned, ...], nodes: Mapping[str, FieldNodes],
                   show: Show) -> Stage:
    items = tuple(OwnedEquation(a.field, a.time_order,
                                a.discretised if a.rhs is not None else None,
                                a.discretised if a.rhs is None else a.equation.residual,
                                nodes[a.field].interior) for a in assigned)
    return Stage("equations", items, partial(_equation_line, show))


def closure_stage(shown: list[tuple[Face, sp.Eq]], system: System, show: Show) -> Stage:
    items = tuple(ClosureRow(face, eq) for face, eq in shown)
    return Stage("boundary closures", items, partial(_closure_line, system, show))


def boundary_rows_stage(rows: list[BoundaryRows], system: System, show: Show) -> Stage:
    return Stage("boundary rows", tuple(rows), partial(_rows_line, system, show))


def stencil_stage(collected: list[Collected], grid: Grid, show: Show) -> Stage:
    seen: dict[tuple[str, ...], StencilUse | FluxUse] = {}
    for c in collected:
        for flux, _ in c.fluxes:     # a flux's diffusion and convective parts: one use each
            use = FluxUse(flux)
            seen.setdefault((show(flux.node), flux.axis, use.scheme), use)
        for term, step in c.stencils:
            seen.setdefault((show(term), step.axis), StencilUse(term, step))
    items = (*seen.values(), *(Spacing(a.name, a.h) for a in grid.axes))
    return Stage("stencils", items, partial(_stencil_line, show), "no derivatives in space")


def program_stage(function: str, shapes: Mapping[str, tuple[int, ...]],
                  params: Mapping[str, np.ndarray]) -> Stage:
    signature = ProgramSignature(function, dict(shapes),
                                 {k: tuple(np.shape(v)) for k, v in params.items()})
    return Stage("program", (signature,), ProgramSignature.lines)


# -- how items read ---------------------------------------------------------------------

def face_value(system: System, axis: str, side: str) -> str:
    return expression_to_pde(system.coordinate(axis).value(side))


def show_region(region: Region) -> str:
    return ", ".join(f"{a}[{lo}:{hi}]" for a, (lo, hi) in zip(region.axes, region.ranges))


def _axis_line(a: Axis) -> str:
    return (f"{a.name}: {a.points} points on [{a.lower:g}, {a.upper:g}], h = {a.h:.6g}"
            + (", periodic (last point = first)" if a.periodic else ""))


def _param_line(item: ParamValue) -> str:
    p = item.param
    if p.is_field:
        how = "samples interpolated" if p.samples is not None else "expression"
        return f"{p.name}({', '.join(p.args)}): array {np.shape(item.value)} ({how})"
    return f"{p.name} = {float(item.value):g}" + (" (unknown, guess)" if p.is_unknown else "")


def _equation_line(show: Show, e: OwnedEquation) -> str:
    region = show_region(e.nodes)
    if e.rhs is None:
        return f"{show(e.residual)} = 0   on nodes {region}"
    lhs = f"d({e.field}, t{', ' + str(e.time_order) if e.time_order > 1 else ''})"
    return f"{lhs} = {show(e.rhs)}   on nodes {region}"


def _closure_line(system: System, show: Show, row: ClosureRow) -> str:
    face = row.face
    return (f"{face.field} at {face.axis} = {face_value(system, face.axis, face.side)}: "
            f"{show(row.equation.lhs)} = {show(row.equation.rhs)}")


def _rows_line(system: System, show: Show, rows: BoundaryRows | CornerRows) -> str:
    if isinstance(rows, CornerRows):
        return (f"{rows.field} at a corner: {show(rows.residual)} = 0 (its equation, "
                f"one-sided) on nodes {show_region(rows.nodes)}")
    face = rows.face
    at = f"{face.axis} = {face_value(system, face.axis, face.side)}"
    line = f"{face.field} at {at}: {show(rows.residual)} = 0 on nodes {show_region(rows.nodes)}"
    if face.depth:
        line += f" (layer {face.depth}; derivatives taken at {at}, one-sided)"
    if rows.row is not None:
        line += (f" (closes {face.field}: the equation of {face.condition.fields[0]} holds "
                 "there, its normal derivatives one-sided with the condition built in)")
    return line


def _stencil_line(show: Show, item: StencilUse | FluxUse | Spacing) -> str:
    if isinstance(item, Spacing):
        return str(item)
    if isinstance(item, FluxUse):
        return f"{show(item.flux.node)}: {item.flux.describe(f'h{item.axis}')}"
    return f"{show(item.term)}: {describe_step(item.step, f'h{item.axis}')}"
