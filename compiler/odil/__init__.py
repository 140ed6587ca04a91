"""ODIL: a time-dependent system as a steady one on the space-time grid, lowered by the
finite-difference compiler (`compiler.fd`) unchanged. The one lowering target built on
another: ODIL's discrete residual *is* the fd residual with time as a grid axis."""

from .space_time import odil_stages, space_time_system

__all__ = ["odil_stages", "space_time_system"]
