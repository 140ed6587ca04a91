"""Multiple shooting in fd fits (`windows`): the series split into windows integrated side by
side from fitted starts, then a single-shooting finish."""

from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import pdelang as pl
import runtime
from runtime.fd.shooting import Windows
from runtime.fd.simulate import FixedSteps, plan_steps, trajectory, window_trajectories
from runtime.time import tableaus
from tests.runtime.fd.test_runs import LV, STARTS
from tests.runtime.fd.test_simulate import decay
from tests.runtime.lotka_volterra_case import lotka_volterra

UNEVEN = np.array([0.0, 0.013, 0.2, 0.21, 0.5, 0.9, 1.0, 1.3])


@pytest.mark.parametrize("count", [1, 2, 3, 7, 50])
def test_windows_cover_every_time_once_and_share_their_ends(count):
    windows = Windows.of(UNEVEN, count)
    assert windows.count <= count and (windows.count - 1) * windows.length < 7 <= \
        windows.count * windows.length
    index = windows.firsts[windows.window_of] + windows.index_in
    np.testing.assert_array_equal(index, np.arange(len(UNEVEN)))
    assert np.all(windows.index_in <= windows.length)
    for plan, first in zip(windows.plans(0.05), windows.firsts):
        last = min(first + windows.length, len(UNEVEN) - 1)
        assert plan.times[0] == UNEVEN[first] and plan.times[-1] == UNEVEN[last]


def test_windows_from_the_single_trajectory_s_states_reproduce_it():
    """Each window started from the one trajectory's state at its first time marches to
    the same states (to rounding): windows are the same integration, cut."""
    tableau = tableaus.RK4
    params = {"lam": jnp.asarray(3.0)}
    whole = trajectory(decay, {"u": jnp.asarray(1.0)}, params, plan_steps(UNEVEN, 0.01),
                       tableau)["u"]
    windows = Windows.of(UNEVEN, 3)
    starts = {"u": whole[windows.firsts]}
    cut = window_trajectories(decay, starts, params, windows.plans(0.01), tableau)["u"]
    np.testing.assert_allclose(cut[windows.window_of, windows.index_in], whole, rtol=1e-13)


LONG = (LV.replace("[0, 3]", "[0, 30]").replace("beta ~ 0.5", "beta ~ 0.3")
        .replace("gamma ~ 0.5", "gamma ~ 1.5").replace("runs.csv", "long.csv"))


def long_series(folder: Path) -> pl.System:
    """Lotka-Volterra on [0, 30] (six cycles) every 0.1, 5% noise (seed 0), from a first
    guess (beta 0.3, gamma 1.5) far from the truth (0.9, 0.8)."""
    times = np.arange(0, 30 + 1e-9, 0.1)
    u, v = lotka_volterra(times)
    rng = np.random.default_rng(0)
    noisy = np.stack([u, v]) * (1 + 0.05 * rng.standard_normal((2, len(times))))
    np.savetxt(folder / "long.csv", np.column_stack([times, *noisy]), delimiter=",",
               header="t,u,v", comments="", fmt="%.17g")
    return pl.parse(LONG, "long.pde", base=folder)


@pytest.mark.slow
def test_windows_fit_a_long_series_that_single_shooting_cannot(tmp_path):
    """From a poor guess, single shooting through six cycles lands in a wrong minimum (and
    says so); 30 windows of one time unit reach the truth within the noise."""
    system = long_series(tmp_path)
    single = runtime.solve(system, "fd")
    assert single.converged is False                 # measured: misfit 91% of the data
    assert abs(single.params["gamma"] / 0.8 - 1) > 0.5
    shot = runtime.solve(system, "fd", windows=30)
    assert shot.converged
    assert abs(shot.params["beta"] / 0.9 - 1) < 0.01   # measured 0.13%
    assert abs(shot.params["gamma"] / 0.8 - 1) < 0.01  # measured 0.25%
    stages = shot.meta["fit"]["stages"]
    assert stages[0]["windows"] == 30
    assert stages[-1]["windows"] == 1                  # the single-shooting finish
    assert shot.meta["fit"]["relative_misfit"]["u"] < 0.07    # the 5% noise


@pytest.mark.slow
def test_windows_with_learned_functions_and_runs_train(tmp_path):
    """Windows of several runs with a net inside: the fit trains and finishes by single
    shooting (every path of the states at once)."""
    times = np.arange(0, 3 + 1e-9, 0.1)
    rows = [np.column_stack([np.full(len(times), r), times, *lotka_volterra(times, s)])
            for r, s in enumerate(STARTS[:2])]
    np.savetxt(tmp_path / "runs.csv", np.concatenate(rows), delimiter=",",
               header="run,t,u,v", comments="", fmt="%.17g")
    system = pl.parse(LONG.replace("[0, 30]", "[0, 3]").replace("long.csv", "runs.csv")
                      .replace("param beta ~ 0.3", "net B(u, v) : width 4, depth 1")
                      .replace("beta*u*v", "B(u, v)").replace("gamma ~ 1.5", "gamma = 0.8"),
                      "lv.pde", base=tmp_path)
    solution = runtime.solve(system, "fd", windows=3, adam_steps=20, fit_steps=30)
    stages = solution.meta["fit"]["stages"]
    assert [s["windows"] for s in stages][-2:] == [3, 1]
    assert stages[-1]["loss"] < stages[0]["loss"] * 10   # the finish keeps the windows' fit
    assert solution.members == 2
    assert np.all(np.isfinite(solution.values["u"]))


def test_mini_batches_of_windows_weigh_to_the_whole_loss(tmp_path):
    """A batch of every window is the whole residual; the mean of the one-window batches'
    losses is the whole loss (each row belongs to one window; the batch's rows are scaled
    by sqrt(windows / batch))."""
    import jax

    from compiler.common.observations import require_observations
    from compiler.fd import FDOptions, lower_fd
    from runtime.fd.fit_model import FitModel

    system = long_series(tmp_path)
    program = lower_fd(system, FDOptions())
    model = FitModel(program, require_observations(system, "fd"), 0.0, windows=6,
                     batch_windows=2)
    steps = FixedSteps(0.01, tableaus.RK4)
    theta = jnp.asarray(model.unknowns.theta0)
    whole = np.asarray(model.residuals(theta, steps))
    every = np.asarray(model.residuals(theta, steps, jnp.arange(6)))
    np.testing.assert_allclose(every, whole, rtol=1e-12, atol=1e-15)
    one = jax.jit(lambda b: jnp.sum(model.residuals(theta, steps, b) ** 2))
    mean = np.mean([float(one(jnp.asarray([k]))) for k in range(6)])
    assert mean == pytest.approx(float(np.sum(whole ** 2)), rel=1e-10)


@pytest.mark.slow
def test_mini_batches_of_windows_fit_the_long_series(tmp_path):
    """300 Adam steps on random batches of 5 of the 30 windows, then Levenberg-Marquardt on
    all: the same fit as without batches."""
    shot = runtime.solve(long_series(tmp_path), "fd", windows=30, batch_windows=5,
                         adam_steps=300)
    assert abs(shot.params["beta"] / 0.9 - 1) < 0.01
    assert abs(shot.params["gamma"] / 0.8 - 1) < 0.01
    assert shot.meta["options"]["batch_windows"] == 5


def test_batches_need_windows_and_windows_a_fixed_step(tmp_path):
    from runtime.errors import OptionError

    with pytest.raises(OptionError, match="there is one window"):
        runtime.solve(long_series(tmp_path), "fd", batch_windows=2)
    with pytest.raises(OptionError, match="windows step at a fixed step"):
        runtime.solve(long_series(tmp_path), "fd", windows=3, integrator="dopri5")
