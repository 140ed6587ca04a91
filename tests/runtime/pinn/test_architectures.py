"""Each network architecture, with and without weight factorisation, trains end to end
through `runtime.solve` (a short run: the loss is finite and falls)."""

import numpy as np
import pytest

import pdelang as pl
import runtime

QUICK = dict(layers=(16, 16), points=128, boundary_points=64, grid=11, steps=200,
             lbfgs_steps=0)


@pytest.mark.parametrize("architecture, rwf", [
    ("mlp", False), pytest.param("modified", False, marks=pytest.mark.slow),
    pytest.param("pirate", False, marks=pytest.mark.slow), ("pirate", True)])
def test_a_short_poisson_run_trains_each_architecture(examples_dir, architecture, rwf):
    system = pl.load(f"{examples_dir}/poisson2d.pde")
    sol = runtime.solve(system, "pinn", architecture=architecture, weight_factorisation=rwf,
                        fourier_features=8 if architecture == "pirate" else 0, **QUICK)
    loss = np.asarray(sol.meta["loss_history"]["loss"])
    assert np.all(np.isfinite(loss)) and np.isfinite(sol.meta["final_loss"])
    assert loss[-1] < loss[0]
    assert np.all(np.isfinite(sol.values["u"]))
    assert sol.meta["options"]["architecture"] == architecture
    assert sol.meta["options"]["weight_factorisation"] is rwf
