"""Observations per field and the grid sampler (JAX function and sparse matrix)."""

import jax.numpy as jnp
import numpy as np
import pytest

import pdelang as pl
from compiler.common.observations import field_observations, grid_sampler, observed_times

TEXT = """
space x in [0, 1]
time  t in [0, 2]
field u(t, x)
field v(t, x)
pde d(u, t) = d(u, x, 2)
pde d(v, t) = d(v, x, 2)
bc u = 0 at x = 0
bc u = 0 at x = 1
bc v = 0 at x = 0
bc v = 0 at x = 1
ic u = 0 at t = 0
ic v = 0 at t = 0
"""


def system_with(tmp_path, **tables):
    """The system above with one `data` line per table {name: (header, rows)}."""
    lines = []
    for name, (header, rows) in tables.items():
        np.savetxt(tmp_path / f"{name}.csv", np.asarray(rows), delimiter=",", header=header,
                   comments="")
        lines.append(f'data "{name}.csv"\n')
    return pl.parse(TEXT + "".join(lines), base=tmp_path)


def test_fields_gather_their_rows_from_every_table_in_argument_order(tmp_path):
    u, v = field_observations(system_with(tmp_path, a=("x,t,u", [[0.5, 1.0, 3.0],
                                                                 [0.25, 2.0, 4.0]]),
                                          b=("t,x,u,v", [[0.5, 0.75, 5.0, 6.0]])))
    assert (u.field, u.args, v.field) == ("u", ("t", "x"), "v")
    np.testing.assert_array_equal(u.points, [[1.0, 0.5], [2.0, 0.25], [0.5, 0.75]])
    np.testing.assert_array_equal(u.values, [3.0, 4.0, 5.0])
    np.testing.assert_array_equal(observed_times((u, v), "t"), [0.5, 1.0, 2.0])


def test_a_field_without_all_its_coordinates_is_an_error_naming_them(tmp_path):
    with pytest.raises(pl.PdeDataError, match="no column for its argument.*t"):
        field_observations(system_with(tmp_path, a=("x,u", [[0.5, 1.0]])))


def test_points_outside_the_domain_are_an_error_naming_the_row(tmp_path):
    with pytest.raises(pl.PdeDataError, match=r"row 2: x = 1\.5 lies outside \[0, 1\]"):
        field_observations(system_with(tmp_path, a=("t,x,u", [[0.5, 0.5, 1.0],
                                                                [0.5, 1.5, 1.0]])))


def test_the_sampler_is_exact_for_multilinear_functions_as_function_and_matrix():
    rng = np.random.default_rng(1)
    axes = [np.array([0.0, 0.1, 0.5, 2.0]), np.linspace(0, 1, 7), np.linspace(-1, 1, 5)]
    points = rng.uniform([0, 0, -1], [2, 1, 1], size=(50, 3))
    points[:3] = [[0, 0, -1], [2, 1, 1], [0.1, 0.5, 0.0]]          # corners and nodes

    def f(a, b, c):
        return 1 + 2 * a - 3 * b + 0.5 * c + a * b - b * c + 0.25 * a * b * c

    grid = f(*np.meshgrid(*axes, indexing="ij"))
    sampler = grid_sampler(axes, points)
    expected = f(*points.T)
    np.testing.assert_allclose(np.asarray(sampler(jnp.asarray(grid))), expected, atol=1e-12)
    np.testing.assert_allclose(sampler.matrix() @ grid.ravel(), expected, atol=1e-12)
    assert sampler.matrix().shape == (50, grid.size)


def test_the_sampler_converges_at_second_order_for_smooth_functions():
    points = np.random.default_rng(2).uniform(0, 1, size=(200, 1))
    errors = []
    for n in (17, 33, 65):
        x = np.linspace(0, 1, n)
        sampled = grid_sampler([x], points).matrix() @ np.sin(3 * x)
        errors.append(np.max(np.abs(sampled - np.sin(3 * points[:, 0]))))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - 2) < 0.2), (errors, orders)


def test_a_sampler_within_a_region_reads_no_node_outside_it():
    """Nodes outside a shaped domain hold NaN in fd's output: the restricted sampler moves
    their weight to the nodes inside and never reads them (0 * NaN would be NaN), and a
    point with no node inside around it is a ValueError naming its row."""
    line = np.linspace(0.0, 1.0, 5)
    sampler = grid_sampler([line, line], np.array([[0.3, 0.3], [0.6, 0.6]]))
    mask = np.ones((5, 5), bool)
    mask[2, 2] = False                                   # the node (0.5, 0.5) is outside
    values = np.add.outer(line, 2 * line)                # x + 2y at the nodes
    within = sampler.within(mask)
    read = jnp.asarray(np.where(mask, values, np.nan))
    # the bilinear weights without the node (0.5, 0.5), renormalised (by hand)
    np.testing.assert_allclose(within(read), [0.84 / 0.96, 1.26 / 0.64], rtol=1e-12)
    assert not np.any(np.isin(within.indices[within.weights == 0], np.flatnonzero(~mask)))
    mask[1:3, 1:3] = False
    with pytest.raises(ValueError) as info:
        sampler.within(mask)
    assert info.value.args[0] == 0
