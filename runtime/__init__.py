"""Running compiled systems: time integration, steady solves, training, results, CLI.

    import runtime
    sol = runtime.solve(system, method="fd", grid=65)
"""

from .errors import OptionError, SolveError
from .output.solution import Solution
from .solve import METHODS, solve

__all__ = ["METHODS", "OptionError", "Solution", "SolveError", "solve"]
