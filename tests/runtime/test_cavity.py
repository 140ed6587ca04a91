"""The lid-driven cavity in stream function-vorticity form (examples/lid_driven_cavity.pde),
solved steady by fd and odil, against the centre-line velocities of

    U. Ghia, K. N. Ghia and C. T. Shin, High-Re solutions for incompressible flow using the
    Navier-Stokes equations and a multigrid method, J. Comput. Phys. 48 (1982) 387-411,
    Table I (u along the vertical line x = 0.5) and Table II (v along y = 0.5).

The lid y = 1 moves in +x; u = d(psi, y), v = -d(psi, x). The error is the largest
difference at Ghia's points, the solution's velocity interpolated there (cubic spline of
second-order differences of psi along the line), relative to the largest |value| of
Ghia's column.
"""

import time
from pathlib import Path

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

import pdelang as pl
import runtime
from compiler.fd import FDOptions, lower_fd
from compiler.fd.stages import BoundaryRows, CornerRows

GHIA_Y = np.array([1.0, 0.9766, 0.9688, 0.9609, 0.9531, 0.8516, 0.7344, 0.6172, 0.5,
                   0.4531, 0.2813, 0.1719, 0.1016, 0.0703, 0.0625, 0.0547, 0.0])
GHIA_U = {
    100: [1.0, 0.84123, 0.78871, 0.73722, 0.68717, 0.23151, 0.00332, -0.13641, -0.20581,
          -0.21090, -0.15662, -0.10150, -0.06434, -0.04775, -0.04192, -0.03717, 0.0],
    400: [1.0, 0.75837, 0.68439, 0.61756, 0.55892, 0.29093, 0.16256, 0.02135, -0.11477,
          -0.17119, -0.32726, -0.24299, -0.14612, -0.10338, -0.09266, -0.08186, 0.0],
}
GHIA_X = np.array([1.0, 0.9688, 0.9609, 0.9531, 0.9453, 0.9063, 0.8594, 0.8047, 0.5,
                   0.2344, 0.2266, 0.1563, 0.0938, 0.0781, 0.0703, 0.0625, 0.0])
GHIA_V = {
    100: [0.0, -0.05906, -0.07391, -0.08864, -0.10313, -0.16914, -0.22445, -0.24533,
          0.05454, 0.17527, 0.17507, 0.16077, 0.12317, 0.10890, 0.10091, 0.09233, 0.0],
    400: [0.0, -0.12146, -0.15663, -0.19254, -0.22847, -0.23827, -0.44993, -0.38598,
          0.05186, 0.30174, 0.30203, 0.28124, 0.22965, 0.20920, 0.19713, 0.18360, 0.0],
}
# Table II at Re = 400, x = 0.9063 reads -0.23827 between -0.22847 (x = 0.9453) and
# -0.44993 (x = 0.8594): not monotone, a misprint (both methods here give -0.3837 there,
# with every other point of the column within 0.7%). It is left out of the comparison.
MISPRINT = {400: GHIA_X == 0.9063, 100: np.zeros(GHIA_X.shape, bool)}


CAVITY = Path(__file__).resolve().parents[2] / "examples" / "lid_driven_cavity.pde"


def cavity(re: int) -> pl.System:
    text = CAVITY.read_text().replace("param Re = 100", f"param Re = {re}")
    return pl.parse(text, str(CAVITY))


def centre_line_errors(solution, re: int) -> tuple[float, float]:
    psi = np.asarray(solution.values["psi"])
    n = psi.shape[0]
    grid = np.linspace(0.0, 1.0, n)
    h = 1.0 / (n - 1)
    mid = (n - 1) // 2
    u = np.gradient(psi[mid, :], h, edge_order=2)          # along x = 0.5
    v = -np.gradient(psi[:, mid], h, edge_order=2)         # along y = 0.5
    du = np.abs(CubicSpline(grid, u)(GHIA_Y) - GHIA_U[re]) / np.max(np.abs(GHIA_U[re]))
    dv = np.abs(CubicSpline(grid, v)(GHIA_X) - GHIA_V[re]) / np.max(np.abs(GHIA_V[re]))
    return float(du.max()), float(dv[~MISPRINT[re]].max())


def test_the_cavity_closes_the_vorticity_from_the_second_condition_on_psi():
    program = lower_fd(cavity(100), FDOptions(grid=9))
    rows = program.stage("boundary rows").items
    faces = [r for r in rows if isinstance(r, BoundaryRows)]
    closing = [r for r in faces if r.field == "w"]
    assert len(closing) == 4 and all(r.face.transferred and r.row is not None
                                     for r in closing)
    assert all(r.face.dirichlet for r in faces if r.field == "psi")
    # where two closing faces meet, w's own equation holds (one-sided): the corners
    corners = [r for r in rows if isinstance(r, CornerRows)]
    assert [r.nodes.ranges for r in corners] == [((0, 1), (0, 1)), ((0, 1), (8, 9)),
                                                 ((8, 9), (0, 1)), ((8, 9), (8, 9))]
    assert all(r.field == "w" for r in corners)


def test_a_coarse_cavity_is_near_ghia_by_fd_and_odil_alike():
    # measured at 33 x 33: u 0.72%, v 2.08% (Re = 100), 5 Newton steps
    fd = runtime.solve(cavity(100), "fd", grid=33)
    du, dv = centre_line_errors(fd, 100)
    assert du < 0.015 and dv < 0.03, (du, dv)
    assert abs(np.min(fd.values["psi"]) + 0.1010) < 5e-4        # Ghia at 129: -0.103423
    odil = runtime.solve(cavity(100), "odil", grid=33)
    np.testing.assert_allclose(odil.values["psi"], fd.values["psi"], atol=1e-10)


def test_the_solution_gives_ghias_velocities_without_differencing_by_hand():
    # u = d(psi, y) along x = 0.5 and v = -d(psi, x) along y = 0.5, asked of the result;
    # measured at 33 x 33: largest difference from Ghia's columns 0.0072 (u), 0.0051 (v)
    fd = runtime.solve(cavity(100), "fd", grid=33)
    u = fd("d(psi, y)", x=0.5, y=GHIA_Y)
    v = fd("-d(psi, x)", x=GHIA_X, y=0.5)
    assert np.abs(u - GHIA_U[100]).max() < 0.02
    assert np.abs(v - GHIA_V[100]).max() < 0.02
    # the probe of the command line is the same series on the grid's lines
    probe = fd.probe("d(psi, y) at x = 0.5")
    np.testing.assert_allclose(probe.values, fd("d(psi, y)", x=0.5, y=fd.grid["y"]))


@pytest.mark.slow
@pytest.mark.parametrize("method", ["fd", "odil"])
@pytest.mark.parametrize("re, v_bound", [(100, 0.035), (400, 0.02)])
def test_the_cavity_at_129_is_within_ghia(method, re, v_bound):
    # measured (both methods solve the same residual; identical to 1e-10): Re = 100:
    # u 0.44%, v 3.44% (at x = 0.8594; 2.50% at 65 x 65 and 2.08% at 33 x 33: the
    # solution converges away from Ghia's v there, whose own 129-point grid is the
    # coarser answer; psi_min -0.10334 against Ghia's -0.103423), 5 Newton steps;
    # Re = 400: u 0.43%, v 0.70%, psi_min -0.11294 (Ghia -0.113909), 9 Newton steps
    # straight from psi = w = 0. Wall time 34-66 s per solve on a shared 2-core machine.
    start = time.perf_counter()
    solution = runtime.solve(cavity(re), method, grid=129)
    du, dv = centre_line_errors(solution, re)
    print(f"{method} Re={re}: u {du:.4f} v {dv:.4f} in {time.perf_counter() - start:.1f} s")
    assert du < 0.02 and dv < v_bound, (du, dv)
