"""Finite-basis PINNs (`method="fbpinn"`) and their extreme-learning-machine variant
(`method="elm"`), from the same spec as the other methods: against exact solutions, the
least-squares solve against a dense one, and the refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sps

import pdelang as pl
import runtime
from runtime.errors import OptionError
from runtime.pinn.elm import least_squares

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.mark.slow
def test_fbpinn_trains_the_same_spec_as_pinn():
    """du/dx = cos(4 x) on [-pi, pi] in 6 subdomains, briefly trained: the windowed sum
    of small networks fits it; the result says which method made it."""
    system = pl.parse("""\
space x in [-pi, pi]
field u(x)
pde d(u, x) = cos(4*x)
bc u = 0 at x = -pi
exact u = sin(4*x)/4
""")
    solution = runtime.solve(system, "fbpinn", subdomains=6, steps=1500, lbfgs_steps=300,
                             points=400, seed=0)
    assert solution.method == "fbpinn"
    assert solution.meta["options"]["subdomains"] == 6
    assert solution.errors()["u"] < 2e-2, solution.errors()


def test_elm_solves_the_damped_oscillator_in_one_least_squares_solve():
    """u'' + 4 u' + 400 u = 0, u(0) = 1, u'(0) = 0 on [0, 1]: linear, so one Gauss-Newton
    step is the whole solve (measured rel L2 7.9e-8 with 8 subdomains)."""
    system = pl.load(EXAMPLES / "damped_oscillator.pde")
    solution = runtime.solve(system, "elm", subdomains=8)
    assert solution.converged, solution.convergence.reason
    assert "linear in the output weights" in solution.convergence.reason
    assert solution.errors()["u"] < 1e-6, solution.errors()


def test_elm_takes_gauss_newton_steps_on_a_nonlinear_equation():
    """du/dx = -u^2, u(0) = 1 on [0, 2]: u = 1/(1 + x), reached in a few steps."""
    system = pl.parse("""\
space x in [0, 2]
field u(x)
pde d(u, x) = -u^2
bc u = 1 at x = 0
exact u = 1/(1 + x)
""")
    solution = runtime.solve(system, "elm", subdomains=4, layers=(32,))
    assert solution.converged, solution.convergence.reason
    assert 2 <= solution.meta["convergence"]["figures"]["steps"] <= 20
    assert solution.errors()["u"] < 1e-6, solution.errors()


def test_the_least_squares_solve_matches_a_dense_one():
    """Semi-normal equations with refinement against NumPy's SVD-based lstsq, on a sparse,
    badly scaled (column norms over 1e6) but full-rank problem."""
    rng = np.random.default_rng(0)
    A = sps.random(300, 80, density=0.1, random_state=1, format="csr") + sps.eye(300, 80)
    A = A @ sps.diags(10.0 ** rng.uniform(-3, 3, 80))
    rhs = rng.normal(size=300)
    dense = np.linalg.lstsq(A.toarray(), rhs, rcond=None)[0]
    np.testing.assert_allclose(least_squares(sps.csr_matrix(A), rhs), dense, rtol=1e-8,
                               atol=1e-12 * np.abs(dense).max())


def test_elm_refuses_what_it_cannot_solve(tmp_path):
    (tmp_path / "obs.csv").write_text("x,u\n0.5,1.0\n1.0,2.0\n")
    inverse = pl.parse("""\
space x in [0, 1]
field u(x)
param k ~ 1
pde d(u, x) = k
bc u = 0 at x = 0
data "obs.csv"
""", base=tmp_path)
    with pytest.raises(OptionError, match="forward problems"):
        runtime.solve(inverse, "elm")
    with pytest.raises(pl.PdeError, match="overlap"):
        runtime.solve(pl.load(EXAMPLES / "damped_oscillator.pde"), "elm", overlap=1.5)


@pytest.mark.slow               # 11 s of compilation; fbpinn's solves stay in the default lane
def test_show_and_solve_from_the_command_line(tmp_path, capsys):
    """`pdelang show --method fbpinn` prints the decomposition; `pdelang solve --method
    elm --subdomains 4` writes a result whose picture has the subdomains' windows."""
    from runtime.cli import main

    spec = str(EXAMPLES / "damped_oscillator.pde")
    assert main(["show", spec, "--method", "fbpinn"]) == 0
    shown = capsys.readouterr().out
    assert "finite-basis, 4 subdomains (4 in t), overlap 0.5" in shown
    assert main(["show", spec, "--method", "elm"]) == 0
    assert "each subdomain a MLP 1-64-1" in capsys.readouterr().out
    out, picture = tmp_path / "r.npz", tmp_path / "r.png"
    assert main(["solve", spec, "--method", "elm", "--subdomains", "4", "--quiet", "--out",
                 str(out), "--plot", str(picture)]) == 0
    assert out.exists() and picture.stat().st_size > 10_000
    with np.load(out) as arrays:
        meta = json.loads(str(arrays["meta"]))
    assert meta["method"] == "elm" and meta["relative_l2_error"]["u"] < 1e-4


@pytest.mark.parametrize("name, subdomains, bound", [
    ("poisson_disk", 2, 1e-5),          # the value built in by the R-function distance
    pytest.param("annulus_neumann", 4, 2e-4, marks=pytest.mark.slow),   # measured 3.9e-5
])
def test_elm_on_a_shaped_domain(name, subdomains, bound):
    """elm draws its points in the region and on its boundary as pinn does; a normal
    derivative's rows carry their normals."""
    solution = runtime.solve(pl.load(EXAMPLES / f"{name}.pde"), "elm", subdomains=subdomains)
    assert solution.converged, solution.convergence.reason
    assert solution.errors()["u"] < bound, solution.errors()


OSCILLATOR = """\
time t in [0, 2]
field u(t)
pde d(u, t, 2) + d(u, t) + 9*u = 0
ic u = 1 at t = 0
ic d(u, t) = 0 at t = 0
exact u = exp(-t/2)*(cos(sqrt(35)/2*t) + sin(sqrt(35)/2*t)/sqrt(35))
"""


def test_the_time_sweep_stages_march_along_time():
    """Stage k draws points from slab k's reach's start to its own end (the last to the
    end of time), trains slabs k and k+1 with the ones after switched off."""
    from runtime.pinn.fbpinn import FBPINNSolveOptions, sweep_stages
    from runtime.pinn.solve import lowered

    system = pl.parse(OSCILLATOR)
    options = FBPINNSolveOptions(subdomains=4, time_sweep=True)
    stages = sweep_stages(lowered(system, options.network()))
    np.testing.assert_allclose([(lo, hi) for lo, hi, _ in stages],
                               [(0.0, 0.5), (0.375, 1.0), (0.875, 2.0)], rtol=1e-12)
    for k, (_, _, masks) in enumerate(stages):
        ((trained, live),) = masks.values()
        np.testing.assert_array_equal(trained, [i in (k, k + 1) for i in range(4)])
        np.testing.assert_array_equal(live, [i <= k + 1 for i in range(4)])


@pytest.mark.slow
def test_a_time_swept_fbpinn_solves_an_oscillator():
    """Three periods of a damped oscillator, slab by slab: the sweep's answer against the
    exact solution, with each stage reported."""
    solution = runtime.solve(pl.parse(OSCILLATOR), "fbpinn", subdomains=6, time_sweep=True,
                             steps=600, lbfgs_steps=600, optimizer="lbfgs", points=256,
                             seed=0)
    stages = solution.meta["time_sweep"]
    assert [s["slabs"] for s in stages] == [[k + 1, k + 2] for k in range(5)]
    assert solution.errors()["u"] < 2e-2, solution.errors()


@pytest.mark.parametrize("text, options, message", [
    (OSCILLATOR, {"subdomains": 4, "levels": 2}, "one level"),
    (OSCILLATOR, {"subdomains": 2}, "three or more subdomains along time"),
    ("space x in [0, 1]\nfield u(x)\npde d(u, x) = 1\nbc u = 0 at x = 0\n",
     {"subdomains": 4}, "has none"),
])
def test_a_time_sweep_refuses_what_it_cannot_march(text, options, message):
    with pytest.raises(OptionError, match=message):
        runtime.solve(pl.parse(text), "fbpinn", time_sweep=True, steps=1, lbfgs_steps=0,
                      **options)
