"""Finite differences: the IR lowered to stencils on uniform grids, as pure JAX functions."""

from ..common.stages import Stage
from .ir import Region
from .lower import FDProgram, check_net_derivatives, lower_fd
from .options import FDOptions

__all__ = ["FDOptions", "FDProgram", "Region", "Stage", "check_net_derivatives", "lower_fd"]
