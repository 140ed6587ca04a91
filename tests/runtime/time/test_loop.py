"""The loop helper: exact output times, observers, NaN watch, errors, compilation, donation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from runtime.errors import OptionError, SolveError
from runtime.time import INTEGRATORS, Options
from runtime.time.loop import Stats, Trajectory, _advance_fixed, chunk_steps, integrate

IRREGULAR = np.array([0.0, 0.1, 0.35, 1.0 / 3.0 + 0.5, 1.0])

# leapfrog takes (u, u_t) pairs only: tests/runtime/time/test_leapfrog.py has its cases
FIRST_ORDER = {name: i for name, i in INTEGRATORS.items() if name != "leapfrog"}


def clock(t, U, p):
    """u' = 1 and v' = -v: u(t) = t shows where the loop stopped."""
    return {"u": jnp.ones_like(U["u"]), "v": -p["k"] * U["v"]}


CLOCK_U0 = {"u": jnp.zeros(()), "v": jnp.ones((2, 3))}
CLOCK_PARAMS = {"k": jnp.asarray(1.0)}


# sdirk2 shares rk4's fixed-step loop; its outputs are checked against exact solutions in
# test_integrators.py (and each sdirk2 compile costs seconds).
@pytest.mark.parametrize("method", ["rk4", "ssprk3", "dopri5"])
def test_output_times_are_hit_exactly(method):
    traj = integrate(clock, CLOCK_U0, CLOCK_PARAMS, IRREGULAR, method=method, dt=0.03)
    assert isinstance(traj, Trajectory)
    assert np.array_equal(traj.t, IRREGULAR)
    assert traj.U["u"].shape == (5,) and traj.U["v"].shape == (5, 2, 3)
    np.testing.assert_allclose(np.asarray(traj.U["u"]), IRREGULAR, rtol=0, atol=1e-13)
    assert traj.stats.method == method and traj.stats.steps > 0


def test_fixed_steps_divide_each_interval():
    traj = integrate(clock, CLOCK_U0, CLOCK_PARAMS, [0.0, 0.1, 1.0], method="rk4", dt=0.03)
    # ceil(0.1/0.03) = 4 steps of 0.025, then ceil(0.9/0.03) = 30 steps of 0.03.
    assert traj.stats.steps == 34
    assert traj.stats.dt_min == pytest.approx(0.025) and traj.stats.dt_max == pytest.approx(0.03)


@pytest.mark.parametrize("method", ["rk4", "dopri5"])
def test_observers_are_called_once_per_output_interval(method):
    calls = []

    def observer(t, U, stats):
        calls.append((t, float(U["u"]), stats))

    integrate(clock, CLOCK_U0, CLOCK_PARAMS, IRREGULAR, method=method, observers=[observer])
    assert [t for t, _, _ in calls] == IRREGULAR[1:].tolist()
    assert [u for _, u, _ in calls] == pytest.approx(IRREGULAR[1:].tolist(), abs=1e-12)
    steps = [stats.steps for _, _, stats in calls]
    assert all(isinstance(s, Stats) for _, _, s in calls) and steps == sorted(steps)


def poisoned(t, U, p):
    """Decay that turns NaN after t = 0.55."""
    return {"u": jnp.where(t > 0.55, jnp.nan, -U["u"])}


@pytest.mark.parametrize("method, says", [("rk4", "NaN or Inf"), ("dopri5", "collapsed")])
def test_nan_is_caught_with_its_interval_and_the_last_good_state_kept(method, says):
    t_eval = np.linspace(0.0, 1.0, 11)
    with pytest.raises(SolveError) as info:
        integrate(poisoned, {"u": jnp.ones(4)}, {}, t_eval, method=method, dt=0.01)
    message = str(info.value)
    assert says in message and "between t = 0.5 and t = 0.6" in message
    assert "sdirk2" in message
    kept = info.value.trajectory
    assert np.array_equal(kept.t, t_eval[:6])
    assert np.all(np.isfinite(np.asarray(kept.U["u"])))
    np.testing.assert_allclose(np.asarray(kept.U["u"][-1]), np.exp(-0.5), rtol=1e-8)


def test_one_compiled_chunk_per_step_count_and_step():
    """A chunk's step count and step are static (a scan XLA updates in place, a step it folds
    into the stencil): equal output intervals share one compiled chunk, even where their
    ends differ in the last bits; a repeated solve reuses it; another dt compiles another."""
    def rhs(t, U, p):  # a fresh function: nothing cached for it yet
        return {"u": -U["u"]}

    before = _advance_fixed._cache_size()
    times = np.linspace(0, 1, 21)
    assert len(set(np.diff(times))) > 1                        # unequal in the last bits
    first = integrate(rhs, {"u": jnp.ones(3)}, {}, times, method="rk4", dt=0.01)
    assert _advance_fixed._cache_size() == before + 1          # 20 intervals of 5 steps
    again = integrate(rhs, {"u": 2 * jnp.ones(3)}, {}, times, method="rk4", dt=0.01)
    assert _advance_fixed._cache_size() == before + 1
    np.testing.assert_allclose(np.asarray(again.U["u"]), 2 * np.asarray(first.U["u"]))
    np.testing.assert_allclose(np.asarray(first.U["u"][-1]), np.exp(-1.0), rtol=1e-9)
    integrate(rhs, {"u": jnp.ones(3)}, {}, np.linspace(0, 2, 21), method="rk4", dt=0.02)
    assert _advance_fixed._cache_size() == before + 2          # 5 steps of another dt


def test_chunk_steps_forget_the_last_bits_only():
    times = np.array([0.0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.9])
    steps = chunk_steps(times, [5, 5, 5, 5, 4])
    assert steps[:4] == [steps[0]] * 4 and steps[0] == pytest.approx(0.02, rel=1e-15)
    assert steps[4] == 0.125


def test_inputs_survive_the_donated_chunks():
    U0 = {"u": jnp.ones(3), "v": jnp.ones((2, 3))}
    params = {"k": jnp.asarray(2.0)}
    traj = integrate(clock, U0, params, [0.0, 0.5, 1.0], method="dopri5")
    # Neither the caller's arrays nor the saved outputs were donated away.
    assert float(U0["u"][0]) == 1.0 and float(params["k"]) == 2.0
    np.testing.assert_allclose(np.asarray(traj.U["v"][:, 0, 0]), np.exp(-2.0 * traj.t),
                               rtol=1e-5)


def test_float32_state_stays_float32():
    # t and dt are float64 (x64 is on in the tests); the fields must not be promoted.
    U0 = {"u": jnp.zeros((), jnp.float32), "v": jnp.ones((2, 3), jnp.float32)}
    traj = integrate(clock, U0, CLOCK_PARAMS, [0.0, 1.0], method="ssprk3", dt=0.1)
    assert traj.U["v"].dtype == jnp.float32
    assert float(traj.U["u"][-1]) == pytest.approx(1.0, abs=1e-6)
    for name, integrator in FIRST_ORDER.items():  # traced only: no compile
        state = integrator.init(clock, 0.0, U0, CLOCK_PARAMS, Options(dt=0.1))
        stepped = jax.eval_shape(integrator.step, state)
        assert stepped.U["v"].dtype == jnp.float32, name


def test_a_single_output_time_returns_the_initial_state():
    traj = integrate(clock, CLOCK_U0, CLOCK_PARAMS, [0.5], method="rk4")
    assert traj.t.tolist() == [0.5] and traj.U["v"].shape == (1, 2, 3)


def test_max_steps_is_reported_with_advice():
    with pytest.raises(SolveError) as info:
        integrate(clock, CLOCK_U0, CLOCK_PARAMS, [0.0, 1.0, 2.0], method="dopri5",
                  rtol=1e-12, atol=1e-14, max_steps=5)
    message = str(info.value)
    assert "max_steps = 5" in message and "sdirk2" in message
    assert info.value.trajectory.t.tolist() == [0.0]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"method": "rk5"}, r"unknown time integrator 'rk5' \(did you mean 'rk4'\?\)"),
        ({"method": "rk4", "dt": -0.1}, "dt must be a positive number, got -0.1"),
        ({"method": "dopri5", "rtol": 0.0}, "rtol = 0.0 is out of range"),
        ({"t_eval": [0.0, 1.0, 0.5]}, "strictly increasing"),
        ({"t_eval": [[0.0, 1.0]]}, "1-D array"),
    ],
)
def test_bad_options_are_option_errors(kwargs, match):
    kwargs = {"t_eval": [0.0, 1.0], **kwargs}
    t_eval = kwargs.pop("t_eval")
    with pytest.raises(OptionError, match=match):
        integrate(clock, CLOCK_U0, CLOCK_PARAMS, t_eval, **kwargs)


def test_the_key_only_seeds_the_stability_estimate(key):
    first = integrate(clock, CLOCK_U0, CLOCK_PARAMS, [0.0, 1.0], key=key)
    second = integrate(clock, CLOCK_U0, CLOCK_PARAMS, [0.0, 1.0], key=jax.random.PRNGKey(7))
    assert first.stats.spectral_radius == pytest.approx(1.0)
    assert second.stats.spectral_radius == pytest.approx(1.0)
    np.testing.assert_allclose(np.asarray(first.U["v"]), np.asarray(second.U["v"]))
