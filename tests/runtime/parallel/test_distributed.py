"""A two-process jax.distributed run on localhost writes what a one-process run writes.

Two `pdelang solve` processes, each with 2 simulated CPU devices, join through a
coordinator on 127.0.0.1 (a free port) and split a 2-D periodic heat problem over the 4
devices; process 0 gathers and writes the file, or, with --parts, each process writes its
own block. The one-process file comes from this (one-device) test process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from runtime.cli import main

ROOT = Path(__file__).resolve().parents[3]
PROBLEM = ["--grid", "x=21,y=17", "--frames", "3", "--quiet"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def solve_on_two_processes(pde: str, out: Path, *extra: str) -> list[str]:
    """Run both processes to the end; their standard outputs."""
    port = free_port()
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
               PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "runtime", "solve", pde, *PROBLEM, "--out", str(out),
               "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", *extra]
    processes = [subprocess.Popen(command + ["--process-id", str(k)], env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for k in range(2)]
    try:
        outputs = [p.communicate(timeout=300) for p in processes]
    finally:
        for p in processes:
            p.kill()
    for p, (_, err) in zip(processes, outputs):
        assert p.returncode == 0, err[-3000:]
    return [stdout for stdout, _ in outputs]


@pytest.fixture(scope="module")
def one_process(examples_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("one") / "one.npz"
    assert main(["solve", f"{examples_dir}/heat2d_periodic.pde", *PROBLEM,
                 "--out", str(out)]) == 0
    return out


def arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


@pytest.mark.slow
def test_two_processes_write_the_file_of_one(examples_dir, one_process, tmp_path):
    out = tmp_path / "two.npz"
    stdout = solve_on_two_processes(f"{examples_dir}/heat2d_periodic.pde", out)
    assert f"wrote {out}" in stdout[0] and "wrote" not in stdout[1]   # process 0 writes
    one, two = arrays(one_process), arrays(out)
    assert sorted(one) == sorted(two)
    for name in ("t", "x", "y", "u"):
        np.testing.assert_array_equal(two[name], one[name])
    for name in ("u_t", "u_tt"):
        np.testing.assert_allclose(two[name], one[name], rtol=0,
                                   atol=1e-11 * np.max(np.abs(one[name])))
    meta = json.loads(str(two["meta"]))
    assert (meta["devices"], meta["processes"], meta["mesh"]) == (4, 2, {"x": 2, "y": 2})
    assert sorted(meta) == sorted(json.loads(str(one["meta"])) | {
        "devices": 0, "processes": 0, "mesh": 0})


@pytest.mark.slow
def test_each_process_writes_its_part(examples_dir, one_process, tmp_path):
    out = tmp_path / "parts.npz"
    solve_on_two_processes(f"{examples_dir}/heat2d_periodic.pde", out, "--parts",
                           "--mesh", "x=4")
    one = arrays(one_process)
    parts = [arrays(tmp_path / f"parts.part{k}.npz") for k in range(2)]
    assert all(sorted(p) == sorted(one) for p in parts)
    np.testing.assert_array_equal(np.concatenate([p["x"] for p in parts]), one["x"])
    np.testing.assert_array_equal(np.concatenate([p["u"] for p in parts], axis=1), one["u"])
    for name in ("u_t", "u_tt"):
        np.testing.assert_allclose(np.concatenate([p[name] for p in parts], axis=1), one[name],
                                   rtol=0, atol=1e-11 * np.max(np.abs(one[name])))
    first = json.loads(str(parts[0]["meta"]))["part"]
    assert first == {"process": 0, "processes": 2, "ranges": {"x": [0, 12]}}
