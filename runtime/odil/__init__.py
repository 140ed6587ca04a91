"""ODIL's inverse problems: the residual of the whole grid and the data misfit minimised
together by sparse Levenberg-Marquardt (`fit`), from its parts (`param_jacobian`,
`misfit`, `least_squares`)."""

from .fit import FitOutcome, FitSettings, fit_odil

__all__ = ["FitOutcome", "FitSettings", "fit_odil"]
