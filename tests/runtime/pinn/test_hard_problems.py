"""Issue 15's bounds on the hard problems, with the pinn method's defaults (one seed, 0).

Each case is benchmarks/pinn_hard.py's: the spec, the options its measurement needs and
the error against its independent reference (Burgers.npz; the pseudo-spectral Allen-Cahn
reference; sin(x - 50 t); the wave speed that made the data; the true Lorenz constants;
Poisson's exact solution). The bounds are written here, from the issue, not read from the
harness, so that editing the harness cannot loosen them.

These are long trainings (minutes to tens of minutes each on a CPU): run them with
`python -m pytest -m slow tests/runtime/pinn/test_hard_problems.py`.
"""

import pytest

from benchmarks.pinn_hard import run_case

BOUNDS = {
    "burgers": 1e-3,          # relative L2 of u on Burgers.npz's 256 x 100 points
    "allen_cahn": 1e-2,       # relative L2 of u against the 512 x 201 reference
    "advection": 1e-2,        # relative L2 of u against sin(x - 50 t)
    "wave_inverse": 2e-2,     # relative L2 of the recovered c(x, y) on 33 x 33 points
    "lorenz": 1e-2,           # largest relative error of sigma, rho, beta
    "poisson": 1e-3,          # relative L2 of u against its exact solution
}


# None open. History: fast advection gave 19.6 before time marching (1.1e-4 in 484 s with
# 8 windows since); the wave inverse recovered c to 14% before the data and regularization
# weights started on the equations' scale (1.4% since, seed 0).
OPEN: dict[str, str] = {}


@pytest.mark.slow
@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.xfail(
    strict=True, reason=OPEN[c])) if c in OPEN else c for c in BOUNDS])
def test_the_defaults_reach_the_issues_bound(case):
    result = run_case(case, seed=0)
    assert result["error"] <= BOUNDS[case], (
        f"{case}: {result['measure']} {result['error']:.3e} > {BOUNDS[case]:.0e} after "
        f"{result['steps']} steps, {result['wall_s']:.0f} s, final loss "
        f"{result['final_loss']:.3e}, stop reason {result['stop_reason']}")
