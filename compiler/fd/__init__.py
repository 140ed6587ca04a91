"""Finite differences: the IR lowered to stencils on uniform grids, as pure JAX functions."""

from .ir import Region
from .lower import FDProgram, Stage, lower_fd
from .options import FDOptions

__all__ = ["FDOptions", "FDProgram", "Region", "Stage", "lower_fd"]
