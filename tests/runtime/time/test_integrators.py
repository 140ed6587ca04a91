"""The integrators against exact solutions, with the observed order of convergence asserted."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from runtime.errors import SolveError
from runtime.time import INTEGRATORS, RK4, SDIRK2, Options, get_integrator, tableaus
from runtime.time.loop import integrate

# A pytree state with two fields of different shapes, forced in time:
#   a' = lam * a + sin(t)      (shape (3,), one decay rate per entry)
#   b' = omega * b @ S         (shape (2, 2), S the rotation generator [[0, 1], [-1, 0]])
LAM = np.array([-1.0, -2.0, -0.5])
OMEGA = 1.5
S = np.array([[0.0, 1.0], [-1.0, 0.0]])
A0 = np.array([1.0, -0.5, 2.0])
B0 = np.array([[1.0, 0.5], [-0.25, 2.0]])

# leapfrog takes (u, u_t) pairs only: tests/runtime/time/test_leapfrog.py has its cases
FIRST_ORDER = {name: i for name, i in INTEGRATORS.items() if name != "leapfrog"}


def forced_rhs(t, U, p):
    return {"a": p["lam"] * U["a"] + jnp.sin(t), "b": p["omega"] * U["b"] @ p["S"]}


def forced_exact(t):
    beta = -1.0 / (1.0 + LAM**2)
    alpha = LAM * beta
    a = (A0 - beta) * np.exp(LAM * t) + alpha * np.sin(t) + beta * np.cos(t)
    c, s = np.cos(OMEGA * t), np.sin(OMEGA * t)
    return {"a": a, "b": B0 @ np.array([[c, s], [-s, c]])}


FORCED_U0 = {"a": jnp.asarray(A0), "b": jnp.asarray(B0)}
FORCED_PARAMS = {"lam": jnp.asarray(LAM), "omega": jnp.asarray(OMEGA), "S": jnp.asarray(S)}


def max_error(U, exact):
    return max(float(np.max(np.abs(np.asarray(U[k]) - exact[k]))) for k in exact)


def observed_orders(method, dts, t_end=2.0, **options):
    errors = []
    for dt in dts:
        traj = integrate(forced_rhs, FORCED_U0, FORCED_PARAMS, [0.0, t_end], method=method,
                         dt=dt, **options)
        final = jax.tree.map(lambda x: x[-1], traj.U)
        errors.append(max_error(final, forced_exact(t_end)))
    errors = np.array(errors)
    return np.log2(errors[:-1] / errors[1:]), errors


@pytest.mark.parametrize(
    "method, order, dt, options",
    [
        ("rk4", 4, 0.2, {}),
        ("ssprk3", 3, 0.1, {}),
        # Newton tolerances well below the truncation error, or they would show.
        ("sdirk2", 2, 0.1, {"rtol": 1e-11, "atol": 1e-13, "krylov_tol": 1e-10}),
    ],
)
def test_fixed_step_order_of_convergence(method, order, dt, options):
    orders, errors = observed_orders(method, [dt, dt / 2, dt / 4], **options)
    assert np.all(np.abs(orders - order) < 0.2), (orders, errors)
    assert errors[-1] < 1e-3


def test_tableaus_are_consistent():
    for tab in (tableaus.RK4, tableaus.SSPRK3, tableaus.DOPRI5, tableaus.SDIRK2):
        rows = [sum(row) for row in tab.a]
        assert np.allclose(rows, tab.c) and np.isclose(sum(tab.b), 1.0)
    assert np.isclose(sum(tableaus.DOPRI5.b_low), 1.0)
    assert tableaus.DOPRI5.a[-1] == tableaus.DOPRI5.b[:-1]  # first same as last


def logistic(t, U, p):
    return {"u": p["r"] * U["u"] * (1.0 - U["u"])}


def logistic_exact(t):
    return 1.0 / (1.0 + 9.0 * np.exp(-t))


@pytest.mark.parametrize("rtol", [1e-4, 1e-7, 1e-10])
def test_dopri5_reaches_the_requested_tolerance(rtol):
    t_eval = np.linspace(0.0, 10.0, 6)
    traj = integrate(logistic, {"u": jnp.full(4, 0.1)}, {"r": 1.0}, t_eval, method="dopri5",
                     rtol=rtol, atol=rtol * 1e-3)
    error = np.abs(np.asarray(traj.U["u"]) - logistic_exact(t_eval)[:, None]).max()
    assert error < 10 * rtol, error  # the solution is at most 1


def test_dopri5_takes_fewer_steps_at_looser_tolerance():
    steps = []
    for rtol in (1e-3, 1e-6, 1e-9):
        traj = integrate(logistic, {"u": jnp.full(4, 0.1)}, {"r": 1.0}, [0.0, 10.0],
                         method="dopri5", rtol=rtol, atol=rtol * 1e-3)
        steps.append(traj.stats.steps)
    assert steps[0] < steps[1] < steps[2], steps
    # Local error ~ dt^5: a 1000x tighter tolerance costs about 1000^(1/5) = 4x the steps.
    assert 2.0 < steps[2] / steps[1] < 8.0, steps


def test_dopri5_on_a_solution_that_grows_tenfold():
    # u' = u^2, u(0) = 1: u = 1 / (1 - t), which is 10 at t = 0.9.
    t_eval = np.array([0.0, 0.5, 0.8, 0.9])
    traj = integrate(lambda t, U, p: {"u": U["u"] ** 2}, {"u": jnp.ones(())}, {}, t_eval,
                     method="dopri5", rtol=1e-8, atol=1e-10)
    relative = np.abs(np.asarray(traj.U["u"]) * (1.0 - t_eval) - 1.0)
    assert relative.max() < 1e-6, relative
    assert traj.stats.rejected >= 0 and traj.stats.dt_min < traj.stats.dt_max


# A stiff diffusion problem: the 1D Laplacian with Dirichlet ends on N = 49 interior points,
# h = 1/50, so the eigenvalues reach -4/h^2 = -1e4. The exact semi-discrete solution decays
# each sine mode k at lam_k = -(4/h^2) sin^2(k pi h / 2).
N, H = 49, 1.0 / 50
X = np.arange(1, N + 1) * H
MODES = {1: 1.0, 40: 0.5}  # a smooth mode and a stiff one (lam_40 ~ -9000)


def heat_rhs(t, U, p):
    u = jnp.pad(U["u"], 1)
    return {"u": p["alpha"] * (u[2:] - 2 * u[1:-1] + u[:-2]) / p["h"] ** 2}


def heat_exact(t):
    u = sum(c * np.exp(-4 / H**2 * np.sin(k * np.pi * H / 2) ** 2 * t) * np.sin(k * np.pi * X)
            for k, c in MODES.items())
    return {"u": u}


HEAT_U0 = {"u": jnp.asarray(heat_exact(0.0)["u"])}
HEAT_PARAMS = {"alpha": 1.0, "h": H}


def test_sdirk2_is_stable_and_accurate_far_beyond_the_explicit_limit():
    t_eval = np.linspace(0.0, 0.2, 5)
    traj = integrate(heat_rhs, HEAT_U0, HEAT_PARAMS, t_eval, method="sdirk2", dt=0.01)
    explicit_limit = 2.785 / (4 / H**2)
    assert traj.stats.dt > 30 * explicit_limit
    for i, t in enumerate(t_eval):
        error = np.abs(np.asarray(traj.U["u"][i]) - heat_exact(t)["u"]).max()
        assert error < 3e-4, (t, error)
    # L-stability: the stiff mode is gone after the first interval, as in the exact solution.
    stiff = np.sin(40 * np.pi * X)
    assert abs(np.dot(np.asarray(traj.U["u"][1]), stiff)) / np.dot(stiff, stiff) < 1e-6
    assert traj.stats.newton_iters > 0


def test_rk4_blows_up_where_sdirk2_does_not():
    # Bypass the runtime's stability check: 20 raw rk4 steps at dt = 0.01 explode.
    state = RK4.init(heat_rhs, 0.0, HEAT_U0, HEAT_PARAMS, Options(dt=0.01))
    state = jax.jit(lambda s: jax.lax.fori_loop(0, 20, lambda _, s: RK4.step(s), s))(state)
    assert not np.all(np.abs(np.asarray(state.U["u"])) < 1e10)


def test_rk4_with_the_stiff_dt_is_refused_and_auto_dt_is_stable():
    with pytest.raises(SolveError) as info:
        integrate(heat_rhs, HEAT_U0, HEAT_PARAMS, [0.0, 0.2], method="rk4", dt=0.01)
    message = str(info.value)
    assert "dt = 0.01" in message and "stability limit" in message and "sdirk2" in message
    traj = integrate(heat_rhs, HEAT_U0, HEAT_PARAMS, [0.0, 0.05, 0.2], method="rk4")
    assert traj.stats.dt <= 2.785 / 1e4
    assert np.abs(np.asarray(traj.U["u"][-1]) - heat_exact(0.2)["u"]).max() < 1e-8


def test_newton_failure_is_reported():
    # One Newton iteration cannot confirm convergence: its first correction is the full step.
    with pytest.raises(SolveError, match="Newton's method did not converge") as info:
        integrate(heat_rhs, HEAT_U0, HEAT_PARAMS, [0.0, 0.1, 0.2], method="sdirk2",
                  dt=0.01, newton_max_iter=1)
    assert "between t = 0 and t = 0.1" in str(info.value)
    assert info.value.trajectory.t.tolist() == [0.0]


def test_step_is_pure_and_jittable():
    # Tracing (eval_shape) proves every step jittable without paying each compile;
    # rk4 is also run, twice, to see that the same state gives the same step.
    for name, integrator in FIRST_ORDER.items():
        state = integrator.init(forced_rhs, 0.0, FORCED_U0, FORCED_PARAMS, Options(dt=0.05))
        shape = jax.eval_shape(integrator.step, state)
        assert jax.tree.structure(shape) == jax.tree.structure(state), name
    state = RK4.init(forced_rhs, 0.0, FORCED_U0, FORCED_PARAMS, Options(dt=0.05))
    once, again = jax.jit(RK4.step)(state), jax.jit(RK4.step)(state)
    assert float(once.t) == pytest.approx(0.05) and int(once.counters.steps) == 1
    assert jax.tree.all(jax.tree.map(jnp.array_equal, once.U, again.U))
    assert get_integrator("sdirk2") is SDIRK2
