"""Errors of the compiler layer: a system that a method cannot discretise as written."""

from __future__ import annotations

from pdelang.errors import PdeError


class LoweringError(PdeError):
    """A term, condition or option that the chosen method cannot lower.

    The message names the term and the method, and what to write instead.
    """

    kind = "cannot compile"
