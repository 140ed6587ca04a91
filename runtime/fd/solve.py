"""`method="fd"`: lower the system to stencils, then integrate in time or solve the steady
algebraic system (`forward`), or fit unknown parameters through that solve (`fit`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import jax

from pdelang import System

from ..errors import OptionError
from ..output.solution import Solution
from ..parallel.devices import default_dtype
from .forward import solve_forward
from .options import FDSolveOptions, check_fd_problem
from .sweep import solve_sweep


def solve_fd(system: System, options: FDSolveOptions,
             observers: Sequence[Callable] = ()) -> Solution:
    """Solve with finite differences, in `options.dtype` (scoped: no global JAX switch)."""
    check_fd_problem(system, options)
    if options.dtype is None:
        options = replace(options, dtype=default_dtype("fd"))
    with jax.enable_x64(options.dtype == "float64"):
        if options.sweep is not None:
            if system.learned:
                raise OptionError("a sweep solves forward problems; this system has unknowns "
                                  "to infer", system.learned[0].span,
                                  hint="leave out --sweep, or give the unknowns values")
            return solve_sweep(system, options, observers)
        if system.unknown_params or system.nets:
            if options.linear_solver == "multigrid":
                raise OptionError("fits solve their steady systems with the sparse LU; "
                                  "--linear-solver multigrid is for forward solves",
                                  system.learned[0].span,
                                  hint="leave out --linear-solver")
            from .fit import fit_fd  # SciPy's optimisers: imported for fits only

            return fit_fd(system, options, observers)
        return solve_forward(system, options, observers)
