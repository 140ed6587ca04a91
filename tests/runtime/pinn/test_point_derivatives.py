"""Exact derivatives of pinn-family results at any points (`runtime.pinn.points`): the
evaluator's `derivative` against a closed form, against central differences of its own
values (networks drawn at random, as every solve's networks may be: the derivative needs
no accurate solution), through hard constraints (whose built-in boundary values fix the
derivatives along the boundary exactly), per time window when marching, and through
`runtime.solve` for pinn, fbpinn, elm and a marching solve."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdelang as pl
import runtime
from compiler.pinn import PINNOptions, lower_pinn
from compiler.pinn.marching import lower_marching
from runtime.errors import OptionError
from runtime.pinn import points as point_module
from runtime.pinn.marching import MarchResult
from runtime.pinn.points import make_point_derivatives, network_values, point_evaluator
from runtime.pinn.train import TrainResult

HEAT = pl.load(Path(__file__).resolve().parents[3] / "examples" / "heat1d_dirichlet.pde")
ALPHA = 0.5                    # HEAT's diffusivity: u(t, 1) = exp(-ALPHA t) sin(1)
H = 1e-5                       # central differences' step
TINY = dict(dtype="float64", steps=5, optimizer="lbfgs", lbfgs_steps=0, layers=(16, 16),
            points=64, boundary_points=16, initial_points=16, grid=8, frames=4, seed=0)


def random_points(system, count: int = 40, seed: int = 0) -> dict[str, np.ndarray]:
    """Points inside the box, H away from its faces."""
    rng = np.random.default_rng(seed)
    return {c.name: rng.uniform(float(c.bounds[0]) + 2 * H, float(c.bounds[1]) - 2 * H,
                                count) for c in system.coordinates}


def central(evaluate, points: dict, by: str, step: float = H) -> np.ndarray:
    """The central difference of `evaluate(points)` along `by`."""
    up = evaluate({**points, by: points[by] + step})
    down = evaluate({**points, by: points[by] - step})
    return (up - down) / (2 * step)


def worst(a: np.ndarray, b: np.ndarray) -> float:
    """The largest difference relative to the largest value."""
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def assert_matches_differences(evaluator, system, name: str = "u",
                               tolerance: float = 1e-7) -> dict[str, float]:
    """Every first derivative against a central difference of the values, every second
    and mixed one (each pair once) against a central difference of the first; returns
    the agreements."""
    points = random_points(system)
    names = [c.name for c in system.coordinates]
    found = {}
    for i, a in enumerate(names):
        first = evaluator(name, points, (a,))
        found[a] = worst(first, central(lambda p: evaluator(name, p), points, a))
        for b in names[i:]:
            second = evaluator(name, points, (a, b))
            found[a + b] = worst(second, central(lambda p, a=a: evaluator(name, p, (a,)), points,
                                                 b))
    assert max(found.values()) < tolerance, found
    return found


def test_a_closed_form_map_gives_its_derivatives_in_batches(monkeypatch):
    """u = c sin(2x) exp(t/3) through the evaluator: values, first, second and mixed
    derivatives exact, in the evaluate's dtype, over several padded batches, shaped as
    the given arrays; a scalar point gives a float; an unknown coordinate is refused."""
    seen = []

    def evaluate(nets, points, physical):
        seen.append(points.dtype)
        x, t = points[:, 1], points[:, 0]
        return {"u": nets["c"] * jnp.sin(2 * x) * jnp.exp(t / 3) + physical["s"]}

    monkeypatch.setattr(point_module, "POINTS_PER_BATCH", 16)
    values = network_values(make_point_derivatives(evaluate), {"c": np.float64(1.5)},
                            {"s": np.float64(0.25)})
    evaluator = point_evaluator(("t", "x"), True, jnp.float64, values)
    x, t = np.meshgrid(np.linspace(0, 1, 7), np.linspace(0, 2, 5))        # 35 points
    base = 1.5 * np.exp(t / 3)
    expected = {(): base * np.sin(2 * x) + 0.25, ("x",): 2 * base * np.cos(2 * x),
                ("x", "x"): -4 * base * np.sin(2 * x), ("t",): base * np.sin(2 * x) / 3,
                ("x", "t"): 2 * base * np.cos(2 * x) / 3,
                ("t", "x"): 2 * base * np.cos(2 * x) / 3,
                ("x", "x", "t"): -4 * base * np.sin(2 * x) / 3}
    for derivative, exact in expected.items():
        found = evaluator("u", {"x": x, "t": t}, derivative)
        assert found.shape == x.shape
        np.testing.assert_allclose(found, exact, rtol=1e-13, atol=1e-13)
    assert set(seen) == {np.dtype(np.float64)}
    assert isinstance(evaluator("u", {"x": 0.5, "t": 1.0}, ("x",)), float)
    assert evaluator("u", {"x": 0.5}, ("x",)) == pytest.approx(2 * 1.5 * np.cos(1.0))
    with pytest.raises(OptionError, match="cannot differentiate u by `y`"):
        evaluator("u", {"x": x, "t": t}, ("y",))


def test_float32_networks_are_differentiated_in_float32():
    seen = []

    def evaluate(nets, points, physical):
        seen.append(points.dtype)
        return {"u": jnp.sin(points[:, 0]) * nets["c"]}

    values = network_values(make_point_derivatives(evaluate), {"c": np.float32(2.0)}, {})
    evaluator = point_evaluator(("x",), False, jnp.float32, values)
    x = np.linspace(0, 1, 9)
    np.testing.assert_allclose(evaluator("u", {"x": x}, ("x", "x")), -2 * np.sin(x),
                               rtol=1e-6, atol=1e-6)
    assert set(seen) == {np.dtype(np.float32)}


@pytest.fixture(scope="module")
def heat_program():
    return lower_pinn(HEAT, PINNOptions(layers=(16, 16)))


def test_a_hard_constrained_network_is_differentiated_through_its_ansatz(heat_program):
    """Dirichlet values built in (u = A + D*N): the derivatives agree with differences of
    the values, and along x = 1, where u = exp(-alpha t) sin(1) whatever the network,
    d(u, t) and d(u, t, 2) are that function's exactly, while d(u, x) is the network's."""
    program = heat_program
    nets = program.init(jax.random.PRNGKey(3), jnp.float64)
    evaluator = point_evaluator(program.coordinates, True, jnp.float64, network_values(
        make_point_derivatives(program.evaluate), nets, program.physical))
    agreement = assert_matches_differences(evaluator, HEAT)
    assert agreement["x"] < 1e-8 and agreement["t"] < 1e-8
    t = np.linspace(0, 1, 11)
    edge = {"t": t, "x": np.ones_like(t)}
    decay = np.exp(-ALPHA * t) * np.sin(1.0)
    np.testing.assert_allclose(evaluator("u", edge), decay, rtol=1e-14)
    np.testing.assert_allclose(evaluator("u", edge, ("t",)), -ALPHA * decay, rtol=1e-12)
    np.testing.assert_allclose(evaluator("u", edge, ("t", "t")), ALPHA**2 * decay, rtol=1e-12)
    assert np.min(np.abs(evaluator("u", edge, ("x",)))) > 0


def test_a_finite_basis_network_is_differentiated_through_its_windows():
    program = lower_pinn(HEAT, PINNOptions(layers=(8,), subdomains=3))
    nets = program.init(jax.random.PRNGKey(4), jnp.float64)
    evaluator = point_evaluator(program.coordinates, True, jnp.float64, network_values(
        make_point_derivatives(program.evaluate), nets, program.physical))
    assert_matches_differences(evaluator, HEAT, tolerance=1e-6)


def test_a_marching_result_differentiates_the_window_that_owns_each_point():
    """Two windows of [0, 1], their networks drawn apart so that they do not join: within
    each window the derivatives agree with differences; at the edge t = 0.5 (the later
    window's) d(u, t) is the later network's, a one-sided difference from above, not from
    below; the hard constraint at x = 1 holds in global time in both windows."""
    march = lower_marching(HEAT, PINNOptions(layers=(8, 8)), 2)
    program = march.program
    nets = [program.init(jax.random.PRNGKey(k), jnp.float64) for k in (5, 6)]
    windows = tuple(TrainResult(n, march.physical(k, nets[0]), {}, {}, 0, 0.0)
                    for k, n in enumerate(nets))
    result = MarchResult(march, windows, 0.0)
    evaluator = point_evaluator(program.coordinates, True, jnp.float64, result.point_values(
        make_point_derivatives(program.evaluate)))
    for lo, hi in march.windows:
        inside = {"t": np.linspace(lo + 0.05, hi - 0.05, 20), "x": np.linspace(0.1, 0.9, 20)}
        for by in ("t", "x"):
            derivative = evaluator("u", inside, (by,))
            assert worst(derivative, central(lambda p: evaluator("u", p), inside, by)) < 1e-8
    x = np.linspace(0.1, 0.9, 9)
    at = {"t": np.full_like(x, 0.5), "x": x}
    h = 1e-4
    values = [evaluator("u", {**at, "t": at["t"] + k * h}) for k in (-2, -1, 0, 1, 2)]
    above = (-3 * values[2] + 4 * values[3] - values[4]) / (2 * h)
    below = (3 * values[2] - 4 * values[1] + values[0]) / (2 * h)
    rate = evaluator("u", at, ("t",))
    assert worst(rate, above) < 1e-6
    assert worst(rate, below) > 1e-2
    t = np.array([0.1, 0.5, 0.9])
    decay = np.exp(-ALPHA * t) * np.sin(1.0)
    np.testing.assert_allclose(evaluator("u", {"t": t, "x": np.ones(3)}, ("t",)),
                               -ALPHA * decay, rtol=1e-12)


def test_a_float64_pinn_gives_exact_derivatives():
    """The issue's figure: after runtime.solve(method="pinn", dtype="float64") (a few
    steps: the derivative needs no accurate solution), d(u, x) agrees with a central
    difference of u to 1e-5 (here far better); the values are the grid's."""
    solution = runtime.solve(HEAT, method="pinn", **TINY)
    points = random_points(HEAT)
    derivative = solution.evaluator("u", points, ("x",))
    assert worst(derivative, central(lambda p: solution.evaluator("u", p), points, "x")) < 1e-8
    x, t = np.meshgrid(solution.grid["x"], solution.grid["t"])
    np.testing.assert_allclose(solution.evaluator("u", {"t": t, "x": x}), solution.values["u"],
                               rtol=1e-12, atol=1e-12)
    # the same through the Solution's expressions, as a user asks
    asked = solution("d(u, x)", t=points["t"], x=points["x"])
    step = 1e-5
    difference = (solution("u", t=points["t"], x=points["x"] + step)
                  - solution("u", t=points["t"], x=points["x"] - step)) / (2 * step)
    assert worst(asked, difference) < 1e-5
    np.testing.assert_allclose(solution("d(u, t) - d(u, x, 2)", t=points["t"], x=points["x"]),
                               solution.evaluator("u", points, ("t",))
                               - solution.evaluator("u", points, ("x", "x")), rtol=1e-12)
    # an integral by Gauss-Legendre points against SciPy's adaptive quadrature
    from scipy.integrate import quad

    (lo, hi), = [c.bounds for c in HEAT.space]
    by_scipy = quad(lambda s: solution("u^2", t=0.3, x=s), float(lo), float(hi),
                    epsabs=1e-13, epsrel=1e-12)[0]
    assert abs(solution.integral("u^2", t=0.3) - by_scipy) < 1e-10


@pytest.mark.slow
@pytest.mark.parametrize("method, options", [
    ("pinn", TINY),
    ("fbpinn", dict(TINY, subdomains=2, layers=(8,))),
    ("elm", dict(subdomains=2, layers=(16,), points=64, grid=8, frames=4)),
    ("pinn", dict(TINY, time_windows=2, lbfgs_steps=2)),
], ids=["pinn", "fbpinn", "elm", "marching"])
def test_every_pinn_family_solve_gives_exact_derivatives(method, options):
    """Every first, second and mixed derivative of each method's result against
    differences, through `runtime.solve`."""
    solution = runtime.solve(HEAT, method=method, **options)
    assert_matches_differences(solution.evaluator, HEAT, tolerance=1e-6)
