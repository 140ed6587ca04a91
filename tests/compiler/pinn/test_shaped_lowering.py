"""The pinn lowering on shaped domains (compiler/pinn/shaped/terms.py, hard.py):
where each term's points lie, the first-match rule of `where`, d(u, n) as n . grad u of the
network, weights per unit length, the hard Dirichlet condition u = g + phi N, and the error
of a condition that holds nowhere."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdelang as pl
from compiler.errors import LoweringError
from compiler.pinn import PINNOptions, lower_pinn
from compiler.pinn.shaped.terms import BOUNDARY, INITIAL, INTERIOR

SMALL = PINNOptions(layers=(16, 16))
SOFT = PINNOptions(layers=(16, 16), hard_constraints=False)
DISK = """\
space x in [-1, 1], y in [-1, 1]
field u(x, y)
domain disk(0, 0, 1)
pde -laplace(u) = 1
bc u = 1 + x*y on boundary
"""
ANNULUS = """\
space x in [-1, 1], y in [-1, 1]
field u(x, y)
domain disk(0, 0, 1) - disk(0, 0, 0.5)
pde -laplace(u) = 0
bc u = x on boundary where x^2 + y^2 > 0.5
bc d(u, n) + 2*u = y on boundary
"""


def boundary_term(program, name):
    return next(t for t in program.terms if t.name == name)


def test_the_equations_hold_at_points_inside_the_region():
    program = lower_pinn(pl.parse(DISK), SMALL)
    (pde,) = program.terms
    assert pde.name == "pde" and pde.points.shape == (INTERIOR, 2)
    assert np.all(np.hypot(*pde.points.T) < 1)


def test_a_dirichlet_value_on_all_of_the_boundary_is_built_in():
    with jax.enable_x64(True):
        program = lower_pinn(pl.parse(DISK), SMALL)
        nets = program.init(jax.random.PRNGKey(3), jnp.float64)
        points = program.domain.boundary(300, seed=5)[0]
        u = np.asarray(program.evaluate(nets, jnp.asarray(points))["u"])
    np.testing.assert_allclose(u, 1 + points[:, 0] * points[:, 1], rtol=0, atol=1e-14)
    assert "hard: boundary" in program.stage("networks").lines()[0]


def test_soft_a_condition_is_a_term_at_boundary_points_weighted_per_length():
    program = lower_pinn(pl.parse(DISK), SOFT)
    term = boundary_term(program, "bc boundary")
    assert term.kind == "boundary" and term.points.shape == (BOUNDARY, 5)
    coordinates, normals, scale = term.points[:, :2], term.points[:, 2:4], term.points[:, 4]
    np.testing.assert_allclose(np.hypot(*coordinates.T), 1.0, atol=1e-12)
    np.testing.assert_allclose(normals, coordinates, atol=1e-12)
    assert np.mean(scale**2) == pytest.approx(1.0)      # a mean per unit length


def test_each_boundary_point_belongs_to_the_first_condition_whose_where_holds():
    program = lower_pinn(pl.parse(ANNULUS), SMALL)
    names = [t.name for t in program.terms]
    assert names[0] == "pde" and names[2] == "bc boundary"
    assert names[1].startswith("bc boundary where x") and names[1].endswith(" > 0.5")
    outer = boundary_term(program, names[1]).points
    inner = boundary_term(program, names[2]).points
    np.testing.assert_allclose(np.hypot(*outer[:, :2].T), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.hypot(*inner[:, :2].T), 0.5, atol=1e-12)
    # the domain's outward normal on the inner circle points towards the centre
    np.testing.assert_allclose(inner[:, 2:4], -inner[:, :2] / 0.5, atol=1e-12)
    total = np.concatenate([outer, inner])
    assert len(total) >= BOUNDARY


def test_the_normal_derivative_is_n_dot_the_networks_gradient():
    """A differential test: the Robin term's residual against jax.grad of the network."""
    with jax.enable_x64(True):
        program = lower_pinn(pl.parse(ANNULUS), SMALL)
        nets = program.init(jax.random.PRNGKey(1), jnp.float64)
        term = boundary_term(program, "bc boundary")
        points = jnp.asarray(term.points)
        got = np.asarray(term.residual(nets, program.physical, points)) / term.points[:, 4]

        def u(p):
            return program.evaluate(nets, p[None])["u"][0]

        grad = np.asarray(jax.vmap(jax.grad(u))(points[:, :2]))
        value = np.asarray(jax.vmap(u)(points[:, :2]))
    x, y = term.points[:, 0], term.points[:, 1]
    want = np.sum(term.points[:, 2:4] * grad, axis=1) + 2 * value - y
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert np.all(x**2 + y**2 < 0.5)


def test_a_condition_that_holds_nowhere_is_an_error_at_its_line():
    text = DISK.replace("bc u = 1 + x*y on boundary", "bc u = 0 on boundary where x > 2")
    with pytest.raises(LoweringError, match=r"holds at none of them") as info:
        lower_pinn(pl.parse(text), SMALL)
    assert info.value.span.line == 5
    text = DISK + "bc d(u, n) = 0 on boundary where y > 0\n"
    with pytest.raises(LoweringError, match="written before it on the same field") as info:
        lower_pinn(pl.parse(text), SOFT)
    assert info.value.span.line == 6


def test_time_dependent_points_span_the_interval_and_the_initial_ones_sit_at_t0():
    text = """\
space x in [-1, 1], y in [-1, 1]
time t in [0, 0.5]
field u(t, x, y)
domain ellipse(0, 0, 1, 0.5)
pde d(u, t) = laplace(u)
bc u = 0 on boundary
ic u = 1 - x^2 - 4*y^2
"""
    program = lower_pinn(pl.parse(text), SMALL)
    by_name = {t.name: t for t in program.terms}
    assert set(by_name) == {"pde", "bc boundary"}       # the initial value is built in
    pde, bc = by_name["pde"].points, by_name["bc boundary"].points
    assert np.all(pde[:, 1] ** 2 + 4 * pde[:, 2] ** 2 < 1)
    assert 0 <= pde[:, 0].min() and pde[:, 0].max() <= 0.5
    np.testing.assert_allclose(bc[:, 1] ** 2 + 4 * bc[:, 2] ** 2, 1.0, atol=1e-12)
    assert 0 <= bc[:, 0].min() < 0.05 and 0.45 < bc[:, 0].max() <= 0.5
    soft = lower_pinn(pl.parse(text), PINNOptions(layers=(16, 16), hard_constraints=False))
    initial = next(t for t in soft.terms if t.kind == "initial").points
    assert initial.shape == (INITIAL, 3) and np.all(initial[:, 0] == 0)
    assert np.all(initial[:, 1] ** 2 + 4 * initial[:, 2] ** 2 < 1)
