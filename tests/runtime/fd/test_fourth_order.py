"""Fourth derivatives on bounded axes: beams and plates, clamped and simply supported, by
fd (steady and in time) and odil, against manufactured solutions; the observed order of
convergence is asserted within 0.2 of 2."""

import numpy as np
import pytest
import sympy as sp

import pdelang as pl
import runtime
from compiler.fd import FDOptions, lower_fd
from compiler.fd.boundaries.coupled import hermite_weights
from pdelang.printing import expression_to_pde

x, y = sp.symbols("x y")


def orders(errors: list[float]) -> np.ndarray:
    return np.log2(np.array(errors[:-1]) / np.array(errors[1:]))


def plate(kind: str) -> pl.System:
    """laplace(laplace(u)) = f on the unit square, f from the manufactured u (SymPy)."""
    if kind == "clamped":
        exact, second = sp.sin(sp.pi * x)**2 * sp.sin(sp.pi * y)**2, "d(u, {c})"
    else:        # simply supported, written d(u, n, 2) = 0 or laplace(u) = 0
        exact = sp.sin(sp.pi * x) * sp.sin(sp.pi * y)
        second = "laplace(u)" if "laplace" in kind else "d(u, {c}, 2)"
    f = sp.simplify(sp.diff(exact, x, 4) + 2 * sp.diff(exact, x, 2, y, 2)
                    + sp.diff(exact, y, 4))
    # the derivative condition first: the value must still take the face (faces.py)
    faces = "\n".join(f"bc {second.format(c=c)} = 0 at {c} = {v}\nbc u = 0 at {c} = {v}"
                      for c in "xy" for v in (0, 1))
    return pl.parse(f"""problem "{kind} plate"
space x in [0, 1], y in [0, 1]
field u(x, y)
pde laplace(laplace(u)) = {expression_to_pde(f)}
{faces}
exact u = {expression_to_pde(exact)}
""")


@pytest.mark.parametrize("kind, bound", [("clamped", 2e-3), ("simply supported", 5e-4),
                                         ("simply supported, laplace", 5e-4)])
def test_plates_converge_at_order_two_by_fd(kind, bound):
    # measured: clamped 2.84e-2, 6.52e-3, 1.61e-3 (orders 2.12, 2.02); simply supported
    # 6.74e-3, 1.62e-3, 4.02e-4 (2.06, 2.01), the same with laplace(u) = 0 (u_yy is taken
    # along the face x = 0, where u = 0)
    system = plate(kind)
    errors = [runtime.solve(system, "fd", grid=n).errors()["u"] for n in (17, 33, 65)]
    assert errors[-1] < bound
    assert np.all(np.abs(orders(errors) - 2) < 0.2), (errors, orders(errors))


def test_a_plate_by_odil_is_the_fd_solve():
    system = plate("clamped")
    odil = runtime.solve(system, "odil", grid=33)
    fd = runtime.solve(system, "fd", grid=33)
    np.testing.assert_allclose(odil.values["u"], fd.values["u"], atol=1e-12)
    assert abs(odil.errors()["u"] - 6.52e-3) < 1e-4


def test_the_plate_rows_say_where_each_condition_holds():
    program = lower_fd(plate("clamped"), FDOptions(grid=9))
    lines = program.stage("boundary rows").lines()
    assert "u at x = 0: u = 0 on nodes x[0:1], y[0:9]" in lines
    assert ("u at x = 0: u_x = 0 on nodes x[1:2], y[1:8] (layer 1; derivatives taken at "
            "x = 0, one-sided)") in lines
    assert program.stage("equations").lines()[0].endswith("on nodes x[2:7], y[2:7]")


BEAM = """problem "beam"
space x in [0, 1]
field u(x)
pde d(u, x, 4) = {f}
bc u = 0 at x = 0
bc {second} = 0 at x = 0
bc u = 0 at x = 1
bc {second} = 0 at x = 1
exact u = {exact}
"""


@pytest.mark.parametrize("second, exact", [
    ("d(u, x)", sp.sin(sp.pi * x)**2 + x**3 * (1 - x)**3),              # clamped
    ("d(u, x, 2)", sp.sin(sp.pi * x) + x**5 - 10 * x**3 / 3 + 7 * x / 3),  # simply supported
])
def test_beams_converge_at_order_two_by_fd(second, exact):
    # measured at 33, 65, 129: clamped 6.77e-3, 1.67e-3, 4.16e-4 (orders 2.02, 2.00);
    # simply supported 9.11e-4, 2.25e-4, 5.63e-5 (2.02, 2.00)
    order = 1 if second == "d(u, x)" else 2
    for end in (0, 1):
        assert exact.subs(x, end) == 0 and sp.diff(exact, x, order).subs(x, end) == 0
    system = pl.parse(BEAM.format(f=expression_to_pde(sp.diff(exact, x, 4)), second=second,
                                  exact=expression_to_pde(exact)))
    errors = [runtime.solve(system, "fd", grid=n).errors()["u"] for n in (33, 65, 129)]
    assert errors[-1] < 1e-3
    assert np.all(np.abs(orders(errors) - 2) < 0.2), (errors, orders(errors))


BEAM_IN_TIME = """problem "beam in time"
space x in [0, 1]
time t in [0, 0.01]
field u(x, t)
pde d(u, t) = -d(u, x, 4)
bc u = 0 at x = 0
bc d(u, x, 2) = 0 at x = 0
bc u = 0 at x = 1
bc d(u, x, 2) = 0 at x = 1
ic u = sin(pi*x) at t = 0
exact u = exp(-pi^4*t)*sin(pi*x)
"""


def test_a_simply_supported_beam_in_time_by_odil():
    # measured 3.18e-3, 7.50e-4, 1.87e-4 (orders 2.09, 2.01); at 65 points the direct
    # solve ends at 0.14 ulps of |J||u| (rows scaled by 1/h^4), accepted as roundoff
    system = pl.parse(BEAM_IN_TIME)
    errors = [runtime.solve(system, "odil", grid=n).errors()["u"] for n in (17, 33, 65)]
    assert errors[-1] < 3e-4
    assert np.all(np.abs(orders(errors) - 2) < 0.2), (errors, orders(errors))


def test_a_simply_supported_beam_in_time_by_fd():
    # the closure sets the layer next to each end from u_xx = 0 (one-sided, 5 points);
    # measured 6.72e-4, 1.59e-4 (order 2.08) with the implicit integrator in 40 steps
    # (its own step choice, 200 steps, gives 6.82e-4, 1.69e-4: order 2.02, 18 s)
    system = pl.parse(BEAM_IN_TIME)
    errors = [runtime.solve(system, "fd", grid=n, integrator="sdirk2", dt=2.5e-4).errors()["u"]
              for n in (33, 65)]
    assert errors[-1] < 2.5e-4
    assert abs(orders(errors)[0] - 2) < 0.2, errors


def test_the_closing_stencil_is_jensens_wall_vorticity_formula():
    # psi_xx at a wall from psi0, psi1, psi2 and psi_x there: (-7, 8, -1)/2 and -3
    weights, given = hermite_weights(2, 1, 3, 1)
    assert weights == (sp.Rational(-7, 2), 4, sp.Rational(-1, 2)) and given == -3
    weights, given = hermite_weights(2, 1, 3, -1)           # the upper wall: mirrored
    assert weights == (sp.Rational(-7, 2), 4, sp.Rational(-1, 2)) and given == 3
