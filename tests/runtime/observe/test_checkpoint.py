"""Interruption and resumption: SIGTERM/SIGINT save a checkpoint and exit 143/130; --resume
goes on to the bitwise same result as an uninterrupted run; other options are refused."""

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import pdelang as pl
import runtime
from runtime.cli import main
from runtime.errors import OptionError
from runtime.observe.checkpoint import FILE
from runtime.observe.interrupt import Interrupted

# a small network and few points: a 250-step chunk takes a few milliseconds
PINN = ["--method", "pinn", "--steps", "6000", "--lbfgs-steps", "0", "--layers", "8,8",
        "--points", "64", "--boundary-points", "32", "--quiet"]


def command(*args):
    return [sys.executable, "-m", "runtime", "solve", *args]


def interrupt_at_first_checkpoint(args, folder, signum):
    """Start a run, send `signum` once its first checkpoint is written, wait for the end."""
    process = subprocess.Popen(command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 120
    while not (folder / FILE).exists() and process.poll() is None:
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.01)
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)
    return process.returncode, err


@pytest.fixture(scope="module")
def reference(examples_dir, tmp_path_factory):
    """The uninterrupted PINN run, started in the background for the tests below."""
    out = tmp_path_factory.mktemp("reference") / "a.npz"
    process = subprocess.Popen(command(f"{examples_dir}/heat1d.pde", *PINN, "--out", str(out)),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield lambda: (process.communicate(timeout=300), out)[1]
    if process.poll() is None:
        process.kill()


@pytest.mark.parametrize("signum, status", [       # 21-23 s each, and a reference run
    pytest.param(signal.SIGTERM, 143, marks=pytest.mark.slow),   # beside: the slow lane
    pytest.param(signal.SIGINT, 130, marks=pytest.mark.slow)])   # (fd's stays in the default)
def test_pinn_killed_and_resumed_equals_the_uninterrupted_run(examples_dir, tmp_path,
                                                              reference, signum, status,
                                                              capsys):
    folder, out = tmp_path / "ck", tmp_path / "b.npz"
    args = [f"{examples_dir}/heat1d.pde", *PINN, "--out", str(out), "--checkpoint", str(folder)]
    code, err = interrupt_at_first_checkpoint(args, folder, signum)
    assert code == status, err
    name = signal.Signals(signum).name
    assert f"interrupted by {name} after step" in err and "Traceback" not in err
    assert f"--checkpoint {folder} --resume" in err
    assert not out.exists()
    done = subprocess.run(command(*args, "--resume"), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    with np.load(reference()) as a, np.load(out) as b:
        assert np.array_equal(a["u"], b["u"])          # bitwise: the same chunks, same state
    if signum == signal.SIGTERM:                       # other options: refused, said why
        assert main(["solve", *args, "--lr", "1e-3", "--resume"]) == 1
        assert "is from another run: learning_rate=0.002 in the checkpoint, 0.001 now" \
            in capsys.readouterr().err


def test_fd_killed_and_resumed_in_a_subprocess(examples_dir, tmp_path):
    folder, out = tmp_path / "ck", tmp_path / "c.npz"
    args = [f"{examples_dir}/heat1d.pde", "--grid", "33", "--frames", "40", "--dt", "2e-5",
            "--out", str(out), "--quiet", "--checkpoint", str(folder)]
    code, err = interrupt_at_first_checkpoint(args, folder, signal.SIGTERM)
    assert code == 143, err
    assert "interrupted by SIGTERM at t = " in err and not out.exists()
    done = subprocess.run(command(*args, "--resume"), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    system = pl.load(f"{examples_dir}/heat1d.pde")
    uninterrupted = runtime.solve(system, "fd", grid=33, frames=40, dt=2e-5)
    with np.load(out) as b:
        assert np.array_equal(uninterrupted.values["u"], b["u"])


def signal_once_caught(signum):
    """Send `signum` to this process as soon as a handler of ours is installed for it."""
    def send():
        deadline = time.monotonic() + 60
        while signal.getsignal(signum) in (signal.SIG_DFL, signal.default_int_handler):
            if time.monotonic() > deadline:
                return
            time.sleep(0.001)
        os.kill(os.getpid(), signum)
    threading.Thread(target=send, daemon=True).start()


def test_interrupt_without_checkpoint_saves_beside_out(examples_dir, tmp_path, capsys):
    out = tmp_path / "d.npz"
    args = ["solve", f"{examples_dir}/heat1d.pde", "--grid", "33", "--frames", "50", "--dt",
            "1e-5", "--quiet", "--out", str(out)]
    signal_once_caught(signal.SIGTERM)
    assert main(args) == 143
    err = capsys.readouterr().err
    folder = tmp_path / "d.checkpoint"
    assert f"saved in {folder}" in err and (folder / FILE).exists()
    assert f"--checkpoint {folder} --resume" in err
    assert main([*args, "--checkpoint", str(folder), "--resume"]) == 0
    system = pl.load(f"{examples_dir}/heat1d.pde")
    uninterrupted = runtime.solve(system, "fd", grid=33, frames=50, dt=1e-5)
    with np.load(out) as b:
        assert np.array_equal(uninterrupted.values["u"], b["u"])


@pytest.mark.slow               # two L-BFGS compilations: about 25 s
def test_pinn_resumes_inside_the_lbfgs_phase(examples_dir, tmp_path):
    system = pl.load(f"{examples_dir}/heat1d.pde")
    options = dict(layers=(8, 8), points=64, boundary_points=32, steps=500, lbfgs_steps=500,
                   weights="adaptive")
    reference = runtime.solve(system, "pinn", **options)

    def stop(progress):
        if progress["step"] == 750:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(Interrupted, match="after step 750 of 1000"):
        runtime.solve(system, "pinn", checkpoint=str(tmp_path), checkpoint_every=0,
                      observers=(stop,), **options)
    resumed = runtime.solve(system, "pinn", checkpoint=str(tmp_path), resume=True, **options)
    assert np.array_equal(reference.values["u"], resumed.values["u"])
    assert resumed.meta["loss_history"] == reference.meta["loss_history"]


def signal_at(t_stop, signum=signal.SIGINT):
    def observe(t, U, stats):
        if abs(t - t_stop) < 1e-9:
            os.kill(os.getpid(), signum)
    return observe


@pytest.mark.parametrize("integrator", ["rk4", "dopri5", "sdirk2"])
def test_fd_integration_resumes_to_the_same_result(examples_dir, tmp_path, integrator):
    system = pl.load(f"{examples_dir}/heat1d.pde")
    options = dict(grid=33, integrator=integrator, frames=11)
    reference = runtime.solve(system, "fd", **options)
    with pytest.raises(Interrupted, match="interrupted by SIGINT at t = 0.2") as stop:
        runtime.solve(system, "fd", checkpoint=str(tmp_path), observers=(signal_at(0.2),),
                      **options)
    assert stop.value.exit_status == 130
    resumed = runtime.solve(system, "fd", checkpoint=str(tmp_path), resume=True, **options)
    assert np.array_equal(reference.values["u"], resumed.values["u"])
    assert resumed.meta["steps"] == reference.meta["steps"]
    with pytest.raises(OptionError, match="frames=11 in the checkpoint, 12 now"):
        runtime.solve(system, "fd", checkpoint=str(tmp_path), resume=True,
                      **dict(options, frames=12))


def test_resume_needs_a_checkpoint(examples_dir, tmp_path):
    system = pl.load(f"{examples_dir}/heat1d.pde")
    with pytest.raises(OptionError, match="there is no checkpoint in"):
        runtime.solve(system, "fd", grid=17, checkpoint=str(tmp_path), resume=True)
    with pytest.raises(OptionError, match="resume needs the checkpoint folder"):
        runtime.solve(system, "fd", grid=17, resume=True)
