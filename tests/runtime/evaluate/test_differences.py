"""Derivatives on a result's grid (runtime.evaluate.differences): the compiler's stencils
at each accuracy, one-sided at the ends and at a region's boundary, wrapped when periodic."""

import numpy as np
import pytest

from runtime.evaluate.differences import differentiate
from runtime.evaluate.lagrange import NodeAxis


@pytest.mark.parametrize("order, accuracy, sizes", [
    (1, 2, (33, 65)), (1, 4, (33, 65)), (1, 6, (33, 65)),
    # second derivatives: the one-sided ends' larger error terms fade slowly (measured
    # 4.39 at 33 -> 65 with accuracy 4, 4.15 at 129 -> 257; accuracy 6 meets round-off
    # at 257 before its order shows, 6.5 at 65 -> 129)
    (2, 2, (129, 257)), (2, 4, (129, 257))])
def test_the_error_to_the_edges_falls_at_the_accuracy(order, accuracy, sizes):
    errors = []
    for n in sizes:
        x = np.linspace(0, 1, n)
        found = differentiate(np.sin(3 * x + 0.2), 0, order, accuracy, NodeAxis(x))
        exact = 3 ** order * np.sin(3 * x + 0.2 + order * np.pi / 2)
        errors.append(np.abs(found - exact).max())
    assert abs(np.log2(errors[0] / errors[1]) - accuracy) < 0.2, errors


def test_a_periodic_axis_wraps_and_repeats_its_end():
    x = np.linspace(0, 2 * np.pi, 65)
    found = differentiate(np.sin(x), 0, 1, 4, NodeAxis(x, True))
    assert np.abs(found - np.cos(x)).max() < 5e-6
    assert found[-1] == found[0]


def test_stencils_turn_one_sided_at_a_region_and_leave_the_outside_empty():
    x = np.linspace(-1, 1, 81)
    X, Y = np.meshgrid(x, x, indexing="ij")
    inside = X ** 2 + Y ** 2 <= 0.8
    cubic = np.where(inside, X ** 3 - 2 * X * Y, np.nan)      # stencils of 4 points: exact
    found = differentiate(cubic, 0, 1, 4, NodeAxis(x))
    np.testing.assert_allclose(found[inside], (3 * X ** 2 - 2 * Y)[inside], atol=1e-9)
    assert np.all(np.isnan(found[~inside]))
