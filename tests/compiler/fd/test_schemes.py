"""Spatial schemes (compiler/fd/schemes/): each at its design order on smooth transport,
the nonlinear ones against an independent NumPy evaluation of their formulas, and the
shock-capturing ones without new extrema on a square wave."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdelang as pl
import runtime
from compiler.errors import LoweringError
from compiler.fd import FDOptions, lower_fd
from compiler.fd.options import SCHEMES
from compiler.fd.schemes import get_scheme
from compiler.fd.stages import FluxUse, StencilUse

TRANSPORT = """
space x in [0, 1]
time t in [0, 0.1]
field u(x, t)
pde d(u, t) + A*d(u, x) = 0
ic u = sin(2*pi*x)
bc periodic x
exact u = sin(2*pi*(x - A*t))
"""

DESIGN_ORDER = {"upwind": 1, "upwind2": 2, "upwind3": 3, "weno5": 5, "muscl": 2,
                "muscl-vanleer": 2, "central": 2}


def _final_error(scheme: str, speed: int, nodes: int) -> float:
    """Mean absolute error at t = 0.1 of a sine carried at `speed` (RK4 with a step small
    enough that the time error is below the finest grid's space error for every scheme)."""
    system = pl.parse(TRANSPORT.replace("A", f"({speed})"))
    sol = runtime.solve(system, "fd", grid=nodes + 1, scheme=scheme, integrator="rk4",
                        dt=2e-4, frames=2)
    x, u = sol.grid["x"], sol.values["u"]
    final = u[:, -1] if u.shape[0] == x.size else u[-1]
    return float(np.mean(np.abs(final - np.sin(2 * np.pi * (x - speed * 0.1)))))


@pytest.mark.parametrize("speed", [1, -1])
@pytest.mark.parametrize("scheme", sorted(DESIGN_ORDER))
def test_each_scheme_converges_at_its_design_order(scheme, speed):
    """Measured (L1, grids 32/64/128): upwind 0.98, 0.99; upwind2 1.99, 2.00; upwind3 3.00,
    3.00; weno5 5.10, 5.03; muscl (minmod) 1.80, 1.89 (minmod clips the slope at the two
    extrema, which costs accuracy there; the order rises towards 2 with the grid);
    muscl-vanleer 1.99, 2.02; central 2.00, 2.00. Asserted on the finer pair."""
    errors = [_final_error(scheme, speed, n) for n in (32, 64, 128)]
    order = np.log2(errors[1] / errors[2])
    assert abs(order - DESIGN_ORDER[scheme]) < 0.2, (errors, order)


INFLOW = """
space x in [0, 1]
time t in [0, 0.5]
field u(x, t)
pde d(u, t) + d(u, x) = 0
ic u = sin(2*pi*x)
bc u = sin(-2*pi*t) at x = 0
exact u = sin(2*pi*(x - t))
"""


@pytest.mark.parametrize("scheme", ["upwind3", "weno5"])
def test_a_bounded_axis_keeps_the_order(scheme):
    """Inflow at x = 0, outflow at x = 1: the nonlinear schemes read ghost values beyond the
    ends, extrapolated from the nearest nodes. Measured relative L2 errors at 65/129/257
    points: weno5 1.77e-6, 5.42e-8, 1.69e-9 (orders 5.03, 5.00); upwind3 1.14e-4, 1.45e-5,
    1.8e-6 (2.97, 3.0). With the end value repeated instead, weno5 fell to first order."""
    errors = []
    for points in (65, 129, 257):
        sol = runtime.solve(pl.parse(INFLOW), "fd", grid=points, scheme=scheme,
                            integrator="rk4", dt=5e-4, frames=2)
        errors.append(sol.meta["relative_l2_error"]["u"])
    order = np.log2(errors[1] / errors[2])
    assert abs(order - DESIGN_ORDER[scheme]) < 0.2, (errors, order)


def test_the_table_names_every_scheme_once():
    assert SCHEMES == ("central", "upwind", "upwind2", "upwind3", "weno5", "muscl",
                       "muscl-vanleer")
    assert all(get_scheme(name).name == name for name in SCHEMES)


def test_an_unknown_scheme_lists_the_choices():
    with pytest.raises(LoweringError, match=r"'weno'.*did you mean 'weno5'.*muscl-vanleer"):
        FDOptions(scheme="weno")
    with pytest.raises(runtime.OptionError, match="weno5"):
        runtime.solve(pl.parse(TRANSPORT.replace("A", "1")), "fd", scheme="wenoo")


# -- the generated kernels against NumPy ---------------------------------------------------

VARIABLE_SIGN = """
space x in [0, 1]
time t in [0, 1]
field u(x, t)
pde d(u, t) + sin(2*pi*x)*d(u, x) = 0
ic u = 0
bc periodic x
"""


def _weno5_face(v0, v1, v2, v3, v4):
    """Jiang and Shu (1996), eqs. (2.10)-(2.17) with (3.2)-(3.4): written again here."""
    b0 = 13 / 12 * (v0 - 2 * v1 + v2) ** 2 + 0.25 * (v0 - 4 * v1 + 3 * v2) ** 2
    b1 = 13 / 12 * (v1 - 2 * v2 + v3) ** 2 + 0.25 * (v1 - v3) ** 2
    b2 = 13 / 12 * (v2 - 2 * v3 + v4) ** 2 + 0.25 * (3 * v2 - 4 * v3 + v4) ** 2
    a = np.array([0.1 / (1e-6 + b0) ** 2, 0.6 / (1e-6 + b1) ** 2, 0.3 / (1e-6 + b2) ** 2])
    q = np.array([v0 / 3 - 7 * v1 / 6 + 11 * v2 / 6, -v1 / 6 + 5 * v2 / 6 + v3 / 3,
                  v2 / 3 + 5 * v3 / 6 - v4 / 6])
    return (a * q).sum(axis=0) / a.sum(axis=0)


def _muscl_face(v0, v1, v2, limiter):
    left, right = v1 - v0, v2 - v1
    if limiter == "minmod":
        slope = np.where(left * right > 0, np.sign(left) * np.minimum(abs(left), abs(right)), 0)
    else:
        slope = np.where(left * right > 0, 2 * left * right / np.where(left * right > 0,
                                                                      left + right, 1), 0)
    return v1 + slope / 2


def _numpy_rate(scheme: str, u: np.ndarray, x: np.ndarray, h: float) -> np.ndarray:
    """-c(x) u_x by `scheme`, node by node with np.roll, on a periodic grid."""
    def at(k):                       # u[i + k]
        return np.roll(u, -k)

    if scheme == "weno5":
        plus = _weno5_face(at(-2), at(-1), at(0), at(1), at(2))        # left-biased, i+1/2
        minus = _weno5_face(at(3), at(2), at(1), at(0), at(-1))        # right-biased, i+1/2
    else:
        limiter = "minmod" if scheme == "muscl" else "van leer"
        plus = _muscl_face(at(-1), at(0), at(1), limiter)
        minus = _muscl_face(at(2), at(1), at(0), limiter)
    backward = (plus - np.roll(plus, 1)) / h
    forward = (minus - np.roll(minus, 1)) / h
    c = np.sin(2 * np.pi * x)
    return -c * np.where(c > 0, backward, forward)


@pytest.mark.parametrize("scheme", ["weno5", "muscl", "muscl-vanleer"])
def test_nonlinear_kernels_equal_an_independent_evaluation(scheme):
    """On a random smooth state with a kink (so the limiters and weights act), the generated
    right-hand side equals the NumPy formulas node by node to rounding."""
    program = lower_fd(pl.parse(VARIABLE_SIGN), FDOptions(grid=65, scheme=scheme))
    x = np.linspace(0, 1, 65)[:-1]
    rng = np.random.default_rng(7)
    modes = rng.normal(size=4)
    u = sum(m * np.sin(2 * np.pi * (k + 1) * x + k) for k, m in enumerate(modes))
    u += np.abs(x - 0.37)
    with jax.enable_x64(True):
        rate = program.bind({})(jnp.float64(0), {"u": jnp.asarray(u)}, {})["u"]
    expected = _numpy_rate(scheme, u, x, 1 / 64)
    assert np.max(np.abs(np.asarray(rate) - expected)) < 1e-10 * np.max(np.abs(expected))


# -- sharp fronts -----------------------------------------------------------------------------

SQUARE_WAVE = """
space x in [0, 1]
time t in [0, 1]
field u(x, t)
pde d(u, t) + d(u, x) = 0
ic u = where(abs(x - 0.5) < 0.25, 1, 0)
bc periodic x
"""


def _square_wave(scheme: str) -> np.ndarray:
    """One period of a square wave on 200 cells, SSP-RK3 at CFL 0.4; frames by rows."""
    sol = runtime.solve(pl.parse(SQUARE_WAVE), "fd", grid=201, scheme=scheme,
                        integrator="ssprk3", dt=0.002, frames=51)
    u = sol.values["u"]
    return u.T if u.shape[0] == sol.grid["x"].size else u


def _total_variation(frames: np.ndarray) -> np.ndarray:
    return np.abs(np.diff(np.concatenate([frames, frames[:, :1]], axis=1), axis=1)).sum(axis=1)


@pytest.mark.parametrize("scheme", ["muscl", "muscl-vanleer"])
def test_muscl_never_increases_the_total_variation(scheme):
    """Measured: growth per frame at most 2.2e-16, no value outside [0, 1]."""
    frames = _square_wave(scheme)
    tv = _total_variation(frames)
    assert np.all(np.diff(tv) <= 1e-12)
    assert frames.min() > -1e-12 and frames.max() < 1 + 1e-12


def test_weno5_keeps_a_square_wave_nearly_free_of_oscillations():
    """WENO5 is essentially non-oscillatory, not TVD: measured total variation 2.003 at most
    (from 2), overshoot 3.7e-4; upwind2 overshoots by 0.21 and central by 0.36 on the same
    run (contrast asserted, so the test can tell the schemes apart)."""
    weno = _square_wave("weno5")
    assert _total_variation(weno).max() < 2.01
    assert -1e-3 < weno.min() and weno.max() < 1 + 1e-3
    upwind2 = _square_wave("upwind2")
    assert upwind2.max() > 1.1


def test_show_prints_the_rule_of_a_nonlinear_scheme(examples_dir):
    program = lower_fd(pl.load(f"{examples_dir}/advection1d.pde"),
                       FDOptions(grid=17, scheme="weno5"))
    stencils = program.stage("stencils")
    # a constant-speed transport term is differenced as the flux d(c*u, x): a FluxUse
    uses = [use.scheme for use in stencils.items if isinstance(use, (StencilUse, FluxUse))]
    assert uses == ["weno5"]
    assert any("weno5" in line and "WENO5-JS" in line for line in stencils.lines())


BURGERS = """
space x in [0, 1]
time t in [0, 1]
field u(x, t)
pde d(u, t) + u*d(u, x) = 0
ic u = sin(2*pi*x)
BC
"""


@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("scheme", ["weno5", "muscl", "upwind3"])
def test_the_program_reach_covers_the_scheme(scheme, periodic):
    """Implicit integrators and fits colour Jacobians by `program.reach`: on Burgers' rhs
    (the velocity u changes sign) the coloured Jacobian equals the dense one, near bounded
    ends too (upwind3's one-sided windows there read three nodes back, weno5's ghost values
    three nodes in)."""
    from runtime.algebra.sparse_jacobian import sparse_jacobian
    from runtime.algebra.steady_program import program_sparsity

    faces = "bc periodic x" if periodic else "bc u = 0 at x = 0\nbc u = 0 at x = 1"
    program = lower_fd(pl.parse(BURGERS.replace("BC", faces)), FDOptions(23, scheme=scheme))
    assert program.reach >= get_scheme(scheme).reach
    x = program.grid.axis("x").node_coordinates()
    with jax.enable_x64(True):
        U = {"u": jnp.asarray(np.sin(2 * np.pi * x) + 0.3 * np.cos(6 * np.pi * x))}
        params = program.prepare({k: jnp.asarray(v) for k, v in program.params.items()})

        def rhs(V, p):
            return program.rhs(jnp.float64(0), V, p)

        coloured = sparse_jacobian(rhs, U, params, program_sparsity(program)).toarray()
        dense = jax.jacfwd(lambda v: rhs({"u": v}, params)["u"])(U["u"])
    np.testing.assert_allclose(coloured, np.asarray(dense), rtol=1e-12, atol=1e-9)


def test_a_steady_system_refuses_a_shock_capturing_scheme(examples_dir):
    system = pl.load(f"{examples_dir}/poisson2d.pde")
    with pytest.raises(LoweringError, match="'weno5'.*steady"):
        lower_fd(system, FDOptions(9, scheme="weno5"))
    lower_fd(system, FDOptions(9, scheme="upwind"))     # linear names: accepted, as before
