"""Several runs fitted at once by fd (a `run` column): each run integrated from its own
initial state (observed, or fitted), the Solution's members one per run."""

from pathlib import Path

import numpy as np
import pytest

import pdelang as pl
import runtime
from compiler.errors import LoweringError
from runtime.output.solution import Solution
from tests.runtime.lotka_volterra_case import lotka_volterra

STARTS = ((0.44249, 4.6280), (2.0, 1.0), (1.0, 2.5))

LV = """\
time t in [0, 3]
field u(t), v(t)
param alpha = 1.3
param delta = 1.8
param beta ~ 0.5
param gamma ~ 0.5
pde d(u, t) = alpha*u - beta*u*v
pde d(v, t) = gamma*u*v - delta*v
ic u = 0.44249 at t = 0
ic v = 4.6280 at t = 0
data "runs.csv"
"""


def write_runs(folder: Path, starts=STARTS, labels=(1, 2, 3), first=None) -> pl.System:
    """runs.csv: each start's trajectory every 0.1 on [0, 3] (SciPy at 1e-12), the run's
    values at t = 0 replaced by `first[r]` where given; the parsed LV system."""
    times = np.arange(0, 3 + 1e-9, 0.1)
    rows = []
    for r, (label, start) in enumerate(zip(labels, starts)):
        u, v = lotka_volterra(times, start)
        if first is not None and first[r] is not None:
            u[0], v[0] = first[r]
        rows.append(np.column_stack([np.full(len(times), label), times, u, v]))
    np.savetxt(folder / "runs.csv", np.concatenate(rows), delimiter=",", header="run,t,u,v",
               comments="", fmt="%.17g")
    return pl.parse(LV, "lv.pde", base=folder)


def test_three_runs_give_beta_and_gamma_and_each_member_follows_its_own_start(tmp_path):
    solution = runtime.solve(write_runs(tmp_path), "fd", initial_state="given")
    assert abs(solution.params["beta"] / 0.9 - 1) < 1e-6
    assert abs(solution.params["gamma"] / 0.8 - 1) < 1e-6
    assert solution.members == 3 and list(solution.sweep["run"]) == [1, 2, 3]
    times = solution.grid["t"]
    for r, start in enumerate(STARTS):           # against SciPy, not against the fit's data
        u, v = lotka_volterra(times, start)
        member = solution.member(r)
        assert np.max(np.abs(member.values["u"] - u)) < 1e-4 * np.max(np.abs(u))
        assert np.max(np.abs(member.values["v"] - v)) < 1e-4 * np.max(np.abs(v))
    assert solution.meta["fit"]["runs"] == [1.0, 2.0, 3.0]


@pytest.mark.slow
def test_a_wrong_first_observation_biases_given_starts_and_fitted_starts_correct_it(tmp_path):
    """Run 2's observations at t = 0 are 20% off (the rest exact): starting there biases
    beta and gamma; fitted starts (from those values) weigh that observation as one of 31
    and come back near run 2's true start."""
    system = write_runs(tmp_path, first=[None, (2.4, 1.2), None])
    given = runtime.solve(system, "fd", initial_state="given")
    fitted = runtime.solve(system, "fd", initial_state="fitted")
    for name, truth in (("beta", 0.9), ("gamma", 0.8)):   # measured: 2.3%, 7.1% -> 0.28%, 0.41%
        assert abs(fitted.params[name] / truth - 1) < 0.2 * abs(given.params[name] / truth - 1)
        assert abs(fitted.params[name] / truth - 1) < 5e-3
    starts = fitted.meta["fit"]["initial_state"]
    assert starts["u"][1] == pytest.approx(2.0, rel=0.02)     # observed 2.4; measured 2.017
    assert starts["v"][1] == pytest.approx(1.0, rel=0.02)     # observed 1.2; measured 1.010
    assert runtime.solve(system, "fd").meta["fit"]["initial_state"]   # auto: fitted (an ODE)


HEAT = """\
time t in [0, 0.5]
space x in [0, 1]
field u(t, x)
param D ~ 0.05
pde d(u, t) = D*d(u, x, 2)
bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = sin(pi*x) at t = 0
data "runs.csv"
"""


def heat_runs(folder: Path, points: int = 41, rows=None) -> pl.System:
    """Two runs of u_t = 0.1 u_xx, exactly: sin(pi x) e^(-0.1 pi^2 t) and
    sin(2 pi x) e^(-0.4 pi^2 t), on `points` points every 0.05 in time."""
    x = np.linspace(0, 1, points)
    out = []
    for label, k in ((1, 1), (2, 2)):
        for t in np.arange(0, 0.5 + 1e-9, 0.05):
            u = np.sin(k * np.pi * x) * np.exp(-0.1 * (k * np.pi) ** 2 * t)
            out.append(np.column_stack([np.full(points, label), np.full(points, t), x, u]))
    table = np.concatenate(out)
    if rows is not None:
        table = table[rows(table)]
    np.savetxt(folder / "runs.csv", table, delimiter=",", header="run,t,x,u", comments="",
               fmt="%.17g")
    return pl.parse(HEAT, "heat.pde", base=folder)


def test_runs_of_a_pde_start_from_their_observed_profiles(tmp_path):
    """Run 2 starts from sin(2 pi x), which the spec's initial condition does not say: the
    fitted D is the truth only if each run starts from its own observations."""
    solution = runtime.solve(heat_runs(tmp_path), "fd", grid={"x": 41})
    assert abs(solution.params["D"] / 0.1 - 1) < 5e-3       # second order in the grid
    second = solution.member(1)
    x, t = second.grid["x"], second.grid["t"]
    exact = np.sin(2 * np.pi * x)[None] * np.exp(-0.4 * np.pi**2 * t)[:, None]
    assert np.max(np.abs(second.values["u"] - exact)) < 5e-3


@pytest.mark.slow
def test_runs_step_adaptively_too(tmp_path):
    """dopri5 (each run's attempts counted from its own start, the runs vmapped): the same
    D as RK4 at its stable step, to the time errors of both (measured 1e-9 apart)."""
    system = heat_runs(tmp_path)
    fixed = runtime.solve(system, "fd", grid={"x": 41})
    adaptive = runtime.solve(system, "fd", grid={"x": 41}, integrator="dopri5")
    assert adaptive.meta["fit"]["integrator"] == "dopri5"
    assert adaptive.params["D"] == pytest.approx(fixed.params["D"], rel=1e-5)


def test_a_run_result_loads_with_its_members(tmp_path):
    solution = runtime.solve(write_runs(tmp_path), "fd", initial_state="given")
    (tmp_path / "lv.pde").write_text(LV)
    solution.meta["source"] = str(tmp_path / "lv.pde")
    path = solution.save(tmp_path / "runs.npz")
    loaded = Solution.load(path)
    assert loaded.members == 3
    assert np.allclose(loaded.member(2)("u", t=1.0), solution.member(2)("u", t=1.0))
    # each run's rates, the run axis first, kept by the file: the equations' own right-hand
    # side at the fitted values (beta 0.9, gamma 0.8)
    assert set(loaded.rates) == {"u_t", "u_tt", "v_t", "v_tt"}
    assert loaded.rates["u_t"].shape == solution.values["u"].shape == (3, len(solution.grid["t"]))
    member = loaded.member(1)
    u, v = member.values["u"], member.values["v"]
    beta, gamma = solution.params["beta"], solution.params["gamma"]
    assert np.allclose(member.rates["u_t"], 1.3 * u - beta * u * v, rtol=1e-12, atol=1e-12)
    assert np.allclose(member.rates["v_t"], gamma * u * v - 1.8 * v, rtol=1e-12, atol=1e-12)


def test_methods_that_fit_one_run_refuse_several_at_the_data_line(tmp_path):
    system = write_runs(tmp_path)
    for method in ("odil", "pinn"):
        with pytest.raises(LoweringError, match="3 runs") as raised:
            runtime.solve(system, method, **({"steps": 1} if method == "pinn" else {}))
        assert raised.value.span is not None and raised.value.span.line == 11


def test_a_run_without_observations_at_the_start_is_named(tmp_path):
    system = heat_runs(tmp_path, rows=lambda table: ~((table[:, 0] == 2) & (table[:, 1] == 0)))
    with pytest.raises(LoweringError, match="run 2 has no observation of `u` at t = 0"):
        runtime.solve(system, "fd", grid={"x": 41})


def test_observations_that_do_not_span_a_runs_start_are_refused(tmp_path):
    system = heat_runs(tmp_path, rows=lambda table: (table[:, 1] > 0) | (table[:, 2] <= 0.5))
    with pytest.raises(LoweringError, match="do not reach the grid node at"):
        runtime.solve(system, "fd", grid={"x": 41})


def test_no_run_observed_at_the_start_is_refused(tmp_path):
    system = heat_runs(tmp_path, rows=lambda table: table[:, 1] > 0)
    with pytest.raises(LoweringError, match="none has observations at t = 0"):
        runtime.solve(system, "fd", grid={"x": 41})


def test_run_labels_must_be_whole_and_every_table_labelled(tmp_path):
    (tmp_path / "a.csv").write_text("run,t,u,v\n1.5,0,1,1\n")
    with pytest.raises(pl.PdeDataError, match=r"line 2, row 1: run = 1.5 is not a whole"):
        pl.parse(LV.replace("runs.csv", "a.csv"), "lv.pde", base=tmp_path)
    (tmp_path / "b.csv").write_text("run,t,u,v\n1,0,1,1\n")
    (tmp_path / "c.csv").write_text("t,u,v\n0,1,1\n")
    with pytest.raises(pl.PdeDataError, match="has no `run` column"):
        pl.parse(LV.replace('"runs.csv"', '"b.csv"\ndata "c.csv"'), "lv.pde", base=tmp_path)


@pytest.mark.slow
def test_two_runs_on_a_disk_start_from_their_own_modes(tmp_path):
    """u_t = D laplace(u) on the unit disk, u = 0 on its boundary, the spec's initial
    condition u = 0 (it says nothing of the runs): run 1 the J0 mode, run 2 the J1 cos(theta)
    mode, exactly (Bessel functions), observed at the nodes inside on [0, 0.3]. D comes
    back only if each run starts from its own observed mode (measured 0.16% off)."""
    from scipy.special import j0, j1, jn_zeros

    g = np.linspace(-1, 1, 41)
    X, Y = np.meshgrid(g, g, indexing="ij")
    R, theta = np.hypot(X, Y), np.arctan2(Y, X)
    inside = R <= 1
    rows = []
    for label, (mode, rate) in enumerate([(j0(jn_zeros(0, 1)[0] * R), jn_zeros(0, 1)[0]),
                                          (j1(jn_zeros(1, 1)[0] * R) * np.cos(theta),
                                           jn_zeros(1, 1)[0])], start=1):
        for t in np.arange(0, 0.3 + 1e-9, 0.05):
            u = mode * np.exp(-0.1 * rate**2 * t)
            rows.append(np.column_stack([np.full(inside.sum(), label), np.full(inside.sum(), t),
                                         X[inside], Y[inside], u[inside]]))
    np.savetxt(tmp_path / "disk.csv", np.concatenate(rows), delimiter=",",
               header="run,t,x,y,u", comments="", fmt="%.17g")
    system = pl.parse("""\
time t in [0, 0.3]
space x in [-1, 1]
space y in [-1, 1]
domain disk(0, 0, 1)
field u(t, x, y)
param D ~ 0.05
pde d(u, t) = D*(d(u, x, 2) + d(u, y, 2))
bc u = 0 on boundary
ic u = 0 at t = 0
data "disk.csv"
""", "disk.pde", base=tmp_path)
    solution = runtime.solve(system, "fd", grid={"x": 41, "y": 41})
    assert abs(solution.params["D"] / 0.1 - 1) < 0.01
    assert solution.members == 2
