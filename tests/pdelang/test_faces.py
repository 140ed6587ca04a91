"""Conditions per face: as many as the equation's order needs (two for a plate), a coupled
field closed by another's extra condition (the cavity's vorticity), and errors that say
where a count is wrong."""

import pdelang as pl
from pdelang.faces import assign_faces, conditions_taken

from .helpers import EXAMPLES, expect_error, parse

BEAM = """\
space x in [0, 1]
field u(x)
pde d(u, x, 4) = 1
{conditions}
"""

CLAMPED = """\
bc u = 0 at x = 0
bc d(u, x) = 0 at x = 0
bc u = 0 at x = 1
bc d(u, x) = 0 at x = 1"""


def test_conditions_taken_per_face_by_order():
    assert [conditions_taken(k) for k in range(5)] == [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2)]


def test_a_clamped_beam_takes_two_conditions_per_face():
    system = parse(BEAM.format(conditions=CLAMPED))
    names = ("u",)
    assignments, counts = assign_faces(names, system.info, system.equations,
                                       system.conditions)
    # the value first (on the face), the slope on the next layer, whatever the text order
    assert [(a.condition.side, a.depth, a.stacked) for a in assignments] == [
        ("lower", 0, True), ("lower", 1, True), ("upper", 0, True), ("upper", 1, True)]
    assert all(not c.left_over and not c.short for c in counts)


def test_a_simply_supported_plate_is_accepted():
    faces = "\n".join(f"bc u = 0 at {c} = {v}\nbc d(u, {c}, 2) = 0 at {c} = {v}"
                      for c in "xy" for v in (0, 1))
    system = parse(f"space x in [0, 1], y in [0, 1]\nfield u(x, y)\n"
                   f"pde laplace(laplace(u)) = 1\n{faces}\n")
    assert dict(system.info[0].orders) == {"x": 4, "y": 4}


def test_one_condition_for_a_fourth_order_face_is_refused_at_it():
    expect_error(BEAM.format(conditions=CLAMPED.replace("bc d(u, x) = 0 at x = 1\n", "")
                             .replace("bc d(u, x) = 0 at x = 1", "")),
                 pl.PdeSemanticError, 6, 1, "`u` has derivatives of order 4 in `x`",
                 "needs 2 conditions at x = 1; 1 given", "d(u, x) = 0 at x = 1")


def test_three_conditions_on_a_face_are_refused_at_the_third():
    expect_error(BEAM.format(conditions=CLAMPED + "\nbc d(u, x, 2) = 0 at x = 0"),
                 pl.PdeSemanticError, 8, 1, "too many boundary conditions at x = 0",
                 "`u` (order 4 in `x`) takes 2")


def test_two_conditions_for_a_second_order_face_are_refused():
    expect_error("""\
        space x in [0, 1]
        field u(x)
        pde d(u, x, 2) = 1
        bc u = 0 at x = 0
        bc d(u, x) = 0 at x = 0
        bc u = 0 at x = 1
        """, pl.PdeSemanticError, 5, 1, "too many boundary conditions at x = 0",
                 "`u` (order 2 in `x`) takes 1")


def test_the_cavity_is_accepted_and_its_extra_conditions_close_the_vorticity():
    system = pl.load(EXAMPLES / "lid_driven_cavity.pde")
    assignments, counts = assign_faces(("psi", "w"), system.info, system.equations,
                                       system.conditions)
    closing = [(a.condition.coordinate, a.condition.side) for a in assignments
               if a.transferred]
    assert sorted(closing) == [("x", "lower"), ("x", "upper"), ("y", "lower"),
                               ("y", "upper")]
    assert all(a.field == "w" and a.condition.fields == ("psi",) and a.depth == 0
               for a in assignments if a.transferred)
    assert all(a.field == "psi" and a.condition.residual.is_Function
               for a in assignments if not a.transferred)           # psi = 0 closes psi
    assert all(c.taken == {"psi": 1, "w": 1} for c in counts)


CAVITY = """\
space x in [0, 1], y in [0, 1]
field psi(x, y), w(x, y)
pde w = -laplace(psi)
pde d(psi, y)*d(w, x) - d(psi, x)*d(w, y) = laplace(w)/100
bc psi = 0 at x = 0
bc d(psi, x) = 0 at x = 0
bc psi = 0 at x = 1
bc d(psi, x) = 0 at x = 1
bc psi = 0 at y = 0
bc d(psi, y) = 0 at y = 0
bc psi = 0 at y = 1
{lid}
"""


def test_a_cavity_without_the_lid_slope_leaves_w_open_and_is_refused():
    expect_error(CAVITY.format(lid=""), pl.PdeSemanticError, 2, 18,
                 "`w` has derivatives of order 2 in `y` but no condition on the upper end")


def test_a_field_not_coupled_to_the_extra_condition_is_not_closed_by_it():
    # v appears in no equation with u: u's second condition cannot close it
    expect_error("""\
        space x in [0, 1]
        field u(x), v(x)
        pde d(u, x, 2) = 1
        pde d(v, x, 2) = 1
        bc u = 0 at x = 0
        bc d(u, x) = 0 at x = 0
        bc u = 0 at x = 1
        bc v = 0 at x = 1
        """, pl.PdeSemanticError, 6, 1, "too many boundary conditions at x = 0")
