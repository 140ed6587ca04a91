"""The weights an inverse problem's data and regularization terms start from
(`starting_weights`): the equations' mean square on the initial state over the data's,
checked against the same sizes worked out independently (by hand, and by finite
differences of the initial pulse)."""

from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import pdelang as pl
from compiler.pinn.inverse import REGULARIZATION_SHARE
from compiler.pinn.lower import lower_pinn

t, x = sp.symbols("t x")
u = sp.Function("u")


def weights(system) -> dict[str, float]:
    return dict(lower_pinn(system).starting_weights)


def weight(system) -> float | None:
    """The data term's starting weight (None: the program leaves it to the default)."""
    return weights(system).get("data u")


TWO_MODES = sp.sin(sp.pi * x) + sp.sin(3 * sp.pi * x) / 2


def diffusivity_field(initial=TWO_MODES):
    """u_t = k(x) u_xx from `initial`, k unknown (guess 0.5), u observed at three points."""
    kx = sp.Function("k")(x)
    return pl.PDESystem([sp.Eq(u(t, x).diff(t), kx * u(t, x).diff(x, 2))],
                        [sp.Eq(u(0, x), initial), sp.Eq(u(t, 0), 0), sp.Eq(u(t, 1), 0)],
                        {t: (0, 1), x: (0, 1)}, params={kx: pl.Unknown(0.5)},
                        data={"t": np.full(3, 0.5), "x": np.array([0.25, 0.5, 0.75]),
                              "u": np.array([0.1, 0.2, 0.1])})


def test_a_diffusivity_fields_weights_are_its_equation_over_the_data_by_hand():
    # k u0'' at the guess k = 0.5, u0 = sin(pi x) + 0.5 sin(3 pi x): mean square over [0, 1]
    # 0.25 pi^4 (1/2 + 0.25 * 81 / 2); the data's mean square (0.01 + 0.04 + 0.01) / 3
    equation = 0.25 * np.pi**4 * (0.5 + 0.25 * 81 / 2)
    found = weights(diffusivity_field())
    assert found["data u"] == pytest.approx(equation / 0.02, rel=1e-3)
    # length 1, guess 0.5: the share of the equation's mean square over 0.5^2
    assert found["regularization k"] == pytest.approx(
        REGULARIZATION_SHARE * equation / 0.25, rel=1e-3)


def test_the_wave_weight_matches_a_finite_difference_laplacian(examples_dir):
    system = pl.load(Path(examples_dir) / "wave2d_velocity_inverse.pde")
    h = 1 / 512
    X, Y = np.meshgrid(np.arange(513) * h, np.arange(513) * h, indexing="ij")
    u0 = np.exp(-((X - 0.5) ** 2 + (Y - 0.5) ** 2) / 0.01)
    laplace = (u0[2:, 1:-1] + u0[:-2, 1:-1] + u0[1:-1, 2:] + u0[1:-1, :-2]
               - 4 * u0[1:-1, 1:-1]) / h**2           # c = 1, its guess
    data = np.mean(np.square(system.data[0].column("u")))
    assert weight(system) == pytest.approx(np.mean(laplace**2) / data, rel=0.02)
    assert weight(system) > 1e5                 # why weight 1 lets the equation win
    # c ~ 1 on the unit square: the share of the equations' mean square itself
    assert weights(system)["regularization c"] == pytest.approx(
        REGULARIZATION_SHARE * np.mean(laplace**2), rel=0.02)


def test_options_override_the_starting_weights():
    from runtime.pinn.train import TrainOptions, _initial_weights

    program = lower_pinn(diffusivity_field())
    names = [t.name for t in program.terms]
    auto = dict(zip(names, _initial_weights(program, TrainOptions())))
    assert auto == {**dict.fromkeys(names, 1.0), **program.starting_weights}
    given = dict(zip(names, _initial_weights(program, TrainOptions(data_weight=3.0,
                                                                     regularization=0.0))))
    assert given["data u"] == 3.0 and given["regularization k"] == 0.0
    named = dict(zip(names, _initial_weights(program, TrainOptions(weights={"data u": 5.0}))))
    assert named["data u"] == 5.0


def test_unknown_constants_only_and_forward_problems_have_no_starting_weights(examples_dir):
    for name in ("heat_inverse", "lorenz_inverse", "heat1d"):
        assert lower_pinn(pl.load(Path(examples_dir) / f"{name}.pde")).starting_weights == {}


def test_a_steady_problem_has_no_initial_state_to_size():
    kx = sp.Function("k")(x)
    steady = pl.PDESystem([sp.Eq(u(x).diff(x, 2), -kx)], [sp.Eq(u(0), 0), sp.Eq(u(1), 0)],
                          {x: (0, 1)}, params={kx: pl.Unknown(0.5)},
                          data={"x": np.array([0.5]), "u": np.array([0.125])})
    assert weights(steady) == {}


@pytest.mark.parametrize("initial", [
    sp.Abs(x - sp.Rational(1, 2)), sp.Max(0, 1 - 4 * sp.Abs(x - sp.Rational(1, 2))),
    sp.Max(x - sp.Rational(1, 2), 0), sp.sqrt(x - sp.Rational(1, 2)), sp.log(x),
    sp.exp(1000 * x)])
def test_initial_states_the_estimate_cannot_size_leave_the_weights_to_the_defaults(initial):
    """Kinks (derivatives sympy leaves as re/im or DiracDelta), values that are complex or
    infinite on part of the domain: lowering goes on, without warnings, and the weights
    are either finite or left to the defaults."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = weights(diffusivity_field(initial))
    assert all(np.isfinite(w) and w > 0 for w in found.values())
