"""Observed orders of convergence of the FD compiler against exact and manufactured solutions.

Each case refines the grid and asserts the order fitted from the two finest grids. Time
integration uses a small RK4 step from the harness so that only the space error shows.
"""

import re
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import pdelang as pl

from .fd_harness import evolve, observed_order, steady

x, y, t = sp.symbols("x y t")
u, v = sp.Function("u"), sp.Function("v")


def steady_1d(exact, conditions, coefficient=1, shift=0):
    """-(coefficient) u'' + shift*u = f with f made from `exact`."""
    f = -coefficient * sp.diff(exact, x, 2) + shift * exact
    return pl.PDESystem([sp.Eq(-coefficient * u(x).diff(x, 2) + shift * u(x), f)], conditions,
                        {x: (0, 1)}, exact={u: exact})


def test_poisson_1d_dirichlet_second_and_fourth_order():
    exact = sp.sin(3 * x) + x**2
    system = steady_1d(exact, [sp.Eq(u(0), exact.subs(x, 0)), sp.Eq(u(1), exact.subs(x, 1))])
    errs, order = observed_order(system, [17, 33, 65], steady)
    assert errs[-1] < 1e-3 and abs(order - 2) < 0.2, (errs, order)
    errs, order = observed_order(system, [17, 33, 65], steady, accuracy=4)
    assert errs[-1] < 1e-6 and abs(order - 4) < 0.2, (errs, order)


def test_neumann_and_robin_faces_keep_second_order():
    exact = sp.exp(x) * sp.cos(2 * x)
    ux = sp.diff(exact, x)
    conditions = [pl.At(sp.Eq(u(x).diff(x), ux), x, 0),
                  pl.At(sp.Eq(u(x).diff(x) + 2 * u(x), ux + 2 * exact), x, 1)]
    system = steady_1d(exact, conditions, shift=1)
    errs, order = observed_order(system, [17, 33, 65], steady)
    assert errs[-1] < 3e-3 and abs(order - 2) < 0.2, (errs, order)
    _, order4 = observed_order(system, [17, 33, 65], steady, accuracy=4)
    assert abs(order4 - 4) < 0.2, order4


def test_periodic_steady_problem():
    exact = sp.sin(2 * sp.pi * x) + sp.cos(4 * sp.pi * x) / 2
    system = steady_1d(exact, [pl.Periodic(x)], shift=1)
    _, order = observed_order(system, [17, 33, 65], steady)
    assert abs(order - 2) < 0.2, order
    _, order4 = observed_order(system, [17, 33, 65], steady, accuracy=4)
    assert abs(order4 - 4) < 0.2, order4


def test_poisson_2d_with_boundary_data_and_a_mixed_derivative():
    exact = sp.sin(sp.pi * x) * sp.exp(y) + x * y**2
    lhs = u(x, y).diff(x, 2) + u(x, y).diff(y, 2) + u(x, y).diff(x, y) / 2
    f = sp.diff(exact, x, 2) + sp.diff(exact, y, 2) + sp.diff(exact, x, y) / 2
    conditions = [sp.Eq(u(0, y), exact.subs(x, 0)), sp.Eq(u(1, y), exact.subs(x, 1)),
                  sp.Eq(u(x, 0), exact.subs(y, 0)),
                  pl.At(sp.Eq(u(x, y).diff(y), sp.diff(exact, y)), y, 1)]
    system = pl.PDESystem([sp.Eq(lhs, f)], conditions, {x: (0, 1), y: (0, 1)},
                          exact={u: exact})
    errs, order = observed_order(system, [9, 17, 33], steady)
    assert errs[-1] < 2e-3 and abs(order - 2) < 0.2, (errs, order)


def test_nonlinear_steady_problem():
    exact = sp.sin(sp.pi * x) + 1
    f = -sp.diff(exact, x, 2) + exact**3
    system = pl.PDESystem([sp.Eq(-u(x).diff(x, 2) + u(x) ** 3, f)],
                          [sp.Eq(u(0), 1), sp.Eq(u(1), 1)], {x: (0, 1)}, exact={u: exact})
    _, order = observed_order(system, [17, 33, 65], steady)
    assert abs(order - 2) < 0.2, order


def rk4(dt):
    return lambda program: evolve(program, dt)


def test_heat_with_time_dependent_dirichlet_data():
    exact = sp.exp(-t) * sp.sin(x + 0.5) + x * t
    f = sp.diff(exact, t) - sp.diff(exact, x, 2) / 10
    system = pl.PDESystem([sp.Eq(u(t, x).diff(t), u(t, x).diff(x, 2) / 10 + f)],
                          [sp.Eq(u(t, 0), exact.subs(x, 0)), sp.Eq(u(t, 1), exact.subs(x, 1)),
                           sp.Eq(u(0, x), exact.subs(t, 0))],
                          {t: (0, 0.5), x: (0, 1)}, exact={u: exact})
    errs, order = observed_order(system, [9, 17, 33], rk4(2e-4))
    assert errs[-1] < 1e-4 and abs(order - 2) < 0.2, (errs, order)


def test_heat_2d_with_neumann_and_robin_faces():
    exact = sp.exp(-t) * sp.cos(x + 0.3) * sp.cosh(y / 2)
    f = sp.diff(exact, t) - (sp.diff(exact, x, 2) + sp.diff(exact, y, 2))
    w = u(t, x, y)
    conditions = [pl.At(sp.Eq(w.diff(x), sp.diff(exact, x)), x, 0),
                  pl.At(sp.Eq(w, exact), x, 1),
                  pl.At(sp.Eq(w.diff(y) - w, sp.diff(exact, y) - exact), y, 0),
                  pl.At(sp.Eq(w.diff(y), sp.diff(exact, y)), y, 1),
                  sp.Eq(u(0, x, y), exact.subs(t, 0))]
    system = pl.PDESystem([sp.Eq(w.diff(t), w.diff(x, 2) + w.diff(y, 2) + f)], conditions,
                          {t: (0, 0.2), x: (0, 1), y: (0, 1)}, exact={u: exact})
    # 9, 17, 33 points are pre-asymptotic (orders 2.37, 2.22); dt within RK4's limit at 65
    errs, order = observed_order(system, [17, 33, 65], rk4(5e-5))
    assert errs[-1] < 1e-4 and abs(order - 2) < 0.2, (errs, order)


@pytest.mark.parametrize("name, sizes, dt, options, expected", [
    # wave1d ends at t = 0.75: at its own end, t = 1, sin(pi t) = 0 cancels the leading phase
    # error and the order shows as 4 (a tolerance of 2.2 hid it)
    ("wave1d@0.75", [17, 33, 65], 2e-3, {}, 2),
    ("burgers1d", [17, 33, 65], 2e-3, {}, 2),
    ("reaction_diffusion2d", [9, 17, 33], 2e-4, {}, 2),
    ("advection1d", [33, 65, 129], 1e-3, {"scheme": "central"}, 2),
    ("advection1d", [33, 65, 129], 1e-3, {}, 2),
    ("advection1d", [129, 257, 513], 5e-4, {"scheme": "upwind"}, 1),
    # Fourth order in time-dependent problems: heat1d_dirichlet. heat1d's insulated ends
    # leave a large h^5 term: 4.84, 4.56, 4.36, 4.22 from 17 to 257 points, and rounding
    # shows before 4 +- 0.2 is reached; test_neumann_and_robin_faces_keep_second_order
    # checks the fourth-order Neumann closure where it is asymptotic.
    ("heat1d_dirichlet", [17, 33, 65], 1e-4, {"accuracy": 4}, 4),
])
def test_examples_converge(examples_dir, name, sizes, dt, options, expected):
    name, _, end = name.partition("@")
    path = Path(examples_dir, f"{name}.pde")
    text = path.read_text()
    if end:                                            # the same problem, another end time
        text, count = re.subn(r"(time\s+t\s+in\s+\[0,\s*)[^\]]+\]", rf"\g<1>{end}]", text)
        assert count == 1
    system = pl.parse(text, str(path), base=examples_dir)
    errs, order = observed_order(system, sizes, rk4(dt), **options)
    assert errs[-1] < errs[0]
    assert abs(order - expected) < 0.2, (errs, order)


def test_ode_without_space():
    a, b = sp.Function("a"), sp.Function("b")
    system = pl.PDESystem([sp.Eq(a(t).diff(t), b(t)), sp.Eq(b(t).diff(t), -a(t))],
                          [sp.Eq(a(0), 1), sp.Eq(b(0), 0)], {t: (0, 2)},
                          exact={a: sp.cos(t), b: -sp.sin(t)})
    from compiler.fd import FDOptions, lower_fd

    from .fd_harness import errors

    program = lower_fd(system, FDOptions())
    U, end = evolve(program, 1e-2)
    assert max(errors(program, U, end).values()) < 1e-8


def test_second_order_in_time_with_initial_velocity():
    exact = sp.sin(sp.pi * x) * (sp.cos(2 * sp.pi * t) + sp.sin(2 * sp.pi * t))
    system = pl.PDESystem([sp.Eq(u(t, x).diff(t, 2), 4 * u(t, x).diff(x, 2))],
                          [sp.Eq(u(t, 0), 0), sp.Eq(u(t, 1), 0),
                           sp.Eq(u(0, x), sp.sin(sp.pi * x)),
                           sp.Eq(u(t, x).diff(t).subs(t, 0), 2 * sp.pi * sp.sin(sp.pi * x))],
                          {t: (0, 0.3), x: (0, 1)}, exact={u: exact})
    errs, order = observed_order(system, [17, 33, 65], rk4(1e-3))
    assert np.isfinite(errs).all() and abs(order - 2) < 0.2, (errs, order)
