"""`runtime.solve(system, method=..., **options)`: the one-call entry (README.md, "The same
problem, two ways")."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pdelang import System
from pdelang.errors import PdeError

from .errors import OptionError, locate
from .options import METHOD_NAMES, OPTIONS
from .output.solution import Solution

METHODS = METHOD_NAMES


def solve(system: System, method: str = "fd", *, observers: Sequence[Callable] = (),
          **options) -> Solution:
    """Solve `system` with `method`: "fd" (finite differences), "pinn" (physics-informed
    networks) or "odil" (the discrete residual of the whole space-time grid at once).

    The options of each method, their defaults, allowed values and meaning are the table of
    `runtime.options` (`runtime/options/table.py`); `print(runtime.options.describe("pinn"))`
    lists a method's options. An option of another method, or of none, is an OptionError
    that names the methods using it, or the closest name and this method's options.
    `observers`: callables told of progress (see `runtime.observe`). An error raised on the
    way names the file and the statement it concerns (`runtime.errors.locate`).
    """
    if not isinstance(system, System):
        raise OptionError(f"solve() takes a system from pl.PDESystem(...) or pl.load(...), "
                          f"not {type(system).__name__}")
    try:
        OPTIONS.check_given(method, options)
        kind, solver = OPTIONS.method(method).load()
        return solver(system, kind(**options), observers)
    except PdeError as error:
        located = locate(error, system)
        if located is error:
            raise
        raise located from error
