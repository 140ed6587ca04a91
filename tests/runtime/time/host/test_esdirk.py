"""KenCarp4's ESDIRK (runtime.time.host.esdirk): its tableau meets the order conditions,
error control meets the tolerance where stage order could spoil it, and on DAEs and grids
it agrees with outside references and with our other implicit integrators."""

from pathlib import Path

import numpy as np
import pytest

import pdelang as pl
import runtime
from runtime.time.host.esdirk import KENCARP4

from ...fd.test_dae import TAYLOR_GREEN
from ..test_rosenbrock import robertson_reference
from .test_bdf import PROTHERO_ROBINSON, ROBERTSON_DAE

EXAMPLES = Path(__file__).resolve().parents[4] / "examples"


def test_the_tableau_meets_the_order_conditions():
    """Order 4 for b (all eight conditions), 3 for the embedded b_hat, row sums = c, and
    stiffly accurate (b is the last row)."""
    A, c = np.array(KENCARP4.a), np.array(KENCARP4.c)
    np.testing.assert_allclose(A.sum(axis=1), c, atol=1e-14)
    conditions = [(lambda b: b.sum(), 1), (lambda b: b @ c, 1 / 2),
                  (lambda b: b @ c**2, 1 / 3), (lambda b: b @ A @ c, 1 / 6),
                  (lambda b: b @ c**3, 1 / 4), (lambda b: b @ (c * (A @ c)), 1 / 8),
                  (lambda b: b @ A @ c**2, 1 / 12), (lambda b: b @ A @ A @ c, 1 / 24)]
    b, b_hat = np.array(KENCARP4.b), np.array(KENCARP4.b_hat)
    for condition, value in conditions:
        assert condition(b) == pytest.approx(value, abs=1e-13)
    for condition, value in conditions[:4]:
        assert condition(b_hat) == pytest.approx(value, abs=1e-13)
    assert any(condition(b_hat) != pytest.approx(value, abs=1e-6)
               for condition, value in conditions[4:])          # the embedded pair: 3


def test_error_control_meets_the_tolerance_on_prothero_robinson():
    """The stiff (lambda = -1e4) test of order reduction: with the raw error estimate the
    final error stays below rtol (measured 8.3e-7, 6.7e-8, 6.9e-10)."""
    errors = []
    for rtol in (1e-4, 1e-6, 1e-8):
        solution = runtime.solve(pl.parse(PROTHERO_ROBINSON), "fd", integrator="kencarp4",
                                 frames=2, rtol=rtol, atol=rtol)
        errors.append(solution.errors()["y"])
        assert errors[-1] < rtol
    assert errors[0] > errors[1] > errors[2]


def test_robertson_as_a_dae_matches_radau():
    """Measured 2.6e-8 relative from t = 1e-3 at rtol 1e-8, 673 steps."""
    times = list(np.logspace(-3, 5, 17))
    solution = runtime.solve(pl.parse(ROBERTSON_DAE), "fd", integrator="kencarp4",
                             frames=times, rtol=1e-8, atol=1e-14)
    reference = robertson_reference(solution.grid["t"])
    for i, name in enumerate("abc"):
        found = np.asarray(solution.values[name])[1:]
        assert np.max(np.abs(found / reference[i, 1:] - 1)) < 1e-6, name


@pytest.mark.slow
def test_taylor_green_dae_agrees_with_bdf():
    """Two time integrators on one spatial discretisation: at 33 points both leave the
    stencils' error (w 3.79e-4 bdf, 3.81e-4 kencarp4 against the exact decay)."""
    errors = {method: runtime.solve(pl.parse(TAYLOR_GREEN), "fd", grid=33, frames=3,
                                    integrator=method).errors()
              for method in ("bdf", "kencarp4")}
    for name in ("w", "psi"):
        assert errors["kencarp4"][name] == pytest.approx(errors["bdf"][name], rel=0.15)
    assert errors["kencarp4"]["w"] < 5e-4


@pytest.mark.parametrize("method", ["bdf", "kencarp4"])
def test_a_blow_up_is_reported_with_the_time_and_the_newton_residual(method):
    """u' = u^2, u(0) = 1 blows up at t = 1: the step collapses there, and the message
    says where, how far Newton's correction was from its tolerance, and what to try."""
    text = "time t in [0, 2]\nfield u(t)\npde d(u, t) = u^2\nic u = 1 at t = 0\n"
    with pytest.raises(runtime.SolveError, match=r"collapsed to .* at t = (0\.99|1\.0)") as info:
        runtime.solve(pl.parse(text), "fd", integrator=method)
    assert "Newton iteration that failed" in str(info.value)
    assert "blow up" in info.value.hint and "rtol" in info.value.hint
    assert info.value.trajectory.t[-1] <= 1.0          # the outputs reached, kept


def test_the_explicit_rows_meet_the_order_conditions_with_the_same_weights():
    """KenCarp4's additive pair: the explicit tableau (row sums = c) is of order 4 with b."""
    A, c = np.array(KENCARP4.explicit), np.array(KENCARP4.c)
    b = np.array(KENCARP4.b)
    np.testing.assert_allclose(A.sum(axis=1), c, atol=1e-12)
    assert np.allclose(np.triu(A), 0)                          # explicit
    for value, expected in ((b @ c**3, 1 / 4), (b @ (c * (A @ c)), 1 / 8),
                            (b @ A @ c**2, 1 / 12), (b @ A @ A @ c, 1 / 24),
                            (b @ A @ c, 1 / 6)):
        assert value == pytest.approx(expected, abs=1e-10)


REACTION_DIFFUSION = """
space x in [0, 1]
time t in [0, 1]
field u(t, x)
param D = 1
param k = 2
pde d(u, t) = D*d(u, x, 2) - k*u + (pi^2 - 1 + k)*exp(-t)*sin(pi*x)
bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = sin(pi*x) at t = 0
exact u = exp(-t)*sin(pi*x)
"""


def test_imex_meets_the_manufactured_solution_and_bdf():
    """Diffusion implicit, the decay and the source explicit: at 129 points (an explicit
    step limit of 3e-5) the error is the stencils' own: measured 3.33e-5 in 44 steps, bdf
    at rtol 1e-9 3.34e-5 (kencarp4-imex at rtol 1e-9: 3.34e-5 in 260 steps)."""
    system = pl.parse(REACTION_DIFFUSION)
    imex = runtime.solve(system, "fd", grid=129, integrator="kencarp4-imex", frames=5)
    bdf = runtime.solve(system, "fd", grid=129, integrator="bdf", frames=5, rtol=1e-9,
                        atol=1e-12)
    assert imex.meta["integrator"] == "kencarp4-imex" and imex.meta["steps"] < 200
    assert imex.errors()["u"] == pytest.approx(bdf.errors()["u"], rel=0.05)
    assert imex.errors()["u"] < 5e-5


def test_imex_says_what_it_cannot_split():
    from compiler.errors import LoweringError

    wave = (EXAMPLES / "wave1d.pde").read_text()
    with pytest.raises(LoweringError, match="first order in time"):
        runtime.solve(pl.parse(wave), "fd", grid=17, integrator="kencarp4-imex")
    ode = "time t in [0, 1]\nfield u(t)\npde d(u, t) = -u\nic u = 1 at t = 0\n"
    with pytest.raises(LoweringError, match="nothing stiff"):
        runtime.solve(pl.parse(ode), "fd", integrator="kencarp4-imex")
    with pytest.raises(runtime.OptionError, match="without a time derivative"):
        runtime.solve(pl.parse(TAYLOR_GREEN), "fd", grid=9, integrator="kencarp4-imex")
