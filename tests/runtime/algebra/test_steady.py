"""solve_steady on hand-written FD residuals with exact or manufactured solutions.

Each problem is a function of the grid size returning (residual, exact, params, sparsity),
so one helper can measure the observed order of accuracy under refinement.
"""

import jax.numpy as jnp
import numpy as np
import pytest

from runtime.algebra.newton import SteadyProgress, SteadyResult, solve_steady
from runtime.algebra.sparse_jacobian import Sparsity
from runtime.errors import OptionError, SolveError

PI = np.pi


def d2(u, h):
    """Second difference at the interior points of a 1-D array."""
    return (u[2:] - 2 * u[1:-1] + u[:-2]) / h**2


def poisson_2d(n):
    """-laplace(u) = f on the unit square, u = exact on all edges (5-point stencil)."""
    x = jnp.linspace(0.0, 1.0, n)
    X, Y = jnp.meshgrid(x, x, indexing="ij")
    h = 1.0 / (n - 1)
    exact = jnp.sin(PI * X) * jnp.sin(2 * PI * Y) + X * Y**2
    f = 5 * PI**2 * jnp.sin(PI * X) * jnp.sin(2 * PI * Y) - 2 * X

    def residual(U, p):
        u = U["u"]
        lap = (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1]) / h**2
        return {"u": (u - exact).at[1:-1, 1:-1].set(-lap - p["f"][1:-1, 1:-1])}

    return residual, {"u": exact}, {"f": f}, Sparsity(1, {"u": (False, False)})


def poisson_2d_neumann(n):
    """As poisson_2d, but du/dx = g at x = 1 by the one-sided 3-point formula (reach 2)."""
    residual_d, exact, params, _ = poisson_2d(n)
    x = jnp.linspace(0.0, 1.0, n)
    h = 1.0 / (n - 1)
    g = -PI * jnp.sin(2 * PI * x) + x**2  # d/dx of the exact solution at x = 1

    def residual(U, p):
        u = U["u"]
        right = (3 * u[-1, 1:-1] - 4 * u[-2, 1:-1] + u[-3, 1:-1]) / (2 * h) - g[1:-1]
        return {"u": residual_d(U, p)["u"].at[-1, 1:-1].set(right)}

    return residual, exact, params, Sparsity(2, {"u": (False, False)})


def periodic_helmholtz_1d(n):
    """-u'' + u = f on the unit circle (n points, periodic)."""
    h = 1.0 / n
    x = jnp.arange(n) * h
    exact = jnp.sin(2 * PI * x) + 0.5 * jnp.cos(4 * PI * x + 1.0)
    f = (1 + 4 * PI**2) * jnp.sin(2 * PI * x) + 0.5 * (1 + 16 * PI**2) * jnp.cos(4 * PI * x + 1.0)

    def residual(U, p):
        u = U["u"]
        return {"u": -(jnp.roll(u, 1) - 2 * u + jnp.roll(u, -1)) / h**2 + u - f}

    return residual, {"u": exact}, None, Sparsity(1, {"u": (True,)})


def cubic_1d(n):
    """-u'' + u^3 = f on [0, 1] with Dirichlet ends; manufactured u = 2 + e^x sin(3x)."""
    x = jnp.linspace(0.0, 1.0, n)
    h = 1.0 / (n - 1)
    exact = 2 + jnp.exp(x) * jnp.sin(3 * x)
    f = -jnp.exp(x) * (6 * jnp.cos(3 * x) - 8 * jnp.sin(3 * x)) + exact**3

    def residual(U, p):
        u = U["u"]
        inner = -d2(u, h) + u[1:-1] ** 3 - f[1:-1]
        return {"u": jnp.concatenate([u[:1] - exact[0], inner, u[-1:] - exact[-1]])}

    return residual, {"u": exact}, None, Sparsity(1, {"u": (False,)})


def bratu_theta(lam):
    """The smaller root of theta = sqrt(2 lam) cosh(theta / 4), by fixed-point iteration."""
    theta = 1.0
    for _ in range(200):
        theta = np.sqrt(2 * lam) * np.cosh(theta / 4)
    return theta


def bratu_1d(n, lam=1.0):
    """u'' + lam e^u = 0, u(0) = u(1) = 0.

    Exact: u = -2 log(cosh((x - 1/2) theta/2) / cosh(theta/4)) with theta from bratu_theta.
    """
    x = jnp.linspace(0.0, 1.0, n)
    h = 1.0 / (n - 1)
    theta = bratu_theta(lam) if lam < 3.5 else 1.0
    exact = -2 * jnp.log(jnp.cosh((x - 0.5) * theta / 2) / jnp.cosh(theta / 4))

    def residual(U, p):
        u = U["u"]
        inner = d2(u, h) + p["lam"] * jnp.exp(u[1:-1])
        return {"u": jnp.concatenate([u[:1], inner, u[-1:]])}

    return residual, {"u": exact}, {"lam": lam}, Sparsity(1, {"u": (False,)})


def coupled_2d(n):
    """-laplace(u) + v = f, -laplace(v) - u = g, Dirichlet data on the edges of both."""
    x = jnp.linspace(0.0, 1.0, n)
    X, Y = jnp.meshgrid(x, x, indexing="ij")
    h = 1.0 / (n - 1)
    eu = jnp.sin(PI * X) * jnp.cos(PI * Y)
    ev = jnp.exp(X) * Y
    f = 2 * PI**2 * eu + ev
    g = -jnp.exp(X) * Y - eu

    def lap(w):
        return (w[2:, 1:-1] + w[:-2, 1:-1] + w[1:-1, 2:] + w[1:-1, :-2] - 4 * w[1:-1, 1:-1]) / h**2

    def residual(U, p):
        u, v = U["u"], U["v"]
        ru = (u - eu).at[1:-1, 1:-1].set(-lap(u) + v[1:-1, 1:-1] - f[1:-1, 1:-1])
        rv = (v - ev).at[1:-1, 1:-1].set(-lap(v) - u[1:-1, 1:-1] - g[1:-1, 1:-1])
        return {"u": ru, "v": rv}

    sparsity = Sparsity(1, {"u": (False, False), "v": (False, False)})
    return residual, {"u": eu, "v": ev}, None, sparsity


def max_error(U, exact):
    return max(float(jnp.max(jnp.abs(U[k] - exact[k]))) for k in exact)


def zeros_like(exact):
    return {k: jnp.zeros_like(v) for k, v in exact.items()}


def observed_order(problem, sizes, spacing, **options):
    """Errors on each grid and the least-squares slope of log(error) against log(h)."""
    errors = []
    for n in sizes:
        residual, exact, params, sparsity = problem(n)
        result = solve_steady(residual, zeros_like(exact), params, sparsity, **options)
        errors.append(max_error(result.U, exact))
    h = np.array([spacing(n) for n in sizes])
    return errors, np.polyfit(np.log(h), np.log(errors), 1)[0]


def grid_spacing(n):
    return 1.0 / (n - 1)


def test_poisson_2d_is_second_order():
    errors, order = observed_order(poisson_2d, [17, 33, 65], grid_spacing, linear=True)
    assert errors[-1] < 1e-3
    assert abs(order - 2) < 0.2, (errors, order)


def test_poisson_2d_linear_result():
    residual, exact, params, sparsity = poisson_2d(33)
    result = solve_steady(residual, zeros_like(exact), params, sparsity, linear=True)
    assert isinstance(result, SteadyResult)
    assert result.method == "direct" and result.iterations == 1
    assert result.residual_norm <= 1e-10 * result.history[0]
    assert result.wall_time > 0
    assert set(result.timings) == {"setup", "residual", "jacobian", "factor", "solve"}
    assert 0 < sum(result.timings.values()) <= result.wall_time
    assert set(result.U) == {"u"} and result.U["u"].shape == (33, 33)


def test_newton_takes_one_step_on_a_linear_problem():
    residual, exact, params, sparsity = poisson_2d(33)
    result = solve_steady(residual, zeros_like(exact), params, sparsity)
    assert result.method == "newton" and result.iterations == 1


def test_neumann_edge_with_one_sided_stencil_is_second_order():
    errors, order = observed_order(poisson_2d_neumann, [17, 33, 65], grid_spacing)
    assert abs(order - 2) < 0.2, (errors, order)


def test_periodic_helmholtz_is_second_order():
    errors, order = observed_order(periodic_helmholtz_1d, [32, 64, 128], lambda n: 1.0 / n)
    assert errors[-1] < 1e-3
    assert abs(order - 2) < 0.2, (errors, order)


def test_coupled_fields_are_second_order():
    errors, order = observed_order(coupled_2d, [17, 33, 65], grid_spacing, linear=True)
    assert abs(order - 2) < 0.2, (errors, order)


def test_cubic_newton_converges_quadratically():
    residual, exact, params, sparsity = cubic_1d(129)
    result = solve_steady(residual, zeros_like(exact), params, sparsity, tol=1e-12)
    history = np.array(result.history)
    assert result.method == "newton"
    assert result.iterations <= 6
    assert result.residual_norm <= 1e-12 * history[0]
    # quadratic: once close, each residual is about the square of the previous one (scaled)
    rel = history / history[0]
    close = np.flatnonzero((rel[:-1] < 1e-2) & (rel[1:] > 1e-14))
    assert close.size, history
    for k in close:
        assert np.log(rel[k + 1]) / np.log(rel[k]) > 1.8, history
    assert max_error(result.U, exact) < 1e-4


def test_cubic_is_second_order():
    errors, order = observed_order(cubic_1d, [33, 65, 129], grid_spacing)
    assert abs(order - 2) < 0.2, (errors, order)


def test_bratu_matches_its_exact_solution():
    errors, order = observed_order(bratu_1d, [33, 65, 129], grid_spacing)
    assert errors[-1] < 1e-5
    assert abs(order - 2) < 0.2, (errors, order)


def test_bratu_beyond_the_fold_raises_a_clear_error():
    """For lambda above ~3.51 the Bratu problem has no solution: Newton must say so."""
    residual, exact, params, sparsity = bratu_1d(65, lam=4.0)
    with pytest.raises(SolveError) as info:
        solve_steady(residual, zeros_like(exact), params, sparsity, max_iter=30)
    message = str(info.value)
    assert "Newton's method" in message and "iteration" in message
    assert "residual history: 3.9" in message or "residual went 3.9" in message
    assert "initial guess" in message and "continuation" in message


def test_too_few_iterations_raise_with_the_history():
    residual, exact, params, sparsity = cubic_1d(33)
    with pytest.raises(SolveError, match=r"did not converge in 2 iterations: the residual went"):
        solve_steady(residual, zeros_like(exact), params, sparsity, max_iter=2)


def test_non_finite_initial_residual_names_the_place():
    residual, exact, params, sparsity = bratu_1d(9)

    def logarithmic(U, p):
        return {"u": residual(U, p)["u"] + jnp.log(U["u"] + 1.0)}

    U0 = {"u": jnp.zeros(9).at[4].set(-2.0)}
    with pytest.raises(
        SolveError,
        match=r"not finite at the initial guess: nan in field 'u' at "
        r"grid index \(4,\)",
    ):
        solve_steady(logarithmic, U0, params, sparsity)


def test_linear_flag_on_a_nonlinear_problem_is_caught():
    residual, exact, params, sparsity = cubic_1d(33)
    with pytest.raises(SolveError, match="(?s)does not look linear.*linear=False"):
        solve_steady(residual, zeros_like(exact), params, sparsity, linear=True)


@pytest.mark.parametrize("n", [64, 1000])
def test_singular_periodic_poisson_is_reported(n):
    """-u'' = f on a circle fixes u only up to a constant: the Jacobian is singular.

    On 64 points SuperLU meets an exact zero pivot; on 1000 roundoff leaves a pivot of
    about 1e-17, which the condition estimate must catch.
    """
    h = 1.0 / n
    f = jnp.sin(2 * PI * jnp.arange(n) * h)

    def residual(U, p):
        u = U["u"]
        return {"u": -(jnp.roll(u, 1) - 2 * u + jnp.roll(u, -1)) / h**2 - f}

    with pytest.raises(SolveError, match="(?s)singular.*constant fixed"):
        solve_steady(residual, {"u": jnp.zeros(n)}, None, Sparsity(1, {"u": (True,)}))


def test_an_unknown_in_no_equation_is_named():
    def residual(U, p):
        return {"u": U["u"] - 1.0, "v": jnp.zeros_like(U["v"])}

    U0 = {"u": jnp.zeros(5), "v": jnp.zeros(5)}
    with pytest.raises(SolveError, match=r"equation of field 'v' at grid index \(0,\) depends"):
        solve_steady(residual, U0, None, Sparsity(0, {"u": (False,), "v": (False,)}))


def test_observers_see_every_step():
    residual, exact, params, sparsity = cubic_1d(33)
    seen: list[SteadyProgress] = []
    result = solve_steady(residual, zeros_like(exact), params, sparsity, observers=[seen.append])
    assert [p.iteration for p in seen] == list(range(result.iterations + 1))
    assert [p.residual_norm for p in seen] == list(result.history)
    assert seen[-1].U["u"].shape == (33,) and 0 < seen[-1].step_length <= 1


def test_integer_initial_guess_is_accepted():
    residual, exact, params, sparsity = periodic_helmholtz_1d(16)
    result = solve_steady(residual, {"u": np.zeros(16, dtype=int)}, params, sparsity)
    assert result.U["u"].dtype == jnp.float64


@pytest.mark.parametrize(
    "options, match",
    [
        ({"tol": 0.0}, "tolerances must be positive"),
        ({"atol": -1.0}, "tolerances must be positive"),
        ({"max_iter": 0}, "max_iter must be an int >= 1"),
    ],
)
def test_bad_options_are_option_errors(options, match):
    residual, exact, params, sparsity = periodic_helmholtz_1d(8)
    with pytest.raises(OptionError, match=match):
        solve_steady(residual, zeros_like(exact), params, sparsity, **options)


@pytest.mark.slow
def test_poisson_2d_513_is_accurate():
    residual, exact, params, sparsity = poisson_2d(513)
    result = solve_steady(residual, zeros_like(exact), params, sparsity, linear=True)
    assert max_error(result.U, exact) < 2e-5


def test_float32_fields_stay_float32_and_stop_at_their_roundoff():
    """float32 unknowns: jvps in float32, LU in float64, convergence judged at float32 eps."""
    residual, exact, params, sparsity = cubic_1d(65)
    U0 = {"u": jnp.zeros(65, dtype=jnp.float32)}
    result = solve_steady(residual, U0, params, sparsity)
    assert result.U["u"].dtype == jnp.float32
    assert result.iterations <= 6
    assert max_error(result.U, exact) < 1e-4
