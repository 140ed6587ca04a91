"""Shaped domains in the language: the `domain` line, `on boundary [where ...]` conditions,
the SymPy front end's `region=` and `OnBoundary`, and the errors, each at its line."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import pdelang as pl
from pdelang.geometry import Ball, Difference, Inequality, Intersection, Polygon, Rect, Union

from .helpers import expect_error, parse, u, x, y

DISK = """\
space x in [-1, 1], y in [-1, 1]
field u(x, y)
domain {domain}
pde -laplace(u) = 1
bc u = 0 on boundary
"""

BALL = """\
space x in [-1, 1], y in [-1, 1], z in [0, 2]
field u(x, y, z)
domain {domain}
pde -laplace(u) = 1
bc u = 0 on boundary
"""


@pytest.mark.parametrize("text, kind", [
    ("rect(-1, -1, 1, 1) - rect(0, 0, 1, 1)", Difference),
    ("disk(0, 0, 0.5) + disk(0.5, 0, 0.3)", Union),
    ("ellipse(0, 0, 0.9, 0.4) & disk(0.5, 0, 0.5)", Intersection),
    ("polygon((-1, -1), (1, -0.5), (0.2, 1))", Polygon),
    ("x^2 + y^2/4 < 0.2", Inequality),
    ("(rect(-1, -1, 1, 1) - disk(0, 0, 0.2)) & disk(0, 0, 1)", Intersection),
])
def test_each_shape_parses_and_prints_back_as_the_same_system(text, kind):
    system = pl.parse(DISK.format(domain=text))
    assert isinstance(system.domain, kind)
    assert system.conditions[0].kind == "shape"
    assert pl.parse(system.to_pde()) == system


@pytest.mark.parametrize("text", ["ball(0, 0, 1, 0.9)", "box(-1, -1, 0, 1, 1, 1)",
                                  "cylinder(0, 0, 0.5, 0.5, 1.5) + ball(0, 0, 1, 0.4)"])
def test_three_dimensional_shapes(text):
    system = pl.parse(BALL.format(domain=text))
    assert system.domain.dims == 3
    assert pl.parse(system.to_pde()) == system


def test_levels_are_negative_inside_and_zero_on_the_boundary():
    """The sign of every combination is exact: a point of the L-shape's notch is outside,
    the re-entrant corner is on the boundary, a point of the annulus is inside."""
    l_shape = Rect((-1.0, -1.0), (1.0, 1.0)) - Rect((0.0, 0.0), (1.0, 1.0))
    level = l_shape.level((np.array([0.5, 0.0, -0.5]), np.array([0.5, 0.0, -0.5])))
    assert level[0] > 0 and level[1] == 0 and level[2] < 0
    annulus = Ball((0.0, 0.0), 1.0) - Ball((0.0, 0.0), 0.5)
    assert annulus.level((np.array([0.75]), np.array([0.0])))[0] == pytest.approx(-0.25)
    triangle = Polygon(((0.0, 0.0), (1.0, 0.0), (0.0, 1.0)))
    inside, outside = triangle.level((np.array([0.2, 0.8]), np.array([0.2, 0.8])))
    assert inside == pytest.approx(-0.2) and outside == pytest.approx(0.6 / np.sqrt(2))


def test_the_sympy_front_end_builds_the_same_system():
    text = pl.parse(DISK.format(domain="disk(0, 0, 1) - rect(0, 0, 1, 1)") +
                    "bc u = 1 on boundary where x > 0\n")
    built = pl.PDESystem(
        [sp.Eq(-u(x, y).diff(x, 2) - u(x, y).diff(y, 2), 1)],
        [pl.OnBoundary(sp.Eq(u(x, y), 0)), pl.OnBoundary(sp.Eq(u(x, y), 1), where=x > 0)],
        {x: (-1, 1), y: (-1, 1)}, region=pl.disk(0, 0, 1) - pl.rect(0, 0, 1, 1))
    assert built == text
    inequality = pl.PDESystem([sp.Eq(-u(x, y).diff(x, 2) - u(x, y).diff(y, 2), 1)],
                              [pl.OnBoundary(sp.Eq(u(x, y), 0))], {x: (-1, 1), y: (-1, 1)},
                              region=x**2 + y**2 < 1)
    assert isinstance(inequality.domain, Inequality)
    assert isinstance(built.domain.first, Ball)


@pytest.mark.parametrize("domain, needles", [
    ("disk(0, 0, 1.5)", ["reaches outside the box", "-1.5 to 1.5"]),
    ("disk(0, 0, 0.5) - disk(0, 0, 0.7)", ["the domain is empty"]),
    ("ball(0, 0, 0, 1)", ["3-D shape", "2 space coordinate"]),
    ("rect(0, 0, 1)", ["takes 4 numbers"]),
    ("polygon((0, 0), (1, 0))", ["at least 3 points"]),
    ("disk(0, 0, 0)", ["is empty"]),
    ("x^2 + y^2 < 4", ["reaches outside the box"]),
    ("square(0, 0, 1)", ["shapes combined with"]),
    ("disk(0, 0, u)", ["numbers"]),
    ("rect(0, 0, 1, 1) * 2", ["shapes combined with"]),
])
def test_a_bad_domain_is_an_error_at_its_line(domain, needles):
    with pytest.raises(pl.PdeSemanticError) as info:
        parse(DISK.format(domain=domain))
    assert info.value.span.line == 3, str(info.value)
    for needle in needles:
        assert needle in str(info.value), str(info.value)


def test_condition_errors_name_their_line():
    expect_error(DISK.format(domain="disk(0, 0, 1)") + "bc u = 0 at x = 1\n",
                 pl.PdeSemanticError, 6, 1, "face of the box", "on boundary")
    expect_error("space x in [0, 1], y in [0, 1]\nfield u(x, y)\npde laplace(u) = 0\n"
                 "bc u = 0 on boundary\n", pl.PdeSemanticError, 4, 1, "no `domain` line")
    expect_error("space x in [-1, 1], y in [-1, 1]\nfield u(x, y)\ndomain disk(0, 0, 1)\n"
                 "pde laplace(u) = 0\n", pl.PdeSemanticError, 2, 7,
                 "no condition on the domain's boundary")
    expect_error(DISK.format(domain="disk(0, 0, 1)") + "bc u = 0 on boundary where u > 0\n",
                 pl.PdeSemanticError, 6, 10, "not fields")
    expect_error(DISK.format(domain="disk(0, 0, 1)").replace("pde -laplace(u) = 1",
                                                            "pde -laplace(u) = 1 & 2"),
                 pl.PdeSemanticError, 4, 19, "`&` intersects shapes")
    expect_error(DISK.format(domain="disk(0, 0, 1)") + "domain disk(0, 0, 0.5)\n",
                 pl.PdeSemanticError, 6, 1, "given twice")
