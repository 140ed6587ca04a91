"""Learned functions (`net` lines, issue 19) trained by odil: the weights join the unknowns
of the space-time loss; the weights' products and the Gauss-Newton step against finite
differences and a dense solve; nets in conditions and in steady systems; the refusals;
and a learned interaction term recovered from trajectories (slow lane)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdelang as pl
import runtime
import runtime.odil.nets as odil_nets
from compiler.common.nets import apply_net, flat_weights, net_arrays
from compiler.common.observations import require_observations
from compiler.errors import LoweringError
from compiler.fd import FDOptions, lower_fd
from compiler.odil import space_time_system
from runtime.algebra.least_squares import _scaling
from runtime.odil.fit import FitSettings
from runtime.odil.nets import krylov_step_solver, make_net_loss

from ..lotka_volterra_case import BETA, SPEC, lotka_volterra, spec_text, write_case


@pytest.fixture
def spec(tmp_path):
    return functools.partial(write_case, tmp_path)


def _loss(system: pl.System, points: int, regularization: float = 0.0):
    program = lower_fd(space_time_system(system),
                       FDOptions({"t": points}, 2, "central", "float64", "harmonic"))
    return make_net_loss(program, require_observations(system, "odil"),
                         FitSettings(regularization=regularization))


def test_a_fit_reports_the_nets_weights_as_fd_does(spec):
    solution = runtime.solve(spec(end=1.0, width=4), "odil", grid=21, fit_steps=5)
    shapes = {k: np.shape(v) for k, v in solution.params.items() if k.startswith("net.B.")}
    assert shapes == {"net.B.W0": (2, 4), "net.B.b0": (4,), "net.B.W1": (4, 4),
                      "net.B.b1": (4,), "net.B.W2": (4, 1), "net.B.b2": (1,)}
    assert "net B: 37 trained weights" in solution.summary()
    meta = solution.meta
    assert meta["solver"] == "levenberg-marquardt (weights by conjugate gradients)"
    assert meta["iterations"] == 5 and meta["krylov_products"] > 0
    assert meta["loss_history"][-1] < 0.5 * meta["loss_history"][0]
    net = solution.system.net("B")
    flat = flat_weights(net, solution.params)
    assert all(np.array_equal(a, solution.params[k]) for k, a in net_arrays(net, flat).items())
    found, _ = solution.discover("poly2")
    assert [d.net for d in found] == ["B"]


def test_the_weights_products_and_the_gradient_match_finite_differences(spec):
    """J_w dw (a jvp) and J_w^T F (the loss's gradient in the weights, a vjp) against
    central differences of the loss's rows along random directions, float64; the
    regularization's decay rows included."""
    with jax.enable_x64(True):
        loss, z0, _ = _loss(spec(end=0.5, width=3, depth=1), 11, regularization=1e-2)
        rng = np.random.default_rng(1)
        z = z0 + 0.1 * rng.standard_normal(z0.size)
        F, J = loss.linearize(z)
        start, h = loss.start, 1e-6

        def along(dz):
            return (loss.evaluate(z + h * dz) - loss.evaluate(z - h * dz)) / (2 * h)

        for _ in range(3):
            dw = rng.standard_normal(loss.size)
            dz = np.concatenate([np.zeros(start), dw])
            np.testing.assert_allclose(J @ dz, along(dz), rtol=1e-7, atol=1e-9)
            gradient = J.weights_transpose(F[:J.sparse.shape[0]], F[J.sparse.shape[0]:])
            numeric = (0.5 * np.sum(loss.evaluate(z + h * dz) ** 2)
                       - 0.5 * np.sum(loss.evaluate(z - h * dz) ** 2)) / (2 * h)
            assert abs(gradient @ dw - numeric) <= 1e-6 * abs(numeric), (gradient @ dw, numeric)
        dz = rng.standard_normal(z.size)            # the fields' columns too
        np.testing.assert_allclose(J @ dz, along(dz), rtol=1e-6, atol=1e-9)


def test_the_gauss_newton_step_is_the_dense_damped_solve(spec, monkeypatch):
    """The step (sparse LU for the fields, CG on the weights' Schur complement) equals the
    damped normal equations solved densely with the Jacobian from central differences."""
    monkeypatch.setattr(odil_nets, "CG_RTOL", 1e-13)
    monkeypatch.setattr(odil_nets, "CG_STEPS", 1000)
    with jax.enable_x64(True):
        loss, z0, _ = _loss(spec(end=0.5, width=3, depth=1), 11)
        z = z0 + 0.05 * np.random.default_rng(2).standard_normal(z0.size)
        F, J = loss.linearize(z)
        h = 1e-6
        dense = np.stack([(loss.evaluate(z + h * e) - loss.evaluate(z - h * e)) / (2 * h)
                          for e in np.eye(z.size)], axis=1)
        d = np.concatenate([_scaling(J.sparse), np.full(loss.size, J.weights_scale())])
        step = krylov_step_solver(J, F)
        for mu in (1e-4, 1e-1, 10.0):
            exact = np.linalg.solve(dense.T @ dense + mu * np.diag(d**2), -dense.T @ F)
            np.testing.assert_allclose(step(mu), exact, rtol=1e-6,
                                       atol=1e-6 * np.abs(exact).max())


def test_a_net_in_a_condition_is_a_row_of_the_loss(spec):
    """ODIL's conditions are rows of its residual: a net there moves its row (v at t = 0)
    and is trained with the rest (fd refuses it)."""
    text = SPEC.replace("ic v = 4.6280 at t = 0", "ic v = 4.6280 + B(u, v) at t = 0")
    with jax.enable_x64(True):
        loss, z0, _ = _loss(spec(end=1.0, width=4, text=text), 11)
        _, J = loss.linearize(z0)
        top, _ = J.weights_product(np.random.default_rng(0).standard_normal(loss.size))
        v_first = 11                                # the rows of u, then of v from t = 0
        assert abs(top[v_first]) > 1e-6
    solution = runtime.solve(spec(end=1.0, width=4, text=text), "odil", grid=11, fit_steps=3)
    assert solution.meta["iterations"] == 3
    with pytest.raises(LoweringError, match="net `B` in a condition") as info:
        runtime.solve(spec(end=1.0, width=4, text=text), "fd")
    assert info.value.span.line == 9


def test_a_steady_system_trains_its_net(tmp_path):
    """-u'' = F(x) with F learned from samples of u = sin(pi x): the misfit falls."""
    x = np.linspace(0.05, 0.95, 10)
    np.savetxt(tmp_path / "u.csv", np.stack([x, np.sin(np.pi * x)], axis=1), delimiter=",",
               header="x,u", comments="")
    system = pl.parse("""\
space x in [0, 1]
field u(x)
net F(x) : width 8, depth 1
pde -d(u, x, 2) = F(x)
bc u = 0 at x = 0
bc u = 0 at x = 1
data "u.csv"
""", "steady.pde", base=tmp_path)
    solution = runtime.solve(system, "odil", grid=21, fit_steps=30)
    assert solution.meta["relative_misfit"]["u"] < 1e-2       # measured 2.8e-3
    assert {"net.F.W0", "net.F.W1"} <= set(solution.params)


def test_a_learned_flux_trains_on_the_space_time_grid(tmp_path):
    """d(q(T, T_z), z) is expanded by the chain rule in the space-time program (fd's
    lowering), so odil trains a learned flux: a few steps run and the weights move."""
    (tmp_path / "T.csv").write_text("t,z,T\n0.5,0.5,0.4\n1.0,0.25,0.2\n")
    system = pl.parse("""\
time t in [0, 1]
space z in [0, 1]
field T(t, z)
net q(T, d(T, z)) : width 4, depth 1
pde d(T, t) = -d(q(T, d(T, z)) - 0.1*d(T, z), z)
ic T = z at t = 0
bc d(T, z) = 0 at z = 0
bc d(T, z) = 0 at z = 1
data "T.csv"
""", "flux.pde", base=tmp_path)
    solution = runtime.solve(system, "odil", grid=9, fit_steps=3)
    assert np.all(np.isfinite(solution.values["T"]))
    assert np.any(solution.params["net.q.W1"] != 0)       # the output layer started at 0


@pytest.mark.slow
def test_the_column_flux_is_learned_by_odil_and_discovered(examples_dir):
    """examples/column_flux_ude.pde by odil on 41 x 33 space-time nodes: the data misfit
    within 2%, and discovery (terms chosen by the data) finds q = -0.04 T T_z within 5%."""
    from pathlib import Path

    system = pl.load(Path(examples_dir) / "column_flux_ude.pde")
    solution = runtime.solve(system, "odil", grid={"t": 41, "z": 33})
    assert solution.meta["relative_misfit"]["T"] < 0.02
    (found,), _ = solution.discover("poly2")
    terms = {str(t): c for t, c in found.terms}
    assert list(terms) == ["T(t, z)*Derivative(T(t, z), z)"], terms
    assert terms["T(t, z)*Derivative(T(t, z), z)"] == pytest.approx(-0.04, rel=0.05)


def test_show_lists_the_weights_among_the_unknowns(spec, tmp_path, capsys):
    from runtime.cli import main

    spec()
    (tmp_path / "lv.pde").write_text(spec_text(3, 8, 2))
    assert main(["show", str(tmp_path / "lv.pde"), "--method", "odil", "--grid", "31"]) == 0
    shown = capsys.readouterr().out
    assert "unknown weights of net B(u, v): 105" in shown
    assert "the weights' by conjugate gradients" in shown
    assert "105 weights, fitted with the unknowns on the grid" in shown


@pytest.mark.slow
def test_a_learned_interaction_term_is_recovered_on_the_space_time_grid(spec):
    """u' = 1.3 u - B(u, v) with B learned from noise-free u, v every 0.1 on [0, 3], 121
    time nodes, 100 steps: B within 1% of 0.9 u v along the true trajectory (relative L2;
    measured 0.46%) and the fields within 1e-3 of it (measured 4.0e-4), in about 3 s."""
    system = spec()
    solution = runtime.solve(system, "odil", grid=121, fit_steps=100)
    assert max(solution.meta["relative_misfit"].values()) < 1e-3    # measured 6.6e-5
    times = np.asarray(solution.grid["t"])
    u, v = lotka_volterra(times)
    net = system.net("B")
    learned = np.asarray(apply_net(net, jnp.asarray(flat_weights(net, solution.params)),
                                   [u, v]))[:, 0]
    truth = BETA * u * v
    assert np.linalg.norm(learned - truth) <= 0.01 * np.linalg.norm(truth)
    error = np.linalg.norm(np.r_[solution.values["u"] - u, solution.values["v"] - v])
    assert error <= 1e-3 * np.linalg.norm(np.r_[u, v])
