"""`method="odil"` on forward problems: the space-time residual solved at once."""

import numpy as np
import pytest

import pdelang as pl
import runtime
from compiler.errors import LoweringError


def test_heat_on_the_space_time_grid_converges(examples_dir):
    system = pl.load(f"{examples_dir}/heat1d.pde")
    # pre-asymptotic below 65 points (orders 1.31, 1.65 from 17 to 65: the Neumann ends and
    # the one-sided time stencils at t = T); measured 1.85, 1.93 from 65 to 257
    errors = [runtime.solve(system, "odil", grid=n).errors()["u"] for n in (65, 129, 257)]
    assert errors[-1] < 1e-5
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - 2) < 0.2), (errors, orders)


def test_nonlinear_burgers_by_newton(examples_dir):
    sol = runtime.solve(pl.load(f"{examples_dir}/burgers1d.pde"), "odil", grid=33)
    assert sol.meta["solver"] == "newton" and sol.meta["iterations"] <= 8
    assert sol.errors()["u"] < 2e-3
    assert sol.values["u"].shape == (33, 33) and sol.grid["t"][-1] == 1.0


def test_steady_problems_are_the_fd_solve(examples_dir):
    system = pl.load(f"{examples_dir}/poisson2d.pde")
    odil = runtime.solve(system, "odil", grid=33)
    fd = runtime.solve(system, "fd", grid=33)
    np.testing.assert_allclose(odil.values["u"], fd.values["u"], atol=1e-12)


def test_time_and_space_resolutions_are_separate(examples_dir):
    sol = runtime.solve(pl.load(f"{examples_dir}/advection1d.pde"), "odil",
                        grid={"x": 65, "t": 33})
    assert sol.values["u"].shape == (33, 65)
    finer = runtime.solve(pl.load(f"{examples_dir}/advection1d.pde"), "odil",
                          grid={"x": 65, "t": 65})
    assert finer.errors()["u"] < sol.errors()["u"] / 4 < 1e-2


def test_what_odil_does_not_take_yet_is_refused(examples_dir):
    with pytest.raises(LoweringError, match="order 2 in time"):
        runtime.solve(pl.load(f"{examples_dir}/wave1d.pde"), "odil", grid=17)
