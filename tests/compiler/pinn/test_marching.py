"""Time marching's lowering: the windows' shared program on local time, the initial term
that hands the state on (checked against the networks evaluated directly), and auto's
number of windows from the spec's transport speeds."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

import pdelang as pl
from compiler.errors import LoweringError
from compiler.pinn import PINNOptions
from compiler.pinn.marching import (
    WINDOW_START,
    _shift_time,
    lower_marching,
    transport_windows,
    window_system,
)

SOURCED = """
problem "transport with a source"
param a = 2
space x in [0, 2*pi]
time  t in [0, 1.5]
field u(t, x)
pde d(u, t) + a*d(u, x) = cos(t)
bc periodic x
ic u = sin(x) at t = 0
exact u = sin(x - a*t) + sin(t)
"""


def test_only_explicit_times_are_shifted():
    t, x, s = sp.symbols("t x s")
    u = sp.Function("u")(t, x)
    expr = sp.Derivative(u, t) + t * u + sp.cos(t)
    shifted = _shift_time(expr, t, s)
    assert shifted == sp.Derivative(u, t) + (t + s) * u + sp.cos(t + s)


def test_a_window_system_runs_on_local_time():
    system = window_system(pl.parse(SOURCED), 0.5)
    assert system.time.bounds == (0.0, 0.5)
    assert system.param(WINDOW_START).value == 0
    assert sp.Symbol(WINDOW_START) in system.equations[0].residual.free_symbols
    assert system.exact == () and system.data == ()


@pytest.fixture(scope="module")
def march():
    return lower_marching(pl.parse(SOURCED), PINNOptions(layers=(8, 8)), 3)


def test_windows_cover_the_interval_and_points_find_theirs(march):
    assert march.windows == ((0.0, 0.5), (0.5, 1.0), (1.0, 1.5))
    assert march.window_of(np.array([0.0, 0.49, 0.5, 1.2, 1.5])).tolist() == [0, 0, 1, 2, 2]
    local = march.local(np.array([[1.2, 3.0]]), 2)
    np.testing.assert_allclose(local, [[0.2, 3.0]])


def test_the_initial_term_hands_on_the_previous_windows_end(march):
    """r = u_k(0, x) - u_(k-1)(width, x) after the first window, u_0(0, x) - sin(x) in it:
    both against the networks evaluated directly."""
    program = march.program
    term = next(t for t in program.terms if t.kind == "initial")
    previous = program.init(jax.random.PRNGKey(1), jnp.float64)
    current = program.init(jax.random.PRNGKey(2), jnp.float64)
    x = np.linspace(0.0, 2 * np.pi, 9)
    at_start = jnp.asarray(np.stack([np.zeros_like(x), x], axis=1))
    at_end = jnp.asarray(np.stack([np.full_like(x, march.width), x], axis=1))
    later = jax.tree.map(jnp.asarray, march.physical(1, previous))
    r = term.residual(current, later, at_start)
    expected = program.evaluate(current, at_start)["u"] - program.evaluate(previous, at_end)["u"]
    np.testing.assert_allclose(np.ravel(r), expected, atol=1e-12)
    first = jax.tree.map(jnp.asarray, march.physical(0, previous))
    r0 = term.residual(current, first, at_start)
    np.testing.assert_allclose(np.ravel(r0), program.evaluate(current, at_start)["u"] - np.sin(x),
                               atol=1e-12)


def test_the_equation_sees_global_time(march):
    """The source cos(t) at local time tau of window k is cos(t_k + tau): with a network
    that outputs zero the residual is -cos(t_k + tau)."""
    program = march.program
    pde = next(t for t in program.terms if t.kind == "pde")
    zero = jax.tree.map(jnp.zeros_like, program.init(jax.random.PRNGKey(0), jnp.float64))
    points = jnp.asarray([[0.1, 1.0], [0.3, 2.0]])
    physical = jax.tree.map(jnp.asarray, march.physical(2, zero))
    np.testing.assert_allclose(np.ravel(pde.residual(zero, physical, points)),
                               -np.cos(1.0 + np.array([0.1, 0.3])), atol=1e-12)


@pytest.mark.parametrize("example, windows", [
    ("advection_fast", 8),          # speed 50 over [0, 2 pi] for 1: 7.96 crossings
    ("advection1d", 1), ("burgers_shock", 1), ("allen_cahn_periodic", 1), ("heat1d", 1),
    ("lorenz_inverse", 1), ("poisson2d", 1), ("wave2d_velocity_inverse", 1),
])
def test_auto_marches_only_where_the_state_crosses_the_domain(examples_dir, example, windows):
    assert transport_windows(pl.load(f"{examples_dir}/{example}.pde")) == windows


def test_the_speed_is_taken_on_the_initial_state():
    """Burgers' speed is u itself: 3 sin(x) crosses [0, 2 pi] 1.5/pi*3 > 1 times in 1.5."""
    text = SOURCED.replace("a*d(u, x) = cos(t)", "u*d(u, x) = 0").replace(
        "ic u = sin(x)", "ic u = 3*sin(x)").replace("exact u = sin(x - a*t) + sin(t)", "")
    # 3 * 1.5 / (2 pi) = 0.72 crossings: one window; over a longer time, two
    assert transport_windows(pl.parse(text)) == 1
    assert transport_windows(pl.parse(text.replace("[0, 1.5]", "[0, 3]"))) == 2


def test_marching_refuses_inverse_and_steady_problems(examples_dir):
    for example in ("lorenz_inverse", "poisson2d"):
        with pytest.raises(LoweringError, match="time marching"):
            lower_marching(pl.load(f"{examples_dir}/{example}.pde"), PINNOptions(), 2)
