"""Faults met during `pdelang solve`, end to end: broken data files, a solution that blows
up, a training that diverges. Each gives exit status 1, a message that says where and why,
no traceback, and no output file. (The readers' own checks: tests/pdelang/test_data.py.)"""

import numpy as np
import pytest

from runtime.cli import main

SYSTEM = "space x in [0, 1]\nfield u(x)\npde d(u, x, 2) = c\nbc u = 0 at x = 0\n" \
         "bc u = 0 at x = 1\n"
INVERSE = "param c ~ 1\n" + SYSTEM


def write_data(folder):
    np.save(folder / "square.npy", np.ones((3, 3)))
    np.save(folder / "with_nan.npy", np.array([0.0, 1.0, np.nan, 2.0]))
    (folder / "unknown_column.csv").write_text("x,w\n0.5,1\n")
    (folder / "not_a_number.csv").write_text("x,u\n0.5,1\n0.25,abc\n")


@pytest.mark.parametrize("text, says", [
    ('param c(x) = load("missing.npy")\n' + SYSTEM, "missing.npy' does not exist"),
    ('param c(x) = load("square.npy")\n' + SYSTEM, "has 2 axes (shape (3, 3))"),
    ('param c(x) = load("with_nan.npy")\n' + SYSTEM, "contains 1 NaN or infinite value(s)"),
    (INVERSE + 'data "unknown_column.csv"\n', "the column(s) 'w' name no coordinate or field"),
    (INVERSE + 'data "not_a_number.csv"\n', "line 3, column 'u': 'abc' is not a number"),
])
def test_a_broken_data_file_stops_the_solve(tmp_path, capsys, text, says):
    write_data(tmp_path)
    (tmp_path / "p.pde").write_text(text)
    out = tmp_path / "r.npz"
    assert main(["solve", str(tmp_path / "p.pde"), "--quiet", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'p.pde'}:" in err and "data error" in err and says in err
    assert "^" in err and "Traceback" not in err
    assert not out.exists()


def test_a_blow_up_names_the_interval_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "blowup.pde").write_text(
        "time t in [0, 1]\nfield u(t)\npde d(u, t) = u^2\nic u = 10 at t = 0\n")
    out = tmp_path / "r.npz"
    # fixed steps: the state turns NaN/Inf (u = 10/(1 - 10 t) blows up at t = 0.1)
    assert main(["solve", str(tmp_path / "blowup.pde"), "--integrator", "rk4", "--quiet",
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "solve error: the solution became NaN or Inf between t = 0.1 and t = 0.15" in err
    assert "--dt" in err and "--integrator sdirk2" in err and "Traceback" not in err
    assert not out.exists() and not (tmp_path / "r.checkpoint").exists()
    # the default for a system without space, dopri5, finds its step collapsing there
    assert main(["solve", str(tmp_path / "blowup.pde"), "--quiet", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "step size collapsed" in err and "between t = 0.1 and t = 0.15" in err
    assert "Traceback" not in err and not out.exists()


def test_a_diverging_training_names_the_step_and_term(examples_dir, tmp_path, capsys):
    out = tmp_path / "r.npz"
    assert main(["solve", f"{examples_dir}/heat1d.pde", "--method", "pinn", "--lr", "1e30",
                 "--steps", "500", "--lbfgs-steps", "0", "--layers", "8", "--points", "32",
                 "--boundary-points", "16", "--quiet", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "the loss became NaN or infinite at adam step" in err and "(term " in err
    assert "--lr" in err and "Traceback" not in err
    assert not out.exists()
