"""Training by time: the phases a budget gives, why training stops, the float64 finish,
the autos settled from the spec, and compiled chunks reused between calls."""

import importlib
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdelang as pl
import runtime
from compiler.pinn import PINNOptions, lower_pinn
from runtime.cli import main
from runtime.errors import OptionError
from runtime.pinn import TrainOptions, train
from runtime.pinn.levenberg import parameter_count

training = importlib.import_module("runtime.pinn.train")   # the module, not its function
SMALL = dict(points=128, boundary_points=32, initial_points=32, chunk=20)


@pytest.fixture(scope="module")
def heat(examples_dir):
    return lower_pinn(pl.load(f"{examples_dir}/heat1d.pde"), PINNOptions(layers=(8, 8)))


@pytest.fixture(scope="module")
def poisson(examples_dir):
    return lower_pinn(pl.load(f"{examples_dir}/poisson2d.pde"), PINNOptions(layers=(8, 8)))


def test_by_time_adam_takes_its_share_then_the_finish_the_rest(heat):
    phases = training.plan(heat, TrainOptions(budget=100))
    assert [(p.name, p.steps) for p in phases] == [("adam", training.ADAM_MOST["lm"]),
                                                   ("lm", None)]
    assert phases[0].seconds == pytest.approx(100 * training.ADAM_SHARE["lm"])
    assert phases[1].seconds is None and phases[1].dtype == jnp.float64
    lbfgs = training.plan(heat, TrainOptions(budget="quick", optimizer="lbfgs"))
    assert lbfgs[0].seconds == pytest.approx(60 * training.ADAM_SHARE["lbfgs"])


def test_a_step_count_gives_counted_phases_with_the_old_pipeline(heat):
    phases = training.plan(heat, TrainOptions(steps=30))
    assert [(p.name, p.steps) for p in phases] == [("adam", 30), ("lbfgs", 2000)]
    assert [p.name for p in training.plan(heat, TrainOptions(lbfgs_steps=0))] == ["adam"]
    assert [(p.name, p.steps) for p in training.plan(heat, TrainOptions(
        steps=5, lm_steps=7, optimizer="lm"))] == [("adam", 5), ("lm", 7)]


def test_auto_picks_lm_only_for_small_networks(examples_dir):
    system = pl.load(f"{examples_dir}/heat1d.pde")
    big = lower_pinn(system, PINNOptions(layers=(64, 64, 64)))
    assert parameter_count(big.init(jax.random.PRNGKey(0))) > training.LM_MAX_PARAMS
    assert training.resolve_optimizer(big, TrainOptions()) == "lbfgs"
    small = lower_pinn(system, PINNOptions(layers=(20, 20, 20)))
    assert training.resolve_optimizer(small, TrainOptions()) == "lm"


def test_lm_gets_four_points_per_trainable_unless_told(heat):
    phases = training.plan(heat, TrainOptions())
    count = parameter_count(heat.init(jax.random.PRNGKey(0)))
    assert training.resolved_points(heat, TrainOptions(), phases) == \
        max(training.POINTS, training.LM_ROWS * count)
    assert training.resolved_points(heat, TrainOptions(points=77), phases) == 77


def test_time_dependent_problems_get_causal_training_and_rad(heat, poisson):
    every, adaptive, causal = training.resolved_sampling(heat, TrainOptions())
    assert every == training.RAD_EVERY and adaptive and causal
    every, adaptive, causal = training.resolved_sampling(poisson, TrainOptions())
    assert set(every.values()) == {0} and not adaptive and not causal
    assert training.resolved_sampling(heat, TrainOptions(causal=False,
                                                         resample_every=0))[0]["lm"] == 0


def test_the_finish_runs_in_float64_and_training_says_why_it_stopped(heat):
    result = train(heat, TrainOptions(steps=40, lm_steps=20, optimizer="lm", **SMALL))
    phases = result.info["phases"]
    assert [p["optimizer"] for p in phases] == ["adam", "lm"]
    assert [p["dtype"] for p in phases] == ["float32", "float64"]
    assert all(leaf.dtype == jnp.float64 for leaf in jax.tree.leaves(result.nets))
    assert result.info["stop_reason"] == "every phase ran its steps"
    assert result.history["loss"][-1] < result.history["loss"][40] < result.history["loss"][0]


def test_the_target_loss_stops_training_early(poisson):
    result = train(poisson, TrainOptions(steps=2000, lbfgs_steps=0, target_loss=1e-1,
                                         **SMALL))
    assert result.steps < 2000 and result.history["loss"][-1] <= 1e-1
    assert "target" in result.info["stop_reason"]


def test_the_budget_stops_training(poisson):
    result = train(poisson, TrainOptions(budget=2.0, target_loss=0.0, **SMALL))
    assert "budget of 2 s" in result.info["stop_reason"]
    assert result.steps > 0


def test_a_second_training_of_the_same_program_reuses_its_compiled_chunks(poisson):
    options = TrainOptions(steps=20, lbfgs_steps=0, **SMALL)
    train(poisson, options)
    kernels = [k for k in training._KERNELS.values() if k.program is poisson]
    cached = dict(kernels[-1]._cache)
    again = train(poisson, options)
    assert [k for k in training._KERNELS.values() if k.program is poisson][-1] is kernels[-1]
    assert kernels[-1]._cache == cached and again.steps == 20


def test_solve_lowers_an_equal_system_once(examples_dir):
    from runtime.pinn.solve import lowered

    first = lowered(pl.load(f"{examples_dir}/heat1d.pde"), PINNOptions(layers=(4,)))
    assert lowered(pl.load(f"{examples_dir}/heat1d.pde"), PINNOptions(layers=(4,))) is first
    assert lowered(pl.load(f"{examples_dir}/heat1d.pde"), PINNOptions(layers=(5,))) is not first


@pytest.mark.parametrize("budget, message", [
    ("forever", "budget 'forever' is not available; choose one of quick, default, long"),
    (-3.0, "budget must be a positive number of seconds"),
])
def test_a_bad_budget_is_refused(budget, message):
    with pytest.raises(OptionError, match=message):
        TrainOptions(budget=budget)


def test_the_command_line_takes_a_budget_and_switches(examples_dir, tmp_path, capsys):
    out = tmp_path / "r.npz"
    code = main(["solve", f"{examples_dir}/heat1d.pde", "--method", "pinn", "--budget", "3",
                 "--causal", "off", "--adaptive-sampling", "off", "--points", "64",
                 "--layers", "6", "--out", str(out), "--quiet"])
    assert code in (0, 4)
    meta = json.loads(str(np.load(out)["meta"]))
    assert meta["options"]["budget"] == "3" or meta["options"]["budget"] == 3.0
    assert meta["causal_eps"] is None and "stop_reason" in meta


def test_solve_reports_the_phases_and_evaluates_in_float64(examples_dir):
    sol = runtime.solve(pl.load(f"{examples_dir}/poisson2d.pde"), "pinn", steps=50,
                        lm_steps=20, optimizer="lm", layers=(8, 8), points=400, grid=11)
    assert [p["dtype"] for p in sol.meta["phases"]] == ["float32", "float64"]
    value = sol("u", x=np.array([0.3]), y=np.array([0.6]))
    assert value.dtype == np.float64 and np.isfinite(value).all()


@pytest.mark.slow
def test_an_interrupted_lm_phase_resumes_to_the_same_result(examples_dir, tmp_path):
    import os
    import signal

    from runtime.observe.interrupt import Interrupted

    system = pl.load(f"{examples_dir}/heat1d.pde")
    options = dict(layers=(6, 6), points=200, boundary_points=32, initial_points=32,
                   steps=40, lm_steps=40, optimizer="lm", chunk=20)
    reference = runtime.solve(system, "pinn", **options)

    def stop(progress):
        if progress["step"] == 60:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(Interrupted, match="after step 60 of 80"):
        runtime.solve(system, "pinn", checkpoint=str(tmp_path), checkpoint_every=0,
                      observers=(stop,), **options)
    resumed = runtime.solve(system, "pinn", checkpoint=str(tmp_path), resume=True, **options)
    assert np.array_equal(reference.values["u"], resumed.values["u"])
    assert resumed.meta["loss_history"] == reference.meta["loss_history"]
