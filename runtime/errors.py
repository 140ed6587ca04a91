"""Errors of the runtime: a solve that cannot go on, or options that do not fit the problem.

Both subclass `pdelang.PdeError`, so the command line reports them like input errors:
the message, where it applies, and what to try, with exit status 1 and no traceback.
"""

from __future__ import annotations

from pdelang.errors import PdeError


class SolveError(PdeError):
    """A solve failed: divergence, a non-finite value, an unstable step, no convergence."""

    kind = "solve error"


class OptionError(PdeError):
    """An option value that does not fit the problem or the method."""

    kind = "option error"
