"""Finite differences: the IR lowered to stencils on uniform grids, as pure JAX functions."""

from ..common.stages import Stage
from .ir import Region
from .lower import FDProgram, lower_fd
from .options import FDOptions

__all__ = ["FDOptions", "FDProgram", "Region", "Stage", "lower_fd"]
