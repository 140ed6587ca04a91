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

from pdelang import System

from .errors import LoweringError


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
