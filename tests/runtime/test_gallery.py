"""The examples gallery: every example checks; the cheap ones solve on coarse grids."""

import runpy
from pathlib import Path

import numpy as np
import pytest

import pdelang as pl
import runtime
from runtime.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GALLERY = sorted(p.stem for p in EXAMPLES.glob("*.pde"))


@pytest.mark.parametrize("name", GALLERY)
def test_every_example_checks(name, capsys):
    assert main(["check", str(EXAMPLES / f"{name}.pde")]) == 0
    assert capsys.readouterr().out.strip()


def test_the_gallery_lists_every_example():
    gallery = runpy.run_path(str(EXAMPLES / "run_all.py"))
    runs = gallery["all_runs"]()
    assert {r.name for r in runs} == set(GALLERY)
    has_exact = {name for name in GALLERY if pl.load(EXAMPLES / f"{name}.pde").exact}
    assert {r.name for r in runs if r.bound is not None} == has_exact


# name, grid, bound on the relative L2 error on that coarse grid
COARSE = [("helmholtz2d", 17, 3e-2), ("heat1d_dirichlet", 33, 1e-3),
          ("heat2d_periodic", 17, 5e-2), ("schrodinger1d", 33, 5e-2),
          ("clamped_plate", 17, 5e-2)]


@pytest.mark.parametrize("name, grid, bound", COARSE)
def test_cheap_examples_solve_on_coarse_grids(name, grid, bound):
    solution = runtime.solve(pl.load(EXAMPLES / f"{name}.pde"), "fd", grid=grid, frames=3)
    errors = solution.errors()
    assert errors and max(errors.values()) < bound, errors


def test_lotka_volterra_keeps_its_invariant():
    system = pl.load(EXAMPLES / "lotka_volterra.pde")
    solution = runtime.solve(system, "fd", frames=61, integrator="dopri5")
    p = {name: float(system.param(name).value) for name in ("alpha", "beta", "delta", "gamma")}
    prey, pred = np.asarray(solution.values["prey"]), np.asarray(solution.values["pred"])
    assert np.all(prey > 0) and np.all(pred > 0)
    invariant = (p["delta"] * prey - p["gamma"] * np.log(prey) + p["beta"] * pred
                 - p["alpha"] * np.log(pred))
    assert np.ptp(invariant) < 1e-5 * abs(invariant[0])
    assert np.ptp(prey) > 10                      # it does oscillate: prey 10 -> ~0.1 -> ~28


def test_kuramoto_sivashinsky_stays_bounded_and_becomes_chaotic():
    system = pl.load(EXAMPLES / "kuramoto_sivashinsky1d.pde")
    solution = runtime.solve(system, "fd", grid=129, frames=3)
    u = np.asarray(solution.values["u"])
    assert np.isfinite(u).all() and np.abs(u).max() < 5
    assert np.abs(u[-1]).max() > 1.5 * np.abs(u[0]).max()     # the cells have grown


def test_gray_scott_grows_a_pattern():
    system = pl.load(EXAMPLES / "gray_scott2d.pde")
    solution = runtime.solve(system, "fd", frames=2)
    u, v = (np.asarray(solution.values[n]) for n in ("u", "v"))
    assert np.isfinite(u).all() and np.isfinite(v).all()
    assert v.min() >= -1e-9 and u.max() <= 1 + 1e-9
    assert (v[-1] > 0.1).mean() > 5 * (v[0] > 0.1).mean()      # the spots have spread


@pytest.mark.slow
@pytest.mark.timeout(1800)        # every example, PINN trainings among them: ~10 min on 2 cores
def test_run_all_writes_the_gallery(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# title\n\ntext\n")
    gallery = runpy.run_path(str(EXAMPLES / "run_all.py"))
    status = gallery["main"](["--docs", str(tmp_path / "docs"), "--readme", str(readme)])
    assert status == 0, (tmp_path / "docs" / "gallery.md").read_text()
    text = readme.read_text()
    assert text.startswith("# title\n\ntext\n") and "<!-- gallery:end -->" in text
    for name in GALLERY:
        image = tmp_path / "docs" / "images" / f"{name}.png"
        assert image.exists() and image.stat().st_size < 100_000, name
