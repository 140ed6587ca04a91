"""Point and mean conditions (`bc u = 0 at x = 0, y = 0`, `bc mean(u) = 0`): parsed into the
IR alike from text and SymPy, refused where they do not belong, required where a solution
is known only up to a constant; and the compatibility warning with both of its numbers."""

import re
import warnings

import pytest
import sympy as sp

import pdelang as pl
from pdelang import PdeSemanticError, PdeWarning
from pdelang.compatibility import check_compatibility

NEUMANN = """
space x in [0, 1], y in [0, 1]
field u(x, y)
pde laplace(u) = {source}
bc d(u, x) = 0 at x = 0
bc d(u, x) = {flux} at x = 1
bc d(u, y) = 0 at y = 0
bc d(u, y) = 0 at y = 1
{fix}
"""
PERIODIC = """
space x in [0, 1], y in [0, 1]
field u(x, y)
pde laplace(u) = -8*pi^2*sin(2*pi*x)*sin(2*pi*y)
bc periodic x, y
{fix}
"""
x, y = sp.symbols("x y")
u = sp.Function("u")


def parse(text):
    return pl.parse(text, "test.pde")


def neumann(fix="bc mean(u) = 0", source="-2*pi^2*cos(pi*x)*cos(pi*y)", flux="0"):
    return NEUMANN.format(fix=fix, source=source, flux=flux)


def test_mean_and_point_conditions_in_the_ir():
    mean = parse(neumann()).conditions[-1]
    assert (mean.kind, mean.coordinate, mean.side, mean.residual) == ("mean", "", None, u(x, y))
    point = parse(neumann("bc u = 2 at y = 1, x = 0.5")).conditions[-1]
    assert point.kind == "point" and point.fixes_constant
    assert point.point == (("x", sp.Float(0.5)), ("y", 1))      # in argument order
    assert point.residual == u(x, y) - 2


@pytest.mark.parametrize("fix", ["bc mean(u) = 0", "bc mean(2*u + 1) = 3",
                                 "bc u = 0 at x = 0, y = 0", "bc u = 1 at x = 1, y = 0.25"])
def test_printed_text_parses_back_to_the_same_system(fix):
    system = parse(neumann(fix))
    assert parse(system.to_pde()) == system
    assert fix.split(" ", 1)[1] in system.to_pde().replace("bc    ", "bc ")


def test_sympy_front_end_gives_the_same_ir():
    eq = sp.Eq(u(x, y).diff(x, 2) + u(x, y).diff(y, 2),
               -8 * sp.pi**2 * sp.sin(2 * sp.pi * x) * sp.sin(2 * sp.pi * y))
    domain = {x: (0, 1), y: (0, 1)}
    periodic = [pl.Periodic(x), pl.Periodic(y)]
    mean = pl.PDESystem([eq], periodic + [sp.Eq(pl.Mean(u(x, y)), 0)], domain)
    assert mean == parse(PERIODIC.format(fix="bc mean(u) = 0"))
    point = pl.PDESystem([eq], periodic + [pl.At(sp.Eq(u(x, y), 0), {x: 0, y: 0})], domain)
    assert point == parse(PERIODIC.format(fix="bc u = 0 at x = 0, y = 0"))


@pytest.mark.parametrize("text", [neumann(""), PERIODIC.format(fix="")])
def test_a_solution_known_up_to_a_constant_is_refused_with_the_fix(text):
    with pytest.raises(PdeSemanticError) as err:
        parse(text)
    message = str(err.value)
    assert "determined only up to a constant" in message and "test.pde:3:7" in message
    assert "bc mean(u) = 0" in message


@pytest.mark.parametrize("text, match", [
    # a Dirichlet face already fixes the constant
    (neumann().replace("bc d(u, x) = 0 at x = 0", "bc u = 0 at x = 0"), "over-determined"),
    (neumann("bc mean(u) = 0\nbc u = 0 at x = 0, y = 0"), "second one"),
    (neumann("bc u = 0 at x = 2, y = 0"), "outside the domain"),
    (neumann("bc u = 0 at x = 0, x = 1"), "named twice"),
    (neumann("bc mean(u) = 0 at x = 0"), "no `at`"),
    (neumann("bc mean(d(u, x)) = 0"), "not derivatives"),
    (neumann("bc mean(u) = x"), "coordinate `x`"),
    (neumann("bc 1 = mean(u) + 1"), "mean condition reads"),
    (neumann("bc mean(u, u) = 0"), "takes 1 argument"),
    (neumann("bc u + mean(u) = 0"), r"mean\(\) in the condition"),
])
def test_misplaced_point_and_mean_conditions_are_errors(text, match):
    with pytest.raises(PdeSemanticError, match=match) as err:
        parse(text)
    assert re.search(r"test\.pde:\d+:\d+", str(err.value))


def test_mean_in_an_equation_is_an_error_at_its_line():
    text = neumann().replace("pde laplace(u) =", "pde laplace(u) + mean(u) =")
    with pytest.raises(PdeSemanticError, match=r"(?s)test\.pde:4:1.*mean\(\) in the equation"):
        parse(text)


def test_point_and_mean_conditions_are_for_fields_without_a_time_derivative():
    """In a time-dependent problem they fix an algebraic field at every time (a DAE); on a
    field with a time derivative, which its initial condition fixes, they are refused."""
    text = """
    space x in [0, 1]
    time t in [0, 1]
    field u(t, x)
    pde d(u, t) = d(u, x, 2)
    bc d(u, x) = 0 at x = 0
    bc d(u, x) = 0 at x = 1
    ic u = cos(pi*x) at t = 0
    bc mean(u) = 0
    """
    with pytest.raises(PdeSemanticError, match="has a time derivative"):
        parse(text)


def test_compatible_data_give_no_warning_and_equal_integrals():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        system = parse(neumann(source="2", flux="2"))   # u = x^2: integral 2 = flux 2
    assert check_compatibility(system) == pytest.approx((2.0, 2.0), abs=1e-12)


def test_incompatible_data_warn_with_both_numbers():
    with pytest.warns(PdeWarning) as caught:
        system = parse(neumann(source="x + 1", flux="0.5"))
    message = str(caught[0].message)
    assert "integral of the source over the domain is 1.5" in message
    assert "net flux of the boundary data is 0.5" in message
    assert "test.pde:9:1" in message
    with pytest.warns(PdeWarning):
        integral, flux = check_compatibility(system)
    assert integral == pytest.approx(1.5, abs=1e-12) and flux == pytest.approx(0.5, abs=1e-12)


def test_periodic_faces_carry_no_flux():
    with pytest.warns(PdeWarning, match="source over the domain is 1 but the net flux "
                      "of the boundary data is 0"):
        parse(PERIODIC.format(fix="bc mean(u) = 0").replace(
            "-8*pi^2*sin(2*pi*x)*sin(2*pi*y)", "1"))


@pytest.mark.parametrize("pde, free", [("d((1 + x)*d(u, x), x) = 1", True),
                                       ("d(x*u, x) = 1", False),
                                       ("d(u, x, 2) + u = 1", False)])
def test_only_fields_seen_through_their_derivatives_are_free(pde, free):
    text = f"""space x in [0, 1]
field u(x)
pde {pde}
bc d(u, x) = 0 at x = 0
bc d(u, x) = 0 at x = 1
"""
    if free:
        with pytest.raises(PdeSemanticError, match="only up to a constant"):
            parse(text)
        assert parse(text + "bc mean(u) = 0\n").conditions[-1].kind == "mean"
    else:
        parse(text)
        with pytest.raises(PdeSemanticError, match="over-determined"):
            parse(text + "bc mean(u) = 0\n")
