"""`method="odil"` (`solve`): forward problems by one sparse Newton solve of the space-time
residual; inverse problems by the residual of the whole grid and the data misfit minimised
together by sparse Levenberg-Marquardt (`fit`), from its parts (`param_jacobian`,
`misfit`, and `runtime.algebra.least_squares`), coarse grids first (`continuation`); with
learned functions, their weights too, the weights' block of each step by conjugate
gradients (`nets`)."""

from .continuation import fit_coarse_to_fine, grid_levels
from .fit import FitOutcome, FitSettings, fit_odil
from .solve import ODILSolveOptions, solve_odil

__all__ = ["FitOutcome", "FitSettings", "ODILSolveOptions", "fit_coarse_to_fine", "fit_odil",
           "grid_levels", "solve_odil"]
