"""Discovery (issue 19): sparse regression recovers a known sparse formula from samples,
says when its library cannot express a term, and `pdelang discover` turns a saved result
back into a spec."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import pdelang as pl
import runtime
from runtime.cli import main
from runtime.errors import OptionError
from runtime.output.discover import candidates, parse_library, sparsest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fd"))
from test_nets import SPEC, lotka_volterra  # noqa: E402

U, V = sp.symbols("u v")


def library_matrix(samples: np.ndarray, terms) -> np.ndarray:
    function = sp.lambdify((U, V), terms, "numpy")
    return np.stack([np.broadcast_to(np.asarray(c, float), len(samples))
                     for c in function(*samples.T)], axis=1)


def test_a_sparse_formula_is_recovered_exactly():
    """2 + 3 u v - 0.5 v^2 from 400 random points, over the 10 terms of poly3."""
    samples = np.random.default_rng(0).uniform((-1, 0), (2, 3), (400, 2))
    terms = candidates((U, V), 3)
    theta = library_matrix(samples, terms)
    y = 2 + 3 * samples[:, 0] * samples[:, 1] - 0.5 * samples[:, 1] ** 2
    xi, error, expressed = sparsest(theta, y)
    found = {str(t): c for t, c in zip(terms, xi) if c != 0}
    assert expressed and error < 1e-12
    assert found.keys() == {"1", "u*v", "v**2"}
    np.testing.assert_allclose([found["1"], found["u*v"], found["v**2"]], [2, 3, -0.5],
                               rtol=1e-10)


def test_a_library_that_cannot_express_the_term_says_so():
    samples = np.random.default_rng(1).uniform(0, 1, (300, 2))
    terms = candidates((U, V), 1)
    y = np.sin(6 * samples[:, 0])
    xi, error, expressed = sparsest(library_matrix(samples, terms), y)
    assert not expressed and error > 0.3
    degree, extras = parse_library("poly2,trig")
    assert (degree, extras) == (2, ("trig",))
    assert sp.sin(U) in candidates((U, V), degree, extras)
    with pytest.raises(OptionError, match="poly9"):
        parse_library("poly9")


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A short fit of u' = 1.3 u - B(u, v), saved with its spec (lv.npz beside lv.pde)."""
    folder = tmp_path_factory.mktemp("fitted")
    times = np.arange(0, 1 + 1e-9, 0.1)
    u, v = lotka_volterra(times)
    np.savetxt(folder / "lv.csv", np.stack([times, u, v], axis=1), delimiter=",",
               header="t,u,v", comments="")
    (folder / "lv.pde").write_text(SPEC.format(end=1, width=4))
    assert main(["solve", str(folder / "lv.pde"), "--dt", "0.05", "--fit-steps", "20",
                 "--out", str(folder / "lv.npz"), "--quiet"]) in (0, 4)
    return folder


def test_discover_from_the_command_line_writes_a_spec_without_nets(fitted, capsys):
    capsys.readouterr()
    assert main(["discover", str(fitted / "lv.npz"), "--out", str(fitted / "found.pde")]) == 0
    shown = capsys.readouterr().out
    assert "net B ~ " in shown and "relative RMS error of the fit over u in [" in shown
    found = pl.load(fitted / "found.pde")
    assert not found.nets and not found.data
    assert len(found.equations) == 2 and "B(" not in found.to_pde()


def test_discover_needs_a_spec_it_can_read(fitted, tmp_path, capsys):
    moved = tmp_path / "elsewhere.npz"
    moved.write_bytes((fitted / "lv.npz").read_bytes())
    capsys.readouterr()
    assert main(["discover", str(moved), "--spec", str(tmp_path / "gone.pde")]) == 1
    assert "--spec" in capsys.readouterr().err


@pytest.mark.slow
def test_the_learned_interaction_is_discovered_as_beta_u_v(tmp_path):
    """Noise-free Lotka-Volterra on [0, 3], u' = 1.3 u - B(u, v): discovery over poly3
    keeps u v alone, with its coefficient within 5% of beta = 0.9."""
    times = np.arange(0, 3 + 1e-9, 0.1)
    u, v = lotka_volterra(times)
    np.savetxt(tmp_path / "lv.csv", np.stack([times, u, v], axis=1), delimiter=",",
               header="t,u,v", comments="")
    system = pl.parse(SPEC.format(end=3, width=8), base=tmp_path)
    solution = runtime.solve(system, "fd", dt=0.01, fit_steps=1000)
    (found,), replaced = solution.discover()
    terms = {str(t): c for t, c in found.terms}
    assert list(terms) == ["u(t)*v(t)"], terms
    assert terms["u(t)*v(t)"] == pytest.approx(0.9, rel=0.05)
    assert found.expressed and found.error < 0.05
    assert not replaced.nets
