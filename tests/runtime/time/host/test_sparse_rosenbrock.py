"""Rodas4 on grids (sparse Jacobian, SuperLU on the host): the semi-discrete heat equation's
exact decay, agreement with the dense jitted Rodas4 on a small Brusselator, refusals."""

from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import pdelang as pl
import runtime
from compiler.fd import FDOptions, lower_fd
from runtime.errors import OptionError
from runtime.time.loop import integrate

EXAMPLES = Path(__file__).resolve().parents[4] / "examples"

HEAT = """
space x in [0, 1]
time  t in [0, 0.5]
field u(t, x)
pde d(u, t) = d(u, x, 2)
bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = sin(pi*x) at t = 0
"""


def test_heat_meets_the_semi_discrete_decay():
    """Second differences turn sin(pi x) into an exact mode of the grid, decaying at
    lambda_h = 4 sin^2(pi h / 2) / h^2: the integrator's own error is left alone."""
    n = 65
    h = 1 / (n - 1)
    solution = runtime.solve(pl.parse(HEAT), "fd", grid=n, integrator="rodas4", frames=6,
                             rtol=1e-8, atol=1e-12)
    rate = 4 * np.sin(np.pi * h / 2) ** 2 / h**2
    t, x = solution.grid["t"], solution.grid["x"]
    exact = np.exp(-rate * t)[:, None] * np.sin(np.pi * x)[None, :]
    # measured 3.0e-10 in 155 steps; an explicit scheme needs 0.5 / (2.8 h^2 / 4) > 2900
    assert np.max(np.abs(np.asarray(solution.values["u"]) - exact)) < 1e-8
    assert solution.meta["integrator"] == "rodas4" and solution.meta["steps"] < 200


def test_sparse_and_dense_rodas4_agree_on_a_small_brusselator():
    """Two linear algebras, one method: the host loop with SuperLU (runtime.solve on a
    grid) and the jitted loop with a dense LU (`integrate`), 8 x 8 nodes to t = 2."""
    text = (EXAMPLES / "brusselator2d.pde").read_text().replace("t in [0, 11.5]",
                                                                "t in [0, 2]")
    system = pl.parse(text)
    sparse = runtime.solve(system, "fd", grid=9, integrator="rodas4", frames=3,
                           rtol=1e-9, atol=1e-12)
    program = lower_fd(system, FDOptions(grid=9))
    params = program.prepare({k: jnp.asarray(v) for k, v in program.params.items()})
    dense = integrate(program.bind(params), program.initial(params), {}, [0.0, 1.0, 2.0],
                      method="rodas4", rtol=1e-9, atol=1e-12)
    for name in ("u", "v"):
        ours = np.asarray(sparse.values[name])[-1][:-1, :-1]       # periodic: ends once
        theirs = np.asarray(dense.U[name])[-1]
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_a_step_size_is_refused_on_a_grid():
    with pytest.raises(OptionError, match="no --dt"):
        runtime.solve(pl.parse(HEAT), "fd", grid=17, integrator="rodas4", dt=0.01)


def test_saved_checkpoints_are_refused_but_the_command_lines_folder_is_not(tmp_path):
    system = pl.parse(HEAT)
    with pytest.raises(OptionError, match="without checkpoints"):
        runtime.solve(system, "fd", grid=17, integrator="rodas4",
                      checkpoint=str(tmp_path / "c"), checkpoint_every=1)
    # what `pdelang solve` always passes: a folder written only when interrupted
    solution = runtime.solve(system, "fd", grid=17, integrator="rodas4", frames=3,
                             checkpoint=str(tmp_path / "c"), checkpoint_every=0)
    assert solution.meta["integrator"] == "rodas4"
