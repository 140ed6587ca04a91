"""fd split over 4 simulated CPU devices gives the one-device result to rounding.

JAX fixes its device count at start-up, so each group of cases runs in one subprocess
(sharded_worker.py, with XLA_FLAGS asking for 4 host devices) that solves every case on one
device and over the case's mesh; the tests compare the two. Grids are chosen so that most
axes do not split evenly (the padded layout), with 1-D and 2-D meshes, Dirichlet, Neumann
and periodic conditions, halos of width 1 and 2, and each integrator.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .sharded_worker import CASES

WORKER = Path(__file__).with_name("sharded_worker.py")
ROOT = WORKER.parents[3]
QUICK = ("periodic_1d", "mixed_2d_mesh2x2")
SLOW = ("periodic_2d_mesh2x2", "neumann_1d", "wave_1d_accuracy4", "mixed_2d_mesh1x4",
        "periodic_2d_mesh4x1", "sdirk2_2d", "dopri5_1d", "weno5_1d", "muscl_periodic_1d")
ROUNDING = 1e-13        # relative to the field's largest value
RATES_ROUNDING = 1e-8   # u_tt weighs the states' rounding by the stiffest mode's lambda^2
#                         (heat at 65 points: 2.2e-10, where the field's is 2.2e-16)


def run_worker(folder: Path, cases: tuple[str, ...], devices: int = 4,
               worker: Path = WORKER) -> Path:
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
               PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, str(worker), str(folder), *cases], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder


def worker_runs(cases: tuple[str, ...], worker: Path = WORKER):
    """A module fixture: the folder where one `worker` process wrote `cases`."""
    @pytest.fixture(scope="module")
    def runs(tmp_path_factory):
        return run_worker(tmp_path_factory.mktemp("sharded"), cases, worker=worker)

    return runs


quick_runs = worker_runs(QUICK)
slow_runs = worker_runs(SLOW)


def relative_difference(folder: Path, case: str, name: str = "") -> tuple[float, dict]:
    """The split run's largest difference from the one-device run, relative to the
    largest value: of the field, or with `name` "rates" of its rates u_t and u_tt."""
    key = f"_{name}" if name else ""
    with np.load(folder / f"{case}.npz") as data:
        one, split = data[f"one{key}"], data[f"split{key}"]
        meta = json.loads(str(data["meta"]))
    assert one.shape == split.shape
    axes = tuple(range(1, one.ndim)) if name else None     # u_t and u_tt each on its own
    largest = np.max(np.abs(one), axis=axes, keepdims=True)
    return float(np.max(np.abs(split - one) / largest)), meta


@pytest.mark.parametrize("case", QUICK)
def test_split_solves_match_one_device(quick_runs, case):
    difference, meta = relative_difference(quick_runs, case)
    assert difference <= ROUNDING
    assert meta["mesh"] == CASES[case][2] and meta["devices"] == 4
    assert relative_difference(quick_runs, case, "rates")[0] <= RATES_ROUNDING


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW)
def test_more_split_solves_match_one_device(slow_runs, case):
    difference, meta = relative_difference(slow_runs, case)
    rates, _ = relative_difference(slow_runs, case, "rates")
    if meta["integrator"] == "dopri5":
        # error control reacts to norms summed in another order: equal to its tolerance
        assert difference <= 10 * 1e-6
    else:
        assert difference <= ROUNDING and rates <= RATES_ROUNDING

