"""Time marching through `runtime.solve`: windows trained in turn reach the exact solution
of a transport problem with an explicit-time source, the pieces join at the windows'
edges, and what marching cannot do is refused."""

import numpy as np
import pytest

import pdelang as pl
import runtime
from compiler.errors import LoweringError
from runtime.errors import OptionError
from tests.compiler.pinn.test_marching import SOURCED

TRANSPORT = SOURCED            # the compiler test's spec: u = sin(x - 2t) + sin(t)
FAST = dict(layers=(16, 16), optimizer="lm", steps=400, lm_steps=80, points=800,
            initial_points=64, chunk=100, frames=16, grid=32, seed=0)


@pytest.fixture(scope="module")
def marched():
    return runtime.solve(pl.parse(TRANSPORT), method="pinn", time_windows=3, **FAST)


@pytest.mark.slow
def test_three_windows_reach_the_exact_solution(marched):
    assert [w["window"] for w in marched.meta["time_windows"]] == [[0.0, 0.5], [0.5, 1.0],
                                                                   [1.0, 1.5]]
    assert marched.meta["relative_l2_error"]["u"] < 2e-3
    later = marched.meta["time_windows"][1]
    assert later["steps"] == 80               # Adam trains the first window only


@pytest.mark.slow
def test_the_windows_join_at_their_edges(marched):
    x = np.linspace(0.0, 2 * np.pi, 50)
    for edge in (0.5, 1.0):
        before = marched("u", t=np.full_like(x, edge - 1e-9), x=x)
        after = marched("u", t=np.full_like(x, edge), x=x)
        exact = np.sin(x - 2 * edge) + np.sin(edge)
        assert np.max(np.abs(before - after)) < 1e-2
        assert np.max(np.abs(after - exact)) < 1e-2


def test_marching_refuses_an_inverse_problem_and_checkpoints(examples_dir, tmp_path):
    with pytest.raises(LoweringError, match="time marching"):
        runtime.solve(pl.load(f"{examples_dir}/lorenz_inverse.pde"), method="pinn",
                      time_windows=2, steps=1, lbfgs_steps=1)
    with pytest.raises(OptionError, match="checkpoints"):
        runtime.solve(pl.parse(TRANSPORT), method="pinn", time_windows=2, steps=1,
                      lm_steps=1, checkpoint=str(tmp_path / "ck"))
