"""`runtime.solve(..., method="fd")` end to end: errors against exact solutions, the
Solution object, files, integrator choices and the errors users meet."""

import json

import numpy as np
import pytest
import sympy as sp

import pdelang as pl
import runtime
from runtime.errors import OptionError, SolveError


@pytest.fixture(scope="module")
def poisson(examples_dir):
    return runtime.solve(pl.load(f"{examples_dir}/poisson2d.pde"), "fd", grid=33)


def test_steady_poisson_reaches_second_order_accuracy(poisson, examples_dir):
    fine = runtime.solve(pl.load(f"{examples_dir}/poisson2d.pde"), "fd", grid=65)
    coarse_error, fine_error = poisson.errors()["u"], fine.errors()["u"]
    assert fine_error < 3e-4
    assert abs(np.log2(coarse_error / fine_error) - 2) < 0.15
    assert fine.meta["solver"] == "direct" and fine.meta["final_residual"] < 1e-9


def test_solution_grid_values_and_interpolation(poisson):
    assert poisson.grid["x"].shape == (33,) and poisson.values["u"].shape == (33, 33)
    exact = np.sin(np.pi * 0.3) * np.sin(np.pi * 0.7) / (2 * np.pi**2)
    assert abs(poisson("u", x=0.3, y=0.7) - exact) < 2e-4
    values = poisson("u", x=np.array([0.1, 0.5]), y=0.5)
    assert values.shape == (2,)
    with pytest.raises(OptionError, match="outside"):
        poisson("u", x=1.5, y=0.5)
    with pytest.raises(OptionError, match="missing y"):
        poisson("u", x=0.5)


def test_saved_file_follows_the_contract(poisson, tmp_path):
    path = poisson.save(tmp_path / "out.npz")
    with np.load(path, allow_pickle=False) as data:
        assert set(data.files) == {"x", "y", "u", "meta"}
        meta = json.loads(str(data["meta"]))
    assert meta["method"] == "fd" and "jax" in meta["versions"]
    assert meta["relative_l2_error"]["u"] == pytest.approx(poisson.errors()["u"])
    assert meta["wall_time_s"] > 0


def test_time_dependent_heat_with_outputs_at_requested_times(examples_dir):
    sol = runtime.solve(pl.load(f"{examples_dir}/heat1d.pde"), "fd", grid=33, frames=6)
    assert np.allclose(sol.grid["t"], np.linspace(0, 0.5, 6))
    assert sol.values["u"].shape == (6, 33)
    assert sol.errors()["u"] < 5e-4
    assert sol("u", x=0.0) == pytest.approx(np.exp(-0.1 * np.pi**2 * 0.5), rel=1e-3)


@pytest.mark.parametrize("integrator", ["rk4", "ssprk3", "dopri5", "sdirk2"])
def test_every_integrator_solves_the_heat_example(examples_dir, integrator):
    sol = runtime.solve(pl.load(f"{examples_dir}/heat1d.pde"), "fd", grid=33,
                        integrator=integrator, frames=3)
    assert sol.errors()["u"] < 2e-3
    assert sol.meta["integrator"] == integrator


def test_a_stiff_problem_gets_an_implicit_integrator():
    """BDF on one device (its sparse LU on the host); sdirk2 where the solve is split over
    devices or checkpointed (tests/runtime/parallel, tests/runtime/observe)."""
    x, t = sp.symbols("x t")
    u = sp.Function("u")
    system = pl.PDESystem([sp.Eq(u(t, x).diff(t), u(t, x).diff(x, 2))],
                          [sp.Eq(u(t, 0), 0), sp.Eq(u(t, 1), 0),
                           sp.Eq(u(0, x), sp.sin(sp.pi * x))],
                          {t: (0, 10), x: (0, 1)},
                          exact={u: sp.exp(-sp.pi**2 * t) * sp.sin(sp.pi * x)})
    sol = runtime.solve(system, "fd", grid=129, frames=2)
    assert sol.meta["integrator"] == "bdf" and sol.errors()["u"] < 1e-4


def test_an_unstable_step_is_refused_with_the_limit(examples_dir):
    with pytest.raises(SolveError, match="stability limit"):
        runtime.solve(pl.load(f"{examples_dir}/heat1d.pde"), "fd", grid=65, dt=0.01,
                      integrator="rk4")


def test_coefficient_field_from_a_file(tmp_path):
    grid = np.linspace(0, 1, 11)
    np.save(tmp_path / "k.npy", 1 + grid)          # k(x) = 1 + x, exact under interpolation
    text = """
space x in [0, 1]
param k(x) = load("k.npy")
field u(x)
pde d(k*d(u, x), x) = 2 + 4*x
bc u = 0 at x = 0
bc u = 1 at x = 1
exact u = x^2
"""
    system = pl.parse(text, "k.pde", base=tmp_path)
    # the flux form at faces with the arithmetic mean is exact for a linear k and a
    # quadratic u (the default harmonic mean is second order: error 3.3e-5 here)
    sol = runtime.solve(system, "fd", grid=33, face_mean="arithmetic")
    assert sol.errors()["u"] < 1e-10
    assert runtime.solve(system, "fd", grid=33).errors()["u"] < 1e-4


def test_wrong_options_name_the_choices(examples_dir):
    system = pl.load(f"{examples_dir}/heat1d.pde")
    with pytest.raises(OptionError, match="options:"):
        runtime.solve(system, "fd", gird=33)
    with pytest.raises(OptionError, match="choose one of"):
        runtime.solve(system, "fd", integrator="euler")
    with pytest.raises(OptionError, match="unknown method"):
        runtime.solve(system, "magic")


def test_a_periodic_grid_repeats_the_end_point_in_outputs(examples_dir):
    sol = runtime.solve(pl.load(f"{examples_dir}/advection1d.pde"), "fd", grid=65, frames=2)
    u = sol.values["u"]
    assert sol.grid["x"][-1] == 1.0 and u.shape == (2, 65)
    np.testing.assert_allclose(u[:, 0], u[:, -1])
    assert sol.errors()["u"] < 0.03


REPEATED_HEAT = """
param k = {k}
space x in [0, 1]
time  t in [0, 0.1]
field u(t, x)
pde d(u, t) = k*d(u, x, 2)
bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = sin(pi*x) at t = 0
exact u = exp(-k*pi^2*t)*sin(pi*x)
"""


def test_a_repeated_solve_reuses_its_compiled_code_and_new_values_are_honoured():
    """An equal system (parsed again) finds the kept program and right-hand side, so no
    chunk compiles twice; another parameter value is another system, solved afresh."""
    from runtime.time.loop import _advance_fixed

    first = runtime.solve(pl.parse(REPEATED_HEAT.format(k=0.5)), "fd", grid=33, frames=3)
    compiled = _advance_fixed._cache_size()
    again = runtime.solve(pl.parse(REPEATED_HEAT.format(k=0.5)), "fd", grid=33, frames=3)
    assert _advance_fixed._cache_size() == compiled
    np.testing.assert_array_equal(again.values["u"], first.values["u"])
    other = runtime.solve(pl.parse(REPEATED_HEAT.format(k=0.25)), "fd", grid=33, frames=3)
    assert other.errors()["u"] < 1e-3 and first.errors()["u"] < 1e-3
    assert not np.allclose(other.values["u"][-1], first.values["u"][-1])


def test_a_shock_that_central_differences_cannot_resolve_names_the_upwinded_scheme(
        examples_dir):
    system = pl.load(f"{examples_dir}/burgers_shock.pde")      # nu = 0.01/pi, 129 points
    with pytest.raises(SolveError, match="NaN or Inf") as info:
        runtime.solve(system, "fd", frames=3)
    assert "--scheme weno5 --integrator ssprk3" in info.value.hint
    upwinded = runtime.solve(system, "fd", frames=3, scheme="weno5", integrator="ssprk3")
    assert np.isfinite(upwinded.values["u"]).all() and np.abs(upwinded.values["u"]).max() <= 1
