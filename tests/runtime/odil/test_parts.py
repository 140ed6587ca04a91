"""The parts of ODIL's inverse solver: the parameter Jacobian (against dense jacfwd), the
data rows on periodic grids, the smoothness rows, and Levenberg-Marquardt."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import pdelang as pl
from compiler.common.grid import Axis, Grid
from compiler.common.observations import FieldObservations
from compiler.fd import FDOptions, lower_fd
from compiler.odil import space_time_system
from runtime.algebra.field_vector import FieldVector
from runtime.algebra.least_squares import levenberg_marquardt
from runtime.odil.continuation import grid_levels, interpolate
from runtime.odil.misfit import data_rows, smoothness_rows, stored_sampler
from runtime.odil.param_jacobian import ParamLayout, make_param_jacobian

PERIODIC_2D = """
space x in [0, 1], y in [0, 1]
param k ~ 0.7
param c(y, x) ~ 1 + 0.2*x*y
param q(x) ~ 0.5 + x
field u(x, y)
pde d(c*d(u, x), x) + d(u, y, 2) + k*q*u = sin(2*pi*y)
bc u = 0 at x = 0
bc d(u, x) + q*u = 1 at x = 1
bc periodic y
data "obs.csv"
"""

SPACE_TIME = """
space x in [0, 1]
time t in [0, 1]
param a(x) ~ 1 + x^2
param b ~ 0.3
field u(t, x)
field v(t, x)
pde d(u, t) = d(a*d(u, x), x) + b*v
pde d(v, t) = -b*u*v + a
bc u = 0 at x = 0
bc d(u, x) = a at x = 1
bc v = 1 at x = 0
ic u = sin(pi*x) at t = 0
ic v = x at t = 0
data "obs.csv"
"""


def _dense_check(text: str, grid, folder, columns: str) -> None:
    (folder / "obs.csv").write_text(f"{columns},u\n0.5,0.5,1\n")
    system = pl.parse(text, "dense.pde", base=str(folder))
    program = lower_fd(space_time_system(system), FDOptions(grid))
    unknown = {p.name: p for p in program.system.unknown_params}
    theta = {k: jnp.asarray(v) for k, v in program.params.items() if k in unknown}
    known = {k: jnp.asarray(v) for k, v in program.params.items() if k not in unknown}
    rng = np.random.default_rng(1)
    U = {k: jnp.asarray(rng.standard_normal(s)) for k, s in program.shapes.items()}
    theta = {k: v + 0.1 * jnp.asarray(rng.standard_normal(np.shape(v))) for k, v in theta.items()}
    u, unravel = ravel_pytree(U)

    def residual(U, th):
        return program.residual(U, program.prepare({**known, **th}))

    def flat(u, th):
        return ravel_pytree(residual(unravel(u), th))[0]

    periodic = {a.name: a.periodic for a in program.grid.axes}
    starts = np.cumsum([0] + [U[k].size for k in sorted(U)])
    fields = tuple((k, program.axes_of(k), tuple(U[k].shape), int(s))
                   for k, s in zip(sorted(U), starts))
    layout = ParamLayout(fields, {k: p.args for k, p in unknown.items() if p.is_field},
                         periodic, program.reach)
    vector = FieldVector(tuple(sorted(U)), tuple(U[k].shape for k in sorted(U)), u.dtype)
    jacobian = make_param_jacobian(residual, theta, layout, vector)
    t, unravel_theta = ravel_pytree(theta)
    dense = jax.jit(jax.jacfwd(lambda t: flat(u, unravel_theta(t))))(t)
    sparse = jacobian(u, theta).toarray()
    assert np.count_nonzero(sparse) > 0
    np.testing.assert_allclose(sparse, dense, rtol=1e-12, atol=1e-12 * np.abs(dense).max())


def test_parameter_jacobian_is_the_dense_one_on_a_periodic_grid(tmp_path):
    # c(y, x) is stored in the other order than u(x, y); q(x) lacks the y axis; y wraps
    _dense_check(PERIODIC_2D, {"x": 9, "y": 8}, tmp_path, "x,y")


def test_parameter_jacobian_on_a_space_time_grid_with_two_fields(tmp_path):
    _dense_check(SPACE_TIME, {"x": 9, "t": 7}, tmp_path, "t,x")


def test_data_rows_fold_the_periodic_end_onto_the_first_node():
    grid = Grid((Axis("t", 0.0, 1.0, 5), Axis("x", 0.0, 1.0, 9, periodic=True)))
    t, x = np.meshgrid(grid.axis("t").coordinates(), grid.axis("x").node_coordinates(),
                       indexing="ij")
    values = (1 + t) * np.cos(2 * np.pi * x)           # stored nodes: 5 x 8
    points = np.array([[0.3, 0.97], [0.5, 1.0], [1.0, 0.0], [0.0, 0.5]])
    sampler = stored_sampler(grid, ("t", "x"), points)
    exact = (1 + points[:, 0]) * np.cos(2 * np.pi * points[:, 1])
    got = sampler.matrix() @ values.ravel()
    np.testing.assert_allclose(got, np.asarray(sampler(jnp.asarray(values))), atol=1e-14)
    np.testing.assert_allclose(got[1:], exact[1:], atol=1e-14)        # nodes: exact
    w = (0.97 - 0.875) / 0.125                 # in the last cell: between x = 7/8 and 1 = 0
    assert got[0] == pytest.approx(1.3 * ((1 - w) * np.cos(1.75 * np.pi) + w), abs=1e-14)
    observed = FieldObservations("u", ("t", "x"), points, exact)
    rows = data_rows(grid, [observed], [("v", ("t", "x"), 0), ("u", ("t", "x"), 40)], 80)
    assert rows.matrix.shape == (4, 80) and rows.matrix[:, :40].nnz == 0
    np.testing.assert_allclose(rows.matrix[:, 40:] @ values.ravel(), got, atol=1e-14)


@pytest.mark.parametrize("periodic", [False, True])
def test_smoothness_rows_give_the_mean_squared_gradient(periodic):
    grid = Grid((Axis("x", 0.0, 2.0, 17, periodic), Axis("y", 0.0, 1.0, 5)))
    x, y = np.meshgrid(grid.axis("x").node_coordinates(), grid.axis("y").node_coordinates(),
                       indexing="ij")
    if periodic:
        c = np.sin(np.pi * x) + 3 * y          # periodic in x with period 2
        grad2 = np.pi**2 * np.mean(np.cos(np.pi * x) ** 2) + 9.0
    else:
        c = 2 * x - 3 * y                      # differences are exact
        grad2 = 4.0 + 9.0
    G = smoothness_rows(grid, {"a": (), "c": c.shape}, {"c": ("x", "y")}, 0.5)
    theta = np.concatenate([[7.0], c.ravel()])      # `a` (a constant) first, by name
    assert G.shape[1] == theta.size and G[:, 0].nnz == 0
    np.testing.assert_allclose(np.sum((G @ theta) ** 2), 0.5 * grad2, rtol=1e-2 if periodic
                               else 1e-12)


def test_levenberg_marquardt_fits_a_nonlinear_model():
    # y = a exp(b x): from a far guess to the exact parameters, noise-free
    import scipy.sparse as sps

    x = np.linspace(0, 1, 20)
    y = 2.0 * np.exp(-1.5 * x)

    def evaluate(z):
        return z[0] * np.exp(z[1] * x) - y

    def linearize(z):
        e = np.exp(z[1] * x)
        return evaluate(z), sps.csr_matrix(np.column_stack([e, z[0] * x * e]))

    result = levenberg_marquardt(evaluate, linearize, np.array([0.5, 2.0]), max_steps=100)
    assert result.converged and result.iterations < 40
    np.testing.assert_allclose(result.z, [2.0, -1.5], rtol=1e-9)
    assert all(b <= a for a, b in zip(result.history, result.history[1:]))
    stopped = levenberg_marquardt(evaluate, linearize, np.array([0.5, 2.0]), max_steps=2)
    assert not stopped.converged and "2 steps" in stopped.reason


def test_grid_levels_halve_large_grids_down_to_nested_coarse_ones():
    assert grid_levels({"t": 65, "x": 65}) == [{"t": 65, "x": 65}]
    assert grid_levels({"t": 257, "x": 129}) == [
        {"t": 65, "x": 33}, {"t": 129, "x": 65}, {"t": 257, "x": 129}]
    assert grid_levels({"t": 20001}) == [{"t": n} for n in (2501, 5001, 10001, 20001)]
    assert grid_levels({"t": 9, "x": 9, "y": 9, "z": 9}) == [{"t": 9, "x": 9, "y": 9, "z": 9}]


def test_interpolation_between_grids_wraps_on_periodic_axes():
    text = "space x in [0, 1], y in [0, 2]\nfield u(x, y)\npde laplace(u) = 0\n" \
           "bc u = 0 at x = 0\nbc u = 0 at x = 1\nbc periodic y\n"
    system = pl.parse(text)
    coarse, fine = (lower_fd(system, FDOptions({"x": n, "y": n})) for n in (5, 9))
    xc, yc = (coarse.grid.axis(a).node_coordinates() for a in "xy")
    xf, yf = (fine.grid.axis(a).node_coordinates() for a in "xy")
    assert len(yc) == 4 and len(yf) == 8 and yf[-1] == 1.75   # the end y = 2 not stored
    bilinear = np.add.outer(2 * xc, np.minimum(yc, 2 - yc))   # |y| wrapped: piecewise linear
    got = interpolate("u", bilinear, coarse, fine)
    np.testing.assert_allclose(got, np.add.outer(2 * xf, np.minimum(yf, 2 - yf)), atol=1e-14)
