"""Spectral-radius estimates and the explicit schemes' step limits."""

import jax.numpy as jnp
import numpy as np
import pytest

from runtime.errors import OptionError, SolveError
from runtime.time import tableaus
from runtime.time.stability import EXTENTS, SAFETY, check_dt, spectral_radius, stable_dt


def laplacian_rhs(t, U, p):
    u = jnp.pad(U["u"], 1)
    return {"u": (u[2:] - 2 * u[1:-1] + u[:-2]) / p["h"] ** 2}


def advection_rhs(t, U, p):
    u = U["u"]
    return {"u": -(jnp.roll(u, -1) - jnp.roll(u, 1)) / (2 * p["h"])}


@pytest.mark.parametrize("n", [49, 199])
def test_radius_of_the_1d_laplacian(n, key):
    h = 1.0 / (n + 1)
    U = {"u": jnp.zeros(n)}
    radius = spectral_radius(laplacian_rhs, 0.0, U, {"h": h}, key)
    exact = 4 / h**2 * np.sin(n * np.pi * h / 2) ** 2
    assert abs(radius - 4 / h**2) < 0.1 * 4 / h**2
    assert abs(radius - exact) < 0.05 * exact, (radius, exact)


def test_radius_of_centred_advection(key):
    # Skew-symmetric: eigenvalues i sin(k h) / h, radius 1/h, in conjugate pairs.
    n = 64
    h = 1.0 / n
    radius = spectral_radius(advection_rhs, 0.0, {"u": jnp.zeros(n)}, {"h": h}, key)
    assert abs(radius - 1 / h) < 0.1 / h, radius


def test_radius_over_a_pytree_state(key):
    # Two uncoupled fields: the radius is the larger of the two.
    def rhs(t, U, p):
        return {"a": -3.0 * U["a"], "b": -50.0 * U["b"]}

    radius = spectral_radius(rhs, 0.0, {"a": jnp.ones(3), "b": jnp.ones((2, 2))}, {}, key)
    assert radius == pytest.approx(50.0, rel=1e-6)


def _amplification(tableau, z):
    s = tableau.stages
    return 1 + z * np.asarray(tableau.b) @ np.linalg.solve(np.eye(s) - z * tableau.matrix,
                                                           np.ones(s))


def _extent(tableau, direction):
    radii = np.linspace(1e-3, 6.0, 12001)
    unstable = [r for r in radii if abs(_amplification(tableau, r * direction)) > 1 + 1e-12]
    return unstable[0]


@pytest.mark.parametrize("name", sorted(set(EXTENTS) - {"leapfrog"}))  # test_leapfrog.py
def test_extents_match_the_tableaus(name):
    tableau = {"rk4": tableaus.RK4, "ssprk3": tableaus.SSPRK3, "dopri5": tableaus.DOPRI5}[name]
    real, imaginary = EXTENTS[name]
    assert _extent(tableau, -1.0) == pytest.approx(real, rel=2e-3)
    assert _extent(tableau, 1j) == pytest.approx(imaginary, rel=2e-3)


def test_stable_dt_uses_the_smaller_extent_and_a_safety_factor():
    assert stable_dt("rk4", 1e4) == pytest.approx(SAFETY * 2.785e-4)
    assert stable_dt("ssprk3", 100.0) == pytest.approx(SAFETY * 1.732 / 100)
    assert stable_dt("sdirk2", 1e4) == np.inf
    assert stable_dt("rk4", 0.0) == np.inf


def test_check_dt_message_says_the_limit_the_dt_and_what_to_do():
    check_dt("rk4", 2.7e-4, 1e4)  # within the limit: no error
    with pytest.raises(SolveError) as info:
        check_dt("rk4", 0.01, 1e4)
    message = str(info.value)
    assert "dt = 0.01" in message and "dt <= 0.0002785" in message
    assert "--dt" in message and "sdirk2" in message
    check_dt("sdirk2", 100.0, 1e4)


def test_unknown_scheme_lists_the_choices():
    with pytest.raises(OptionError, match="'rk4'"):
        stable_dt("euler", 1.0)
