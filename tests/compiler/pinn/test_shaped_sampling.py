"""The pinn method's points on shaped domains (compiler/pinn/shaped/sampling.py and
implicit.py): inside the region, on its boundary to rounding, outward unit normals, weights
that add up to the boundary's length (area)."""

import math

import numpy as np
import pytest
import sympy as sp

from compiler.pinn.shaped.sampling import leaves, sample_boundary, sample_inside
from pdelang.geometry import (
    Inequality,
    ball,
    box,
    cylinder,
    disk,
    ellipse,
    polygon,
    rect,
)

x, y, z = sp.symbols("x y z")
L_SHAPE = rect(-1, -1, 1, 1) - rect(0, 0, 1, 1)
ANNULUS = disk(0, 0, 1) - disk(0, 0, 0.5)
# (region, its boundary's length or area, the tolerance on the weights' sum)
MEASURED = [
    (disk(0.2, -0.1, 0.7), 2 * math.pi * 0.7, 1e-12),
    (ANNULUS, 2 * math.pi * 1.5, 1e-12),
    (L_SHAPE, 8.0, 1e-12),
    (ellipse(0, 0, 2, 1), 9.688448220547675, 1e-9),       # Ramanujan-exact to 1e-9
    (polygon((0, 0), (2, 0), (2, 2), (1, 0.5), (0, 2)), 6 + 2 * math.hypot(1, 1.5), 1e-12),
    (disk(0, 0, 1) + disk(1, 0, 1), 2 * 2 * math.pi * 2 / 3, 2e-3),    # two 240-degree arcs
    (box(0, 0, 0, 1, 2, 3), 22.0, 1e-12),
    (ball(0, 0, 0, 1), 4 * math.pi, 1e-12),
    (cylinder(0, 0, 1, 0, 2), 2 * math.pi * 2 + 2 * math.pi, 1e-12),
    (Inequality(x**2 + y**2 - 1, ("x", "y"), ((-1.0, 1.0), (-1.0, 1.0))), 2 * math.pi, 3e-3),
    (Inequality(x**2 + y**2 + z**2 - 1, ("x", "y", "z"), ((-1.0, 1.0),) * 3), 4 * math.pi,
     3e-3),
]


@pytest.mark.parametrize("shape, measure, tolerance", MEASURED, ids=lambda v: str(v)[:30])
def test_boundary_points_lie_on_the_boundary_and_weigh_its_measure(shape, measure, tolerance):
    sample = sample_boundary(shape, 1000, seed=1)
    assert len(sample) >= 1000
    assert np.max(np.abs(shape.level(list(sample.points.T), np))) < 1e-9
    np.testing.assert_allclose(np.linalg.norm(sample.normals, axis=1), 1.0, atol=1e-12)
    assert sample.weights.sum() == pytest.approx(measure, rel=tolerance)
    # outward: a step along the normal leaves the region, a step against it enters
    step = 1e-4 * sample.normals
    assert np.all(shape.level(list((sample.points + step).T), np) > 0)
    assert np.mean(shape.level(list((sample.points - step).T), np) < 0) > 0.99   # corners


def test_a_disks_normals_are_radial_and_its_weights_add_up_to_two_pi_r():
    sample = sample_boundary(disk(1, 2, 0.5), 400, seed=0)
    radial = (sample.points - [1, 2]) / 0.5
    np.testing.assert_allclose(sample.normals, radial, atol=1e-12)
    assert sample.weights.sum() == pytest.approx(2 * math.pi * 0.5, abs=1e-2)


def test_a_subtracted_shape_has_its_normals_flipped():
    sample = sample_boundary(ANNULUS, 600, seed=0)
    r = np.linalg.norm(sample.points, axis=1)
    inner = np.isclose(r, 0.5)
    assert inner.any() and np.all(inner | np.isclose(r, 1.0))
    outward = np.sum(sample.normals * sample.points, axis=1) / r
    np.testing.assert_allclose(outward[inner], -1.0, atol=1e-12)       # towards the centre
    np.testing.assert_allclose(outward[~inner], 1.0, atol=1e-12)
    assert [s for _, s in leaves(ANNULUS)] == [1, -1]


def test_where_two_parts_boundaries_coincide_outside_the_region_nothing_is_kept():
    """The L-shape's removed square shares the stretches x in (0, 1), y = 1 and x = 1,
    y in (0, 1) with the big square, but the region is on neither side of them."""
    sample = sample_boundary(L_SHAPE, 800, seed=0)
    px, py = sample.points.T
    assert not np.any(((py == 1) & (px > 1e-9)) | ((px == 1) & (py > 1e-9)))
    on_notch = ((px == 0) & (py > 0)) | ((py == 0) & (px > 0))
    assert on_notch.any()
    assert sample.weights[on_notch].sum() == pytest.approx(2.0, rel=1e-12)


def test_points_inside_are_inside_and_fill_the_region_evenly():
    points = sample_inside(L_SHAPE, 3000, seed=0)
    assert points.shape == (3000, 2)
    assert np.all(L_SHAPE.level(list(points.T), np) < 0)
    # each of the three unit squares gets a third, as a quasi-random set should
    lower_left = np.mean((points[:, 0] < 0) & (points[:, 1] < 0))
    assert lower_left == pytest.approx(1 / 3, abs=0.01)


def test_points_inside_carry_extra_columns_over_their_intervals():
    points = sample_inside(disk(0, 0, 1), 500, seed=0, extra=((2.0, 3.0),))
    assert points.shape == (500, 3)
    assert np.all(np.hypot(points[:, 0], points[:, 1]) < 1)
    assert points[:, 2].min() >= 2.0 and points[:, 2].max() <= 3.0


def test_the_same_seed_gives_the_same_points():
    a, b = sample_boundary(ANNULUS, 300, 7), sample_boundary(ANNULUS, 300, 7)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(sample_inside(ANNULUS, 300, 7), sample_inside(ANNULUS, 300, 7))
