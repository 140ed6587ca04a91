"""Local Lagrange interpolation (runtime.evaluate.lagrange): order width on a grid,
exactness for polynomials of degree width - 1 on any nodes, periodic wrapping, and stencils
that keep to the region on a shaped domain."""

import numpy as np
import pytest

from runtime.evaluate.lagrange import NodeAxis, interpolate

RNG = np.random.default_rng(7)


def smooth(x, y):
    return np.sin(np.pi * x) * np.cos(2 * y)


def max_error(n: int, width: int) -> float:
    x, y = np.linspace(0, 1, n), np.linspace(0, 2, n)
    values = smooth(*np.meshgrid(x, y, indexing="ij"))
    px, py = RNG.random(2000), 2 * RNG.random(2000)
    found = interpolate(values, [NodeAxis(x), NodeAxis(y)], [px, py], width)
    return float(np.abs(found - smooth(px, py)).max())


@pytest.mark.parametrize("width", [2, 4, 6])
def test_the_error_falls_at_the_order_of_the_stencil_width(width):
    # measured: orders 2.03, 3.87, 5.94 between 33 and 65 nodes (at random points)
    order = np.log2(max_error(33, width) / max_error(65, width))
    assert abs(order - width) < 0.2, order


def test_polynomials_of_the_stencils_degree_are_exact_on_uneven_nodes():
    nodes = np.sort(np.concatenate([[0.0, 1.0], RNG.random(12)]))
    x = np.linspace(0, 1, 101)
    for width in (2, 4, 6):
        cubic = np.polynomial.Polynomial(RNG.normal(size=width))
        found = interpolate(cubic(nodes), [NodeAxis(nodes)], [x], width)
        np.testing.assert_allclose(found, cubic(x), atol=1e-9 * np.abs(cubic.coef).sum())


def test_a_periodic_axis_wraps_and_reads_points_beyond_the_period():
    errors = []
    for n in (33, 65):
        x = np.linspace(0, 2 * np.pi, n)               # the last point repeats the first
        values = np.sin(x)
        values[-1] = 1e6                               # never read: it is the first node
        px = np.linspace(-7, 13, 999)
        errors.append(np.abs(interpolate(values, [NodeAxis(x, True)], [px], 4)
                             - np.sin(px)).max())
    assert errors[1] < 1e-5 and abs(np.log2(errors[0] / errors[1]) - 4) < 0.2, errors


def test_values_are_exact_at_the_nodes():
    x = np.linspace(-1, 3, 17)
    values = RNG.normal(size=17)
    np.testing.assert_allclose(interpolate(values, [NodeAxis(x)], [x], 6), values,
                               atol=1e-12)


def test_stencils_narrow_where_they_would_read_outside_the_region():
    x = np.linspace(-1, 1, 41)
    X, Y = np.meshgrid(x, x, indexing="ij")
    inside = X ** 2 + Y ** 2 <= 0.81
    plane = 2 * X - Y + 0.5                            # any stencil reproduces it
    outside_garbage = np.where(inside, plane, 1e3)
    theta = RNG.random(500) * 2 * np.pi
    radius = 0.9 * np.sqrt(RNG.random(500))
    px, py = radius * np.cos(theta), radius * np.sin(theta)
    found = interpolate(outside_garbage, [NodeAxis(x), NodeAxis(x)], [px, py], 6,
                        inside=inside)
    # points in cells that the boundary cuts read the outside (multilinear): the
    # caller fills it; all others must never touch it
    cut = np.abs(found - (2 * px - py + 0.5)) > 1e-9
    assert np.all(np.hypot(px[cut], py[cut]) > 0.9 - 2 * np.sqrt(2) * (x[1] - x[0]))
