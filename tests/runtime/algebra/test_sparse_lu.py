"""The sparse LU backends agree with each other and with a dense solve, also when a
factorisation is repeated on the same pattern (PARDISO then reuses its analysis)."""

import numpy as np
import pytest
import scipy.sparse as sps

from runtime.algebra.sparse_lu import factorizer, pardiso_available
from runtime.errors import OptionError


def _stencil_matrix(n: int, shift: float) -> sps.csr_matrix:
    """I - shift * (2-D periodic Laplacian) plus a small unsymmetric part: a Newton matrix."""
    ring = sps.diags([1.0, -2.0, 1.0], [-1, 0, 1], shape=(n, n), format="lil")
    ring[0, -1] = ring[-1, 0] = 1
    eye = sps.identity(n)
    laplace = sps.kron(ring, eye) + sps.kron(eye, ring)
    skew = sps.diags([0.3, -0.3], [-1, 1], shape=(n * n, n * n))
    return sps.csr_matrix(sps.identity(n * n) - shift * laplace + skew)


BACKENDS = ["superlu"] + (["pardiso"] if pardiso_available() else [])


@pytest.mark.parametrize("backend", BACKENDS)
def test_solves_match_a_dense_solve_across_refactorisations(backend):
    rng = np.random.default_rng(1)
    lu_of = factorizer(backend, size=10**6)
    for shift in (0.5, 2.0, 7.0):                   # same pattern, new numbers
        A = _stencil_matrix(12, shift)
        b = rng.normal(size=A.shape[0])
        x = lu_of(A).solve(b)
        np.testing.assert_allclose(x, np.linalg.solve(A.toarray(), b), rtol=1e-9, atol=1e-11)


def test_auto_takes_superlu_for_small_matrices_and_names_a_missing_backend():
    from runtime.algebra import sparse_lu

    assert factorizer("auto", size=10) is sparse_lu.superlu
    with pytest.raises(OptionError, match="unknown sparse LU backend"):
        factorizer("umfpack")


def test_the_environment_names_the_backend_of_auto(monkeypatch):
    from runtime.algebra import sparse_lu

    monkeypatch.setenv("PDELANG_SPARSE_LU", "superlu")
    assert isinstance(factorizer("auto", size=10**6), sparse_lu._NestedSuperLU)
    monkeypatch.setenv("PDELANG_SPARSE_LU", "nonsense")
    with pytest.raises(OptionError, match="unknown sparse LU backend 'nonsense'"):
        factorizer("auto", size=10**6)


def test_nested_dissection_order_solves_alike_and_fills_less():
    """SuperLU in METIS's order against a dense solve, over refactorisations of one
    pattern, a changed pattern (analysed again) and several right-hand sides at once; its
    factors hold fewer nonzeros than in SuperLU's own minimum-degree order on a 16^3
    periodic grid (0.77 times as many, measured; on 2-D grids the gain starts later: the
    128 x 128 Brusselator 0.80, a 40 x 40 grid none)."""
    import scipy.sparse.linalg as spla

    from runtime.algebra import sparse_lu

    rng = np.random.default_rng(2)
    lu_of = factorizer("superlu", size=sparse_lu.NESTED_FROM)
    assert isinstance(lu_of, sparse_lu._NestedSuperLU)
    for n, shift in ((12, 0.5), (12, 3.0), (14, 1.0)):
        A = _stencil_matrix(n, shift)
        b = rng.normal(size=(A.shape[0], 2))
        np.testing.assert_allclose(lu_of(A).solve(b), np.linalg.solve(A.toarray(), b),
                                   rtol=1e-9, atol=1e-11)
    A = _periodic_3d(16)
    order = sparse_lu.nested_dissection(A)
    assert sorted(order) == list(range(A.shape[0]))
    nested = spla.splu(sps.csc_matrix(A[order][:, order]), permc_spec="NATURAL",
                       options={"SymmetricMode": True})
    own = spla.splu(sps.csc_matrix(A), permc_spec=sparse_lu.ORDERING)
    assert nested.L.nnz + nested.U.nnz < 0.85 * (own.L.nnz + own.U.nnz)


def _periodic_3d(n: int) -> sps.csr_matrix:
    ring = sps.diags([1.0, -2.0, 1.0], [-1, 0, 1], shape=(n, n), format="lil")
    ring[0, -1] = ring[-1, 0] = 1
    eye = sps.identity(n)
    laplace = sps.kron(sps.kron(ring, eye), eye) + sps.kron(sps.kron(eye, ring), eye) \
        + sps.kron(sps.kron(eye, eye), ring)
    return sps.csr_matrix(sps.identity(n**3) - laplace)


def test_without_pymetis_superlu_keeps_its_own_order(monkeypatch):
    import builtins

    from runtime.algebra import sparse_lu

    real_import = builtins.__import__

    def no_pymetis(name, *args, **kwargs):
        if name == "pymetis":
            raise ImportError("no pymetis here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pymetis)
    assert factorizer("superlu", size=10**6) is sparse_lu.superlu
