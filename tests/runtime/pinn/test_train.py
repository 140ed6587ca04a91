"""PINN training end to end: accuracy against exact solutions, repeatability, sampling,
loss weights and the files users get. Long accuracy runs are marked slow."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

import pdelang as pl
import runtime
from compiler.pinn import lower_pinn
from runtime.cli import main
from runtime.errors import OptionError, SolveError
from runtime.pinn import TrainOptions, train
from runtime.pinn.sampling import sample_points

QUICK = dict(layers=(32, 32), points=256, boundary_points=128, initial_points=128)


@pytest.mark.slow
def test_a_short_run_already_solves_poisson_roughly(examples_dir):
    sol = runtime.solve(pl.load(f"{examples_dir}/poisson2d.pde"), "pinn", steps=600,
                        lbfgs_steps=300, grid=21, hard_constraints=False, **QUICK)
    assert sol.errors()["u"] < 5e-2
    assert sol.values["u"].shape == (21, 21)
    history = sol.meta["loss_history"]
    assert set(history) == {"step", "loss", "pde", "bc x=0", "bc x=1", "bc y=0", "bc y=1"}
    assert history["loss"][-1] < history["loss"][0] / 100
    exact = np.sin(np.pi * 0.3) * np.sin(np.pi * 0.6) / (2 * np.pi**2)
    assert abs(sol("u", x=0.3, y=0.6) - exact) < 5e-3      # the network itself, off-grid


def test_hard_constraints_solve_poisson_in_a_few_hundred_steps(examples_dir):
    sol = runtime.solve(pl.load(f"{examples_dir}/poisson2d.pde"), "pinn", steps=400,
                        lbfgs_steps=0, grid=21, hard_constraints=True, **QUICK)
    assert sol.errors()["u"] < 5e-2
    assert set(sol.meta["loss_history"]) == {"step", "loss", "pde"}      # no bc terms
    assert np.all(sol.values["u"][[0, -1], :] == 0) and np.all(sol.values["u"][:, [0, -1]] == 0)


@pytest.mark.slow
def test_training_is_repeatable_with_a_seed(examples_dir):
    program = lower_pinn(pl.load(f"{examples_dir}/heat1d.pde"))
    options = TrainOptions(steps=30, lbfgs_steps=10, points=64, boundary_points=32,
                           initial_points=32, chunk=20, seed=7)
    a, b = train(program, options), train(program, options)
    for x, y in zip(jax.tree.leaves(a.nets), jax.tree.leaves(b.nets)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    c = train(program, TrainOptions(**{**options.__dict__, "seed": 8, "lbfgs_steps": 0}))
    assert not np.allclose(a.history["loss"][:30], c.history["loss"])
    assert len(a.history["loss"]) == 40 and a.steps == 40


def test_adaptive_weights_and_resampling_run(examples_dir):
    program = lower_pinn(pl.load(f"{examples_dir}/heat1d.pde"))
    result = train(program, TrainOptions(steps=60, lbfgs_steps=0, points=64,
                                         boundary_points=32, initial_points=32, chunk=20,
                                         weights="adaptive", resample_every=20,
                                         adaptive_sampling=True))
    assert result.weights["pde"] == 1.0
    assert any(w != 1.0 for name, w in result.weights.items() if name != "pde")
    assert result.info["resamples"] == 2


def test_samplers_put_points_in_their_region():
    bounds = {"t": (0.0, 2.0), "x": (-1.0, 1.0)}
    for kind in ("uniform", "sobol", "halton", "grid"):
        points = sample_points(kind, 64, ("t", "x"), bounds, {"x": 1.0}, 0)
        assert np.all(points[:, 1] == 1.0)
        assert np.all((points[:, 0] >= 0) & (points[:, 0] <= 2))
    with pytest.raises(OptionError, match="choose one of"):
        sample_points("lattice", 8, ("x",), {"x": (0, 1)}, {}, 0)


def test_a_diverging_loss_names_the_step(examples_dir):
    program = lower_pinn(pl.load(f"{examples_dir}/poisson2d.pde"))
    with pytest.raises(SolveError, match="NaN or infinite"):
        train(program, TrainOptions(steps=40, lbfgs_steps=0, points=32, boundary_points=16,
                                    chunk=20, learning_rate=1e30))


def test_weights_for_unknown_terms_are_refused(examples_dir):
    with pytest.raises(OptionError, match="no loss term"):
        runtime.solve(pl.load(f"{examples_dir}/poisson2d.pde"), "pinn",
                      weights={"pdee": 2.0}, steps=1, lbfgs_steps=0)


def test_command_line_pinn_run_writes_the_history(examples_dir, tmp_path):
    out = tmp_path / "p.npz"
    assert main(["solve", f"{examples_dir}/heat1d.pde", "--method", "pinn", "--steps", "40",
                 "--lbfgs-steps", "0", "--layers", "16,16", "--points", "64", "--grid", "9",
                 "--frames", "3", "--out", str(out), "--quiet"]) == 4  # 40 steps: not
    with np.load(out) as data:                                   # converged, still written
        assert data["u"].shape == (3, 9) and data["u"].dtype == np.float32   # pinn default
        meta = json.loads(str(data["meta"]))
    assert meta["converged"] is False
    assert meta["method"] == "pinn" and meta["options"]["layers"] == [16, 16]
    assert len(meta["loss_history"]["loss"]) == 40


# -- accuracy: long runs --------------------------------------------------------------

@pytest.mark.slow
def test_poisson_with_default_settings_is_accurate(examples_dir):
    sol = runtime.solve(pl.load(f"{examples_dir}/poisson2d.pde"), "pinn")
    assert sol.errors()["u"] < 5e-3


@pytest.mark.slow
def test_heat_with_neumann_ends(examples_dir):
    sol = runtime.solve(pl.load(f"{examples_dir}/heat1d.pde"), "pinn")
    assert sol.errors()["u"] < 5e-3


@pytest.mark.slow
def test_heat_with_dirichlet_ends_and_hard_constraints():
    t, x, alpha = sp.symbols("t x alpha")
    u = sp.Function("u")
    system = pl.PDESystem(
        [sp.Eq(u(t, x).diff(t), alpha * u(t, x).diff(x, 2))],
        [sp.Eq(u(t, 0), 0), sp.Eq(u(t, 1), 0), sp.Eq(u(0, x), sp.sin(sp.pi * x))],
        {t: (0, 0.5), x: (0, 1)}, params={alpha: 0.1},
        exact={u: sp.sin(sp.pi * x) * sp.exp(-alpha * sp.pi**2 * t)})
    sol = runtime.solve(system, "pinn", hard_constraints=True)
    assert set(sol.meta["loss_history"]) == {"step", "loss", "pde"}
    assert sol.errors()["u"] < 5e-3


@pytest.mark.slow
def test_periodic_advection(examples_dir):
    sol = runtime.solve(pl.load(f"{examples_dir}/advection1d.pde"), "pinn")
    assert sol.errors()["u"] < 2e-2


@pytest.mark.slow
def test_two_coupled_fields():
    t, x = sp.symbols("t x")
    u, v = sp.Function("u"), sp.Function("v")
    s = sp.sin(sp.pi * x)
    decay = sp.exp(-sp.pi**2 * t / 10)
    system = pl.PDESystem(
        [sp.Eq(u(t, x).diff(t), u(t, x).diff(x, 2) / 10 - u(t, x) + v(t, x)),
         sp.Eq(v(t, x).diff(t), v(t, x).diff(x, 2) / 10 + u(t, x) - v(t, x))],
        [sp.Eq(u(t, 0), 0), sp.Eq(u(t, 1), 0), sp.Eq(v(t, 0), 0), sp.Eq(v(t, 1), 0),
         sp.Eq(u(0, x), s), sp.Eq(v(0, x), 0)],
        {t: (0, 0.5), x: (0, 1)},
        exact={u: decay * (1 + sp.exp(-2 * t)) / 2 * s, v: decay * (1 - sp.exp(-2 * t)) / 2 * s})
    sol = runtime.solve(system, "pinn")
    assert max(sol.errors().values()) < 1e-2


def test_float64_training_on_request(examples_dir):
    sol = runtime.solve(pl.load(f"{examples_dir}/poisson2d.pde"), "pinn", steps=5,
                        lbfgs_steps=0, dtype="float64", grid=5, **QUICK)
    assert sol.meta["options"]["dtype"] == "float64"
    assert jnp.asarray(sol.values["u"]).dtype == jnp.float64
