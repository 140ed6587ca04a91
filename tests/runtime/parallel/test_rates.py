"""The fields' time derivatives at the frames (`Solution.rates`, runtime/parallel/fd_program.py
`output_rates`): exact for the semi-discrete system. Checked against the discrete operator's
eigenvalue (to round-off), against differences in time of frames close together (a second
computation, through the integrator), against boundary values given as functions of time,
and on the layouts of the values: periodic end points, NaN outside a shaped domain, a
sweep's member axis, files, float32. A DAE keeps none."""

from __future__ import annotations

import numpy as np
import pytest

import pdelang as pl
import runtime
from compiler.fd import FDOptions, lower_fd
from runtime.output.solution import Solution

from .. import heat_case

HEAT = heat_case.SPEC

# nonlinear, forced in time, a boundary value of time and a Robin end (closed from inside)
FORCED = """
space x in [0, 1]
time  t in [0, 0.2]
field u(t, x)
pde   d(u, t) = 0.5*d(u, x, 2) - u^3 + cos(5*t)*x
bc    u = sin(3*t) at x = 0
bc    d(u, x) = -u at x = 1
ic    u = sin(pi*x/2) at t = 0
"""

# second order in time (state u, u_t), a boundary value of time, an insulated end
WAVE = """
space x in [0, 1]
time  t in [0, 0.2]
field u(t, x)
pde   d(u, t, 2) = d(u, x, 2) - 0.5*u^3
bc    u = 0.2*sin(2*t) at x = 0
bc    d(u, x) = 0 at x = 1
ic    u = 0 at t = 0
ic    d(u, t) = 0.4*(1 - x)^2 at t = 0
"""


def discrete_eigenvalue(points: int) -> float:
    """The second difference's eigenvalue of sin(pi x) on `points` nodes of [0, 1]."""
    h = 1 / (points - 1)
    return -4 / h**2 * np.sin(np.pi * h / 2) ** 2


def relative(a, b) -> float:
    return float(np.nanmax(np.abs(np.asarray(a) - b)) / np.nanmax(np.abs(b)))


@pytest.fixture(scope="module")
def heat():
    return runtime.solve(pl.parse(HEAT), "fd", grid=33, frames=6, integrator="rk4")


def test_heat_rates_are_the_discrete_eigenvalue_times_u(heat):
    """sin(pi x) is an eigenvector of the second difference: u_t = lambda_h u and u_tt =
    lambda_h^2 u at every frame, to round-off (measured 5e-14 and 1.4e-11: the round-off
    of the integrator in the highest modes, amplified by their lambda^2)."""
    u = heat.values["u"]
    lam = discrete_eigenvalue(33)
    assert heat.rates["u_t"].shape == u.shape == heat.rates["u_tt"].shape
    assert relative(heat.rates["u_t"], lam * u) < 1e-12
    assert relative(heat.rates["u_tt"], lam**2 * u) < 1e-9


def test_heat_rates_approach_the_exact_ones_at_second_order():
    """Against the PDE's own -pi^2 u and pi^4 u: the spatial discretisation error, h^2."""
    errors = []
    for n in (17, 33):
        solution = runtime.solve(pl.parse(HEAT), "fd", grid=n, frames=3, integrator="rk4")
        u = solution.values["u"]
        errors.append((relative(solution.rates["u_t"], -np.pi**2 * u),
                       relative(solution.rates["u_tt"], np.pi**4 * u)))
    for coarse, fine in zip(*errors):
        assert fine < 2e-3 and abs(np.log2(coarse / fine) - 2) < 0.1


def differences_and_rates(spec: str, grid: int, dt: float, centre: float, h: float = 1e-3):
    """One RK4 run at `dt` with frames at centre + k h (k = -2..2): (u_t and u_tt at the
    centre from the fourth-order central differences of the values, the same from the
    rates)."""
    frames = [centre + k * h for k in range(-2, 3)]
    solution = runtime.solve(pl.parse(spec), "fd", grid=grid, frames=frames, integrator="rk4",
                             dt=dt)
    t = solution.grid["t"]
    at = [int(np.argmin(np.abs(t - s))) for s in frames]
    u = solution.values["u"][at]
    first = (8 * (u[3] - u[1]) - (u[4] - u[0])) / (12 * h)
    second = (-u[4] + 16 * u[3] - 30 * u[2] + 16 * u[1] - u[0]) / (12 * h**2)
    return (first, second), (solution.rates["u_t"][at[2]], solution.rates["u_tt"][at[2]])


@pytest.mark.parametrize("spec, grid", [(FORCED, 17), (WAVE, 33)], ids=["forced_robin", "wave"])
def test_rates_match_differences_of_frames_close_in_time(spec, grid):
    """The rates against differences of the integrated values (a second computation,
    through the integrator): at every node, the boundary nodes (given as functions of t,
    or closed from inside) included, to the differences' h^4 terms. Measured: forced
    1.0e-9 and 5.0e-9, wave 1.2e-10 and 4.2e-9."""
    (first, second), (u_t, u_tt) = differences_and_rates(spec, grid, 1e-4, 0.1)
    assert relative(u_t, first) < 1e-8
    assert relative(u_tt, second) < 3e-8


@pytest.mark.slow
def test_rates_on_a_shaped_domain_match_differences_of_frames(examples_dir):
    """heat_disk as above: its cut cells' stiff modes need dt = 2e-5 for the integrator's
    error in them (which u_tt weighs by their eigenvalue squared) to fall below the
    differences' (measured 3.4e-12 and 7.0e-9; at dt = 4e-5, 9.3e-8 for u_tt)."""
    with open(f"{examples_dir}/heat_disk.pde") as source:
        spec = source.read().replace("t in [0, 0.5]", "t in [0, 0.21]")
    (first, second), (u_t, u_tt) = differences_and_rates(spec, 21, 2e-5, 0.2)
    assert relative(u_t, first) < 1e-10
    assert relative(u_tt, second) < 3e-8


def test_a_boundary_value_of_time_has_its_exact_rates():
    """u = sin(t) at x = 0: the boundary node's u_t is cos(t) and u_tt -sin(t), exactly."""
    spec = HEAT.replace("bc u = 0 at x = 0", "bc u = sin(5*t) at x = 0")
    solution = runtime.solve(pl.parse(spec), "fd", grid=17, frames=5)
    t = solution.grid["t"]
    assert np.allclose(solution.rates["u_t"][:, 0], 5 * np.cos(5 * t), rtol=0, atol=1e-13)
    assert np.allclose(solution.rates["u_tt"][:, 0], -25 * np.sin(5 * t), rtol=0, atol=1e-12)


def test_a_periodic_axis_repeats_its_end_point_in_the_rates(examples_dir):
    """heat2d_periodic: the mode sin(2 pi x) cos(4 pi y) decays at its discrete rate; the
    rates, like the values, hold the periodic end points (x = 1, y = 1) repeated."""
    solution = runtime.solve(pl.load(f"{examples_dir}/heat2d_periodic.pde"), "fd", grid=17,
                             frames=3, integrator="rk4")
    u, u_t, u_tt = (np.asarray(a) for a in (solution.values["u"], solution.rates["u_t"],
                                            solution.rates["u_tt"]))
    assert u_t.shape == u.shape == u_tt.shape == (3, 17, 17)
    for rate in (u_t, u_tt):
        assert np.array_equal(rate[:, -1], rate[:, 0])
        assert np.array_equal(rate[:, :, -1], rate[:, :, 0])
    h = 1 / 16
    lam = 0.01 * (-4 / h**2) * (np.sin(2 * np.pi * h / 2) ** 2 + np.sin(4 * np.pi * h / 2) ** 2)
    assert relative(u_t, lam * u) < 1e-12 and relative(u_tt, lam**2 * u) < 1e-9


def test_a_shaped_domain_has_nan_outside_as_the_values_do(examples_dir):
    """heat_disk: NaN exactly where the values are NaN; on the boundary, whose values are
    given as functions of t, their exact rates; inside, the manufactured solution's to the
    discretisation error (BDF's frames; measured 2.0e-4 and 4.5e-3)."""
    system = pl.load(f"{examples_dir}/heat_disk.pde")
    solution = runtime.solve(system, "fd", grid=21, frames=3, integrator="bdf")
    u = np.asarray(solution.values["u"])
    for key in ("u_t", "u_tt"):
        rate = np.asarray(solution.rates[key])
        assert rate.shape == u.shape
        assert np.array_equal(np.isnan(rate), np.isnan(u))
    cut = lower_fd(system, FDOptions(21)).shaped.cut
    boundary = np.asarray(cut.closed) & ~np.asarray(cut.inside)
    t = solution.grid["t"][:, None, None]
    X, Y = np.meshgrid(solution.grid["x"], solution.grid["y"], indexing="ij")
    decaying = np.exp(-t) * np.exp(X) * np.sin(2 * Y)
    exact = {"u_t": -decaying + X, "u_tt": decaying}
    for key, bound in (("u_t", 1e-3), ("u_tt", 1e-2)):
        rate = np.asarray(solution.rates[key])
        on = np.broadcast_to(boundary, rate.shape)
        assert relative(rate[on], exact[key][on]) < 1e-12
        assert relative(rate[1:], exact[key][1:]) < bound     # after the first transient


def test_saving_and_loading_keeps_the_rates(heat, tmp_path):
    spec = tmp_path / "heat.pde"
    spec.write_text(HEAT)
    path = heat.save(tmp_path / "heat.npz")
    loaded = Solution.load(path, spec)
    assert set(loaded.rates) == {"u_t", "u_tt"}
    for key, rate in heat.rates.items():
        assert np.array_equal(loaded.rates[key], rate)


def test_float32_rates_are_computed_in_float32():
    """To float32's round-off, which each second difference multiplies by up to 4 / (h^2
    |lambda|) (415 at 33 points): measured 1.9e-5 for u_t and 6.4e-3 for u_tt."""
    single = runtime.solve(pl.parse(HEAT), "fd", grid=33, frames=3, integrator="rk4",
                           dtype="float32")
    u = single.values["u"].astype(float)
    lam = discrete_eigenvalue(33)
    assert single.rates["u_t"].dtype == np.float32 == single.rates["u_tt"].dtype
    assert relative(single.rates["u_t"], lam * u) < 1e-4
    assert relative(single.rates["u_tt"], lam**2 * u) < 3e-2


def test_a_sweep_has_the_member_axis_first():
    """Each member's rates are its own alpha times the discrete eigenvalue times its u."""
    spec = HEAT.replace("field u(t, x)", "param alpha = 1\nfield u(t, x)").replace(
        "d(u, t) = d(u, x, 2)", "d(u, t) = alpha*d(u, x, 2)")
    alphas = [0.5, 1.0]
    swept = runtime.solve(pl.parse(spec), "fd", grid=17, frames=4, integrator="rk4",
                          sweep={"alpha": alphas})
    assert swept.rates["u_t"].shape == swept.values["u"].shape == (2, 4, 17)
    lam = discrete_eigenvalue(17)
    for i, alpha in enumerate(alphas):
        member = swept.member(i)
        u = member.values["u"]
        assert relative(member.rates["u_t"], alpha * lam * u) < 1e-12
        assert relative(member.rates["u_tt"], (alpha * lam) ** 2 * u) < 1e-9


def test_a_dae_keeps_no_rates():
    """Its algebraic fields take no rate from rhs (M dU/dt = rhs has 0 rows for them)."""
    dae = """
space x in [0, 1]
time  t in [0, 0.1]
field u(t, x), v(t, x)
pde   d(u, t) = d(u, x, 2) + v
pde   d(v, x, 2) = u
bc    u = 0 at x = 0
bc    u = 0 at x = 1
bc    v = 0 at x = 0
bc    v = 0 at x = 1
ic    u = sin(pi*x) at t = 0
"""
    solution = runtime.solve(pl.parse(dae), "fd", grid=17, frames=3)
    assert solution.meta["integrator"] == "bdf"
    assert solution.rates == {}
