"""PINN training with its points split over 2 and 4 simulated CPU devices gives the
one-device result to rounding.

The cases run in one subprocess (pinn_sharded_worker.py, 4 host devices) on 1, 2 and 4
devices each; point counts (102 interior, 15 per boundary face, 205 observations) leave
the last device padded. Points are drawn on the host, so every device count trains on the
same points, RAR-D's included; what differs is the order in which the devices' partial
sums of the loss and its gradient are added (an all-reduce instead of one device's sum).

Measured (float32, 300 Adam steps): loss history within 1.1e-6 relative, trained values
within 3e-7 of the largest. Float64 (slow case): Adam within 1e-14; L-BFGS then amplifies
that rounding about tenfold every five steps (curvature pairs are differences of nearly
equal gradients, and its line search branches on comparisons), to 7e-7 after 50 steps.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from runtime.cli import main

from .test_sharded_fd import worker_runs

WORKER = Path(__file__).with_name("pinn_sharded_worker.py")
QUICK = ("forward",)
SLOW = ("lbfgs_float64", "resumed", "inverse")    # inverse: the slow lane since issue 19 (CI)
SPLIT = (2, 4)
FLOAT32 = 1e-5            # measured 1.1e-6 (loss), 3e-7 (trained values)

quick_runs = worker_runs(QUICK, WORKER)
slow_runs = worker_runs(SLOW, WORKER)


def differences(folder: Path, case: str, k: int) -> tuple[np.ndarray, float, dict]:
    """Per step, the relative difference of the loss on `k` devices from one device's;
    the largest difference of the trained values relative to the largest value; the meta."""
    with np.load(folder / f"{case}.npz") as data:
        loss, split = data["loss_1"], data[f"loss_{k}"]
        params, split_params = data["params_1"], data[f"params_{k}"]
        meta = json.loads(str(data[f"meta_{k}"]))
    assert loss.shape == split.shape and params.shape == split_params.shape
    return (np.abs(split - loss) / np.abs(loss),
            float(np.max(np.abs(split_params - params)) / np.max(np.abs(params))), meta)


@pytest.mark.parametrize("k", SPLIT)
@pytest.mark.parametrize("case", QUICK)
def test_split_training_matches_one_device(quick_runs, case, k):
    loss, params, meta = differences(quick_runs, case, k)
    assert loss.max() <= FLOAT32 and params <= FLOAT32
    assert meta["devices"] == k and meta["mesh"] == {"points": k}
    assert meta["resamples"] == 2                            # RAR-D at steps 100 and 200


@pytest.mark.slow
@pytest.mark.parametrize("k", SPLIT)
def test_split_inverse_training_matches_one_device(slow_runs, k):
    loss, params, meta = differences(slow_runs, "inverse", k)
    assert loss.max() <= FLOAT32 and params <= FLOAT32
    assert meta["devices"] == k and meta["mesh"] == {"points": k}
    assert meta["options"]["devices"] == k


@pytest.mark.slow
@pytest.mark.parametrize("k", SPLIT)
def test_split_lbfgs_in_float64_matches_one_device(slow_runs, k):
    loss, params, meta = differences(slow_runs, "lbfgs_float64", k)
    assert loss[:100].max() <= 1e-12                  # Adam, with annealed weights
    assert loss.max() <= 1e-5 and params <= 1e-5      # then 50 L-BFGS steps
    assert meta["weights"]["bc x=0"] != 1.0


@pytest.mark.slow
@pytest.mark.parametrize("k", SPLIT)
def test_a_checkpoint_resumes_on_another_device_count(slow_runs, k):
    loss, params, meta = differences(slow_runs, "resumed", k)     # 4 -> 2 and 2 -> 4
    assert loss.max() <= FLOAT32 and params <= FLOAT32
    assert meta["devices"] == k


def test_pinn_takes_devices_on_the_command_line(examples_dir, tmp_path, capsys):
    heat = f"{examples_dir}/heat1d.pde"
    tiny = ["--method", "pinn", "--steps", "2", "--lbfgs-steps", "0", "--layers", "4",
            "--points", "8", "--boundary-points", "8", "--grid", "5", "--frames", "2",
            "--quiet"]
    out = tmp_path / "heat.npz"
    # two training steps do not converge: exit status 4, the file is written all the same
    assert main(["solve", heat, *tiny, "--devices", "1", "--out", str(out)]) == 4
    meta = json.loads(str(np.load(out)["meta"]))
    assert (meta["devices"], meta["mesh"], meta["options"]["devices"]) == (1, {"points": 1}, 1)
    assert main(["solve", heat, *tiny, "--devices", "3"]) == 1
    assert "3 devices asked for, but this run has 1" in capsys.readouterr().err
