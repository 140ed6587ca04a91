"""Leapfrog (velocity Verlet): second order against exact solutions, a bounded energy error
over many periods, its stability limit, auto's choice for undamped waves, and refusals."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdelang as pl
import runtime
from runtime.errors import OptionError, SolveError
from runtime.time import LEAPFROG, Options
from runtime.time.loop import integrate
from runtime.time.stability import stable_dt

OMEGA = 3.0


def oscillator(t, U, p):
    """u'' = -omega^2 u as (u, u_t), every entry its own oscillator."""
    return {"u": U["u_t"], "u_t": -p["w2"] * U["u"]}


def run_oscillator(dt, periods=1.0, method="leapfrog"):
    span = periods * 2 * np.pi / OMEGA
    U0 = {"u": jnp.ones(2), "u_t": jnp.zeros(2)}
    traj = integrate(oscillator, U0, {"w2": jnp.asarray(OMEGA**2)}, np.linspace(0, span, 41),
                     method=method, dt=dt)
    return traj, np.linspace(0, span, 41)


def test_second_order_against_the_exact_oscillation():
    errors = []
    interval = 2 * np.pi / OMEGA / 40                  # between two output times
    for dt in (interval / 2, interval / 4, interval / 8):
        traj, t = run_oscillator(dt)
        errors.append(np.max(np.abs(np.asarray(traj.U["u"][:, 0]) - np.cos(OMEGA * t))))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # measured 1.4e-3, 3.6e-4, 9.0e-5 at dt = 0.02, 0.01, 0.005 (orders 2.00)
    assert errors[-1] < 1e-4
    np.testing.assert_allclose(orders, 2.0, atol=0.2)


def test_energy_error_stays_bounded_where_rk4_drifts():
    """Symplectic: over 200 periods at dt * omega = 0.6 the energy oscillates within a band
    of order (dt omega)^2 that does not widen; RK4 at the same step loses energy steadily."""
    dt = 0.2
    leap, _ = run_oscillator(dt, periods=200)
    rk4, _ = run_oscillator(dt, periods=200, method="rk4")

    def energy_error(traj):
        u, v = np.asarray(traj.U["u"][:, 0]), np.asarray(traj.U["u_t"][:, 0])
        return (v**2 + OMEGA**2 * u**2) / OMEGA**2 - 1.0

    leap_error, rk4_error = energy_error(leap), energy_error(rk4)
    assert np.max(np.abs(leap_error)) < 0.1
    assert np.max(np.abs(leap_error[20:])) < 1.5 * np.max(np.abs(leap_error[:21]))
    assert rk4_error[-1] < -0.05 and np.all(np.diff(rk4_error) <= 1e-12)


def test_its_stability_limit_is_dt_omega_two():
    assert stable_dt("leapfrog", OMEGA, safety=1.0) == pytest.approx(2 / OMEGA)
    traj, _ = run_oscillator(1.9 / OMEGA, periods=20)
    assert np.max(np.abs(np.asarray(traj.U["u"]))) < 5          # inside: bounded
    with pytest.raises(SolveError, match="stability limit"):
        run_oscillator(2.1 / OMEGA)


def test_step_is_jittable_and_keeps_float32():
    U0 = {"u": jnp.ones(2, jnp.float32), "u_t": jnp.zeros(2, jnp.float32)}
    state = LEAPFROG.init(oscillator, 0.0, U0, {"w2": jnp.asarray(OMEGA**2)}, Options(dt=0.1))
    stepped = jax.jit(LEAPFROG.step)(state)
    assert jax.tree.structure(stepped) == jax.tree.structure(state)
    assert stepped.U["u"].dtype == jnp.float32 and int(stepped.counters.steps) == 1
    # one kick-drift-kick by hand
    v_half = -OMEGA**2 * 0.05
    u = 1 + 0.1 * v_half
    np.testing.assert_allclose(np.asarray(stepped.U["u"]), u, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(stepped.U["u_t"]), v_half - OMEGA**2 * 0.05 * u,
                               rtol=1e-6)


def test_a_chunk_in_kick_drift_form_is_the_same_scheme_as_steps():
    """`advance` keeps half-step velocities inside a chunk; n single kick-drift-kick steps
    (independent code) give the same state, the same carried acceleration and counts, with
    a source in time and a velocity-free nonlinear acceleration."""
    def forced(t, U, p):
        return {"u": U["u_t"], "u_t": -p["w2"] * jnp.sin(U["u"]) + jnp.cos(2.0 * t)}

    U0 = {"u": jnp.asarray([1.0, -0.3, 0.2]), "u_t": jnp.asarray([0.0, 0.5, -1.0])}
    state = LEAPFROG.init(forced, 0.2, U0, {"w2": jnp.asarray(OMEGA**2)}, Options(dt=0.01))
    n, dt = 37, jnp.asarray(0.01)
    chunk = jax.jit(LEAPFROG.advance, static_argnums=1)(state, n, dt)
    steps = jax.jit(lambda s: jax.lax.fori_loop(0, n, lambda _, s: LEAPFROG.step(s), s))(state)
    for key in ("u", "u_t"):
        np.testing.assert_allclose(np.asarray(chunk.U[key]), np.asarray(steps.U[key]),
                                   rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(np.asarray(chunk.carry["u_t"]), np.asarray(steps.carry["u_t"]),
                               rtol=1e-12, atol=1e-13)
    assert float(chunk.t) == pytest.approx(float(steps.t), rel=1e-14)
    assert int(chunk.counters.steps) == int(steps.counters.steps) == n
    assert float(chunk.counters.dt_max) == float(steps.counters.dt_max) == 0.01


def test_a_first_order_state_is_refused():
    with pytest.raises(OptionError, match="second order in time") as info:
        integrate(lambda t, U, p: {"u": -U["u"]}, {"u": jnp.ones(2)}, {}, [0.0, 1.0],
                  method="leapfrog", dt=0.1)
    assert "'u' has no second time derivative" in info.value.message


WAVE = """
space x in [0, 1]
time  t in [0, 1]
field u(t, x)
pde d(u, t, 2) = {damping}d(u, x, 2)
bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = sin(pi*x) at t = 0
ic d(u, t) = 0 at t = 0
exact u = sin(pi*x)*cos(pi*t)
"""


def test_auto_takes_leapfrog_for_the_wave_and_converges_at_second_order():
    """At a Courant number of 0.5 (dt = h / 2, so time and space errors are both O(h^2))."""
    system = pl.parse(WAVE.format(damping=""))
    errors = []
    for n in (33, 65, 129):
        solution = runtime.solve(system, "fd", grid=n, frames=5, dt=0.5 / (n - 1))
        assert solution.meta["integrator"] == "leapfrog"
        errors.append(solution.errors()["u"])
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # measured 4.10e-4, 1.02e-4, 2.56e-5 (orders 2.000); rk4 at the same steps 3.41e-5
    assert errors[-1] < 3e-5
    np.testing.assert_allclose(orders, 2.0, atol=0.2)
    rk4 = runtime.solve(system, "fd", grid=129, frames=5, dt=0.5 / 128, integrator="rk4")
    assert errors[-1] < rk4.errors()["u"]
    default = runtime.solve(system, "fd", grid=129, frames=5)      # dt from the limit
    assert default.meta["integrator"] == "leapfrog" and default.errors()["u"] < 3e-5


def test_auto_keeps_rk4_for_fourth_order_stencils_and_damped_waves():
    undamped = pl.parse(WAVE.format(damping=""))
    assert runtime.solve(undamped, "fd", grid=33, accuracy=4, frames=3
                         ).meta["integrator"] == "rk4"
    damped = pl.parse(WAVE.format(damping="-0.5*d(u, t) + "))
    assert runtime.solve(damped, "fd", grid=33, frames=3).meta["integrator"] == "rk4"
    with pytest.raises(OptionError, match="damping"):
        runtime.solve(damped, "fd", grid=33, frames=3, integrator="leapfrog")
