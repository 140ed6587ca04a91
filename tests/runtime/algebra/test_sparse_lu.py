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
    assert factorizer("auto", size=10**6) is sparse_lu.superlu
    monkeypatch.setenv("PDELANG_SPARSE_LU", "nonsense")
    with pytest.raises(OptionError, match="unknown sparse LU backend 'nonsense'"):
        factorizer("auto", size=10**6)
