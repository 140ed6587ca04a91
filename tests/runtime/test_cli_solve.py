"""`pdelang solve` and `pdelang show --method fd` as users run them."""

import json
import subprocess
import sys

import numpy as np
import pytest

from runtime.cli import main


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "runtime", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_solve_prints_the_error_and_writes_both_files(examples_dir, tmp_path):
    out, png = tmp_path / "r.npz", tmp_path / "r.png"
    done = run("solve", f"{examples_dir}/poisson2d.pde", "--grid", "33", "--out", str(out),
               "--plot", str(png))
    assert done.returncode == 0, done.stderr
    assert "relative L2 error of u" in done.stdout
    assert "using fd" in done.stderr                    # the method was chosen and said so
    with np.load(out) as data:
        assert data["u"].shape == (33, 33)
        assert json.loads(str(data["meta"]))["method"] == "fd"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_progress_shows_unless_quiet(examples_dir, capsys):
    assert main(["solve", f"{examples_dir}/heat1d.pde", "--grid", "17", "--frames", "3"]) == 0
    assert "t = 0.5 of 0.5" in capsys.readouterr().err
    assert main(["solve", f"{examples_dir}/heat1d.pde", "--grid", "17", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_per_coordinate_grid_and_fd_options(examples_dir, tmp_path, capsys):
    out = tmp_path / "rd.npz"
    assert main(["solve", f"{examples_dir}/reaction_diffusion2d.pde", "--grid", "x=17,y=9",
                 "--accuracy", "4", "--frames", "2", "--out", str(out), "--quiet"]) == 0
    with np.load(out) as data:
        assert data["u"].shape == (2, 17, 9) and data["v"].shape == (2, 17, 9)


@pytest.mark.parametrize("args, status", [
    (["solve"], 2),
    (["solve", "x.pde", "--method", "magic"], 2),
    (["solve", "x.pde", "--grid", "abc"], 2),
    (["solve", "x.pde", "--grid", "x=2"], 2),
    (["solve", "x.pde", "--dt", "-1"], 2),
    (["show", "x.pde"], 2),
])
def test_wrong_command_lines_exit_2(args, status):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == status


def test_input_errors_exit_1_without_a_traceback(examples_dir, tmp_path):
    out = tmp_path / "never.npz"
    done = run("solve", f"{examples_dir}/heat1d.pde", "--grid", "65", "--dt", "0.5",
               "--integrator", "rk4", "--out", str(out))
    assert done.returncode == 1
    assert "stability limit" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()
    bad = tmp_path / "bad.pde"
    bad.write_text("space x in [0, 1]\nfield u(x)\npde d(u, x, 2) = 1\nbc u = 0 at x = 0\n")
    done = run("solve", str(bad))
    assert done.returncode == 1 and "bad.pde" in done.stderr and "Traceback" not in done.stderr


def test_an_existing_output_survives_a_failed_solve(examples_dir, tmp_path):
    out = tmp_path / "keep.npz"
    out.write_bytes(b"precious")
    assert main(["solve", f"{examples_dir}/heat1d.pde", "--dt", "0.5", "--integrator", "rk4",
                 "--out", str(out), "--quiet"]) == 1
    assert out.read_bytes() == b"precious"


def test_show_prints_every_stage(examples_dir, capsys):
    assert main(["show", f"{examples_dir}/heat1d.pde", "--method", "fd", "--grid", "9"]) == 0
    text = capsys.readouterr().out
    for stage in ("[grid]", "[equations]", "[boundary closures]", "[stencils]", "[program]"):
        assert stage in text
    assert "u_xx: d^2/dx^2: (1*f[i-1] - 2*f[i] + 1*f[i+1]) / hx^2" in text
    assert "u[0] = 1.3333333333333333*u[1] - 0.3333333333333333*u[2]" in text
    assert main(["show", f"{examples_dir}/poisson2d.pde", "--method", "fd"]) == 0
    assert "residual(U, params) -> R" in capsys.readouterr().out


def test_show_odil_prints_the_space_time_program_and_the_loss(examples_dir, capsys):
    assert main(["show", f"{examples_dir}/heat_inverse.pde", "--method", "odil",
                 "--grid", "9"]) == 0
    text = capsys.readouterr().out
    assert "u_t: d/dt: (-1/2*f[i-1] + 1/2*f[i+1]) / ht" in text      # time is a grid axis
    assert "unknowns: every node of u on the 9 x 9 grid (81 values)" in text
    assert "unknown parameter k, first guess 0.5" in text
    assert "data: 205 observations of u" in text
    assert main(["show", f"{examples_dir}/heat1d.pde", "--method", "odil", "--grid", "9"]) == 0
    assert "by sparse Newton" in capsys.readouterr().out
