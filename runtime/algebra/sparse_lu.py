"""Sparse LU factorisations on the host, refactorised many times over one sparsity pattern
(the Newton matrices M - c J of an implicit time integrator).

Two backends, one interface (`factorizer(backend)` returns a callable A -> Factor):

- "superlu": SciPy's SuperLU with minimum-degree ordering on A^T + A (`ORDERING`), always
  available. Every factorisation starts from scratch (SciPy exposes no reuse of the
  symbolic analysis).
- "pardiso": Intel MKL PARDISO through `pypardiso` (the optional `pardiso` extra: MKL is
  about 700 MB installed, so it is not a default dependency). It analyses a pattern once and
  refactorises only the numbers when the pattern repeats, on every core: on the 128 x 128
  Brusselator's Newton matrix a refactorisation takes 0.03 s against SuperLU's 0.23 s, a
  solve 1.5 ms against 3.5-4.5 ms. Iterative refinement is off: the Newton iterations that
  use these solves correct their residual anyway (residuals ~1e-11 relative without it).

"auto" takes the backend named by the environment variable PDELANG_SPARSE_LU (superlu or
pardiso) where it is set, else PARDISO when it can be loaded and the matrix has at least
`PARDISO_FROM` rows (below that its per-call overhead outweighs the gain), SuperLU
otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sps
import scipy.sparse.linalg as spla

from runtime.errors import OptionError

# SuperLU's column ordering: minimum degree on A^T + A suits the structurally symmetric
# stencil matrices; on the 128 x 128 Brusselator it leaves 4.3 M nonzeros in the factors
# and factorises in 0.23 s, where the default COLAMD leaves 8.6 M in 0.48 s.
ORDERING = "MMD_AT_PLUS_A"
BACKENDS = ("auto", "superlu", "pardiso")
PARDISO_FROM = 4096


class Factor:
    """A factorised matrix: `solve(b)` gives A^-1 b."""

    def solve(self, b: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class _SuperLU(Factor):
    lu: spla.SuperLU

    def solve(self, b: np.ndarray) -> np.ndarray:
        return self.lu.solve(b)


def superlu(A: sps.spmatrix) -> Factor:
    """SuperLU of A (raises RuntimeError when A is exactly singular)."""
    return _SuperLU(spla.splu(sps.csc_matrix(A), permc_spec=ORDERING))


@dataclass
class _Pardiso:
    """One PARDISO handle: the pattern it analysed, and the matrix factorised last."""

    solver: object
    pattern: tuple[np.ndarray, np.ndarray] | None = None
    matrix: sps.csr_matrix | None = field(default=None, repr=False)

    def __call__(self, A: sps.spmatrix) -> Factor:
        A = sps.csr_matrix(A, dtype=np.float64)
        A.sort_indices()
        same = (self.pattern is not None and np.array_equal(A.indptr, self.pattern[0])
                and np.array_equal(A.indices, self.pattern[1]))
        self.solver.set_iparm(12, 0)                     # CSR, not transposed
        self.solver.set_phase(22 if same else 12)       # numbers only, or analysis too
        self.solver._call_pardiso(A, np.zeros((A.shape[0], 1)))
        self.pattern, self.matrix = (A.indptr, A.indices), A
        return _PardisoFactor(self)


@dataclass
class _PardisoFactor(Factor):
    handle: _Pardiso

    def solve(self, b: np.ndarray) -> np.ndarray:
        solver = self.handle.solver
        solver.set_phase(33)
        solver.set_iparm(8, 0)    # no iterative refinement (a factorisation resets it)
        x = solver._call_pardiso(self.handle.matrix, np.asfortranarray(b, dtype=np.float64))
        return np.asarray(x).reshape(np.shape(b))


def pardiso_available() -> bool:
    try:
        _new_pardiso()
    except (ImportError, OSError):
        return False
    return True


def _new_pardiso() -> _Pardiso:
    from pypardiso import PyPardisoSolver

    return _Pardiso(PyPardisoSolver(mtype=11))        # real, unsymmetric


def factorizer(backend: str = "auto", size: int = PARDISO_FROM
               ) -> Callable[[sps.spmatrix], Factor]:
    """A function A -> Factor for repeated factorisations of size x size matrices (one
    PARDISO handle per call of this function: factorising a new matrix invalidates the
    handle's previous Factor)."""
    if backend == "auto" and os.environ.get("PDELANG_SPARSE_LU", "auto") != "auto":
        backend = os.environ["PDELANG_SPARSE_LU"]
    if backend == "superlu" or (backend == "auto" and size < PARDISO_FROM):
        return superlu
    if backend not in BACKENDS:
        raise OptionError(f"unknown sparse LU backend {backend!r}",
                          hint="choose one of " + ", ".join(map(repr, BACKENDS)))
    try:
        return _new_pardiso()
    except (ImportError, OSError):
        if backend == "pardiso":
            raise OptionError("the PARDISO backend needs pypardiso (MKL)",
                              hint="pip install 'pdelang[pardiso]', or set "
                              "PDELANG_SPARSE_LU=superlu") from None
        return superlu
