"""Fits through dopri5 under error control (runtime.fd.simulate.adaptive_trajectory):
accuracy against SciPy, derivatives against differences and each other, the re-plan of
the attempts, memory, and the learned column flux without a step given."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import pdelang as pl
import runtime
from compiler.common.observations import require_observations
from compiler.fd import FDOptions, lower_fd
from runtime.fd.fit_model import FitModel
from runtime.fd.simulate import (
    AdaptiveSteps,
    adaptive_trajectory,
    count_attempts,
    plan_attempts,
)
from runtime.time.base import Options
from runtime.time.integrators import DOPRI5

from ..gradient_check import assert_gradient_matches_differences
from .test_fit import HEAT as FIT_HEAT
from .test_fit import heat_exact, write_csv

TIMES = np.linspace(0.0, 5.0, 11)
VDP0 = {"x": jnp.asarray(2.0), "y": jnp.asarray(0.0)}


def van_der_pol(t, U, params):
    return {"x": U["y"], "y": params["mu"] * (1 - U["x"] ** 2) * U["y"] - U["x"]}


def planned(rhs, U0, params, times, options, slack=1.5):
    """Adaptive steps with `slack` times the attempts an undifferentiated run needs."""
    spent, reached, _ = count_attempts(DOPRI5, rhs, U0, params, times, options)
    assert bool(reached)
    return AdaptiveSteps(plan_attempts(times, int(np.ceil(slack * int(spent.max())))),
                         options)


def test_states_at_the_output_times_agree_with_scipy_on_a_nonlinear_ode():
    rtol = 1e-8
    options = Options(rtol=rtol, atol=rtol)
    steps = planned(van_der_pol, VDP0, {"mu": 1.5}, TIMES, options)
    states, reached, counters = jax.jit(
        lambda p: adaptive_trajectory(van_der_pol, VDP0, p, steps))({"mu": 1.5})
    reference = solve_ivp(lambda t, y: [y[1], 1.5 * (1 - y[0] ** 2) * y[1] - y[0]],
                          (0, 5), [2.0, 0.0], method="DOP853", rtol=1e-12, atol=1e-14,
                          t_eval=TIMES).y
    assert bool(reached) and int(counters.steps) > 2 * len(TIMES)
    error = max(np.max(np.abs(np.asarray(states["x"]) - reference[0])),
                np.max(np.abs(np.asarray(states["y"]) - reference[1])))
    assert error < 20 * rtol * np.max(np.abs(reference)), error     # measured 2.6e-9 / 2


def reaction_diffusion(t, U, params):
    """u_t = D u_xx + r u (1 - u) on 24 interior points of [0, 1], u = 0 at both ends:
    stiff-ish (the diffusion's eigenvalues reach -4 D / h^2, 2500 here)."""
    u = jnp.pad(U["u"], 1)
    h = 1.0 / 25
    return {"u": params["D"] * (u[2:] - 2 * u[1:-1] + u[:-2]) / h**2
            + params["r"] * U["u"] * (1 - U["u"])}


def test_states_agree_with_scipy_on_a_stiffish_pde_semi_discretisation():
    rtol = 1e-7
    x = np.linspace(0, 1, 26)[1:-1]
    U0 = {"u": jnp.asarray(np.sin(np.pi * x) + 0.3 * np.sin(5 * np.pi * x))}
    params = {"D": 1.0, "r": 3.0}
    times = np.linspace(0.0, 0.2, 6)
    options = Options(rtol=rtol, atol=rtol)
    steps = planned(reaction_diffusion, U0, params, times, options)
    states, reached, counters = jax.jit(
        lambda p: adaptive_trajectory(reaction_diffusion, U0, p, steps))(params)
    reference = solve_ivp(lambda t, y: np.asarray(reaction_diffusion(
        t, {"u": jnp.asarray(y)}, params)["u"]), (0, 0.2), np.asarray(U0["u"]),
        method="DOP853", rtol=1e-12, atol=1e-14, t_eval=times).y.T
    assert bool(reached) and int(counters.steps) > 50      # the stability limit, not accuracy
    error = np.max(np.abs(np.asarray(states["u"]) - reference))
    assert error < 20 * rtol * np.max(np.abs(reference)), error


def test_reverse_mode_agrees_with_differences_and_with_forward_mode():
    """Through the attempts (the step sizes not differentiated): reverse mode against
    central differences to 1e-6 relative and against jacfwd to rounding."""
    options = Options(rtol=1e-11, atol=1e-11)
    steps = planned(van_der_pol, VDP0, {"mu": 1.5}, TIMES, options)

    def loss(theta):
        U0 = {"x": theta[1], "y": jnp.asarray(0.0)}
        states, _, _ = adaptive_trajectory(van_der_pol, U0, {"mu": theta[0]}, steps)
        return jnp.sum(states["x"] ** 2) + jnp.sum(jnp.sin(states["y"]))

    theta = jnp.asarray([1.5, 2.0])
    gradient = assert_gradient_matches_differences(loss, theta, np.random.default_rng(1),
                                                   h=1e-6)
    forward = jax.jit(jax.jacfwd(loss))(theta)
    np.testing.assert_allclose(forward, gradient, rtol=1e-10)


def test_a_plan_too_short_for_the_parameters_says_so():
    """Planned at mu = 1, van der Pol at mu = 6 needs more attempts: not reached, where
    the planned run at mu = 1 reaches every time."""
    options = Options(rtol=1e-6, atol=1e-6)
    steps = planned(van_der_pol, VDP0, {"mu": 1.0}, TIMES, options)
    run = jax.jit(lambda p: adaptive_trajectory(van_der_pol, VDP0, p, steps)[1])
    assert bool(run({"mu": 1.0}))
    assert not bool(run({"mu": 6.0}))


HEAT = FIT_HEAT.replace("k ~ 0.5", "k ~ 0.005")   # ten times too small: far to go


@pytest.fixture
def heat(tmp_path):
    """The heat equation with k = 0.1 observed at 10 times (noise free), k unknown."""
    t, x = np.meshgrid(np.linspace(0.05, 0.5, 10), np.linspace(0, 1, 9), indexing="ij")
    write_csv(tmp_path, "obs.csv", "t,x,u", [t.ravel(), x.ravel(), heat_exact(t, x).ravel()])
    return pl.parse(HEAT, base=tmp_path)


def heat_model(system, grid=33):
    program = lower_fd(system, FDOptions(grid, dtype="float64"))
    return FitModel(program, require_observations(system, "fd"), 0.0)


def test_an_iterate_needing_more_attempts_is_replanned_not_answered_at_wrong_times(heat):
    model = heat_model(heat)
    options = Options(rtol=1e-6, atol=1e-9)
    steps = model.plan(model.unknowns.theta0, options)          # k = 0.005: a few attempts
    stiffer = np.array([0.1])
    assert model.attempts(stiffer, options)["needed"] > steps.plan.attempts
    assert np.all(np.isnan(model.residual_at(stiffer, steps)))   # never the wrong times
    longer = model.replanned(stiffer, steps)
    assert longer is not None and longer.plan.attempts > steps.plan.attempts
    np.testing.assert_allclose(model.residual_at(stiffer, longer), 0, atol=2e-3)
    assert model.replanned(np.array([50.0]), steps) is None     # far stiffer: a blow-up


@pytest.mark.parametrize("optimizer", ["lm", "lbfgs"])
def test_the_fit_replans_and_finds_the_coefficient(heat, optimizer):
    """Levenberg-Marquardt from k = 0.005 with the first guess's plan (k = 0.1 needs
    about four times its attempts); L-BFGS from k = 0.08 with one attempt planned per
    interval (short at once): re-planned on the way, k found to the grid's accuracy."""
    model = heat_model(heat)
    options = Options(rtol=1e-8, atol=1e-10)
    if optimizer == "lm":
        theta = model.unknowns.theta0
        steps = model.plan(theta, options)
    else:
        theta = np.array([0.08])
        steps = AdaptiveSteps(plan_attempts(model.times, 1), options)
    result, final = model.fit(theta, steps, optimizer, 100, ())
    assert model.replans >= 1 and final.plan.attempts > steps.plan.attempts
    assert abs(result.z[0] / 0.1 - 1) < 0.01, result.z


def test_levenberg_marquardt_differentiates_dopri5_forward_and_meta_says_so(heat):
    solution = runtime.solve(heat, "fd", grid=17, integrator="dopri5")
    fit = solution.meta["fit"]
    assert fit["optimizer"] == "lm" and fit["integrator"] == "dopri5"
    (stage,) = fit["stages"]
    assert stage["integrator"] == "dopri5" and stage["steps"] > 0
    assert stage["attempts_per_interval"]["planned"] >= stage["attempts_per_interval"]["fitted"]
    assert solution.meta["options"]["fit_integrator"] == "dopri5"
    assert abs(solution.params["k"] / 0.1 - 1) < 0.01


def test_the_gradient_of_a_fit_through_dopri5_matches_differences(heat):
    with jax.enable_x64(True):
        model = heat_model(heat, grid=9)
        steps = model.plan(np.array([0.1]), Options(rtol=1e-11, atol=1e-11))

        def loss(theta):
            return jnp.sum(model.residuals(theta, steps) ** 2)

        assert_gradient_matches_differences(loss, jnp.asarray([0.08]),
                                            np.random.default_rng(2), directions=1)


def gradient_temp_bytes(attempts: int) -> int:
    x = np.linspace(0, 1, 26)[1:-1]
    U0 = {"u": jnp.asarray(np.sin(np.pi * x))}
    steps = AdaptiveSteps(plan_attempts(np.linspace(0, 0.2, 5), attempts),
                          Options(rtol=1e-6, atol=1e-6))

    def loss(D):
        states, _, _ = adaptive_trajectory(reaction_diffusion, U0, {"D": D, "r": 3.0}, steps)
        return jnp.sum(states["u"] ** 2)

    compiled = jax.jit(jax.grad(loss)).lower(jnp.asarray(1.0)).compile()
    return int(compiled.memory_analysis().temp_size_in_bytes)


def test_gradient_memory_grows_sublinearly_with_the_attempts():
    """16 times the attempts: XLA's temporary memory for the gradient grows about 4 times
    (two levels of checkpoints, sqrt each), far from 16."""
    small, large = gradient_temp_bytes(64), gradient_temp_bytes(1024)
    assert large < 6 * small, (small, large)


@pytest.mark.slow
def test_the_column_flux_is_learned_without_a_step_given(examples_dir):
    """examples/column_flux_ude.pde without --dt: auto steps the fit by dopri5 (the known
    physics' stable step is 9 times too long for the flux learned) and the data's misfit
    reaches the noise."""
    from pathlib import Path

    system = pl.load(Path(examples_dir) / "column_flux_ude.pde")
    solution = runtime.solve(system, "fd", grid=33, hold_out=0.2)
    fit = solution.meta["fit"]
    assert fit["integrator"] == "dopri5"
    assert fit["relative_misfit"]["T"] < 0.02        # measured 0.0116; rk4 at its step: 0.134
