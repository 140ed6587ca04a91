"""Learned functions (`net` lines, issue 19) trained by fd through the time integrator:
the gradient with respect to a net's weights against finite differences, a learned
interaction term recovered from trajectories, and the refusals of what fd cannot train."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdelang as pl
import runtime
from compiler.common.nets import flat_weights, net_arrays
from compiler.errors import LoweringError
from compiler.fd import FDOptions, lower_fd
from runtime.errors import OptionError
from runtime.fd.fit_model import FitModel
from runtime.fd.simulate import FixedSteps
from runtime.time.integrators import get_integrator

from ..gradient_check import assert_gradient_matches_differences
from ..lotka_volterra_case import BETA, lotka_volterra, spec_text, write_case


@pytest.fixture
def spec(tmp_path):
    return functools.partial(write_case, tmp_path)


def test_the_gradient_through_the_integrator_matches_finite_differences(spec):
    """d(loss)/d(weights) by reverse mode through 60 RK4 steps against central differences
    along three random directions (float64): agreement to 1e-6 relative."""
    with jax.enable_x64(True):
        system = spec(end=0.6, width=4)
        program = lower_fd(system, FDOptions(dtype="float64"))
        model = FitModel(program, program_observations(system), 0.0)
        tableau = get_integrator("rk4").tableau

        def loss(theta):
            return jnp.sum(model.residuals(theta, FixedSteps(0.01, tableau)) ** 2)

        assert_gradient_matches_differences(loss, jnp.asarray(model.unknowns.theta0),
                                            np.random.default_rng(0))


def program_observations(system):
    from compiler.common.observations import require_observations

    return require_observations(system, "fd")


@pytest.mark.slow
def test_a_learned_interaction_term_is_recovered_from_trajectories(spec):
    """u' = 1.3 u - B(u, v) with B learned from noise-free u, v on [0, 3]: the fit matches
    the data and B(u, v) is 0.9 u v along the trajectory to 5% (relative L2; within 10%
    of its largest value at every point)."""
    system = spec()
    solution = runtime.solve(system, "fd", dt=0.01, fit_steps=1000)
    fit = solution.meta["fit"]
    assert max(fit["relative_misfit"].values()) < 1e-2, fit["relative_misfit"]
    from compiler.common.nets import apply_net, net_key

    net = system.net("B")
    flat = flat_weights(net, solution.params)
    times = np.linspace(0, 3, 61)
    u, v = lotka_volterra(times)
    learned = np.asarray(apply_net(net, jnp.asarray(flat), [u, v]))[:, 0]
    assert net_key("B") == "net.B"
    truth = BETA * u * v
    assert np.linalg.norm(learned - truth) <= 0.05 * np.linalg.norm(truth)
    np.testing.assert_allclose(learned, truth, rtol=0, atol=0.1 * np.max(truth))


def test_a_fit_reports_the_nets_weights(spec, tmp_path):
    solution = runtime.solve(spec(end=0.5, width=4), "fd", dt=0.05, fit_steps=5,
                             adam_steps=5)
    shapes = {k: np.shape(v) for k, v in solution.params.items() if k.startswith("net.B.")}
    assert shapes == {"net.B.W0": (2, 4), "net.B.b0": (4,), "net.B.W1": (4, 4),
                      "net.B.b1": (4,), "net.B.W2": (4, 1), "net.B.b2": (1,)}
    assert "net B: 37 trained weights" in solution.summary()
    net = solution.system.net("B")
    flat = flat_weights(net, solution.params)
    assert all(np.array_equal(a, solution.params[k]) for k, a in net_arrays(net, flat).items())
    solution.save(tmp_path / "lv.npz")
    with np.load(tmp_path / "lv.npz") as saved:
        assert saved["net.B.W1"].shape == (4, 4)


def test_methods_that_do_not_train_nets_say_so_at_the_net(spec):
    with pytest.raises(OptionError, match="fd, odil, pinn and fbpinn so far, not by elm") as info:
        runtime.solve(spec(), "elm")
    assert info.value.span.line == 5


def test_a_net_in_a_condition_is_refused_by_fd(spec, tmp_path):
    text = spec_text(1, 4).replace("ic v = 4.6280 at t = 0",
                                                "ic v = 4.6280 + B(u, v) at t = 0")
    spec(end=1)
    system = pl.parse(text, "lv.pde", base=tmp_path)
    with pytest.raises(LoweringError, match="net `B` in a condition") as info:
        runtime.solve(system, "fd")
    assert info.value.span.line == 9


def test_show_prints_each_net_and_its_weights(spec, tmp_path, capsys):
    from runtime.cli import main

    spec()
    (tmp_path / "lv.pde").write_text(spec_text(3, 8))
    assert main(["show", str(tmp_path / "lv.pde"), "--method", "fd"]) == 0
    shown = capsys.readouterr().out
    assert "[learned functions]" in shown
    assert "net B(u, v) : width 8, depth 2, activation tanh: 105 weights" in shown


def test_the_language_offers_the_activations_the_compilers_have():
    from compiler.common.nets import ACTIVATIONS
    from pdelang.ir import NET_ACTIVATIONS

    assert set(NET_ACTIVATIONS) == set(ACTIVATIONS)


def test_regularization_decays_the_nets_weights(spec):
    """With --regularization LAMBDA the fit's extra rows sum, squared, to LAMBDA times the
    mean squared weight of each net."""
    with jax.enable_x64(True):
        system = spec(end=0.5, width=4)
        program = lower_fd(system, FDOptions(dtype="float64"))
        model = FitModel(program, program_observations(system), 0.01)
        theta = model.unknowns.theta0
        (rows,) = model.smoothness(jnp.asarray(theta))
        weights = model.unknowns.unravel(jnp.asarray(theta))["net.B"]
        assert float(jnp.sum(rows**2)) == pytest.approx(0.01 * float(jnp.mean(weights**2)))


FLUX_SPEC = """\
time t in [0, 1]
space z in [0, 1]
field T(t, z)
param K = 0.1
net q(T, d(T, z)) : width 4, depth 1
pde d(T, t) = -d(q(T, d(T, z)) - K*d(T, z), z)
ic T = sin(z) at t = 0
bc T = 0 at z = 0
bc T = sin(1) at z = 1
data "T.csv"
"""


def _exact_flux_rate(net, weights, z: np.ndarray) -> jax.Array:
    """-(q_T T_z + q_Tz T_zz) + K T_zz at T = sin(z), K = 0.1, the partials by jvp."""
    from compiler.common.nets import apply_net

    T, Tz, Tzz = jnp.sin(z), jnp.cos(z), -jnp.sin(z)

    def q(a, b):
        return apply_net(net, weights, [a, b])[..., 0]

    qT = jax.jvp(lambda a: q(a, Tz), (T,), (jnp.ones_like(T),))[1]
    qTz = jax.jvp(lambda b: q(T, b), (Tz,), (jnp.ones_like(Tz),))[1]
    return -(qT * Tz + qTz * Tzz) + 0.1 * Tzz


def test_a_learned_flux_is_differentiated_by_the_chain_rule_at_second_order(tmp_path):
    """T_t = -d(q(T, T_z) - K T_z, z) with a random net q, at T = sin(z): fd's right-hand
    side against the exact chain rule (q_T T_z + q_Tz T_zz with exact T_z, T_zz and the
    net's partials by autodiff) at the interior nodes of 33 and 65 nodes: the error falls
    at order 2 +- 0.2."""
    from compiler.common.nets import net_key

    (tmp_path / "T.csv").write_text("t,z,T\n0.5,0.5,0.4\n")
    system = pl.parse(FLUX_SPEC, "flux.pde", base=tmp_path)
    net = system.net("q")
    errors = []
    with jax.enable_x64(True):
        for n in (33, 65):
            program = lower_fd(system, FDOptions(grid=n, dtype="float64"))
            params = program.prepare({**program.params,
                                      net_key("q"): 0.5 * jnp.asarray(np.random.default_rng(
                                          0).standard_normal(program.params[net_key("q")].shape))})
            z = np.linspace(0, 1, n)
            state = {"T": jnp.asarray(np.sin(z))}
            rate = np.asarray(program.rhs(0.0, state, params)["T"])

            exact = _exact_flux_rate(net, params[net_key("q")], z)
            errors.append(np.max(np.abs(rate[1:-1] - np.asarray(exact)[1:-1])))
    order = np.log2(errors[0] / errors[1])
    assert errors[1] < 1e-3 and order == pytest.approx(2.0, abs=0.2), (errors, order)


def test_a_reaction_net_of_a_field_and_its_slope_trains_on_a_grid(tmp_path):
    """A PDE with nets of u and of (u, u_x) on 17 nodes: a few steps run, and discovery
    reads the nets back over the field's values and slopes on the grid."""
    (tmp_path / "u.csv").write_text("t,x,u\n0.5,0.5,0.4\n1.0,0.5,0.3\n0.5,0.25,0.2\n")
    system = pl.parse("""\
time t in [0, 1]
space x in [0, 1]
field u(t, x)
net R(u) : width 8
net G(u, d(u, x)) : width 4, depth 1
pde d(u, t) = 0.1*d(u, x, 2) + R(u) + G(u, d(u, x))
ic u = sin(pi*x) at t = 0
bc u = 0 at x = 0
bc u = 0 at x = 1
data "u.csv"
""", "kpp.pde", base=tmp_path)
    # rk4: the nets' reading back is tested here, not the stepping, and a net of u_x would
    # make auto step by dopri5, whose larger compiled programs double this test's time
    solution = runtime.solve(system, "fd", grid=17, fit_steps=3, adam_steps=5,
                             integrator="rk4")
    assert solution.meta["fit"]["unknowns"] == 97 + 17
    found, replaced = solution.discover("poly2", refit=False)
    assert [d.net for d in found] == ["R", "G"]
    # sampled where the data are (t in [0.5, 1], x in [0.25, 0.5]), where u rises with x
    lo, hi = dict((n, (lo, hi)) for n, lo, hi in found[1].ranges)["u_x"]
    assert 0 < lo < hi < np.pi
    assert not replaced.nets


def test_relative_misfit_weighs_each_point_by_its_own_value():
    """--misfit relative: each observation over its own value (floored at 1% of the
    field's RMS) and the square root of the count, so a field's misfit is the RMS of its
    relative errors; scaled: the field's RMS instead."""
    from compiler.common.observations import FieldObservations
    from runtime.fd.observed import ScaledData

    values = np.array([2.0, -0.5, 1e-6, 4.0])
    o = FieldObservations("u", ("t",), np.array([[0.0], [0.1], [0.2], [0.3]]), values)
    axes = {"t": np.linspace(0, 0.3, 4)}
    relative = ScaledData.on([o], axes, misfit="relative")
    floor = 0.01 * np.sqrt(np.mean(values**2))
    np.testing.assert_allclose(relative.weights[0], 1 / (np.maximum(np.abs(values), floor) * 2))
    wrong = values * 1.05                    # every value 5% off
    assert relative.misfits(relative.sampled({"u": jnp.asarray(wrong)}) - relative.values)[
        "u"] == pytest.approx(0.05 * np.sqrt(3 / 4 + (1e-6 / floor) ** 2 / 4), rel=1e-9)
    scaled = ScaledData.on([o], axes)
    np.testing.assert_allclose(scaled.weights[0], 1 / (np.sqrt(np.mean(values**2)) * 2))
    with pytest.raises(OptionError, match="misfit"):
        runtime.solve(pl.parse("time t in [0, 1]\nfield u(t)\npde d(u, t) = -u\n"
                               "ic u = 1 at t = 0\n"), "fd", misfit="log")


def test_every_fifth_observation_time_is_held_out_from_training(spec):
    """With nets and hold_out 0.2, the rows of t = 0.5, 1.0, ..., 3.0 are held out: zeroed
    in the training residual, their misfit reported apart; by default nothing is."""
    with jax.enable_x64(True):
        system = spec()
        program = lower_fd(system, FDOptions(dtype="float64"))
        assert FitModel(program, program_observations(system), 0.0).held is None
        model = FitModel(program, program_observations(system), 0.0, hold_out=0.2)
        np.testing.assert_allclose(model.held_times, [0.5, 1.0, 1.5, 2.0, 2.5, 3.0])
        tableau = get_integrator("rk4").tableau
        r = model.residuals(jnp.asarray(model.unknowns.theta0), FixedSteps(0.01, tableau))
        trained = np.asarray(model.training(r))
        n = len(model.data.values)
        assert np.all(trained[:n][model.held] == 0)
        np.testing.assert_array_equal(trained[:n][~model.held], np.asarray(r)[:n][~model.held])
        assert model.held.sum() == 2 * 6                   # u and v at six times
        residual = model.residual_at(model.unknowns.theta0, FixedSteps(0.01, tableau))
        assert set(model.held_out_misfits(residual)) == {"u", "v"}


def test_both_adjoints_give_the_same_gradient(spec):
    """--adjoint full keeps every step, checkpoint recomputes them: the same gradient."""
    with jax.enable_x64(True):
        system = spec(end=1.0, width=4)
        program = lower_fd(system, FDOptions(dtype="float64"))
        tableau = get_integrator("rk4").tableau
        grads = []
        for adjoint in ("checkpoint", "full"):
            model = FitModel(program, program_observations(system), 0.0, adjoint=adjoint)
            theta = jnp.asarray(model.unknowns.theta0) + 0.1
            grads.append(jax.grad(lambda th, m=model: jnp.sum(
                m.residuals(th, FixedSteps(0.01, tableau)) ** 2))(theta))
        np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-15)


def test_a_net_used_beyond_its_data_is_warned_about(tmp_path):
    """Data on t <= 1, a solution to t = 3: the solution takes u and v where the data never
    showed the net; `uncovered_inputs` names both ranges, and finishing such a solution
    warns at the net's line."""
    import warnings

    from runtime.output.discover import uncovered_inputs, warn_uncovered
    from runtime.output.solution import Solution

    times = np.linspace(0, 3, 31)
    u, v = lotka_volterra(times)
    early = times <= 1.0
    np.savetxt(tmp_path / "lv.csv", np.stack([times[early], u[early], v[early]], axis=1),
               delimiter=",", header="t,u,v", comments="")
    system = pl.parse(spec_text(3, 4), "lv.pde", base=tmp_path)
    net = system.net("B")
    params = net_arrays(net, np.zeros(37))
    solution = Solution(system, {"t": times}, {"u": u, "v": v}, params, {})
    found = uncovered_inputs(solution)
    assert [(n.name, name) for n, name, _, _ in found] == [("B", "u"), ("B", "v")]
    for _, name, (a, b), (lo, hi) in found:
        k = ["u", "v"].index(name)
        values = (u, v)[k]
        assert (a, b) == pytest.approx((values.min(), values.max()))
        assert (lo, hi) == pytest.approx((values[early].min(), values[early].max()))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_uncovered(solution)
    assert [w.message.span.line for w in caught] == [5, 5]
    assert "showed it only u in [" in str(caught[0].message)
