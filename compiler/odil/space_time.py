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

from pdelang import System
from pdelang.printing import expression_to_pde

from ..common.observations import field_observations
from ..errors import LoweringError
from ..fd import FDOptions, Stage, lower_fd


def space_time_system(system: System) -> System:
    """`system` with its time coordinate made a grid axis and initial conditions made
    conditions on the face t = t0 (steady systems are returned as they are)."""
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
    coordinates = tuple(dataclasses.replace(c, is_time=False) for c in system.coordinates)
    conditions = tuple(dataclasses.replace(c, kind="boundary") if c.kind == "initial" else c
                       for c in system.conditions)
    return dataclasses.replace(system, coordinates=coordinates, conditions=conditions)


def odil_stages(system: System, options: FDOptions) -> tuple[Stage, ...]:
    """What `pdelang show --method odil` prints: the finite-difference program of the
    space-time system (time one more grid axis), then what is minimised."""
    program = lower_fd(space_time_system(system), options)
    nodes = sum(math.prod(program.shapes[f.name]) for f in system.fields)
    lines = [f"unknowns: every node of {', '.join(f.name for f in system.fields)} "
             f"on the {' x '.join(str(a.points) for a in program.grid.axes)} grid "
             f"({nodes} values)"]
    for p in system.unknown_params:
        where = f" on its {' x '.join(str(n) for n in program.params[p.name].shape)} grid" \
            if p.is_field else ""
        lines.append(f"unknown parameter {p.symbol}{where}, first guess "
                     f"{expression_to_pde(p.guess)}")
    observations = field_observations(system)
    for o in observations:
        lines.append(f"data: {o.count} observations of {o.field}, sampled multilinearly")
    if observations or system.unknown_params:
        lines.append("loss: mean(R^2) + data_weight * mean(misfit^2) "
                     "[+ regularization * mean |grad c|^2 per unknown field], by sparse "
                     "Levenberg-Marquardt")
    else:
        lines.append("solve R(U) = 0 on the whole grid at once by sparse Newton")
    return program.stages + (Stage("odil", tuple(lines)),)

