"""The command line keeps JAX's compilations on disk (`PDELANG_CACHE`), so a problem
solved before does not compile again; calls of `main` from Python leave JAX's settings
alone."""

import os
import subprocess
import sys
from pathlib import Path

import jax

from runtime.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _solve(cache: str, out: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PDELANG_CACHE": cache, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "runtime", "solve",
                           str(ROOT / "examples" / "poisson2d.pde"), "--grid", "257",
                           "--out", str(out), "--quiet"], env=environment,
                          capture_output=True, text=True, timeout=300)


def test_the_command_line_fills_its_compilation_cache(tmp_path):
    folder = tmp_path / "xla"
    done = _solve(str(folder), tmp_path / "a.npz")
    assert done.returncode == 0, done.stderr
    assert folder.is_dir() and any(folder.iterdir())       # the multigrid program, at least
    off = _solve("off", tmp_path / "b.npz")
    assert off.returncode == 0 and (tmp_path / "b.npz").exists()


def test_main_called_from_python_sets_no_cache(examples_dir, tmp_path):
    before = jax.config.jax_compilation_cache_dir
    assert main(["check", f"{examples_dir}/poisson2d.pde"]) == 0
    assert jax.config.jax_compilation_cache_dir == before
