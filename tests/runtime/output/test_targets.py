"""The files `pdelang solve` is asked to write are checked before the solve starts: a
request that could not be written exits 1 at once, with the reason, and nothing is solved
(runtime.solve is replaced by a function that fails the test if it is called)."""

from __future__ import annotations

import sys

import pytest

import pdelang as pl
import runtime
from runtime.cli import main
from runtime.errors import OptionError
from runtime.output.targets import check_targets


@pytest.fixture
def no_solve(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the solve started before the output was checked")

    monkeypatch.setattr(runtime, "solve", refuse)


def solve_exit(examples_dir, *args: str) -> int:
    return main(["solve", f"{examples_dir}/heat1d.pde", "--quiet", *args])


def test_nc_without_xarray_fails_before_solving(examples_dir, tmp_path, monkeypatch, capsys,
                                                no_solve):
    monkeypatch.setitem(sys.modules, "xarray", None)          # as if not installed
    assert solve_exit(examples_dir, "--out", str(tmp_path / "r.nc")) == 1
    err = capsys.readouterr().err
    assert "writing .nc files needs xarray" in err and 'pip install "pdelang[netcdf]"' in err
    assert "Traceback" not in err and not list(tmp_path.iterdir())


@pytest.mark.parametrize("flag, name, words", [
    ("--out", "r.txt", "results are written as .npz (or .nc"),
    ("--out", "missing/r.npz", "does not exist"),
    ("--plot", "r.xyz", "matplotlib cannot write .xyz"),
    ("--animate", "r.avi", "animations are written as .gif or .mp4"),
])
def test_unwritable_requests_fail_before_solving(examples_dir, tmp_path, capsys, no_solve,
                                                 flag, name, words):
    assert solve_exit(examples_dir, flag, str(tmp_path / name)) == 1
    assert words in capsys.readouterr().err


def test_animating_a_steady_problem_fails_before_solving(examples_dir, tmp_path, capsys,
                                                         no_solve):
    assert main(["solve", f"{examples_dir}/poisson2d.pde", "--quiet", "--animate",
                 str(tmp_path / "a.gif")]) == 1
    assert "does not depend on time" in capsys.readouterr().err


def test_writable_requests_pass_and_a_missing_writer_is_named(examples_dir, tmp_path,
                                                              monkeypatch):
    system = pl.load(f"{examples_dir}/heat1d.pde")
    check_targets(system, str(tmp_path / "r.npz"), str(tmp_path / "r.pdf"),
                  str(tmp_path / "r.gif"))
    check_targets(system, None, str(tmp_path / "picture"))         # png by default
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(OptionError, match="needs h5py, which is not installed"):
        check_targets(system, str(tmp_path / "r.nc"))
