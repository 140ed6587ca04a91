"""`runtime.solve(system, method=..., **options)`: the one-call entry (README.md, "The same
problem, two ways")."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from pdelang import System

from .errors import OptionError
from .output.solution import Solution

METHODS = ("fd", "pinn", "odil")


def solve(system: System, method: str = "fd", *, observers: Sequence[Callable] = (),
          **options) -> Solution:
    """Solve `system` with `method` ("fd", "pinn" or "odil").

    fd options: grid (int or {name: points}), accuracy (2 or 4), scheme ("central",
    "upwind", "upwind2"; default: upwind2 for first-order hyperbolic equations), dtype
    ("float64"), integrator ("auto", "rk4", "ssprk3", "dopri5", "sdirk2"), dt, frames
    (number of output times, or the times), rtol, atol, tol and max_iter (steady solves);
    devices (split the grid over that many devices; default all of the run's; steady
    solves split the residual and its Jacobian, whose sparse LU runs on the host), mesh
    ({coordinate: devices}), parts (time-dependent: keep only this process's block in a
    multi-host run instead of gathering the whole).

    pinn options: layers, activation, initialiser, fourier_features, harmonics, steps (Adam),
    lbfgs_steps, learning_rate, decay_rate, decay_steps, points, boundary_points, hard_constraints,
    initial_points, sampler, resample_every, adaptive_sampling, weights, seed, grid and
    frames (the output grid), dtype ("float32"); inverse problems: data_weight (of the data
    misfit terms), regularization (of unknown coefficient fields), data_scaling (observed
    fields' outputs times the RMS of their data; default on); devices (split the points
    over that many devices, the network replicated; default all of the run's).

    odil options: grid (time included, e.g. {"t": 65, "x": 65}), accuracy, tol, max_iter,
    dtype ("float64"), devices and mesh (as fd's, time counting as a coordinate); inverse
    problems: fit_steps, data_weight, regularization.
    """
    if not isinstance(system, System):
        raise OptionError(f"solve() takes a system from pl.PDESystem(...) or pl.load(...), "
                          f"not {type(system).__name__}")
    if method == "fd":
        from .fd import FDSolveOptions, solve_fd

        return solve_fd(system, _options(FDSolveOptions, options, method), observers)
    if method == "pinn":
        from .pinn import PINNSolveOptions, solve_pinn

        return solve_pinn(system, _options(PINNSolveOptions, options, method), observers)
    if method == "odil":
        from .odil import ODILSolveOptions, solve_odil

        return solve_odil(system, _options(ODILSolveOptions, options, method), observers)
    if method in METHODS:
        raise OptionError(f"method {method!r} is not available in this version yet; use "
                          "method=\"fd\"")
    raise OptionError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")


def _options(kind, given: dict, method: str):
    names = [f.name for f in dataclasses.fields(kind)]
    unknown = [k for k in given if k not in names]
    if unknown:
        raise OptionError(f"{', '.join(unknown)} is not an option of method {method!r} "
                          f"(options: {', '.join(names)})")
    return kind(**given)
