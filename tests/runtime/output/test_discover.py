"""Discovery (issue 19): sparse regression recovers a known sparse formula from samples,
says when its library cannot express a term, and `pdelang discover` turns a saved result
back into a spec."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

import pdelang as pl
import runtime
from runtime.cli import main
from runtime.errors import OptionError
from runtime.output.discover import candidates, parse_library, sparsest

from ..lotka_volterra_case import lotka_volterra, spec_text

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
    (folder / "lv.pde").write_text(spec_text(1, 4))
    assert main(["solve", str(folder / "lv.pde"), "--dt", "0.05", "--fit-steps", "20",
                 "--adam-steps", "20", "--out", str(folder / "lv.npz"), "--quiet"]) in (0, 4)
    return folder


def test_discover_from_the_command_line_writes_a_spec_without_nets(fitted, capsys):
    capsys.readouterr()
    assert main(["discover", str(fitted / "lv.npz"), "--out", str(fitted / "found.pde")]) == 0
    shown = capsys.readouterr().out
    assert "net B ~ " in shown and "relative RMS distance from the net over u in [" in shown
    assert "terms chosen by the data (BIC over" in shown
    found = pl.load(fitted / "found.pde")
    assert not found.nets and not found.data
    assert len(found.equations) == 2 and "B(" not in found.to_pde()


def test_the_data_choose_the_terms_however_rough_the_net(fitted):
    """After 20 fit steps the net is far from 0.9 u v; the refit, judging sets of terms by
    the noise-free data through the integrator, keeps u v alone with beta to 1e-6. Without
    the refit the formula is the net's, not beta's."""
    solution = runtime.output.solution.Solution.load(fitted / "lv.npz", fitted / "lv.pde")
    (found,), _ = solution.discover()
    assert [str(t) for t, _ in found.terms] == ["u(t)*v(t)"]
    assert found.terms[0][1] == pytest.approx(0.9, rel=1e-6)
    assert dict(found.misfit)["u"] < 1e-6 and found.expressed
    (rough,), _ = solution.discover(refit=False)
    assert not rough.misfit and rough.terms != found.terms


def test_discover_says_what_is_wrong_with_the_result_file(fitted, tmp_path, capsys):
    """A missing file, a file that is no result, and a result of another spec: exit 1
    with a message (SPEC section 4), no internal error."""
    (tmp_path / "junk.npz").write_text("not a zip")
    other = tmp_path / "other.pde"
    other.write_text("time t in [0, 1]\nfield u(t), w(t)\npde d(u, t) = -u\n"
                     "pde d(w, t) = -w\nic u = 1 at t = 0\nic w = 1 at t = 0\n")
    for argv, needle in ((["discover", str(tmp_path / "gone.npz")], "is not a file"),
                         (["discover", str(tmp_path / "junk.npz")], "is not a result"),
                         (["discover", str(fitted / "lv.npz"), "--spec", str(other)],
                          "holds no array")):
        capsys.readouterr()
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert needle in err and "internal error" not in err, err


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
    system = pl.parse(spec_text(3, 8), base=tmp_path)
    solution = runtime.solve(system, "fd", dt=0.01, fit_steps=1000)
    (found,), replaced = solution.discover()
    terms = {str(t): c for t, c in found.terms}
    assert list(terms) == ["u(t)*v(t)"], terms
    assert terms["u(t)*v(t)"] == pytest.approx(0.9, rel=0.05)
    assert found.expressed and found.error < 0.05
    assert not replaced.nets


def _terms(found) -> dict[str, float]:
    return {str(t).replace("(t)", "").replace("(t, x)", "").replace("(t, z)", ""): c
            for t, c in found.terms}


@pytest.mark.slow
def test_the_noisy_lotka_volterra_example_is_discovered_and_extrapolates(examples_dir):
    """examples/lotka_volterra_ude.pde (5% noise proportional to the values, t <= 3; the
    published UDE case): the data choose u v alone for each net, beta and gamma within 5%,
    no other term; the found equations solved to t = 6 stay within 10% of the truth
    (relative L2 over both fields, SciPy at 1e-12)."""
    system = pl.load(Path(examples_dir) / "lotka_volterra_ude.pde")
    solution = runtime.solve(system, "fd", misfit="relative", hold_out=0.2)
    found, replaced = solution.discover()
    assert [_terms(f).keys() for f in found] == [{"u*v"}, {"u*v"}], found
    assert _terms(found[0])["u*v"] == pytest.approx(0.9, rel=0.05)
    assert _terms(found[1])["u*v"] == pytest.approx(0.8, rel=0.05)
    assert all(f.expressed for f in found)
    ahead = runtime.solve(replaced, "fd")
    times = ahead.grid["t"]
    assert times[-1] == pytest.approx(6.0)
    truth = solve_ivp(lambda t, y: [1.3 * y[0] - 0.9 * y[0] * y[1],
                                    0.8 * y[0] * y[1] - 1.8 * y[1]],
                      (0, 6), [0.44249, 4.6280], t_eval=times, rtol=1e-12, atol=1e-12).y
    model = np.stack([ahead.values["u"], ahead.values["v"]])
    assert np.linalg.norm(model - truth) <= 0.10 * np.linalg.norm(truth)


@pytest.mark.slow
def test_three_noisy_runs_are_discovered_from_their_fitted_starts(examples_dir):
    """examples/lotka_volterra_runs_ude.pde (three runs from different starts, 5% noise,
    a `run` column): the starts fitted with the nets, u v alone for each net, beta and
    gamma within 5% (measured 1.3% and 0.5%)."""
    system = pl.load(Path(examples_dir) / "lotka_volterra_runs_ude.pde")
    solution = runtime.solve(system, "fd", misfit="relative", hold_out=0.2, fit_steps=1000)
    assert solution.converged and solution.members == 3
    assert len(solution.meta["fit"]["initial_state"]["u"]) == 3
    found, _ = solution.discover()
    assert [_terms(f).keys() for f in found] == [{"u*v"}, {"u*v"}], found
    assert _terms(found[0])["u*v"] == pytest.approx(0.9, rel=0.05)
    assert _terms(found[1])["u*v"] == pytest.approx(0.8, rel=0.05)


@pytest.mark.slow
def test_the_fisher_kpp_reaction_is_discovered_as_r_u_one_minus_u(examples_dir):
    """examples/fisher_kpp_ude.pde (SciPy's front with r = 5, 1% noise): R(u) = r u - r u^2
    with both coefficients within 5% of 5."""
    solution = runtime.solve(pl.load(Path(examples_dir) / "fisher_kpp_ude.pde"), "fd", grid=33,
                             hold_out=0.2)
    (found,), _ = solution.discover()
    terms = _terms(found)
    assert {"u", "u**2"} <= terms.keys(), terms
    assert terms["u"] == pytest.approx(5.0, rel=0.05)
    assert terms["u**2"] == pytest.approx(-5.0, rel=0.05)
    assert all(abs(c) < 1e-2 for t, c in terms.items() if t not in ("u", "u**2"))


@pytest.mark.slow
def test_the_learned_column_flux_is_discovered(examples_dir):
    """examples/column_flux_ude.pde (q = -0.04 T T_z, 0.5% noise): the net inside d(., z)
    is trained through the chain rule, with no step given (the fit steps by dopri5), and
    the data choose T T_z alone, within 5%."""
    system = pl.load(Path(examples_dir) / "column_flux_ude.pde")
    solution = runtime.solve(system, "fd", grid=33, hold_out=0.2)
    assert solution.meta["fit"]["integrator"] == "dopri5"
    (found,), _ = solution.discover("poly2")
    terms = _terms(found)
    assert list(terms) == ["T*Derivative(T, z)"], terms
    assert terms["T*Derivative(T, z)"] == pytest.approx(-0.04, rel=0.05)


def test_a_formula_expresses_the_net_only_within_a_misfit_bound_for_every_method():
    """The refitted formula's data misfit is judged against the trained model's own (fd
    records it under fit, odil at the top of meta) plus the tolerance, and where a result
    records none (pinn) against the fits' verdict bound, never against itself."""
    from types import SimpleNamespace

    from runtime.output.convergence import MISFIT
    from runtime.output.discover import _misfit_bounds

    misfits = {"u": 0.5, "v": 0.01}
    fd = SimpleNamespace(meta={"fit": {"relative_misfit": {"u": 0.02, "v": 0.03}}})
    odil = SimpleNamespace(meta={"relative_misfit": {"u": 0.04, "v": 0.01}})
    pinn = SimpleNamespace(meta={})
    assert _misfit_bounds(fd, misfits, 0.05) == pytest.approx([0.07, 0.08])
    assert _misfit_bounds(odil, misfits, 0.05) == pytest.approx([0.09, 0.06])
    assert _misfit_bounds(pinn, misfits, 0.05) == [MISFIT, MISFIT]
