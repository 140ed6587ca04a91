"""`method="fd"`: forward solves (method of lines in time, or the steady algebraic system)
and fits of unknown parameters through them."""

from .options import FDSolveOptions
from .solve import solve_fd

__all__ = ["FDSolveOptions", "solve_fd"]
