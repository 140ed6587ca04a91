"""Rodas4: fourth order on a non-autonomous problem (the df/dt terms), accuracy with large
steps on a very stiff one, Robertson's kinetics against SciPy's Radau, refusals."""

from dataclasses import replace
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import pdelang as pl
import runtime
from runtime.errors import OptionError
from runtime.time import RODAS4, Options
from runtime.time.loop import integrate
from runtime.time.rosenbrock import DENSE_LIMIT

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def prothero_robinson(lam):
    """y' = lam (y - sin t) + cos t: y = sin t + (y0 - 0) e^(lam t), stiff for lam << -1."""
    def rhs(t, U, p):
        return {"y": lam * (U["y"] - jnp.sin(t)) + jnp.cos(t)}
    return rhs


def fixed_steps(rhs, y0, h, steps):
    """`steps` Rodas4 steps of exactly h (a tolerance that accepts every step)."""
    options = Options(dt=h, rtol=1e6, atol=1e6)
    state = RODAS4.init(rhs, 0.0, {"y": jnp.asarray(y0)}, {}, options)
    state = replace(state, t_stop=jnp.asarray(np.inf))
    step = jax.jit(RODAS4.step)
    for _ in range(steps):
        state = step(replace(state, dt=jnp.asarray(h)))
    return float(state.U["y"]), float(state.t)


def test_fourth_order_on_a_non_autonomous_problem():
    rhs = prothero_robinson(-1.0)
    errors = []
    for steps in (10, 20, 40):
        y, t = fixed_steps(rhs, 1.0, 2.0 / steps, steps)
        errors.append(abs(y - (np.sin(t) + np.exp(-t))))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # measured 7.1e-7, 4.3e-8, 2.7e-9 (orders 4.03, 4.01)
    np.testing.assert_allclose(orders, 4.0, atol=0.2)


def test_large_steps_on_a_very_stiff_problem_stay_accurate():
    """lam = -1e6 with h = 0.1 (h lam = -1e5): L-stability damps the transient, the
    stiffly accurate last stage keeps y on sin t."""
    y, t = fixed_steps(prothero_robinson(-1e6), 1.0, 0.1, 20)
    assert abs(y - np.sin(t)) < 1e-6          # measured 1.6e-9


def test_error_control_meets_the_tolerance():
    rhs = prothero_robinson(-50.0)
    times = np.linspace(0.0, 3.0, 7)
    for rtol, bound in ((1e-4, 1e-4), (1e-8, 1e-8)):
        traj = integrate(rhs, {"y": jnp.asarray(0.0)}, {}, times, method="rodas4",
                         rtol=rtol, atol=rtol)
        error = np.max(np.abs(np.asarray(traj.U["y"]) - np.sin(times)))
        assert error < bound and traj.stats.steps > 0


ROBERTSON_RATES = (0.04, 3e7, 1e4)


def robertson_reference(times):
    k1, k2, k3 = ROBERTSON_RATES

    def f(t, y):
        return [-k1 * y[0] + k3 * y[1] * y[2], k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] ** 2,
                k2 * y[1] ** 2]

    def jac(t, y):
        return [[-k1, k3 * y[2], k3 * y[1]], [k1, -k3 * y[2] - 2 * k2 * y[1], -k3 * y[1]],
                [0, 2 * k2 * y[1], 0]]

    return solve_ivp(f, (0, times[-1]), [1, 0, 0], method="Radau", rtol=1e-10, atol=1e-16,
                     t_eval=times, jac=jac).y


def test_robertson_with_defaults_matches_radau():
    """The example as a user runs it (auto: rodas4, rtol 1e-6, atol 1e-9), 41 outputs from
    t = 1e-5 to 1e5: every species within 1e-4 relative of Radau at rtol 1e-10 (measured
    1.0e-7, 1.0e-6, 2.2e-5 for a, b, c, in 207 steps)."""
    system = pl.load(EXAMPLES / "robertson.pde")
    solution = runtime.solve(system, "fd", frames=list(np.logspace(-5, 5, 41)))
    assert solution.meta["integrator"] == "rodas4" and solution.meta["steps"] < 1000
    times = solution.grid["t"]
    reference = robertson_reference(times)
    for i, name in enumerate("abc"):
        found = np.asarray(solution.values[name])[1:]
        assert np.max(np.abs(found / reference[i, 1:] - 1)) < 1e-4, name


def test_a_grid_too_large_for_a_dense_jacobian_is_refused():
    n = DENSE_LIMIT + 1
    with pytest.raises(OptionError, match="densely") as info:
        integrate(lambda t, U, p: {"u": -U["u"]}, {"u": jnp.ones(n)}, {}, [0.0, 1.0],
                  method="rodas4")
    assert "sdirk2" in info.value.hint
