"""Sparse LU factorisations on the host, refactorised many times over one sparsity pattern
(the Newton matrices M - c J of an implicit time integrator).

Two backends, one interface (`factorizer(backend)` returns a callable A -> Factor):

- "superlu": SciPy's SuperLU, always available. From `NESTED_FROM` rows the matrix is
  permuted symmetrically into METIS's nested-dissection order (through pymetis; computed
  once per sparsity pattern) and factorised in that order: on the 128 x 128 Brusselator's
  Newton matrix 3.5 M nonzeros in the factors and 0.15 s a factorisation, against 4.3 M and
  0.23 s with SuperLU's best own ordering (minimum degree on A^T + A, `ORDERING`, used
  below `NESTED_FROM` rows) and 9.3 M and 0.54 s with its default COLAMD. The numeric
  factorisation still starts from scratch each time (SciPy exposes no reuse of it).
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
NESTED_FROM = 2048       # rows from which SuperLU factorises in nested-dissection order


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
    """SuperLU of A in its own minimum-degree order (raises RuntimeError when A is exactly
    singular)."""
    return _SuperLU(spla.splu(sps.csc_matrix(A), permc_spec=ORDERING))


@dataclass
class _NestedSuperLU:
    """SuperLU of P A P^T, P the nested-dissection order of A's pattern; the order, and
    where each entry of A goes in the permuted CSC matrix, are kept while the pattern
    repeats (the Newton matrices of one integration)."""

    pattern: tuple[np.ndarray, np.ndarray] | None = None
    order: np.ndarray | None = None
    layout: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None   # indptr, indices, take

    def __call__(self, A: sps.spmatrix) -> Factor:
        A = sps.csr_matrix(A, dtype=np.float64)
        A.sum_duplicates()
        if self.pattern is None or not (np.array_equal(A.indptr, self.pattern[0])
                                        and np.array_equal(A.indices, self.pattern[1])):
            self._analyse(A)
        indptr, indices, take = self.layout
        B = sps.csc_matrix((A.data[take], indices, indptr), shape=A.shape)
        return _PermutedSuperLU(spla.splu(B, permc_spec="NATURAL",
                                          options={"SymmetricMode": True}), self.order)

    def _analyse(self, A: sps.csr_matrix) -> None:
        self.pattern = None                   # set last: a failure leaves no stale layout
        self.order = nested_dissection(A)
        numbered = sps.csr_matrix((np.arange(1, A.nnz + 1, dtype=np.float64), A.indices,
                                   A.indptr), shape=A.shape)
        B = sps.csc_matrix(numbered[self.order][:, self.order])
        B.sort_indices()
        self.layout = (B.indptr, B.indices, B.data.astype(np.int64) - 1)
        self.pattern = (A.indptr.copy(), A.indices.copy())


@dataclass
class _PermutedSuperLU(Factor):
    lu: spla.SuperLU
    order: np.ndarray

    def solve(self, b: np.ndarray) -> np.ndarray:
        x = np.empty_like(b, dtype=np.float64)
        x[self.order] = self.lu.solve(np.asarray(b, np.float64)[self.order])
        return x


def nested_dissection(A: sps.spmatrix) -> np.ndarray:
    """METIS's fill-reducing nested-dissection order of the pattern of A + A^T: row i of
    the permuted matrix is row order[i] of A."""
    import pymetis  # a dependency; its absence costs only speed (`_superlu_for`)

    graph = sps.csr_matrix(abs(A) + abs(A.T))
    graph.setdiag(0)
    graph.eliminate_zeros()
    order, _ = pymetis.nested_dissection(pymetis.CSRAdjacency(graph.indptr, graph.indices))
    return np.asarray(order, dtype=np.int64)


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
        return _superlu_for(size)
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
        return _superlu_for(size)


def nested_superlu() -> Callable[[sps.spmatrix], Factor]:
    """SuperLU in METIS's nested-dissection order (its analysis kept while the pattern
    repeats); SuperLU's own minimum-degree order where pymetis does not load."""
    try:
        import pymetis  # noqa: F401
    except ImportError:
        return superlu
    return _NestedSuperLU()


def _superlu_for(size: int) -> Callable[[sps.spmatrix], Factor]:
    """SuperLU in nested-dissection order from `NESTED_FROM` rows where pymetis loads, in
    its own minimum-degree order otherwise."""
    return superlu if size < NESTED_FROM else nested_superlu()
