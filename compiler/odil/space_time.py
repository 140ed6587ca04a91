"""ODIL (Karnakov, Litvinov and Koumoutsakos, PNAS Nexus 2024): the discrete residual of
every equation and condition on the whole space-time grid, solved or minimised at once.

A time-dependent system becomes a steady one with time as one more grid axis: the time
derivative is a stencil along that axis like any other, the initial condition holds on
the face t = t0, and the equation holds up to t = T with one-sided stencils there. The
finite-difference compiler then lowers it unchanged, and one sparse Newton solve (or a
Gauss-Newton minimisation, with observations) finds the whole history at once.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from pdelang import Param, System
from pdelang.geometry import Extruded
from pdelang.ir import Net
from pdelang.printing import expression_to_pde

from ..common.nets import parameter_count
from ..common.observations import field_observations
from ..common.stages import Stage
from ..errors import FIXED_IN_TIME, LoweringError
from ..fd import FDOptions, FDProgram, lower_fd
from ..fd.stages import printer


def space_time_system(system: System) -> System:
    """`system` with its time coordinate made a grid axis, initial conditions made
    conditions on the face t = t0 and a shaped domain extruded along time (steady systems
    are returned as they are)."""
    time = system.time
    if time is None:
        return system
    for info in system.info:
        if info.time_order > 1:
            raise LoweringError(
                f"`{info.name}` is of order {info.time_order} in time; the odil method takes "
                "first-order equations in time for now",
                system.field(info.name).span,
                hint="write the wave equation as two first-order fields, or use --method fd")
    for c in system.conditions:
        if c.fixes_constant:
            raise LoweringError(FIXED_IN_TIME.format(method="odil"), c.span,
                                hint="use --method fd, which integrates it as a DAE")
    coordinates = tuple(dataclasses.replace(c, is_time=False) for c in system.coordinates)
    conditions = tuple(dataclasses.replace(c, kind="boundary") if c.kind == "initial" else c
                       for c in system.conditions)
    domain = system.domain
    if domain is not None:           # the region at every time: a space-time cylinder
        position = [c.name for c in system.coordinates].index(time.name)
        domain = Extruded(domain, position, time.name)
    return dataclasses.replace(system, coordinates=coordinates, conditions=conditions,
                               domain=domain)


@dataclass(frozen=True)
class SpaceTimeUnknowns:
    """Every node of `fields` on the space-time grid of `points` per axis."""

    fields: tuple[str, ...]
    points: tuple[int, ...]
    count: int

    def __str__(self) -> str:
        return (f"unknowns: every node of {', '.join(self.fields)} on the "
                f"{' x '.join(map(str, self.points))} grid ({self.count} values)")


@dataclass(frozen=True)
class UnknownParameter:
    """An unknown parameter, with the grid shape of its values (() for a constant)."""

    param: Param
    shape: tuple[int, ...]

    def __str__(self) -> str:
        p = self.param
        where = f" on its {' x '.join(map(str, self.shape))} grid" if p.is_field else ""
        return f"unknown parameter {p.symbol}{where}, first guess {expression_to_pde(p.guess)}"


@dataclass(frozen=True)
class UnknownNet:
    """A learned function's weights among the unknowns."""

    net: Net
    signature: str

    def __str__(self) -> str:
        return (f"unknown weights of net {self.signature}: {parameter_count(self.net)}, "
                "from their first draw")


@dataclass(frozen=True)
class DataMisfit:
    field: str
    count: int

    def __str__(self) -> str:
        return f"data: {self.count} observations of {self.field}, sampled multilinearly"


@dataclass(frozen=True)
class Objective:
    """What is solved: `newton` (R(U) = 0) or `least squares` (residual, data misfit and
    regularization, by Levenberg-Marquardt)."""

    kind: str

    def __str__(self) -> str:
        if self.kind == "newton":
            return "solve R(U) = 0 on the whole grid at once by sparse Newton"
        loss = ("loss: mean(R^2) + data_weight * mean(misfit^2) [+ regularization * "
                "mean |grad c|^2 per unknown field")
        if self.kind == "least squares with nets":
            return (loss + " + regularization * mean(w^2) per net], by Levenberg-Marquardt: "
                    "the fields' block by sparse LU, the weights' by conjugate gradients "
                    "(jvp and vjp products)")
        return loss + "], by sparse Levenberg-Marquardt"


def odil_stages(system: System, options: FDOptions) -> tuple[Stage, ...]:
    """What `pdelang show --method odil` prints: the finite-difference program of the
    space-time system (time one more grid axis), then what is minimised."""
    program = lower_fd(space_time_system(system), options)
    return program.stages + (odil_stage(system, program),)


def odil_stage(system: System, program: FDProgram) -> Stage:
    """The unknowns, data and objective of `system`, whose space-time program is `program`."""
    nodes = sum(math.prod(program.shapes[f.name]) for f in system.fields)
    items: list = [SpaceTimeUnknowns(tuple(f.name for f in system.fields),
                                     tuple(a.points for a in program.grid.axes), nodes)]
    items += [UnknownParameter(p, tuple(np.shape(program.params[p.name])) if p.is_field else ())
              for p in system.unknown_params]
    items += [UnknownNet(n, n.signature(printer(system))) for n in system.nets]
    observations = field_observations(system, "odil")
    items += [DataMisfit(o.field, o.count) for o in observations]
    fit = bool(observations or system.learned)
    items.append(Objective("newton" if not fit else
                           "least squares with nets" if system.nets else "least squares"))
    return Stage("odil", tuple(items))
