"""The Newton iteration the host integrators share (runtime.time.host.common), on small
systems whose solution is known: CVODE's convergence test with the rate kept across calls."""

from types import SimpleNamespace

import numpy as np
import scipy.sparse as sps

from runtime.algebra.sparse_lu import superlu
from runtime.time.host.common import NewtonMatrix, kept_rate_newton


def _matrix(J: sps.spmatrix) -> NewtonMatrix:
    n = J.shape[0]
    system = SimpleNamespace(mass_matrix=sps.identity(n, format="csr"),
                             jacobian=lambda t, y: sps.csr_matrix(J))
    matrix = NewtonMatrix(system, superlu, {})
    matrix.refresh(0.0, np.zeros(n))
    return matrix


def test_the_kept_rate_lets_a_stage_end_after_one_correction():
    """f(y) = A y + b with the exact Jacobian: each stage is solved by its first
    correction, the second (zero) only measures the rate, which CVODE lets fall at most
    0.3-fold per measurement (1 after a new LU, then 0.3, 0.09). Stages whose first
    correction has weighted size 1e-2 so need 2, 2, then 1 correction (1e-2 * 0.09 is
    below the tolerance 1e-3). Each d solves c f(start + d) - d - q = 0 (a dense solve)."""
    rng = np.random.default_rng(0)
    n = 40
    A = sps.diags([rng.uniform(-1e4, -1, n), rng.uniform(-1, 1, n - 1)], [0, 1]).tocsr()
    b = rng.standard_normal(n)
    f = lambda t, y: A @ y + b                                          # noqa: E731
    matrix = _matrix(A)
    c, start, ones = 0.01, rng.standard_normal(n), np.ones(n)
    assert matrix.prepare(c, 0.0)
    dense = np.eye(n) - c * A.toarray()
    for expected in (2, 2, 1):
        wanted = 1e-2 * rng.choice([-1.0, 1.0], n)              # weighted RMS size 1e-2
        q = c * f(0.0, start) - dense @ wanted
        converged, iterations, y, d = kept_rate_newton(f, ones, 0.0, start, c, q, matrix,
                                                       ones, 1e-3)
        assert converged and iterations == expected
        np.testing.assert_allclose(d, wanted, rtol=1e-9)
        np.testing.assert_allclose(y, start + d)
    assert matrix.rate == 0.3**2
    matrix.lu = None                         # a new LU starts the rate at 1 again
    assert matrix.prepare(2 * c, 0.0) and matrix.rate == 1.0


def test_a_diverging_iteration_fails_and_says_how_far_it_got():
    """y' = -y^3 from y = 10 with the Jacobian of y = 0 (zero): the iteration is explicit
    Euler's fixed point with c = 1, which diverges; it stops with converged False and
    records the time, the last correction and the tolerance for the error message."""
    n = 3
    matrix = _matrix(sps.csr_matrix((n, n)))
    assert matrix.prepare(1.0, 0.5)
    converged, iterations, _, _ = kept_rate_newton(
        lambda t, y: -y**3, np.ones(n), 0.5, np.full(n, 10.0), 1.0, np.zeros(n), matrix,
        np.ones(n), 1e-3)
    assert not converged and iterations <= 3
    t, norm, tol = matrix.failure
    assert t == 0.5 and norm > 1e3 and tol == 1e-3
