"""Consistent initial values of an index-1 DAE `M dy/dt = f(t, y)` (M diagonal, 0 on the
algebraic unknowns): the algebraic unknowns solved from their equations for the given
differential ones, by Newton's method with the algebraic block of the sparse Jacobian
(SuperLU, whose pivots also tell a singular block).

A singular block means the algebraic equations do not determine their fields: the system
is of index 2 or more, or an algebraic field is fixed only up to a constant. It is refused
by name here rather than integrated into garbage.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sps
import scipy.sparse.linalg as spla

from runtime.algebra.sparse_lu import ORDERING
from runtime.errors import SolveError

MAX_ITERATIONS = 20
SINGULAR = 1e-12    # smallest / largest |pivot| of the algebraic block below this: singular


def consistent_start(f: Callable[[float, np.ndarray], np.ndarray],
                     jacobian: Callable[[float, np.ndarray], sps.spmatrix], t0: float,
                     y0: np.ndarray, algebraic: np.ndarray, rtol: float, atol: float,
                     describe: Callable[[np.ndarray], str]) -> np.ndarray:
    """y0 with its algebraic entries (mask `algebraic`) solving their equations at t0.
    `describe(mask)` names the fields of the entries in a mask, for messages."""
    y = np.array(y0, dtype=np.float64)
    if not algebraic.any():
        return y
    for _ in range(MAX_ITERATIONS):
        residual = f(t0, y)[algebraic]
        block = sps.csc_matrix(sps.csr_matrix(jacobian(t0, y))[algebraic][:, algebraic])
        lu = _factorise(block, t0, describe(algebraic))
        step = -lu.solve(residual)
        y[algebraic] += step
        scale = atol + rtol * np.abs(y[algebraic])
        if not np.all(np.isfinite(step)):
            break
        if np.sqrt(np.mean((step / scale) ** 2)) < 1e-3:
            return y
    raise SolveError(
        f"the consistent initial values of {describe(algebraic)} at t = {t0:g} were not "
        f"found: Newton's method on the equations without a time derivative did not "
        f"converge in {MAX_ITERATIONS} iterations",
        hint="the algebraic equations may have no solution for the initial state, or need "
             "a better start")


def _factorise(block: sps.csc_matrix, t0: float, fields: str):
    singular = SolveError(
        f"the equations without a time derivative do not determine {fields} at t = {t0:g}: "
        "their Jacobian in those fields is singular, so the system is a DAE of index 2 or "
        "more (or such a field is fixed only up to a constant)",
        hint="pose a constraint on fields with time derivatives through a field it "
             "determines (a pressure Poisson equation for div(u) = 0), or fix a free "
             "constant with `bc mean(FIELD) = 0`")
    try:
        lu = spla.splu(block, permc_spec=ORDERING)
    except RuntimeError:
        raise singular from None
    pivots = np.abs(lu.U.diagonal())
    if pivots.size and (pivots.min() <= SINGULAR * pivots.max() or not pivots.max() > 0):
        raise singular
    return lu
