"""`runtime.solve(system, method=..., **options)`: the one-call entry (README.md, "The same
problem, two ways")."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pdelang import System
from pdelang.errors import PdeError

from .errors import NotConvergedError, OptionError, locate
from .options import METHOD_NAMES, OPTIONS
from .output.convergence import option_flags
from .output.solution import Solution

METHODS = METHOD_NAMES


NET_METHODS = ("fd", "odil", "pinn", "fbpinn")  # the methods that train learned functions
                                               # (`net` lines); fbpinn by pinn's residuals
NOT_TRAINED = {                # why a method does not, where there is more to say
    "elm": "elm's unknowns are the output layers of frozen random networks, solved by "
           "least squares, and a learned function's weights are none of them",
}


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

    Every method decides whether it converged (`Solution.converged`, `meta["convergence"]`:
    the criterion, the numbers, the reason; see `runtime.output.convergence`); with
    `strict=True` a run that did not is a `NotConvergedError` instead of a Solution.
    """
    if not isinstance(system, System):
        raise OptionError(f"solve() takes a system from pl.PDESystem(...) or pl.load(...), "
                          f"not {type(system).__name__}")
    try:
        OPTIONS.check_given(method, options)
        if system.nets and method not in NET_METHODS:
            net = system.nets[0]
            why = NOT_TRAINED.get(method)
            raise OptionError(f"learned functions (`net {net.name}`) are trained by "
                              f"{', '.join(NET_METHODS[:-1])} and {NET_METHODS[-1]} so "
                              f"far, not by {method}"
                              + (f": {why}" if why else ""), net.span,
                              hint=f"use --method {' or --method '.join(NET_METHODS)}")
        kind, solver = OPTIONS.method(method).load()
        chosen = kind(**options)
        solution = solver(system, chosen, observers)
    except PdeError as error:
        located = locate(error, system)
        if located is error:
            raise
        raise located from error
    if chosen.strict and solution.converged is False:
        raise not_converged(solution)
    return solution


def not_converged(solution: Solution) -> NotConvergedError:
    """The error of a Solution that did not converge (`strict=True`): the verdict's reason
    and criterion, placed at the first unknown parameter (a fit) or the first equation."""
    verdict = solution.convergence
    system = solution.system
    where = system.unknown_params[0] if system.unknown_params else system.equations[0]
    helps = option_flags(verdict.options)
    return NotConvergedError(
        f"{solution.method} did not converge: {verdict.reason} (criterion: "
        f"{verdict.criterion})", where.span,
        hint=(f"try {helps}; " if helps else "") + "without strict the result is kept, "
        "with a WARNING", convergence=verdict)
