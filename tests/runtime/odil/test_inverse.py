"""`method="odil"` on inverse problems: fields and unknown parameters fitted together to
the data by sparse Levenberg-Marquardt on the residual of the whole space-time grid."""

import json

import numpy as np
import pytest

import pdelang as pl
import runtime
from pdelang.errors import PdeError
from runtime.cli import main
from runtime.errors import OptionError, SolveError

HEAT = """
param k ~ 1
space x in [0, 1]
time t in [0, 0.25]
field u(t, x)
pde d(u, t) = k*d(u, x, 2)
bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = sin(pi*x) + 0.5*sin(3*pi*x) at t = 0
data "obs.csv"
"""

DIFFUSIVITY = """
space x in [0, 1]
param c(x) ~ 1
field u(x)
pde -d(c*d(u, x), x) = (1 + 0.5*x)*pi^2*sin(pi*x) - 0.5*pi*cos(pi*x)
bc u = 0 at x = 0
bc u = 0 at x = 1
data "obs.csv"
exact u = sin(pi*x)
"""


def _write(folder, header: str, columns: list[np.ndarray]) -> None:
    np.savetxt(folder / "obs.csv", np.column_stack(columns), delimiter=",", header=header,
               comments="", fmt="%.17g")


def _heat(folder, text: str = HEAT) -> pl.System:
    """Noise-free snapshots of the manufactured heat solution with k = 0.5."""
    t, x = np.meshgrid(np.linspace(0.05, 0.25, 5), np.linspace(0, 1, 21), indexing="ij")
    u = np.sin(np.pi * x) * np.exp(-0.5 * np.pi**2 * t) \
        + 0.5 * np.sin(3 * np.pi * x) * np.exp(-4.5 * np.pi**2 * t)
    _write(folder, "t,x,u", [t.ravel(), x.ravel(), u.ravel()])
    return pl.parse(text, "heat.pde", base=str(folder))


def test_heat_coefficient_from_noisy_snapshots(examples_dir, tmp_path):
    system = pl.load(f"{examples_dir}/heat_inverse.pde")
    sol = runtime.solve(system, "odil", grid=33)
    assert abs(sol.params["k"] - 0.1) / 0.1 < 0.01                 # measured 0.24 %
    meta = sol.meta
    assert meta["converged"] and meta["solver"] == "levenberg-marquardt"
    assert meta["iterations"] <= 25                                   # measured 15
    history = meta["loss_history"]
    assert all(b < a for a, b in zip(history, history[1:]))
    # the data misfit sits at the noise (1 % of the data's RMS), neither above nor below
    noise = 0.01 * np.sqrt(np.mean(system.data[0].column("u") ** 2))
    assert 0.8 * noise < meta["data_misfit"]["u"] < 1.2 * noise       # measured 0.94
    assert sol.errors()["u"] < 1e-2                                   # measured 3.0e-3
    saved = sol.save(tmp_path / "heat.npz")
    with np.load(saved) as data:
        assert float(data["k"]) == sol.params["k"] and data["u"].shape == (33, 33)
        assert json.loads(str(data["meta"]))["stop_reason"] == meta["stop_reason"]


@pytest.mark.xfail(strict=True, reason=(
    "the error in k falls at 1.80, 1.77, 1.77 (21 to 161 points), not 2 +- 0.2, with every "
    "fit converged; the forward odil solve is second order (1.88, 1.96) and the order moves "
    "with data_weight (0.3: 1.75, 3: 1.81, 100: 1.97, 0.01: 1.97): the balance of the "
    "residual and data terms changes with the grid; a finding to resolve, not a tolerance"))
def test_parameter_error_falls_at_second_order(tmp_path):
    system = _heat(tmp_path)
    errors = [abs(runtime.solve(system, "odil", grid=n).params["k"] - 0.5) / 0.5
              for n in (21, 41, 81)]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[-1] < 1.5e-3                        # measured 8.1e-3, 2.3e-3, 6.8e-4
    assert np.all(np.abs(orders - 2) < 0.2), (errors, orders)


def test_lorenz_parameters_from_a_trajectory(examples_dir):
    sol = runtime.solve(pl.load(f"{examples_dir}/lorenz_inverse.pde"), "odil", grid=401)
    truth = {"sigma": 10.0, "rho": 15.0, "beta": 8.0 / 3.0}
    errors = {k: abs(sol.params[k] - v) / v for k, v in truth.items()}
    assert max(errors.values()) < 2e-3, errors        # measured sigma 1.1e-3, beta 5.4e-4
    assert sol.meta["converged"]


@pytest.mark.slow
def test_lorenz_error_against_the_number_of_time_points(examples_dir):
    system = pl.load(f"{examples_dir}/lorenz_inverse.pde")
    truth = np.array([10.0, 15.0, 8.0 / 3.0])
    errors = []
    for n in (101, 201, 401, 801, 1601):
        params = runtime.solve(system, "odil", grid=n).params
        found = np.array([params["sigma"], params["rho"], params["beta"]])
        errors.append(np.max(np.abs(found - truth) / truth))
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    # measured: 2.0e-2, 4.5e-3, 1.1e-3, 2.9e-4, 7.0e-5 (ratios 4.4, 4.0, 3.9, 4.1)
    assert errors[-1] < 1.5e-4 and np.all(ratios > 3.3), (errors, ratios)


ADVECTION = """
param a ~ 0.5
space x in [0, 1]
time t in [0, 0.5]
field u(t, x)
pde d(u, t) + a*d(u, x) = 0
bc periodic x
ic u = sin(2*pi*x) at t = 0
data "obs.csv"
exact u = sin(2*pi*(x - a*t))
"""


def test_periodic_advection_speed_through_a_coarser_grid(tmp_path):
    # from half the speed, a fit on 129 x 129 at once stops in a spurious minimum at
    # a = 0.56; the fit on 65 x 65 first (a = 1.0012) leads it to the truth
    t, x = np.meshgrid(np.linspace(0.1, 0.5, 5), np.arange(40) / 40 + 0.0125, indexing="ij")
    _write(tmp_path, "t,x,u", [t.ravel(), x.ravel(), np.sin(2 * np.pi * (x - t)).ravel()])
    sol = runtime.solve(pl.parse(ADVECTION, "adv.pde", base=str(tmp_path)), "odil", grid=129)
    assert abs(sol.params["a"] - 1) < 5e-4                            # measured 2.5e-4
    (level,) = sol.meta["coarse_levels"]
    assert level["grid"] == {"t": 65, "x": 65} and abs(level["params"]["a"] - 1) < 2e-3
    assert sol.meta["start"] == "the fit on the coarser grid, interpolated"
    assert sol.meta["iterations"] < level["iterations"]               # measured 7 after 11
    assert sol.errors()["u"] < 1e-3


def test_unknown_coefficient_field_with_regularization(tmp_path):
    x = np.linspace(0, 1, 129)
    _write(tmp_path, "x,u", [x, np.sin(np.pi * x)])
    system = pl.parse(DIFFUSIVITY, "c.pde", base=str(tmp_path))
    sol = runtime.solve(system, "odil", grid=65, regularization=1e-5, data_weight=100)
    c = sol.params["c"]
    assert c.shape == sol.grid["x"].shape == (65,)
    error = np.abs(c - (1 + 0.5 * sol.grid["x"]))
    assert error.max() < 0.01 and np.sqrt(np.mean(error**2)) < 2e-3   # measured 6.6e-3, 1.1e-3
    assert sol.errors()["u"] < 1e-3 and sol.meta["converged"]


def test_one_observation_fixes_one_constant_exactly(tmp_path):
    # k u'' = -1, u(0) = u(1) = 0: u = x (1 - x) / (2 k), which central differences hold
    # exactly; u(1/2) = 1/8 gives k = 1
    (tmp_path / "obs.csv").write_text("x,u\n0.5,0.125\n")
    system = pl.parse("space x in [0, 1]\nparam k ~ 3\nfield u(x)\npde k*d(u, x, 2) = -1\n"
                      "bc u = 0 at x = 0\nbc u = 0 at x = 1\ndata \"obs.csv\"\n", "k.pde",
                      base=str(tmp_path))
    sol = runtime.solve(system, "odil", grid=17)
    assert sol.params["k"] == pytest.approx(1.0, abs=1e-9)
    assert sol.meta["final_residual"] < 1e-9 and sol.meta["data_misfit"]["u"] < 1e-9


def test_observations_without_unknowns_are_fitted_too(tmp_path):
    x = np.linspace(0, 1, 9)                          # on nodes of the grid of 17
    _write(tmp_path, "x,u", [x, x * (1 - x) / 2])
    system = pl.parse("space x in [0, 1]\nfield u(x)\npde d(u, x, 2) = -1\n"
                      "bc u = 0 at x = 0\nbc u = 0 at x = 1\ndata \"obs.csv\"\n"
                      "exact u = x*(1 - x)/2\n", "p.pde", base=str(tmp_path))
    sol = runtime.solve(system, "odil", grid=17)
    assert sol.params == {} and sol.errors()["u"] < 1e-12   # exact for a quadratic


def test_a_fit_that_runs_out_of_steps_says_so(tmp_path):
    sol = runtime.solve(_heat(tmp_path), "odil", grid=17, fit_steps=2)
    assert not sol.meta["converged"] and sol.meta["iterations"] == 2
    assert sol.meta["stop_reason"] == "stopped after 2 steps"


@pytest.mark.parametrize("options, message", [
    ({"data_weight": 0.0}, "data_weight must be > 0"),
    ({"fit_steps": 0}, "fit_steps must be an int >= 1"),
    ({"regularization": -1.0}, "regularization must be >= 0"),
])
def test_wrong_fit_options(tmp_path, options, message):
    with pytest.raises(OptionError, match=message):
        runtime.solve(_heat(tmp_path), "odil", grid=9, **options)


def test_a_first_guess_where_the_residual_is_not_finite(tmp_path):
    system = _heat(tmp_path, HEAT.replace("k ~ 1", "k ~ -1").replace("k*d(u", "sqrt(k)*d(u"))
    with pytest.raises(SolveError, match="not finite at the first guesses: nan in field 'u'"):
        runtime.solve(system, "odil", grid=9)


def test_unknowns_need_observations():
    with pytest.raises(PdeError, match="no observations to infer it from"):
        pl.parse(HEAT.replace('data "obs.csv"', ""), "heat.pde")


def test_command_line_reports_the_inferred_coefficient(examples_dir, tmp_path, capsys):
    out = tmp_path / "k.npz"
    assert main(["solve", f"{examples_dir}/heat_inverse.pde", "--method", "odil", "--grid",
                 "17", "--fit-steps", "30", "--data-weight", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "k = 0.10" in printed.out and "loss" in printed.err
    with np.load(out) as data:
        meta = json.loads(str(data["meta"]))
        assert meta["options"]["data_weight"] == 2.0 and meta["options"]["fit_steps"] == 30
        assert abs(float(data["k"]) - 0.1) < 0.01
