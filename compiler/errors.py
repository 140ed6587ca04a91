"""Errors of the compiler layer: a system that a method cannot discretise as written."""

from __future__ import annotations

from pdelang.errors import PdeError


class LoweringError(PdeError):
    """A term, condition or option that the chosen method cannot lower.

    The message names the term and the method, and what to write instead.
    """

    kind = "cannot compile"


FIXED_IN_TIME = ("a point or mean condition in a time-dependent problem fixes an algebraic "
                 "field at every time; the {method} method would take it over space and time "
                 "together, a weaker condition")
