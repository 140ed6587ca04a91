"""Errors of the runtime: a solve that cannot go on, or options that do not fit the problem.

Both subclass `pdelang.PdeError`, so the command line reports them like input errors:
the message, where it applies, and what to try, with exit status 1 and no traceback;
`NotConvergedError` (`strict=True`, `--strict`) exits with status 4, as a run that did not
converge does without it.
"""

from __future__ import annotations

import copy

from pdelang import System
from pdelang.errors import PdeDataError, PdeError, Span


class SolveError(PdeError):
    """A solve failed: divergence, a non-finite value, an unstable step, no convergence."""

    kind = "solve error"


class OptionError(PdeError):
    """An option value that does not fit the problem or the method."""

    kind = "option error"


def locate(error: PdeError, system: System) -> PdeError:
    """`error` (raised while solving `system`) naming where it applies, when it does not
    already have a position: a solve's failure the statement it concerns (a fit's the first
    `data` line, others the first `pde` line), a data error the first `data` line, any other
    (an option, a limit of the method) the file alone. The phase its span named ("steady
    solve") leads the message. Errors with a position are returned as they are."""
    if error.span.has_position:
        return error
    statement = _statement(error, system)
    if statement is None:
        return error
    if not isinstance(error, (SolveError, PdeDataError)):
        if not statement.has_position:
            return error
        statement = Span(file=statement.file)
    message = f"{error.span.label}: {error.message}" if error.span.label else error.message
    located = copy.copy(error)
    PdeError.__init__(located, message, statement, error.hint)
    return located


def _statement(error: PdeError, system: System) -> Span | None:
    fit = isinstance(error, PdeDataError) or "fit" in error.span.label
    if fit and system.data:
        return system.data[0].span
    if system.equations:
        return system.equations[0].span
    return None


class NotConvergedError(SolveError):
    """A solve finished but did not converge by its method's criterion, and `strict=True`
    (`--strict`) asked for that to be an error; `convergence` holds the verdict."""

    kind = "not converged"

    def __init__(self, message: str, span=None, hint: str = "", convergence=None) -> None:
        self.convergence = convergence
        super().__init__(message, span, hint)
