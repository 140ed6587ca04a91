"""Flux form d(k*d(u, x), x) (compiler/fd/flux.py): differenced at cell faces, so that a
layered medium gets its exact piecewise-linear solution, a constant discrete flux across
the jump and no overshoot; order 2 with a source, with the jump on a node and halfway
between nodes; order 2 for a smooth 2-D variable coefficient; Neumann ends, periodic axes,
time-dependent and odil runs; accuracy 4 refused; pinn differentiates the expression."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import pdelang as pl
import runtime
from compiler.errors import LoweringError
from compiler.fd import FDOptions, lower_fd
from compiler.fd.stages import FluxUse

LAYERED = """
space x in [0, 1]
param k(x) = where(x < 0.5, 1, 10)
field u(x)
pde d(k*d(u, x), x) = SOURCE
bc u = 0 at x = 0
bc u = 1 at x = 1
"""


def _layered_exact(x: np.ndarray) -> np.ndarray:
    """k u' = q constant; u(0.5) from the left layer, u(1) = 1: q = 20/11."""
    return np.where(x < 0.5, 20 * x / 11, (2 * x + 9) / 11)


def _sourced_exact(x: np.ndarray) -> np.ndarray:
    """(k u')' = -pi^2 sin(pi x): k u' = pi cos(pi x) + C, u continuous, C = 2/11."""
    c = 2 / 11
    left = np.sin(np.pi * x) + c * x
    right = 1 + c / 2 + (np.sin(np.pi * x) - 1) / 10 + c * (x - 0.5) / 10
    return np.where(x < 0.5, left, right)


@pytest.mark.parametrize("nodes", [32, 33, 64, 65])       # jump between nodes / on a node
def test_layered_medium_is_exact_with_a_constant_flux(nodes):
    system = pl.parse(LAYERED.replace("SOURCE", "0"))
    sol = runtime.solve(system, "fd", grid=nodes)
    x, u = sol.grid["x"], sol.values["u"]
    assert np.abs(u - _layered_exact(x)).max() < 1e-12
    assert u.max() <= 1 + 1e-12 and u.min() >= -1e-12                  # no overshoot
    # the discrete flux at the faces, k[i+1/2] (u[i+1] - u[i]) / h, by the same rule
    h = x[1] - x[0]
    k = lambda s: np.where(s < 0.5, 1.0, 10.0)                          # noqa: E731
    right, left = k(x[:-1] + h / 4), k(x[1:] - h / 4)
    flux = 2 * right * left / (right + left) * np.diff(u) / h
    assert np.ptp(flux) < 1e-11 * np.abs(flux).max()
    assert flux[0] == pytest.approx(20 / 11, rel=1e-12)


@pytest.mark.parametrize("ends", [
    ("bc d(u, x) = 20/11 at x = 0", "bc u = 1 at x = 1"),              # Neumann
    ("bc u = 0 at x = 0", "bc u + d(u, x) = 13/11 at x = 1"),          # Robin
])
def test_layered_medium_with_neumann_or_robin_ends(ends):
    """The conditions keep their one-sided stencils at the boundary nodes (exact on the
    linear layers); the flux form holds inside."""
    text = LAYERED.replace("SOURCE", "0").replace("bc u = 0 at x = 0", ends[0]) \
        .replace("bc u = 1 at x = 1", ends[1])
    for nodes in (32, 33):
        sol = runtime.solve(pl.parse(text), "fd", grid=nodes)
        assert np.abs(sol.values["u"] - _layered_exact(sol.grid["x"])).max() < 1e-11


@pytest.mark.parametrize("offset", [0, 1])                # jump on a node / between nodes
def test_layered_medium_with_a_source_converges_at_order_2(offset):
    system = pl.parse(LAYERED.replace("SOURCE", "-pi^2*sin(pi*x)"))
    errors = []
    for n in (32, 64, 128):
        sol = runtime.solve(system, "fd", grid=n + offset)
        errors.append(np.abs(sol.values["u"] - _sourced_exact(sol.grid["x"])).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[-1] < 1e-4
    assert np.all(np.abs(orders - 2) < 0.2), (errors, orders)


def test_the_arithmetic_face_mean_is_selectable_and_wrong_for_layers():
    system = pl.parse(LAYERED.replace("SOURCE", "0"))
    harmonic = runtime.solve(system, "fd", grid=32)
    arithmetic = runtime.solve(system, "fd", grid=32, face_mean="arithmetic")
    exact = _layered_exact(harmonic.grid["x"])
    assert np.abs(harmonic.values["u"] - exact).max() < 1e-12
    assert np.abs(arithmetic.values["u"] - exact).max() > 1e-3   # the mean matters


def _smooth_2d(n: int, face_mean: str = "harmonic") -> float:
    x, y = sp.symbols("x y")
    k = 1 + x * y + sp.sin(x) / 2
    u = sp.sin(sp.pi * x) * sp.sin(sp.pi * y)
    f = sp.diff(k * sp.diff(u, x), x) + sp.diff(k * sp.diff(u, y), y)
    text = f"""
space x in [0, 1], y in [0, 1]
param k(x, y) = {pl.expression_to_pde(k)}
field u(x, y)
pde d(k*d(u, x), x) + d(k*d(u, y), y) = {pl.expression_to_pde(f)}
bc u = 0 at x = 0
bc u = 0 at x = 1
bc u = 0 at y = 0
bc u = 0 at y = 1
exact u = sin(pi*x)*sin(pi*y)
"""
    sol = runtime.solve(pl.parse(text), "fd", grid=n, face_mean=face_mean)
    gx, gy = np.meshgrid(sol.grid["x"], sol.grid["y"], indexing="ij")
    return float(np.abs(sol.values["u"] - np.sin(np.pi * gx) * np.sin(np.pi * gy)).max())


@pytest.mark.parametrize("face_mean", ["harmonic", "arithmetic"])
def test_smooth_2d_variable_coefficient_converges_at_order_2(face_mean):
    errors = [_smooth_2d(n, face_mean) for n in (17, 33, 65)]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[-1] < 1e-3
    assert np.all(np.abs(orders - 2) < 0.2), (errors, orders)


def test_show_names_the_flux_and_its_order():
    system = pl.parse(LAYERED.replace("SOURCE", "0"))
    stage = lower_fd(system, FDOptions(17)).stage("stencils")
    fluxes = [item for item in stage.items if isinstance(item, FluxUse)]
    assert len(fluxes) == 1 and fluxes[0].axis == "x" and fluxes[0].scheme == "flux"
    assert any("harmonic mean" in line and "order 2" in line for line in stage.lines())


def test_accuracy_4_is_refused_for_a_flux():
    system = pl.parse(LAYERED.replace("SOURCE", "0"))
    with pytest.raises(LoweringError, match="order 2"):
        lower_fd(system, FDOptions(17, accuracy=4))


def test_neumann_end_and_time_dependence():
    """u_t = (k u_x)_x, k = 1 + x, u_x = 0 at x = 0, u = 0 at x = 1, against the same
    equation expanded by the product rule (smooth k: both converge to one solution)."""
    flux = """
space x in [0, 1]
time t in [0, 0.1]
field u(x, t)
pde d(u, t) = d((1 + x)*d(u, x), x)
ic u = cos(pi*x/2)
bc d(u, x) = 0 at x = 0
bc u = 0 at x = 1
"""
    expanded = flux.replace("d((1 + x)*d(u, x), x)", "(1 + x)*d(u, x, 2) + d(u, x)")
    a = runtime.solve(pl.parse(flux), "fd", grid=101, frames=2).values["u"][:, -1]
    b = runtime.solve(pl.parse(expanded), "fd", grid=101, frames=2).values["u"][:, -1]
    assert np.abs(a - b).max() < 1e-4
    assert np.abs(a).max() > 0.1


def test_periodic_axis_conserves_the_integral():
    text = """
space x in [0, 1]
time t in [0, 0.05]
param k(x) = where(x < 0.5, 1, 10)
field u(x, t)
pde d(u, t) = d(k*d(u, x), x)
ic u = exp(-50*(x - 0.3)^2)
bc periodic x
"""
    sol = runtime.solve(pl.parse(text), "fd", grid=65, frames=2)
    first, last = sol.values["u"][:-1, 0], sol.values["u"][:-1, -1]    # x in argument order
    assert abs(last.sum() - first.sum()) < 1e-12 * first.sum()
    assert last.max() < first.max() and last.min() >= -1e-12


@pytest.mark.parametrize("nodes", [32, 33])
def test_odil_solves_the_layered_medium_exactly(nodes):
    system = pl.parse(LAYERED.replace("SOURCE", "0"))
    odil = runtime.solve(system, "odil", grid=nodes)
    assert np.abs(odil.values["u"] - _layered_exact(odil.grid["x"])).max() < 1e-10


@pytest.mark.slow
def test_pinn_differentiates_the_flux_expression():
    """(k u')' = 0 with k = 1 + x: u = log(1 + x) / log(2); about 30 s."""
    smooth = pl.parse(LAYERED.replace("SOURCE", "0").replace("where(x < 0.5, 1, 10)",
                                                             "1 + x"))
    pinn = runtime.solve(smooth, "pinn", steps=800, lbfgs_steps=200, seed=0, dtype="float32")
    x = pinn.grid["x"]
    exact = np.log(1 + x) / np.log(2)
    assert np.abs(pinn.values["u"] - exact).max() < 2e-2
