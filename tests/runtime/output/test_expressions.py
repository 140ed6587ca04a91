"""Expressions of the language on a Solution (`sol("d(u, x)")`, `sol.integral("u")`): the
solve's stencils and interpolants at its order, checked against exact solutions."""

from pathlib import Path

import numpy as np
import pytest

import pdelang as pl
import runtime
from runtime.errors import OptionError
from runtime.output.solution import Solution

from ..heat_case import exact as heat_exact
from ..heat_case import heat_mode

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
RNG = np.random.default_rng(2026)
X, Y = RNG.random(1000), RNG.random(1000)

POISSON = pl.parse("""
space x in [0, 1], y in [0, 1]
field u(x, y)
param k = 2
pde d(u, x, 2) + d(u, y, 2) = -k*pi^2*sin(pi*x)*sin(pi*y)
bc u = 0 at x = 0
bc u = 0 at x = 1
bc u = 0 at y = 0
bc u = 0 at y = 1
exact u = sin(pi*x)*sin(pi*y)
""")


def poisson(n: int, accuracy: int) -> Solution:
    return runtime.solve(POISSON, method="fd", grid=n, accuracy=accuracy)


@pytest.mark.parametrize("accuracy, least", [(2, 1.8), (4, 3.7)])
def test_derivatives_at_random_points_converge_at_the_solves_order(accuracy, least):
    # measured at 33 -> 65: order 2.12 (accuracy 2), 4.25 (accuracy 4)
    exact = np.pi * np.cos(np.pi * X) * np.sin(np.pi * Y)
    errors = [np.abs(poisson(n, accuracy)("d(u, x)", x=X, y=Y) - exact).max()
              for n in (33, 65)]
    assert np.log2(errors[0] / errors[1]) >= least, errors


def test_the_integral_is_as_accurate_as_the_solve():
    # measured: 2.6e-8 from 4/pi^2 at 65 with accuracy 4 (8.1e-5 with accuracy 2)
    sol = poisson(65, 4)
    assert abs(sol.integral("u") - 4 / np.pi ** 2) < 1e-6
    lines = sol.integral("u", over="x", y=[0.25, 0.5])
    np.testing.assert_allclose(lines, 2 / np.pi * np.sin(np.pi * np.array([0.25, 0.5])),
                               atol=1e-6)
    assert abs(sol.integral("u^2") - 0.25) < 1e-6
    assert abs(sol.integral("k") - 2) < 1e-12


def test_an_expression_is_its_terms_combined():
    sol = poisson(33, 4)
    combined = sol("u^2 + k*x*d(u, y) - laplace(u)", x=X, y=Y)
    parts = (sol("u", x=X, y=Y) ** 2 + 2 * X * sol("d(u, y)", x=X, y=Y)
             - sol("d(u, x, 2)", x=X, y=Y) - sol("d(u, y, 2)", x=X, y=Y))
    np.testing.assert_allclose(combined, parts, rtol=1e-12, atol=1e-12)
    # the equation's residual, from the solution alone: near zero
    residual = sol("laplace(u) + 2*pi^2*sin(pi*x)*sin(pi*y)", x=X, y=Y)
    assert np.abs(residual).max() < 2e-3
    line = sol("u(0.5, y)", y=[0.25, 0.5])               # a field at a fixed argument
    np.testing.assert_allclose(line, sol("u", x=0.5, y=[0.25, 0.5]))
    assert isinstance(sol("d(u, x)", x=0.3, y=0.7), float)


def test_linear_interpolation_stays_available_and_is_second_order():
    errors = [np.abs(poisson(n, 4)("u", interpolation="linear", x=X, y=Y)
                     - np.sin(np.pi * X) * np.sin(np.pi * Y)).max() for n in (33, 65)]
    assert abs(np.log2(errors[0] / errors[1]) - 2) < 0.2


def test_wrong_requests_say_what_was_wrong():
    sol = poisson(17, 2)
    for call, words in [
            (lambda: sol("d(u, x)", x=0.5), "missing y"),
            (lambda: sol("u", x=0.5, y=0.5, z=1), "z is not one of them"),
            (lambda: sol("u", x=1.5, y=0.5), "x outside [0, 1]"),
            (lambda: sol("u", interpolation="spline", x=0.5, y=0.5), "interpolation"),
            (lambda: sol.integral("u", over="z"), "not a coordinate"),
            (lambda: sol.integral("u", over="x", x=0.2), "also given")]:
        with pytest.raises(OptionError, match=words.replace("[", r"\[")):
            call()
    with pytest.raises(pl.PdeError, match="unknown name `v`"):
        sol("u + v", x=0.5, y=0.5)


def test_a_shaped_domain_keeps_its_order_to_the_boundary():
    # -laplace(u) = 1 on the unit disk: u = (1 - r^2)/4, which the cut-cell stencils
    # reproduce to rounding; between nodes the stencils narrow where the circle cuts
    sol = runtime.solve(pl.load(EXAMPLES / "poisson_disk.pde"), method="fd", grid=65)
    theta = 2 * np.pi * RNG.random(2000)
    r = np.sqrt(RNG.random(2000)) * (1 - 1e-9)
    px, py = r * np.cos(theta), r * np.sin(theta)
    u = sol("u", x=px, y=py)
    assert np.abs(u - (1 - r ** 2) / 4).max() < 3e-4    # measured 1.2e-4 (cut cells)
    inner = r < 0.85
    assert np.abs(u[inner] - (1 - r[inner] ** 2) / 4).max() < 1e-10
    np.testing.assert_allclose(sol("d(u, x)", x=px[inner], y=py[inner]), -px[inner] / 2,
                               atol=1e-9)
    # measured: 4.2e-5, 5.5e-6, 1.0e-6 from pi/8 at 33, 65, 129
    assert abs(sol.integral("u") - np.pi / 8) < 2e-5
    with pytest.raises(OptionError, match="outside the domain"):
        sol("u", x=0.9, y=0.9)


def test_a_sweep_gives_each_members_expression_and_a_loaded_result_the_same(tmp_path):
    sweep = runtime.solve(POISSON, method="fd", grid=17, sweep={"k": [1.0, 3.0]})
    both = sweep("k*u", x=[0.5, 0.25], y=0.5)
    assert both.shape == (2, 2)
    np.testing.assert_allclose(both[1] / both[0], 9.0)      # k u, u proportional to k
    sol = poisson(17, 4)
    spec = tmp_path / "poisson.pde"
    spec.write_text(POISSON.to_pde())
    saved = Solution(pl.load(spec), sol.grid, sol.values, sol.params, sol.meta)
    loaded = Solution.load(saved.save(tmp_path / "r.npz"), spec)
    np.testing.assert_allclose(loaded("d(u, x) + u", x=X, y=Y), sol("d(u, x) + u", x=X, y=Y),
                               rtol=0, atol=1e-14)


def test_time_derivatives_and_space_derivatives_of_a_heat_solution_agree():
    sol = runtime.solve(heat_mode(), method="fd", grid=65, accuracy=4)
    t = RNG.random(200) * 0.1
    x = RNG.random(200)
    exact = heat_exact(t, x)
    assert np.abs(sol("u", t=t, x=x) - exact).max() < 1e-7
    assert np.abs(sol("d(u, t)", t=t, x=x) + np.pi ** 2 * exact).max() < 1e-5
    assert np.abs(sol("d(u, t) - d(u, x, 2)", t=t, x=x)).max() < 1e-5
    assert sol("u", x=0.5) == pytest.approx(np.exp(-0.1 * np.pi ** 2), abs=1e-7)  # t: end
    energy = sol.integral("u^2", t=[0.0, 0.1])
    np.testing.assert_allclose(energy, 0.5 * np.exp(-2 * np.pi ** 2 * np.array([0, 0.1])),
                               rtol=1e-6)


def test_a_shock_capturing_result_is_read_without_new_extrema():
    # cubic polynomials across Burgers' shock overshoot the nodes (by 1.3e-5 at 1025
    # nodes); WENO and MUSCL results are read linearly
    sol = runtime.solve(pl.load(EXAMPLES / "burgers_shock.pde"), method="fd", grid=129,
                        scheme="weno5", integrator="ssprk3")
    x = np.linspace(-1, 1, 4001)
    last = sol.values["u"][-1]
    between = sol("u", x=x)
    assert last.min() <= between.min() and between.max() <= last.max()
    assert np.abs(sol("u", interpolation="cubic", x=x)).max() > np.abs(last).max()


def test_an_integral_over_time_follows_the_interpolant_between_frames():
    decay = pl.parse("""
    time t in [0, 2]
    field u(t)
    pde d(u, t) = -u
    ic u = 1
    """)
    sol = runtime.solve(decay, method="fd")
    # measured: 1.4e-8 and 9.9e-9 (Gauss points through the quintic Hermite between the
    # 21 frames; the frames' Lagrange weights gave 8.7e-7)
    assert abs(sol.integral("u") - (1 - np.exp(-2))) < 1e-7
    assert abs(sol.integral("u^2") - (1 - np.exp(-4)) / 2) < 1e-7
