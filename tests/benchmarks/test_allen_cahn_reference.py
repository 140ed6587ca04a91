"""benchmarks/data/allen_cahn_reference.npz (Fourier pseudo-spectral, 512 modes, ETDRK4;
made by make_allen_cahn_reference.py without pdelang) against pdelang's own fd solver of
examples/allen_cahn_periodic.pde on a finer grid: two independent discretisations of the
same problem. The reference's own convergence (printed by its script): doubling dt changes
it by 7e-11 at most, 1024 modes by 5.9e-4 at most (relative L2 8e-6); JAXPI's Chebfun data
(allen_cahn.mat, not shipped) differ by 1.0e-5 at most (relative L2 7.9e-7)."""

import numpy as np

import pdelang as pl
import runtime
from benchmarks.pinn_hard import DATA, EXAMPLES, allen_cahn_reference


def test_the_reference_holds_the_examples_problem():
    t, x, u = allen_cahn_reference()
    assert u.shape == (201, 512)
    assert (DATA / "allen_cahn_reference.npz").stat().st_size < 1e6
    np.testing.assert_allclose(x, np.linspace(-1, 1, 513)[:-1], atol=1e-15)
    np.testing.assert_allclose(t, np.linspace(0, 1, 201), atol=1e-15)
    np.testing.assert_allclose(u[0], x**2 * np.cos(np.pi * x), atol=1e-6)
    # the flat phases of the double well, u = +-1, are reached by t = 1
    assert -1.0001 < u[-1].min() < -0.999 and 0.99 < u[-1].max() < 1.0001


def test_the_reference_agrees_with_pdelangs_fd_solver_on_a_finer_grid():
    t, x, u = allen_cahn_reference()
    frames = t[40::40]                                   # t = 0.2, 0.4, ..., 1
    sol = runtime.solve(pl.load(EXAMPLES / "allen_cahn_periodic.pde"), "fd", grid=1025,
                        accuracy=4, frames=list(frames))
    # 1025 points of [-1, 1], ends included: every other one is a point of the reference
    np.testing.assert_allclose(sol.grid["x"][:-1:2], x, atol=1e-12)
    fd = sol.values["u"][np.isin(np.round(sol.grid["t"], 9), np.round(frames, 9))][:, :-1:2]
    ref = u[40::40]
    relative = np.linalg.norm(fd - ref, axis=1) / np.linalg.norm(ref, axis=1)
    # measured: relative L2 at most 4.9e-6, largest difference 3.4e-5; the bound does
    # discriminate: fd on 513 points with second-order stencils misses by 3.3e-4 at t = 1
    assert relative.max() < 1e-4
    assert np.abs(fd - ref).max() < 1e-3
