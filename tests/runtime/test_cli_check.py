"""`pdelang check FILE.pde`: exit 0 and the system as math on good files, exit 1 with
file:line:col and a caret (no traceback) on bad ones, exit 2 on a wrong command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
BAD = ROOT / "tests" / "pdelang" / "fixtures" / "bad"

CLASSIFICATIONS = {
    "heat1d": "parabolic, linear, 1 field, 1D + time",
    "wave1d": "hyperbolic, linear, 1 field, 1D + time",
    "advection1d": "hyperbolic, linear, 1 field, 1D + time",
    "burgers1d": "parabolic, nonlinear, 1 field, 1D + time",
    "poisson2d": "elliptic, linear, 1 field, 2D",
    "reaction_diffusion2d": "parabolic, linear, 2 fields, 2D + time",
}

MISSING_OPERAND = """\
problem "missing operand"
space x in [0, 1]
field u(x)

pde d(u, x, 2) = 2 * * x
bc u = 0 at x = 0
bc u = 0 at x = 1
"""


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "runtime.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


# -- in a subprocess: what a user sees -------------------------------------------------


def test_check_a_good_file():
    ran = run_cli("check", str(EXAMPLES / "heat1d.pde"))
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == "# heat 1d: parabolic, linear, 1 field, 1D + time"
    assert "pde   u_t = alpha*u_xx" in ran.stdout
    assert ran.stderr == ""


def test_check_a_bad_file(tmp_path):
    path = tmp_path / "missing_operand.pde"
    path.write_text(MISSING_OPERAND)
    ran = run_cli("check", str(path))
    assert ran.returncode == 1
    assert ran.stdout == ""
    err = ran.stderr
    assert f"{path}:5:22:" in err
    assert "pde d(u, x, 2) = 2 * * x" in err
    assert "\n   |                      ^\n" in err
    assert "expected an expression" in err
    assert "Traceback" not in err


def test_code_in_a_bad_file_is_not_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pde"
    path.write_text(f"param k = __import__('os').system('touch {marker}')\n")
    ran = run_cli("check", str(path))
    assert ran.returncode == 1 and "Traceback" not in ran.stderr
    assert not marker.exists()


@pytest.mark.parametrize("args", [[], ["frobnicate", "x.pde"], ["check"],
                                  ["check", "a.pde", "b.pde"], ["--nope"]])
def test_wrong_command_lines_exit_2(args):
    ran = run_cli(*args)
    assert ran.returncode == 2
    assert "usage:" in ran.stderr and "Traceback" not in ran.stderr


def test_help_names_the_commands():
    ran = run_cli("--help")
    assert ran.returncode == 0
    assert "check" in ran.stdout and "solve" in ran.stdout


# -- in-process: the same entry point, faster ------------------------------------------


@pytest.mark.parametrize("name", sorted(CLASSIFICATIONS))
def test_check_examples(name, capsys):
    assert main(["check", str(EXAMPLES / f"{name}.pde")]) == 0
    out, err = capsys.readouterr()
    assert CLASSIFICATIONS[name] in out.splitlines()[0]
    assert err == ""


@pytest.mark.parametrize("path", sorted(BAD.glob("*.pde")), ids=lambda p: p.stem)
def test_check_bad_fixtures(path, capsys):
    assert main(["check", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"{path}:")
    assert "^" in err and "Traceback" not in err


def test_missing_file(capsys):
    assert main(["check", "/nonexistent/dir/nope.pde"]) == 1
    out, err = capsys.readouterr()
    assert "nope.pde" in err and "does not exist" in err


def test_directory_instead_of_file(tmp_path, capsys):
    assert main(["check", str(tmp_path)]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_relative_data_paths_start_at_the_file(tmp_path, capsys, monkeypatch):
    (tmp_path / "obs.csv").write_text("x,u\n0.5,0.1\n")
    (tmp_path / "inverse.pde").write_text(
        "param k ~ 1\nspace x in [0, 1]\nfield u(x)\npde d(u, x, 2) = k\n"
        'bc u = 0 at x = 0\nbc u = 0 at x = 1\ndata "obs.csv"\n')
    monkeypatch.chdir(ROOT)
    assert main(["check", str(tmp_path / "inverse.pde")]) == 0
    assert "1 unknown parameter(s)" in capsys.readouterr().out


@pytest.mark.parametrize("table, words", [
    ("x,u\n0.5,0.1\n1.25,0.2\n", "line 3, row 2: x = 1.25 lies outside [0, 1]"),
    ("x\n0.5\n", "gives no field"),
])
def test_check_catches_observations_that_cannot_be_used(tmp_path, capsys, table, words):
    (tmp_path / "obs.csv").write_text(table)
    (tmp_path / "inverse.pde").write_text(
        "param k ~ 1\nspace x in [0, 1]\nfield u(x)\npde d(u, x, 2) = k\n"
        'bc u = 0 at x = 0\nbc u = 0 at x = 1\ndata "obs.csv"\n')
    assert main(["check", str(tmp_path / "inverse.pde")]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'inverse.pde'}:7:1: data error" in err and words in err


def test_usage_errors_in_process(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_check_does_not_import_jax(examples_dir):
    """`pdelang check` reads and validates; JAX (1-2 s to import) is for solving."""
    code = ("import sys; from runtime.cli import main; "
            f"main(['check', {str(examples_dir + '/heat1d.pde')!r}]); "
            "print('jax' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
