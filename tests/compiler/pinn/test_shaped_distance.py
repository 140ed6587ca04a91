"""Approximate distance functions of shaped domains (compiler/pinn/shaped/distance.py): zero on the
boundary, positive inside, smooth, slope one along the inward normal."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from compiler.pinn.shaped.distance import distance_function
from compiler.pinn.shaped.sampling import sample_boundary, sample_inside
from pdelang.geometry import Inequality, ball, box, cylinder, disk, ellipse, polygon, rect

x, y = sp.symbols("x y")
SHAPES = [
    disk(0.3, -0.2, 0.8),
    rect(-1, -1, 1, 1) - rect(0, 0, 1, 1),
    disk(0, 0, 1) - disk(0, 0, 0.5),
    disk(0, 0, 1) + disk(1, 0, 1),
    disk(0, 0, 1) & rect(0, -1, 2, 1),
    ellipse(0, 0, 2, 1),
    polygon((0, 0), (2, 0), (2, 2), (1, 0.5), (0, 2)),
    rect(-1, -1, 1, 1) - polygon((-0.5, -0.5), (0.5, -0.5), (0, 0.5)),
    Inequality(x**4 + y**2 - 1, ("x", "y"), ((-1.0, 1.0), (-1.0, 1.0))),
    box(0, 0, 0, 1, 2, 3),
    ball(0, 0, 0, 1),
    cylinder(0, 0, 1, 0, 2),
]
SMOOTH_BOUNDARY = [s for s in SHAPES if "polygon" not in str(s)]   # see distance.py


def _phi(shape):
    return jax.jit(jax.vmap(distance_function(shape)))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_phi_is_zero_on_the_boundary_and_positive_inside(shape):
    phi = _phi(shape)
    on = np.asarray(phi(jnp.asarray(sample_boundary(shape, 500, 0).points)))
    inside = np.asarray(phi(jnp.asarray(sample_inside(shape, 2000, 0))))
    assert np.max(np.abs(on)) < 1e-6
    assert np.all(inside > 0)


@pytest.mark.parametrize("shape", SMOOTH_BOUNDARY, ids=str)
def test_the_gradient_on_the_boundary_is_the_inward_normal(shape):
    """Normalised to first order: |grad phi| = 1 and grad phi = -n, away from corners."""
    sample = sample_boundary(shape, 500, 0)
    gradient = np.asarray(jax.vmap(jax.grad(distance_function(shape)))(
        jnp.asarray(sample.points)))
    inward = -np.sum(gradient * sample.normals, axis=1)
    assert np.median(inward) == pytest.approx(1.0, abs=1e-9)
    assert np.mean(np.abs(inward - 1) < 1e-6) > 0.95       # all but points at corners


def test_a_disks_phi_is_the_first_order_distance_and_its_gradient_the_inward_normal():
    shape = disk(1, 2, 0.5)
    sample = sample_boundary(shape, 200, 0)
    gradient = np.asarray(jax.vmap(jax.grad(distance_function(shape)))(
        jnp.asarray(sample.points)))
    np.testing.assert_allclose(gradient, -sample.normals, atol=1e-12)
    assert float(distance_function(shape)(jnp.asarray([1.0, 2.0]))) == pytest.approx(0.25)


@pytest.mark.slow
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_second_derivatives_are_finite_inside(shape):
    """The networks' equations take nested jvp of u = g + phi N at points inside."""
    phi = distance_function(shape)
    points = jnp.asarray(sample_inside(shape, 200, 1))
    hessians = jax.vmap(jax.hessian(phi))(points)
    assert np.all(np.isfinite(np.asarray(hessians)))


def test_phi_is_finite_at_corners_and_vertices():
    shape = rect(-1, -1, 1, 1) - rect(0, 0, 1, 1)
    corners = jnp.asarray([[0.0, 0.0], [-1.0, -1.0], [1.0, 0.0], [0.0, 1.0]])
    values = jax.vmap(distance_function(shape))(corners)
    gradients = jax.vmap(jax.grad(distance_function(shape)))(corners)
    np.testing.assert_allclose(np.asarray(values), 0.0, atol=1e-12)
    assert np.all(np.isfinite(np.asarray(gradients)))
