"""Finite differences: the IR lowered to stencils on uniform grids, as pure JAX functions."""

from .lower import FDProgram, Stage, lower_fd
from .nodes import Region
from .options import FDOptions

__all__ = ["FDOptions", "FDProgram", "Region", "Stage", "lower_fd"]
