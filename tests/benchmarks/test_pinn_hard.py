"""The harness of benchmarks/pinn_hard.py: each case's error function against stand-in
solutions whose error is known by hand, the speed it compares the inverse wave problem
with against the formula that made the data, the reading of --set, and that option names
the pinn method does not know stop a run before any training."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from scipy.interpolate import RegularGridInterpolator

from benchmarks import pinn_hard
from benchmarks.pinn_hard import CASES, parse_setting, run, run_case, shared_folder
from runtime.errors import OptionError

ROOT = Path(__file__).resolve().parents[2]


class Standin:
    """What the error functions read from a Solution: a call, params, grid and meta."""

    def __init__(self, function=None, params=None, grid=None, meta=None):
        self.function, self.params = function, params or {}
        self.grid, self.meta = grid or {}, meta or {}

    def __call__(self, name, **coordinates):
        return self.function(**coordinates)


def _shared():
    """The shared reference folder, or a skip where the checkout has none beside it (CI's
    clean clone)."""
    try:
        return shared_folder()
    except FileNotFoundError as missing:
        pytest.skip(str(missing))


def test_burgers_error_is_zero_for_the_reference_itself_and_sees_a_shift():
    with np.load(_shared() / "reference" / "Burgers.npz") as reference:
        x, t, usol = reference["x"].ravel(), reference["t"].ravel(), reference["usol"]
    # usol is indexed [x, t]: an interpolant built on that order is the reference itself
    exact = RegularGridInterpolator((x, t), usol)
    sol = Standin(lambda t, x: exact(np.stack([x, t], axis=-1)))
    assert CASES["burgers"].error(sol) < 1e-12
    shifted = Standin(lambda t, x: exact(np.stack([x, t], axis=-1)) + 0.01)
    # ||0.01|| / ||usol|| over the 25600 points, by hand
    expected = 0.01 * math.sqrt(usol.size) / np.sqrt(np.sum(usol**2))
    assert CASES["burgers"].error(shifted) == pytest.approx(expected, rel=1e-9)


def test_advection_error_of_the_exact_wave_and_of_a_wave_that_stands_still():
    exact = Standin(lambda t, x: np.sin(x - 50 * t))
    assert CASES["advection"].error(exact) < 1e-12
    # sin(x) against sin(x - 50 t): |diff|^2 averages 2 - 2 cos(50 t) over x, so the
    # relative error is sqrt(2 - 2 mean cos(50 t)) for the harness's 201 times of [0, 1]
    t = np.linspace(0, 1, 201)
    expected = math.sqrt(2 - 2 * np.mean(np.cos(50 * t)))
    assert CASES["advection"].error(Standin(lambda t, x: np.sin(x))) == pytest.approx(
        expected, rel=2e-2)


def test_allen_cahn_error_is_zero_for_the_reference_at_its_points():
    t, x, u = pinn_hard.allen_cahn_reference()
    table = {(round(a, 9), round(b, 9)): v for a, row in zip(t, u) for b, v in zip(x, row)}
    lookup = np.vectorize(lambda t, x: table[(round(t, 9), round(x, 9))])
    assert CASES["allen_cahn"].error(Standin(lookup)) == 0.0
    assert CASES["allen_cahn"].error(Standin(lambda t, x: -lookup(t, x))) == pytest.approx(2.0)


def test_the_wave_speed_is_the_one_that_made_the_data():
    sys.path.insert(0, str(ROOT / "examples" / "data"))
    try:
        from make_inverse_data import WAVE_SPEED
    finally:
        sys.path.pop(0)
    x, y = sp.symbols("x y")
    formula = sp.lambdify((x, y), sp.sympify(WAVE_SPEED.replace("^", "**")), "numpy")
    grid = {"x": np.linspace(0, 1, 33), "y": np.linspace(0, 1, 33)}
    xx, yy = np.meshgrid(grid["x"], grid["y"], indexing="ij")
    np.testing.assert_allclose(pinn_hard.wave_speed(xx, yy), formula(xx, yy), rtol=1e-14)
    truth = Standin(params={"c": formula(xx, yy)}, grid=grid)
    assert CASES["wave_inverse"].error(truth) < 1e-14
    flat = Standin(params={"c": np.ones_like(xx)}, grid=grid)
    expected = np.linalg.norm(formula(xx, yy) - 1) / np.linalg.norm(formula(xx, yy))
    assert CASES["wave_inverse"].error(flat) == pytest.approx(expected, rel=1e-12)


def test_lorenz_error_is_the_largest_relative_miss():
    sol = Standin(params={"sigma": 10.05, "rho": 15.0, "beta": 8 / 3 * 0.98})
    assert CASES["lorenz"].error(sol) == pytest.approx(0.02, rel=1e-9)


def test_poisson_error_is_the_solves_own():
    sol = Standin(meta={"relative_l2_error": {"u": 3.5e-4}})
    assert CASES["poisson"].error(sol) == 3.5e-4


def test_settings_are_read_by_each_options_own_parser():
    assert parse_setting("steps=50") == ("steps", 50)
    assert parse_setting("layers=64,64") == ("layers", (64, 64))
    assert parse_setting("learning_rate=1e-3") == ("learning_rate", 1e-3)
    assert parse_setting("weights=adaptive") == ("weights", "adaptive")
    assert parse_setting("hard_constraints=False") == ("hard_constraints", False)


def test_an_unknown_option_stops_before_training(monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("trained although an option is unknown")

    monkeypatch.setattr(pinn_hard, "run_case", no_training)
    with pytest.raises(OptionError, match="stepz.*did you mean 'steps'"):
        run(["poisson"], [0], {"stepz": 3}, ablation=False)
    monkeypatch.setattr(pinn_hard, "ABLATIONS", {"remedy off": {"no_such_remedy": False}})
    with pytest.raises(OptionError, match="ablation 'remedy off'.*no_such_remedy"):
        run(["poisson"], [0], {}, ablation=True)
    with pytest.raises(SystemExit, match="no_such_remedy"):
        pinn_hard.main(["poisson", "--ablation"])


def test_a_tiny_run_reports_error_time_and_loss():
    result = run_case("advection", 0, {"steps": 5, "lbfgs_steps": 0, "points": 64,
                                       "layers": (8,), "frames": 3, "time_windows": 1})
    assert result["case"] == "advection" and result["seed"] == 0
    assert result["steps"] == 5 and np.isfinite(result["final_loss"])
    assert result["wall_s"] > 0 and result["within"] == (result["error"] <= 1e-2)
    # five Adam steps leave the network far from the travelling wave
    assert 0.1 < result["error"] < 10
