"""The files `pdelang solve` writes, checked end to end (README.md, "The command line" and
"Output files").

The command line runs in-process through `runtime.cli.main` (the same code `pdelang` runs)
on small grids with few frames, so that JAX compiles each example once and the file stays
fast; the Solution, Progress and writer code paths are the real ones.
"""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pytest

from runtime.cli import main
from runtime.observe.progress import Progress

HEAT = ["--grid", "17", "--frames", "4"]


def solve(*args: str) -> int:
    return main(["solve", *args])


def heat_exact(t: np.ndarray, x: np.ndarray, alpha: float = 0.1) -> np.ndarray:
    return np.cos(np.pi * x[None, :]) * np.exp(-alpha * np.pi**2 * t[:, None])


# -- .npz --------------------------------------------------------------------------------

def test_npz_holds_coordinates_fields_and_meta(examples_dir, tmp_path, capsys):
    out = tmp_path / "r.npz"
    assert solve(f"{examples_dir}/heat1d.pde", *HEAT, "--out", str(out), "--quiet") == 0
    assert f"wrote {out}" in capsys.readouterr().out
    with np.load(out) as data:
        assert sorted(data.files) == ["meta", "t", "u", "u_t", "u_tt", "x"]
        t, x, u = data["t"], data["x"], data["u"]
        assert data["u_t"].shape == data["u_tt"].shape == u.shape      # the rates at the frames
        meta = json.loads(str(data["meta"]))
    assert t.shape == (4,) and x.shape == (17,)
    assert np.allclose(x, np.linspace(0, 1, 17)) and np.allclose(t, np.linspace(0, 0.5, 4))
    assert u.shape == (4, 17)                     # axes in the argument order of u(t, x)
    assert meta["method"] == "fd" and meta["problem"] == "heat 1d"
    assert meta["options"]["grid"] == {"x": 17}
    assert {"python", "jax", "numpy", "sympy"} <= set(meta["versions"])
    assert meta["wall_time_s"] > 0
    exact = heat_exact(t, x)
    error = np.linalg.norm(u - exact) / np.linalg.norm(exact)
    assert meta["relative_l2_error"]["u"] == pytest.approx(error, rel=1e-9)
    assert error < 1e-2


def test_probes_are_written_and_printed_and_a_bad_one_stops_before_the_solve(
        examples_dir, tmp_path, capsys):
    out = tmp_path / "r.npz"
    assert solve(f"{examples_dir}/heat1d.pde", *HEAT, "--out", str(out), "--quiet",
                 "--probe", "d(u, x) at x = 0.25", "--probe", "u^2 at t = 0.5, x = 0.5") == 0
    printed = capsys.readouterr().out
    assert "probe d(u, x) at x = 0.25: over t (4 values)" in printed
    with np.load(out) as data:
        series, point, t = data["probe.1"], data["probe.2"], data["t"]
        meta = json.loads(str(data["meta"]))
    # d(u, x) of cos(pi x) exp(-alpha pi^2 t) at x = 1/4, over the frames: second order
    exact = -np.pi * np.sin(np.pi / 4) * np.exp(-0.1 * np.pi ** 2 * t)
    np.testing.assert_allclose(series, exact, atol=2e-2)
    assert point.shape == () and abs(point - heat_exact(t[-1:], np.array([0.5]))[0, 0] ** 2) < 1e-3
    assert meta["probes"][0] == {"name": "probe.1", "expression": "d(u, x) at x = 0.25",
                                 "at": {"x": 0.25}, "axes": ["t"]}
    for probe, words in [("d(u, y) at x = 0.5", "coordinates"),
                         ("u at x = 3", "outside [0, 1]")]:
        assert solve(f"{examples_dir}/heat1d.pde", *HEAT, "--quiet", "--probe", probe) == 1
        captured = capsys.readouterr()
        assert words in captured.err and "Traceback" not in captured.err
        assert "by fd" not in captured.out                  # refused before the solve


def test_npz_axes_follow_the_declared_argument_order(examples_dir, tmp_path):
    text = (tmp_path / "heat_xt.pde")
    text.write_text(open(f"{examples_dir}/heat1d.pde").read()
                    .replace("field u(t, x)", "field u(x, t)"))
    out = tmp_path / "xt.npz"
    assert solve(str(text), *HEAT, "--out", str(out), "--quiet") == 0
    with np.load(out) as data:
        assert data["u"].shape == (17, 4)         # u(x, t): x first
        assert np.allclose(data["u"].T, heat_exact(data["t"], data["x"]), atol=1e-2)


# -- pictures and animations -------------------------------------------------------------

def test_plot_is_a_png_of_sensible_size(examples_dir, tmp_path):
    image = pytest.importorskip("PIL.Image", reason="Pillow (a matplotlib dependency) is "
                                "needed to decode the picture")
    png = tmp_path / "r.png"
    assert solve(f"{examples_dir}/heat1d.pde", *HEAT, "--plot", str(png), "--quiet") == 0
    with image.open(png) as picture:
        picture.load()
        assert picture.format == "PNG"
        width, height = picture.size
    assert 200 <= width <= 5000 and 200 <= height <= 5000


def test_animate_writes_a_gif_with_one_frame_per_output_time(examples_dir, tmp_path):
    image = pytest.importorskip("PIL.Image", reason="Pillow is needed to write and read GIFs")
    gif = tmp_path / "r.gif"
    assert solve(f"{examples_dir}/heat1d.pde", "--grid", "17", "--frames", "5", "--animate",
                 str(gif), "--quiet") == 0
    with image.open(gif) as movie:
        assert movie.format == "GIF"
        assert movie.n_frames == 5
        assert min(movie.size) >= 100
    assert [p.name for p in tmp_path.iterdir()] == ["r.gif"]     # no temporary file left


def test_animate_of_a_steady_problem_exits_1_and_says_why(examples_dir, tmp_path, capsys):
    gif = tmp_path / "p.gif"
    assert solve(f"{examples_dir}/poisson2d.pde", "--grid", "9", "--animate", str(gif),
                 "--quiet") == 1
    err = capsys.readouterr().err
    assert "does not depend on time" in err and "--plot" in err
    assert "Traceback" not in err
    assert not gif.exists() and list(tmp_path.iterdir()) == []


# -- netCDF -------------------------------------------------------------------------------

def test_nc_is_readable_by_xarray(examples_dir, tmp_path):
    xr = pytest.importorskip("xarray", reason="xarray (the netcdf/test extra) is not installed")
    pytest.importorskip("h5netcdf", reason="h5netcdf (the netcdf/test extra) is not installed")
    out = tmp_path / "r.nc"
    assert solve(f"{examples_dir}/heat1d.pde", *HEAT, "--out", str(out), "--quiet") == 0
    with xr.open_dataset(out, engine="h5netcdf") as dataset:
        dataset.load()
    assert set(dataset.coords) == {"t", "x"}
    assert dataset["x"].shape == (17,) and dataset["t"].shape == (4,)
    assert list(dataset.data_vars) == ["u"] and dataset["u"].dims == ("t", "x")
    meta = json.loads(dataset.attrs["meta"])
    assert meta["method"] == "fd" and meta["relative_l2_error"]["u"] < 1e-2
    exact = heat_exact(dataset["t"].values, dataset["x"].values)
    assert np.allclose(dataset["u"].values, exact, atol=1e-2)


# -- progress ----------------------------------------------------------------------------

class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_rewrites_one_line_on_a_terminal():
    stream = FakeTerminal()
    with Progress(stream=stream, span=(0.0, 1.0)) as progress:
        progress(0.25, None)
        progress(1.0, None)
    text = stream.getvalue()
    writes = text.split("\r")[1:]
    assert text.startswith("\r") and len(writes) == 2
    assert "t = 0.25 of 1" in writes[0] and "25.0%" in writes[0]
    assert "t = 1 of 1" in writes[1] and "100.0%" in writes[1]
    assert len(writes[1].rstrip("\n")) >= len(writes[0])    # covers the previous line
    assert text.endswith("\n") and text.count("\n") == 1     # one newline, at the end


def test_progress_prints_plain_lines_to_a_file_and_nothing_when_disabled():
    stream = io.StringIO()
    with Progress(stream=stream, span=(0.0, 1.0)) as progress:
        progress(1.0, None)
    assert "\r" not in stream.getvalue() and stream.getvalue().endswith("\n")
    quiet = FakeTerminal()
    with Progress(enabled=False, stream=quiet, span=(0.0, 1.0)) as progress:
        progress(0.5, None)
    assert quiet.getvalue() == ""


def test_solve_shows_progress_on_a_terminal_unless_quiet(examples_dir, monkeypatch, capsys):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert solve(f"{examples_dir}/heat1d.pde", *HEAT) == 0
    shown = terminal.getvalue()
    assert "\r" in shown and "t = 0.5 of 0.5" in shown
    terminal.seek(0), terminal.truncate()
    assert solve(f"{examples_dir}/heat1d.pde", *HEAT, "--quiet") == 0
    assert terminal.getvalue() == ""
    assert "relative L2 error of u" in capsys.readouterr().out


# -- failures never leave partial files --------------------------------------------------

@pytest.mark.parametrize("suffix", [".npz", ".nc"])
def test_a_failed_solve_leaves_the_old_file_byte_identical(examples_dir, tmp_path, capsys,
                                                           suffix):
    if suffix == ".nc":
        pytest.importorskip("xarray", reason="xarray is needed for .nc output")
        pytest.importorskip("h5netcdf", reason="h5netcdf is needed for .nc output")
    out = tmp_path / f"r{suffix}"
    assert solve(f"{examples_dir}/heat1d.pde", *HEAT, "--out", str(out), "--quiet") == 0
    before = out.read_bytes()
    capsys.readouterr()
    assert solve(f"{examples_dir}/heat1d.pde", *HEAT, "--dt", "0.5", "--integrator", "rk4",
                 "--out", str(out), "--quiet") == 1
    err = capsys.readouterr().err
    assert "stability limit" in err and "Traceback" not in err
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [out.name]     # no temporary file left
