"""Steady fd and odil split over 4 simulated CPU devices give the one-device result to
rounding.

As in test_sharded_fd.py, each group of cases runs in one subprocess (sharded_worker.py)
that solves every case on one device and over the case's mesh. Split: the residual
evaluations and the colour jvps of the Jacobian (steady fd, odil forward, and odil inverse
with its parameter jvps); not split: the sparse LU on the host. Grids are chosen so that
most axes do not split evenly (the padded layout), over 1-D and 2-D meshes, with
Dirichlet faces parallel to a cut, a fully periodic nonlinear problem (several Newton
steps) and, for odil, the time axis split. The compiled jvps are checked to exchange
halos only: no field gathered whole on a device.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from .sharded_worker import CASES
from .test_sharded_fd import ROUNDING, relative_difference, worker_runs

QUICK = ("steady_dirichlet_mesh2x2", "steady_periodic_mesh1x4", "odil_inverse_mesh2x2")
SLOW = ("steady_dirichlet_mesh4x1", "steady_periodic_mesh2x2", "odil_forward_mesh4x1",
        "odil_forward_mesh2x2", "odil_inverse_mesh1x4")


quick_runs = worker_runs(QUICK)
slow_runs = worker_runs(SLOW)


def check_case(folder: Path, case: str) -> None:
    difference, meta = relative_difference(folder, case)
    assert difference <= ROUNDING
    assert meta["mesh"] == CASES[case][2] and meta["devices"] == 4
    with np.load(folder / f"{case}.npz") as data:
        params = json.loads(str(data["params"]))
        collectives = json.loads(str(data["collectives"]))
    assert params["one"].keys() == params["split"].keys()
    for name, value in params["one"].items():
        assert abs(params["split"][name] - value) <= ROUNDING * abs(value)
    assert collectives.get("collective-permute", 0) > 0          # halos exchanged
    assert "all-gather" not in collectives and "all-to-all" not in collectives


@pytest.mark.parametrize("case", QUICK)
def test_split_steady_solves_match_one_device(quick_runs, case):
    check_case(quick_runs, case)


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW)
def test_more_split_steady_solves_match_one_device(slow_runs, case):
    check_case(slow_runs, case)


def test_the_inverse_case_infers_the_coefficient(quick_runs):
    with np.load(quick_runs / "odil_inverse_mesh2x2.npz") as data:
        params = json.loads(str(data["params"]))
        meta = json.loads(str(data["meta"]))
    assert abs(params["split"]["k"] - 0.1) < 0.005          # the data were made with 0.1
    assert meta["solver"] == "levenberg-marquardt" and meta["iterations"] > 1
