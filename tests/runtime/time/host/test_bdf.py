"""Variable-order BDF (runtime.time.bdf), on ODEs and index-1 DAEs, against outside
references: exact solutions, SciPy's Radau at rtol 1e-10, and other integrators of ours."""

from pathlib import Path

import numpy as np
import pytest

import pdelang as pl
import runtime
from runtime.time.host.bdf import change_step, interpolate

from ..test_rosenbrock import robertson_reference

EXAMPLES = Path(__file__).resolve().parents[4] / "examples"

PROTHERO_ROBINSON = """
time t in [0, 3]
field y(t)
param lam = -1e4
pde d(y, t) = lam*(y - sin(t)) + cos(t)
ic y = 0 at t = 0
exact y = sin(t)
"""


def test_error_control_meets_the_tolerance_on_a_stiff_problem():
    """Prothero-Robinson: the exact solution sin t on a stiff (lambda = -1e4) manifold; the
    error falls with rtol and stays below it (measured 1.3e-5, 8.1e-8, 1.3e-10 in 30, 38
    and 89 steps)."""
    errors = []
    for rtol in (1e-4, 1e-6, 1e-8):
        solution = runtime.solve(pl.parse(PROTHERO_ROBINSON), "fd", integrator="bdf",
                                 frames=31, rtol=rtol, atol=rtol)
        errors.append(max(solution.errors().values()))
        assert solution.meta["integrator"] == "bdf"
    assert errors[0] < 1e-4 and errors[1] < 1e-6 and errors[2] < 1e-8
    assert errors[0] > errors[1] > errors[2]


def test_difference_array_rescaling_keeps_the_interpolating_polynomial():
    """change_step rescales D to a new step without changing the polynomial through the
    past values: interpolation before and after agree at any time."""
    rng = np.random.default_rng(0)
    times = 1.0 - 0.1 * np.arange(4)                # t_n, t_n - h, ...: a cubic's values
    coefficients = rng.normal(size=4)
    values = np.polyval(coefficients, times)
    D = np.zeros((8, 1))                            # backward differences at t_n
    D[0, 0] = values[0]
    D[1, 0] = values[0] - values[1]
    D[2, 0] = values[0] - 2 * values[1] + values[2]
    D[3, 0] = values[0] - 3 * values[1] + 3 * values[2] - values[3]
    before = interpolate(D, 3, 1.0, 0.1, 0.93)
    np.testing.assert_allclose(before, np.polyval(coefficients, 0.93), rtol=1e-12)
    change_step(D, 3, 0.37)
    after = interpolate(D, 3, 1.0, 0.037, 0.93)
    np.testing.assert_allclose(after, before, rtol=1e-12)


ROBERTSON_DAE = (EXAMPLES / "robertson.pde").read_text().replace(
    "pde d(c, t) = k2*b^2", "pde a + b + c = 1").replace("ic c = 0 at t = 0", "")


@pytest.mark.parametrize("form", ["ode", "dae"])
def test_robertson_as_ode_and_as_dae_matches_radau(form):
    """Robertson's kinetics with c from the conservation law a + b + c = 1 (an index-1 DAE:
    the reaction system with a conservation constraint) and as three ODEs: BDF at rtol 1e-8
    meets Radau at rtol 1e-10 within 1e-6 relative for every species from t = 1e-3 (measured
    8.8e-8 as ODEs in 862 steps, 8.5e-8 as a DAE in 871)."""
    text = ROBERTSON_DAE if form == "dae" else (EXAMPLES / "robertson.pde").read_text()
    times = list(np.logspace(-3, 5, 17))
    solution = runtime.solve(pl.parse(text), "fd", integrator="bdf" if form == "ode" else
                             "auto", frames=times, rtol=1e-8, atol=1e-14)
    assert solution.meta["integrator"] == "bdf"
    found_times = solution.grid["t"]
    reference = robertson_reference(found_times)
    for i, name in enumerate("abc"):
        found = np.asarray(solution.values[name])[1:]
        assert np.max(np.abs(found / reference[i, 1:] - 1)) < 1e-6, name
    if form == "dae":
        total = sum(np.asarray(solution.values[n]) for n in "abc")
        np.testing.assert_allclose(total, 1.0, atol=1e-12)     # the constraint, exactly


@pytest.mark.parametrize("method", [
    "bdf", pytest.param("kencarp4", marks=pytest.mark.slow),
    pytest.param("kencarp4-imex", marks=pytest.mark.slow)])
def test_host_integrators_agree_with_sparse_rodas4_on_a_small_brusselator(method):
    """Independent methods, all on the host with the stencil-coloured Jacobian, against
    Rodas4 at tight tolerances on 8 x 8 nodes to t = 2 (through the forcing's switch at
    t = 1.1)."""
    text = (EXAMPLES / "brusselator2d.pde").read_text().replace("t in [0, 11.5]",
                                                                "t in [0, 2]")
    system = pl.parse(text)
    results = [runtime.solve(system, "fd", grid=9, integrator=name, frames=3, rtol=1e-9,
                             atol=1e-12) for name in (method, "rodas4")]
    for name in ("u", "v"):
        np.testing.assert_allclose(np.asarray(results[0].values[name]),
                                   np.asarray(results[1].values[name]), rtol=2e-6)


def test_the_last_step_lands_on_the_end_however_it_rounds():
    """t + (t_end - t) can round one ulp below t_end; the clipped step must still land
    there (review found t_end = 510.31036367803034 failing with a collapsed step)."""
    import jax.numpy as jnp

    from runtime.algebra.sparse_jacobian import Sparsity
    from runtime.time.host.bdf import integrate_bdf

    for t_end in (510.31036367803034, 1234.5678901234567, 97.0):
        trajectory = integrate_bdf(lambda t, U, p: {"u": -U["u"]}, {"u": jnp.asarray(1.0)},
                                   [0.0, t_end], Sparsity(1, {"u": ()}))
        assert trajectory.t[-1] == t_end and abs(float(trajectory.U["u"][-1])) < 1e-6


@pytest.mark.slow
def test_bdf_takes_a_shock_capturing_program_and_auto_keeps_multigrid_asked_for():
    """Review findings: a program with convective fluxes asked for a stability limit that
    bdf does not have; --linear-solver multigrid with auto's stiff choice must give sdirk2."""
    burgers = """
space x in [0, 1]
time t in [0, 0.1]
field u(t, x)
pde d(u, t) + d(u^2/2, x) = 0.01*d(u, x, 2)
bc periodic x
ic u = 1 + 0.5*sin(2*pi*x) at t = 0
"""
    solution = runtime.solve(pl.parse(burgers), "fd", grid=65, integrator="bdf", frames=2)
    assert solution.meta["integrator"] == "bdf" and np.all(np.isfinite(solution.values["u"]))
    heat = """
space x in [0, 1], y in [0, 1]
time t in [0, 2]
field u(t, x, y)
pde d(u, t) = laplace(u)
bc u = 0 at x = 0
bc u = 0 at x = 1
bc u = 0 at y = 0
bc u = 0 at y = 1
ic u = sin(pi*x)*sin(pi*y) at t = 0
"""
    solution = runtime.solve(pl.parse(heat), "fd", grid=65, frames=2,
                             linear_solver="multigrid")     # 23,000 explicit steps: stiff
    assert solution.meta["integrator"] == "sdirk2"
