"""A bordered system: R(u) = 0 with k extra scalar conditions g(u) = 0 and one Lagrange
multiplier each, for steady problems known only up to a constant (see
compiler/fd/boundaries/constraints.py for why a multiplier rather than a replaced row).

The unknowns are (u, lam), the equations (R(u) + B lam, g(u)), the Jacobian
[[J, B], [dg/du, 0]]: still sparse, with k dense-ish rows and columns added after the
stencil colouring, which therefore stays that of R.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np
import scipy.sparse as sps

from .sparse_jacobian import SparseJacobian


@dataclass(frozen=True)
class Border:
    """k conditions g(U, params) -> (k,) on the fields, and the column (a dict of arrays
    like U, zero where absent) by which each multiplier enters R."""

    value: Callable[[dict, Any], jax.Array]
    columns: Sequence[dict[str, np.ndarray]]

    @property
    def size(self) -> int:
        return len(self.columns)


@dataclass(frozen=True)
class BorderedSystem:
    """`Border` on flat vectors: u_ext = (u, lam), with n = jac.size unknowns in u."""

    n: int
    B: sps.csc_matrix
    g: Callable[[np.ndarray, Any], np.ndarray]
    dg: Callable[[np.ndarray, Any], np.ndarray]

    def residual(self, r: np.ndarray, u: np.ndarray, params: Any) -> np.ndarray:
        lam = u[self.n:]
        return np.concatenate([r + self.B @ lam, np.asarray(self.g(u[:self.n], params))])

    def jacobian(self, J: sps.csr_matrix, u: np.ndarray, params: Any) -> sps.csr_matrix:
        G = sps.csr_matrix(np.asarray(self.dg(u[:self.n], params)))
        return sps.bmat([[J, self.B], [G, None]], format="csr")


def bordered(border: Border, jac: SparseJacobian) -> BorderedSystem:
    """The flat form of `border` for the unknowns of `jac`."""
    def flat_g(u, params):
        return border.value(jac.unravel(u), params)

    zeros = {name: np.zeros(shape) for name, shape in zip(jac.names, jac.shapes)}
    columns = [np.asarray(jac.ravel({**zeros, **{k: np.asarray(v, float)
                                                 for k, v in col.items()}}), float)
               for col in border.columns]
    B = sps.csc_matrix(np.stack(columns, axis=1))
    return BorderedSystem(jac.size, B, jax.jit(flat_g), jax.jit(jax.jacrev(flat_g)))


def split(u: np.ndarray, n: int) -> tuple[np.ndarray, tuple[float, ...]]:
    """(the field unknowns, the multipliers) of an extended vector."""
    return u[:n], tuple(float(v) for v in np.asarray(u[n:]))


def extend(u: jax.Array | np.ndarray, k: int) -> np.ndarray:
    """`u` with k multipliers, zero to start with."""
    u = np.asarray(u)
    return np.concatenate([u, np.zeros(k, u.dtype)]) if k else u

