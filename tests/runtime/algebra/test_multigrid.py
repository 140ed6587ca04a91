"""Geometric multigrid for steady linear fd problems (`linear_solver="multigrid"`): each
result is compared with the sparse LU's on the same grid (an independent solver) and with
the exact solution, with the observed order of the scheme."""

import numpy as np
import pytest

import pdelang as pl
import runtime
from runtime.algebra import multigrid
from runtime.errors import OptionError

POISSON = """
space x in [0, 1]
space y in [0, 1]
field u(x, y)
pde laplace(u) = -2*pi^2*sin(pi*x)*sin(pi*y)
bc u = 0 at x = 0
bc u = y at x = 1
bc u = 0 at y = 0
bc u = x at y = 1
exact u = sin(pi*x)*sin(pi*y) + x*y
"""


def solve(text: str, grid, solver: str = "multigrid", **options):
    return runtime.solve(pl.parse(text, "problem.pde"), "fd", grid=grid,
                         linear_solver=solver, **options)


def test_poisson_matches_the_direct_solve_and_converges_at_second_order():
    errors = []
    for n in (33, 65, 129):
        cycled = solve(POISSON, n)
        assert cycled.meta["solver"] == "multigrid" and cycled.converged
        assert cycled.meta["iterations"] <= 20                 # about 0.15 per V-cycle
        direct = solve(POISSON, n, "direct")
        scale = np.abs(direct.values["u"]).max()
        assert np.abs(cycled.values["u"] - direct.values["u"]).max() < 1e-9 * scale
        errors.append(cycled.errors()["u"])
    orders = np.log2(np.asarray(errors[:-1]) / np.asarray(errors[1:]))
    assert np.all(np.abs(orders - 2) < 0.2), orders


def test_auto_takes_multigrid_on_large_grids_only():
    assert solve(POISSON, 129, "auto").meta["solver"] == "direct"      # 16,641 unknowns
    assert solve(POISSON, 257, "auto").meta["solver"] == "multigrid"   # 66,049


def test_layered_medium_with_a_jump_of_ten_is_exact():
    text = """
param k(x, y) = where(x < 0.5, 1, 10)
space x in [0, 1]
space y in [0, 1]
field u(x, y)
pde d(k*d(u, x), x) + d(k*d(u, y), y) = 0
bc u = 0 at x = 0
bc u = 1 at x = 1
bc u = where(x < 0.5, 20*x/11, (2*x + 9)/11) at y = 0
bc u = where(x < 0.5, 20*x/11, (2*x + 9)/11) at y = 1
exact u = where(x < 0.5, 20*x/11, (2*x + 9)/11)
"""
    result = solve(text, 65)          # harmonic face means: exact for layers, to roundoff
    assert result.converged and result.errors()["u"] < 1e-9


def test_neumann_and_robin_faces():
    text = """
space x in [0, 1]
space y in [0, 1]
field u(x, y)
pde laplace(u) = -2*pi^2*cos(pi*x)*sin(pi*y)
bc d(u, x) = 0 at x = 0
bc d(u, x) + u = -sin(pi*y) at x = 1
bc u = 0 at y = 0
bc u = 0 at y = 1
exact u = cos(pi*x)*sin(pi*y)
"""
    cycled = solve(text, 129)
    direct = solve(text, 129, "direct")
    assert cycled.converged and cycled.meta["solver"] == "multigrid"
    assert np.abs(cycled.values["u"] - direct.values["u"]).max() < 1e-9
    assert cycled.errors()["u"] < 1e-3


def test_three_dimensions(examples_dir):
    system = pl.load(f"{examples_dir}/poisson3d.pde")
    errors = []
    for n in (17, 33):
        result = runtime.solve(system, "fd", grid=n, linear_solver="multigrid")
        assert result.converged
        errors.append(result.errors()["u"])
    assert abs(np.log2(errors[0] / errors[1]) - 2) < 0.2


def test_a_repeated_solve_with_new_values_does_not_recompile():
    text = POISSON.replace("space x", "param a = 1\nspace x").replace(
        "-2*pi^2*sin", "-2*a*pi^2*sin").replace("exact u = sin", "exact u = a*sin")
    result = runtime.solve(pl.parse(text, "a.pde"), "fd", grid=65, linear_solver="multigrid",
                           sweep={"a": [1.0, 2.0, -3.0]})
    assert max(result.member_errors()["u"]) < 5e-4
    assert len(multigrid._PROGRAMS) == 1
    (_, compiled), = multigrid._PROGRAMS.values()
    assert compiled._cache_size() == 1


CHANNEL = """
space x in [0, 1], y in [0, 1]
field u(x, y)
pde laplace(u) = -5*pi^2*sin(2*pi*x)*sin(pi*y) - 2
bc periodic x
bc u = 0 at y = 0
bc u = 0 at y = 1
exact u = sin(2*pi*x)*sin(pi*y) + y*(1 - y)
"""


def test_a_periodic_channel_matches_the_direct_solve_at_second_order():
    """Periodic in x (restriction and interpolation wrap around), Dirichlet in y. Equal
    spacings: a point smoother with full coarsening does not suit strong anisotropy (on
    x in [0, 2 pi] with the same node counts the cycle reduces the residual by only ~0.8)."""
    errors = []
    for n in (33, 65):
        cycled = solve(CHANNEL, n)
        assert cycled.meta["solver"] == "multigrid" and cycled.converged
        assert cycled.meta["iterations"] <= 20
        direct = solve(CHANNEL, n, "direct")
        assert np.abs(cycled.values["u"] - direct.values["u"]).max() < 1e-9
        errors.append(cycled.errors()["u"])
    orders = np.log2(np.asarray(errors[:-1]) / np.asarray(errors[1:]))
    assert np.all(np.abs(orders - 2) < 0.2), orders


def test_periodic_in_every_direction_with_a_mixed_derivative():
    """u - laplace(u) - u_xy = f, periodic in x and y: nonsingular, and the mixed
    derivative's corner couplings are in the diagonal's colouring (9 colours in 2-D). 96
    nodes per axis: 96 is not a multiple of 3, so the colouring's wrap-around rule acts."""
    text = """
space x in [0, 2*pi], y in [0, 2*pi]
field u(x, y)
pde u - laplace(u) - d(u, x, y) = 3*sin(x)*cos(y) + cos(x)*sin(y)
bc periodic x
bc periodic y
exact u = sin(x)*cos(y)
"""
    cycled = solve(text, 97)
    direct = solve(text, 97, "direct")
    assert cycled.converged and cycled.meta["solver"] == "multigrid"
    assert np.abs(cycled.values["u"] - direct.values["u"]).max() < 1e-9
    assert cycled.errors()["u"] < 1e-3


def test_the_probed_diagonal_is_exact_with_mixed_derivatives_and_wrap_around():
    """The probing against the diagonal of the assembled matrix, on a 10 x 7 periodic
    grid (neither a multiple of 3) with a 9-point stencil."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(0)
    shape = (10, 7)
    weights = rng.normal(size=(3, 3))
    centre = rng.normal(size=shape)

    def apply(v):
        u = v.reshape(shape)
        out = centre * u
        for i in (-1, 0, 1):
            for j in (-1, 0, 1):
                out = out + weights[i + 1, j + 1] * jnp.roll(u, (i, j), axis=(0, 1))
        return out.ravel()

    found = multigrid.diagonal(apply, shape, 1, 1, jnp.float64, (True, True))
    dense = jax.vmap(apply, out_axes=1)(jnp.eye(70))
    np.testing.assert_allclose(found, np.diag(dense), rtol=1e-13)
    weights[[0, 0, 2, 2], [0, 2, 0, 2]] = 0.0      # a 5-point stencil: the cheap colouring
    found = multigrid.diagonal(apply, shape, 1, 1, jnp.float64, (True, True), mixed=False)
    dense = jax.vmap(apply, out_axes=1)(jnp.eye(70))
    np.testing.assert_allclose(found, np.diag(dense), rtol=1e-13)


def test_where_it_does_not_apply_it_says_why():
    with pytest.raises(OptionError, match="does not coarsen"):
        solve(POISSON, 100)
    with pytest.raises(OptionError, match="chooses how steady systems are solved"):
        runtime.solve(pl.parse("""
space x in [0, 1]
time t in [0, 1]
field u(t, x)
pde d(u, t) = d(u, x, 2)
bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = sin(pi*x)
""", "heat.pde"), "fd", linear_solver="direct")


def test_a_stalled_cycle_is_reported_or_replaced_by_the_direct_solve():
    helmholtz = """
param k = 60
space x in [0, 1]
space y in [0, 1]
field u(x, y)
pde -laplace(u) - k^2*u = 1
bc u = 0 at x = 0
bc u = 0 at x = 1
bc u = 0 at y = 0
bc u = 0 at y = 1
"""                                         # strongly indefinite: no smoother helps
    cycled = solve(helmholtz, 129)
    assert cycled.converged is False and "multigrid stopped" in cycled.convergence.reason
    auto = solve(helmholtz, 257, "auto")
    assert auto.converged and auto.meta["solver"] == "direct"
    assert "solved directly instead" in auto.meta["multigrid"]


def test_float32_stops_at_roundoff_and_says_so():
    result = solve(POISSON, 65, dtype="float32")
    assert result.converged and result.meta["solver"] == "multigrid"
    assert "at roundoff" in result.convergence.reason
    assert result.errors()["u"] < 3e-4


def test_fits_refuse_multigrid(tmp_path):
    (tmp_path / "obs.csv").write_text("x,y,u\n0.5,0.5,1.0\n")
    inverse = pl.parse(POISSON.replace("space x", "param a ~ 1\nspace x").replace(
        "-2*pi^2*sin", "-2*a*pi^2*sin").replace("exact u = sin(pi*x)*sin(pi*y) + x*y",
                                                'data "obs.csv"'), base=tmp_path)
    with pytest.raises(OptionError, match="fits solve their steady systems"):
        runtime.solve(inverse, "fd", grid=17, linear_solver="multigrid")


NONLINEAR = """
space x in [0, 1]
space y in [0, 1]
field u(x, y)
pde -laplace(u) + u^3 = 2*pi^2*sin(pi*x)*sin(pi*y) + (sin(pi*x)*sin(pi*y) + x*y)^3
bc u = 0 at x = 0
bc u = y at x = 1
bc u = 0 at y = 0
bc u = x at y = 1
exact u = sin(pi*x)*sin(pi*y) + x*y
"""


@pytest.mark.slow                  # 12-20 s: the default lane keeps the auto/NK paths' tests
def test_nonlinear_newton_krylov_matches_newton_with_the_lu():
    errors = []
    for n in (65, 129):
        krylov = solve(NONLINEAR, n)
        assert krylov.meta["solver"] == "newton-krylov-multigrid" and krylov.converged
        assert krylov.meta["iterations"] <= 6
        direct = solve(NONLINEAR, n, "direct")
        assert direct.meta["solver"] == "newton"
        assert np.abs(krylov.values["u"] - direct.values["u"]).max() < 1e-9
        errors.append(krylov.errors()["u"])
    assert abs(np.log2(errors[0] / errors[1]) - 2) < 0.2
    assert solve(NONLINEAR, 257, "auto").meta["solver"] == "newton-krylov-multigrid"


def test_a_problem_without_solution_is_not_converged():
    bratu = """
param lam = 10
space x in [0, 1]
space y in [0, 1]
field u(x, y)
pde laplace(u) + lam*exp(u) = 0
bc u = 0 at x = 0
bc u = 0 at x = 1
bc u = 0 at y = 0
bc u = 0 at y = 1
"""                            # Bratu's problem has solutions only for lam below about 6.81
    result = solve(bratu, 65)
    assert result.converged is False
    assert "Newton-Krylov stopped" in result.convergence.reason


HEAT = """
space x in [0, 1], y in [0, 1]
time t in [0, 0.1]
field u(t, x, y)
pde d(u, t) = laplace(u) + (2*pi^2 - 1)*exp(-t)*sin(pi*x)*sin(pi*y)
bc u = 0 at x = 0
bc u = 0 at x = 1
bc u = 0 at y = 0
bc u = 0 at y = 1
ic u = sin(pi*x)*sin(pi*y) at t = 0
exact u = exp(-t)*sin(pi*x)*sin(pi*y)
"""


def test_sdirk2_stages_preconditioned_by_multigrid_match_plain_gmres():
    """Two linear solvers for one time stepper: the V-cycle-preconditioned and the plain
    Newton-Krylov stages (dt / h^2 = 41: the stiffness plain GMRES struggles with) give the
    same solution, second order in time against the exact one."""
    system = pl.parse(HEAT)
    runs = {solver: runtime.solve(system, "fd", grid=65, integrator="sdirk2", dt=0.01,
                                  frames=3, linear_solver=solver)
            for solver in ("multigrid", "auto")}      # auto: plain below 20,000 unknowns
    np.testing.assert_allclose(runs["multigrid"].values["u"], runs["auto"].values["u"],
                               atol=1e-6)
    assert runs["multigrid"].errors()["u"] < 1e-3


def test_multigrid_in_time_is_refused_where_it_cannot_act():
    with pytest.raises(OptionError, match="has none to precondition"):
        runtime.solve(pl.parse(HEAT), "fd", grid=17, integrator="rk4",
                      linear_solver="multigrid")
    with pytest.raises(OptionError, match="sparse LU, not multigrid"):
        runtime.solve(pl.parse(HEAT), "fd", grid=17, integrator="bdf",
                      linear_solver="multigrid")
    with pytest.raises(OptionError, match="does not coarsen"):
        runtime.solve(pl.parse(HEAT), "fd", grid=60, integrator="sdirk2", dt=0.01,
                      linear_solver="multigrid")
