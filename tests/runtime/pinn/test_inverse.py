"""Inverse problems by `method="pinn"`: unknown constants and coefficient fields trained with
the networks against a data misfit. Quick tests check the mechanics and that an unknown
constant reaches its truth on a tiny problem; the slow ones recover the heat coefficient,
a coefficient field and the Lorenz parameters (times and errors in their docstrings)."""

import json
import os
import signal
import time

import numpy as np
import pytest
import sympy as sp

import pdelang as pl
import runtime
from runtime.cli import main
from runtime.errors import OptionError
from runtime.observe.interrupt import Interrupted

t, x = sp.symbols("t x")
u, c = sp.Function("u"), sp.Function("c")
k = sp.Symbol("k")
TINY = dict(layers=(16, 16), points=64, chunk=100)


def decay(truth=2.0, guess=0.5):
    """u' = -k u, u(0) = 1 on [0, 1]; u observed at 11 times with k = `truth`."""
    times = np.linspace(0, 1, 11)
    return pl.PDESystem([sp.Eq(u(t).diff(t), -k * u(t))], [sp.Eq(u(0), 1)], {t: (0, 1)},
                        params={k: pl.Unknown(guess)},
                        data={"t": times, "u": np.exp(-truth * times)})


def test_an_unknown_constant_moves_to_its_truth(tmp_path):
    sol = runtime.solve(decay(), "pinn", steps=200, lbfgs_steps=100, **TINY)
    # measured: k = 1.99998 (float32); the exact data allow much better than the bound
    assert abs(sol.params["k"] - 2.0) < 2e-3
    assert isinstance(sol.params["k"], float)
    trajectory = sol.meta["unknown_history"]
    assert trajectory["step"] == sol.meta["loss_history"]["step"]
    assert abs(trajectory["k"][0] - 0.5) < 0.01            # one Adam step from the guess
    assert trajectory["k"][-1] == sol.params["k"]
    assert set(sol.meta["loss_history"]) == {"step", "loss", "pde", "data u"}
    assert sol.meta["loss_history"]["data u"][-1] < 1e-6
    saved = np.load(sol.save(tmp_path / "decay.npz"))
    assert saved["k"].shape == () and float(saved["k"]) == sol.params["k"]
    assert json.loads(str(saved["meta"]))["unknown_history"]["k"][-1] == sol.params["k"]


@pytest.mark.slow
def test_an_interrupted_fit_resumes_to_the_same_unknowns(tmp_path):
    options = dict(steps=100, lbfgs_steps=50, **{**TINY, "chunk": 50})
    reference = runtime.solve(decay(), "pinn", **options)

    def stop(progress):
        if progress["step"] == 100:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(Interrupted, match="after step 100 of 150"):
        runtime.solve(decay(), "pinn", checkpoint=str(tmp_path), checkpoint_every=0,
                      observers=(stop,), **options)
    resumed = runtime.solve(decay(), "pinn", checkpoint=str(tmp_path), resume=True, **options)
    assert resumed.params == reference.params
    assert resumed.meta["unknown_history"] == reference.meta["unknown_history"]


def test_the_data_weight_starts_the_data_term_and_annealing_moves_it():
    sol = runtime.solve(decay(), "pinn", steps=20, lbfgs_steps=0, data_weight=30.0,
                        **{**TINY, "chunk": 10})
    assert sol.meta["loss_weights"] == {"pde": 1.0, "data u": 30.0}
    adaptive = runtime.solve(decay(), "pinn", steps=20, lbfgs_steps=0, data_weight=30.0,
                             weights="adaptive", **{**TINY, "chunk": 10})
    assert adaptive.meta["loss_weights"]["pde"] == 1.0
    assert adaptive.meta["loss_weights"]["data u"] != 30.0


def test_regularization_needs_an_unknown_coefficient_field():
    with pytest.raises(OptionError, match="smooths unknown coefficient fields"):
        runtime.solve(decay(), "pinn", steps=1, lbfgs_steps=0, regularization=1e-3, **TINY)
    with pytest.raises(OptionError, match="data_weight must be positive"):
        runtime.solve(decay(), "pinn", steps=1, lbfgs_steps=0, data_weight=0.0, **TINY)


def reaction(c_true, diffusion=1.0, guess=1.0, points=41):
    """-D u'' + c(x) u = f on [0, 1], u = 1 + sin(pi x) (so u(0) = u(1) = 1), with the
    coefficient field c unknown; u observed at `points` points. The smaller the diffusion
    D, the more directly u determines c (c = (f + D u'') / u)."""
    exact_u = 1 + sp.sin(sp.pi * x)
    forcing = -diffusion * exact_u.diff(x, 2) + c_true * exact_u
    xs = np.linspace(0, 1, points)
    observed = sp.lambdify(x, exact_u, "numpy")(xs)
    return pl.PDESystem([sp.Eq(-diffusion * u(x).diff(x, 2) + c(x) * u(x), forcing)],
                        [sp.Eq(u(0), 1), sp.Eq(u(1), 1)], {x: (0, 1)},
                        params={c(x): pl.Unknown(guess)}, data={"x": xs, "u": observed},
                        exact={u(x): exact_u})


def test_a_coefficient_field_is_reported_on_the_grid_and_regularization_smooths_it():
    truth = 1 + sp.sin(2 * sp.pi * x) / 2               # mean c'^2 = pi^2 / 2 = 4.9
    runs = {weight: runtime.solve(reaction(truth, diffusion=0.1), "pinn", steps=300,
                                  lbfgs_steps=0, grid=41, data_weight=100.0,
                                  regularization=weight, **TINY) for weight in (0.0, 1.0)}
    free, smooth = runs[0.0], runs[1.0]
    assert free.params["c"].shape == (41,)
    assert {"data u", "regularization c"} <= set(free.meta["loss_history"])
    assert smooth.meta["loss_weights"]["regularization c"] == 1.0
    assert "unknown_history" not in free.meta           # no unknown constants to trace

    def mean_square_gradient(sol):
        return np.mean(np.gradient(sol.params["c"], sol.grid["x"]) ** 2)

    # measured: 2.15 free (the term in the history: 2.19), 0.030 with weight 1
    assert mean_square_gradient(free) > 1.0
    assert mean_square_gradient(smooth) < mean_square_gradient(free) / 20
    history = free.meta["loss_history"]["regularization c"][-1]
    assert abs(history - mean_square_gradient(free)) < 0.1 * history


def test_the_command_line_reports_the_inferred_constant(tmp_path, capsys, examples_dir):
    out = tmp_path / "heat.npz"
    status = main(["solve", f"{examples_dir}/heat_inverse.pde", "--method", "pinn", "--quiet",
                   "--steps", "100", "--lbfgs-steps", "0", "--layers", "16,16", "--points",
                   "128", "--data-weight", "2", "--out", str(out)])
    assert status == 4                  # 100 steps do not converge; the file is written
    saved = np.load(out)
    assert json.loads(str(saved["meta"]))["converged"] is False
    saved = np.load(out)
    printed = capsys.readouterr().out
    assert f"k = {float(saved['k']):.6g}" in printed
    meta = json.loads(str(saved["meta"]))
    assert meta["loss_weights"]["data u"] == 2.0
    assert len(meta["unknown_history"]["k"]) == len(meta["unknown_history"]["step"])
    assert main(["show", f"{examples_dir}/heat_inverse.pde", "--method", "pinn"]) == 0
    shown = capsys.readouterr().out
    assert "[unknowns]\n  k: unknown constant, trained with the networks from its guess 0.5" \
        in shown
    assert "data u: u(t, x) - observed   at 205 observation points" in shown


@pytest.mark.slow
def test_the_heat_coefficient_within_one_percent(examples_dir):
    """examples/heat_inverse.pde (truth k = 0.1, data with 1% noise), default options.
    Measured: k = 0.09991 (relative error 9e-4), 28 to 55 s on 2 shared CPU cores."""
    system = pl.load(f"{examples_dir}/heat_inverse.pde")
    started = time.perf_counter()
    sol = runtime.solve(system, "pinn")
    seconds = time.perf_counter() - started
    error = abs(sol.params["k"] - 0.1) / 0.1
    print(f"heat k = {sol.params['k']:.6f}, relative error {error:.2e}, {seconds:.0f} s")
    assert error < 1e-2


@pytest.mark.slow
def test_a_coefficient_field_against_its_true_field():
    """c(x) = 1 + 0.5 sin(2 pi x) in -0.1 u'' + c u = f, from 41 exact observations of u.
    Measured (float32, data weight 100): relative L2 error of c 4.9e-4 since the guess 1
    makes c = exp(MLP) (1.25e-3 with c = 1 + MLP), of u 5.6e-7. (With D = 1, c hides behind
    u'' and the PINN stops at 3.5%.)"""
    truth = 1 + sp.sin(2 * sp.pi * x) / 2
    started = time.perf_counter()
    sol = runtime.solve(reaction(truth, diffusion=0.1), "pinn", grid=101, data_weight=100.0)
    seconds = time.perf_counter() - started
    exact = sp.lambdify(x, truth, "numpy")(sol.grid["x"])
    error = np.linalg.norm(sol.params["c"] - exact) / np.linalg.norm(exact)
    print(f"c(x): relative L2 error {error:.2e}, u: {sol.errors()['u']:.2e}, {seconds:.0f} s")
    assert error < 1e-2
    assert sol.errors()["u"] < 1e-4


@pytest.mark.slow
def test_the_lorenz_parameters(examples_dir):
    """examples/lorenz_inverse.pde: truth sigma = 10, rho = 15, beta = 8/3, from 1, 1, 1.
    Measured (float32, data weight 100, learning rate 1e-2, 4000 Adam + 4000 L-BFGS steps):
    10.0109, 15.0011, 2.66726 (largest relative error 1.1e-3), 56 s on 2 CPU cores. With
    2000 L-BFGS steps sigma stops at 10.0388 (3.9e-3) with jax 0.10.2. The L-BFGS finish
    stays in float32 as measured (and as the gallery runs it): with the float64 finish, the
    default since, this configuration ended at rho = 8.67 (42% off) in 493 s, not
    understood yet; the defaults reach 1e-6 (test_hard_problems)."""
    system = pl.load(f"{examples_dir}/lorenz_inverse.pde")
    started = time.perf_counter()
    sol = runtime.solve(system, "pinn", data_weight=100.0, learning_rate=1e-2,
                        lbfgs_steps=4000, finish_dtype="float32")
    seconds = time.perf_counter() - started
    truth = {"sigma": 10.0, "rho": 15.0, "beta": 8 / 3}
    errors = {n: abs(sol.params[n] - v) / v for n, v in truth.items()}
    print(f"lorenz {sol.params}, relative errors {errors}, {seconds:.0f} s")
    assert max(errors.values()) < 3e-3


@pytest.mark.slow
def test_float32_and_float64_finishes_run_one_after_the_other():
    """One process, one problem, the float32 finish then the float64 one and back: a NumPy
    index array made once and traced in both of JAX's modes failed the second solve with
    int32 against int64 (jax 0.10). A coefficient field of x in a problem of (t, x) takes
    its network's columns out of the points; the data term does too."""
    xs = np.linspace(0.1, 0.9, 5)
    times = np.full_like(xs, 0.5)
    system = pl.PDESystem([sp.Eq(u(t, x).diff(t), c(x) * u(t, x).diff(x, 2))],
                          [sp.Eq(u(0, x), sp.sin(sp.pi * x)), sp.Eq(u(t, 0), 0),
                           sp.Eq(u(t, 1), 0)], {t: (0, 1), x: (0, 1)},
                          params={c(x): pl.Unknown(0.5)},
                          data={"t": times, "x": xs,
                                "u": np.exp(-np.pi**2 * 0.5) * np.sin(np.pi * xs)})
    for finish in ("float32", "float64", "float32"):
        sol = runtime.solve(system, "pinn", steps=20, lbfgs_steps=5, optimizer="lbfgs",
                            finish_dtype=finish, **TINY)
        assert np.all(np.isfinite(np.asarray(sol.params["c"])))


@pytest.mark.slow
def test_a_fit_whose_networks_do_not_solve_the_equation_says_so():
    """Data that u' = -k u cannot produce (a decay with a wiggle), weighted far above the
    equation: the network follows the data, the equation's residual stays a large part of
    its terms, and the verdict says the equations do not hold; with exact data the same
    training ends with the equation held to well under 1% of its terms."""
    times = np.linspace(0, 1, 21)
    wiggly = np.exp(-2 * times) + 0.3 * np.sin(12 * times)
    system = pl.PDESystem([sp.Eq(u(t).diff(t), -k * u(t))], [sp.Eq(u(0), 1)], {t: (0, 1)},
                          params={k: pl.Unknown(0.5)}, data={"t": times, "u": wiggly})
    sol = runtime.solve(system, "pinn", steps=400, lbfgs_steps=200, data_weight=1e4, **TINY)
    figures = sol.meta["convergence"]["figures"]["relative_equation_residual"]
    assert figures["pde"] > 0.05 and not sol.meta["converged"]
    assert "the equations do not hold" in sol.meta["convergence"]["reason"]
    exact = runtime.solve(decay(), "pinn", steps=200, lbfgs_steps=100, **TINY)
    assert exact.meta["convergence"]["figures"]["relative_equation_residual"]["pde"] < 1e-2
