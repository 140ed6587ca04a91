"""Errors of the runtime: a solve that cannot go on, or options that do not fit the problem.

Both subclass `pdelang.PdeError`, so the command line reports them like input errors:
the message, where it applies, and what to try, with exit status 1 and no traceback;
`NotConvergedError` (`strict=True`, `--strict`) exits with status 4, as a run that did not
converge does without it.
"""

from __future__ import annotations

from pdelang.errors import PdeError


class SolveError(PdeError):
    """A solve failed: divergence, a non-finite value, an unstable step, no convergence."""

    kind = "solve error"


class OptionError(PdeError):
    """An option value that does not fit the problem or the method."""

    kind = "option error"


class NotConvergedError(SolveError):
    """A solve finished but did not converge by its method's criterion, and `strict=True`
    (`--strict`) asked for that to be an error; `convergence` holds the verdict."""

    kind = "not converged"

    def __init__(self, message: str, span=None, hint: str = "", convergence=None) -> None:
        self.convergence = convergence
        super().__init__(message, span, hint)
