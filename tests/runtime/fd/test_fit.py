"""Inverse problems with method="fd": unknowns fitted through the differentiable solver."""

import json
from pathlib import Path

import numpy as np
import pytest

import pdelang as pl
import runtime
from compiler.errors import LoweringError
from runtime.cli import main
from runtime.errors import OptionError, SolveError

HEAT = """
param k ~ 0.5
space x in [0, 1]
time  t in [0, 0.5]
field u(t, x)
pde d(u, t) = k * d(u, x, 2)
bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = sin(pi*x) + 0.5*sin(3*pi*x) at t = 0
data "obs.csv"
"""


def heat_exact(t, x, k=0.1):
    return (np.sin(np.pi * x) * np.exp(-k * np.pi**2 * t)
            + 0.5 * np.sin(3 * np.pi * x) * np.exp(-9 * k * np.pi**2 * t))


def write_csv(folder, name, header, columns):
    np.savetxt(folder / name, np.column_stack(columns), delimiter=",", header=header,
               comments="", fmt="%.17g")


def test_lorenz_parameters_from_the_example_to_far_below_1e_3(examples_dir):
    solution = runtime.solve(pl.load(Path(examples_dir, "lorenz_inverse.pde")), "fd")
    truth = {"sigma": 10.0, "rho": 15.0, "beta": 8.0 / 3.0}
    errors = {k: abs(solution.params[k] / v - 1) for k, v in truth.items()}
    assert max(errors.values()) < 1e-6, errors          # measured 2e-10
    stages = solution.meta["fit"]["stages"]
    assert len(stages) >= 2 and stages[-1]["change"] < 1e-6   # Richardson check of the step
    assert solution.meta["fit"]["optimizer"] == "lm"


def test_heat_coefficient_from_noisy_snapshots_within_one_percent(examples_dir, tmp_path):
    out = tmp_path / "heat.npz"
    assert main(["solve", str(Path(examples_dir, "heat_inverse.pde")), "--method", "fd",
                 "--out", str(out), "--quiet"]) == 0
    with np.load(out) as saved:
        assert saved["k"].ndim == 0
        assert abs(float(saved["k"]) / 0.1 - 1) < 0.01      # measured 2.7e-4
        meta = json.loads(str(saved["meta"]))
    assert 0.005 < meta["fit"]["relative_misfit"]["u"] < 0.02   # the data's 1% noise
    assert meta["relative_l2_error"]["u"] < 1e-3           # exact solution at the fitted k


def test_noise_free_heat_coefficient_converges_at_second_order_with_the_grid(tmp_path):
    t, x = np.meshgrid([0.1, 0.25, 0.5], np.linspace(0, 1, 9), indexing="ij")
    write_csv(tmp_path, "obs.csv", "t,x,u", [t.ravel(), x.ravel(), heat_exact(t, x).ravel()])
    system = pl.parse(HEAT, base=tmp_path)
    errors = [abs(runtime.solve(system, "fd", grid=n).params["k"] / 0.1 - 1) for n in (9, 17, 33)]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[-1] < 3e-3, errors                  # measured 4.1e-2, 1.0e-2, 2.5e-3
    assert np.all(np.abs(orders - 2) < 0.2), (errors, orders)


@pytest.mark.parametrize("optimizer", ["lm", "lbfgs"])
def test_an_unknown_coefficient_field_with_smoothing(tmp_path, optimizer):
    """u_t = 0.02 u_xx - a(x) u: the reaction rate a(x) from snapshots made by the same
    discretisation (so the misfit can vanish; the smoothing keeps the ends tame)."""
    truth = "1 + 0.5*sin(pi*x)"
    text = """
space x in [0, 1]
time  t in [0, 1]
field u(t, x)
pde d(u, t) = 0.02 * d(u, x, 2) - a * u
bc u = 1 at x = 0
bc u = 1 at x = 1
ic u = 1 at t = 0
"""
    made = runtime.solve(pl.parse(f"param a(x) = {truth}\n" + text), "fd", grid=17,
                         frames=list(np.linspace(0, 1, 11)))
    t, x = np.meshgrid(made.grid["t"][1:], made.grid["x"], indexing="ij")
    write_csv(tmp_path, "obs.csv", "t,x,u", [t.ravel(), x.ravel(), made.values["u"][1:].ravel()])
    system = pl.parse("param a(x) ~ 0\n" + text + 'data "obs.csv"\n', base=tmp_path)
    solution = runtime.solve(system, "fd", grid=17, regularization=1e-6, fit_steps=200,
                             optimizer=optimizer)
    inferred = solution.params["a"]
    expected = 1 + 0.5 * np.sin(np.pi * solution.grid["x"])
    assert inferred.shape == expected.shape
    inner = slice(2, -2)                  # the ends are Dirichlet nodes: a has no effect there
    assert np.max(np.abs(inferred[inner] - expected[inner])) < 0.02, inferred
    assert "a(x): inferred on 17 points" in solution.summary()
    assert solution("a", x=0.5) == pytest.approx(inferred[8])
    solution.save(tmp_path / "fit.npz")
    with np.load(tmp_path / "fit.npz") as saved:
        np.testing.assert_array_equal(saved["a"], inferred)


@pytest.mark.slow
def test_wave_speed_from_recorded_wavefields(examples_dir):
    solution = runtime.solve(pl.load(Path(examples_dir, "wave2d_velocity_inverse.pde")), "fd",
                             grid=33, accuracy=4, regularization=1e-4)
    x, y = np.meshgrid(solution.grid["x"], solution.grid["y"], indexing="ij")
    truth = 1 + 0.3 * np.exp(-((x - 0.7) ** 2 + (y - 0.35) ** 2) / 0.01)
    c = solution.params["c"]
    assert np.linalg.norm(c - truth) / np.linalg.norm(truth) < 0.01      # measured 0.48%
    assert np.max(np.abs(c - truth)[3:-3, 3:-3]) < 0.05                   # measured 0.016


@pytest.mark.parametrize("method, options", [("fd", ["--grid", "17"]),
                                             ("odil", ["--grid", "17"])])
def test_fits_draw_the_fit_and_name_the_inferred_value(examples_dir, tmp_path, method,
                                                       options):
    import matplotlib.image

    picture = tmp_path / "fit.png"
    assert main(["solve", str(Path(examples_dir, "heat_inverse.pde")), "--method", method,
                 *options, "--plot", str(picture), "--quiet"]) == 0
    assert matplotlib.image.imread(picture).shape[1] > 1000     # three panels


def test_data_that_no_unknown_affects_are_an_error_naming_it(tmp_path):
    write_csv(tmp_path, "obs.csv", "t,x,u", [np.zeros(3), np.linspace(0.2, 0.8, 3),
                                             heat_exact(0.0, np.linspace(0.2, 0.8, 3))])
    with pytest.raises(SolveError, match="observations do not depend on `k`"):
        runtime.solve(pl.parse(HEAT, base=tmp_path), "fd")


STEADY = """
param k ~ 0.5
param a ~ 1
space x in [0, 1]
field u(x)
pde -a*d(u, x, 2) + k*u^3 = pi^2*sin(pi*x) + 2*sin(pi*x)^3
bc u = 0 at x = 0
bc u = 0 at x = 1
data "obs.csv"
"""


def test_steady_constants_by_implicit_differentiation_at_second_order(tmp_path):
    """-a u'' + k u^3 = f with u = sin(pi x), a = 1, k = 2: the discrete Laplacian's error,
    pi^2 h^2 / 12 of u'', is absorbed by a, exactly second order; k is found to 1e-10."""
    x = np.linspace(0, 1, 9)[1:-1]                       # nodes of every grid below
    write_csv(tmp_path, "obs.csv", "x,u", [x, np.sin(np.pi * x)])
    system = pl.parse(STEADY, base=tmp_path)
    errors = []
    for n in (17, 33, 65):
        solution = runtime.solve(system, "fd", grid=n)
        assert solution.params["k"] == pytest.approx(2.0, rel=1e-9)
        errors.append(abs(solution.params["a"] - 1))
        assert solution.params["a"] - 1 == pytest.approx(np.pi**2 / (12 * (n - 1) ** 2),
                                                         rel=0.01)
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - 2) < 0.01), orders    # measured 4.006, 4.001 as ratios
    assert solution.meta["fit"]["differentiation"] == "implicit"


def test_steady_unknown_fields_are_pointed_to_odil(tmp_path):
    write_csv(tmp_path, "obs.csv", "x,u", [np.linspace(0, 1, 5), np.zeros(5)])
    system = pl.parse("param f(x) ~ 1\nspace x in [0, 1]\nfield u(x)\npde d(u, x, 2) = f\n"
                      "bc u = 0 at x = 0\nbc u = 0 at x = 1\ndata \"obs.csv\"\n", base=tmp_path)
    with pytest.raises(LoweringError, match="odil"):
        runtime.solve(system, "fd")


def test_a_wrong_optimizer_is_an_option_error(tmp_path):
    t, x = np.meshgrid([0.5], np.linspace(0, 1, 5), indexing="ij")
    write_csv(tmp_path, "obs.csv", "t,x,u", [t.ravel(), x.ravel(), heat_exact(t, x).ravel()])
    with pytest.raises(OptionError, match="optimizer"):
        runtime.solve(pl.parse(HEAT, base=tmp_path), "fd", optimizer="newton")


def test_observations_without_time_are_refused_with_the_data_line(tmp_path):
    write_csv(tmp_path, "obs.csv", "x,u", [np.linspace(0, 1, 5), np.zeros(5)])
    with pytest.raises(pl.PdeError, match="no column for its argument"):
        runtime.solve(pl.parse(HEAT, base=tmp_path), "fd")
