"""Quadrature weights (runtime.evaluate.quadrature): integrating the interpolant converges
at the stencil width, periodic axes get the trapezoid rule, and a shaped region's sub-cell
shares measure its area."""

import numpy as np
import pytest

from pdelang.geometry import Ball
from runtime.evaluate.lagrange import NodeAxis
from runtime.evaluate.quadrature import interpolant_weights, region_samples


@pytest.mark.parametrize("width", [2, 4, 6])
def test_the_integral_of_the_interpolant_converges_at_the_width(width):
    exact = (1 - np.cos(3.0)) / 3                       # of sin(3x) over [0, 1]
    errors = []
    for n in (17, 33):
        x = np.linspace(0, 1, n)
        errors.append(abs(interpolant_weights(NodeAxis(x), width) @ np.sin(3 * x) - exact))
    assert abs(np.log2(errors[0] / errors[1]) - width) < 0.2, errors


def test_a_periodic_axis_gets_the_trapezoid_rule():
    x = np.linspace(0, 2 * np.pi, 33)
    weights = interpolant_weights(NodeAxis(x, True), 6)
    np.testing.assert_allclose(weights[:-1], x[1], rtol=1e-12)
    assert weights[-1] == 0
    assert abs(weights @ np.exp(np.sin(x)) - 2 * np.pi * 1.2660658777520082) < 1e-12


def test_sub_cell_shares_measure_a_disk_within_second_order_bounds():
    # measured: -3.2e-4, 1.7e-4, 1.9e-5, -7.3e-6 at 17, 33, 65, 129 nodes (the sign
    # changes as the circle crosses the sub-cells: O(h^2), not a clean order)
    for n in (17, 33, 65):
        line = np.linspace(-1, 1, n)
        points, weights = region_samples(Ball((0.0, 0.0), 0.8), [line, line])
        h = line[1] - line[0]
        assert abs(weights.sum() - np.pi * 0.64) < 0.05 * h ** 2
        assert np.all(np.hypot(*points) < 0.8 + h / 8)
