"""ODIL's inverse problems: the residual of the whole grid and the data misfit minimised
together by sparse Levenberg-Marquardt (`fit`), from its parts (`param_jacobian`,
`misfit`, and `runtime.fit.least_squares`), coarse grids first (`continuation`)."""

from .continuation import fit_coarse_to_fine, grid_levels
from .fit import FitOutcome, FitSettings, fit_odil

__all__ = ["FitOutcome", "FitSettings", "fit_coarse_to_fine", "fit_odil", "grid_levels"]
