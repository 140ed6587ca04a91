"""`sweep=` (`--sweep`): many values of known constants in one compiled, vmapped fd solve.
Each member is checked against its exact solution (with its order of convergence) and
against a separate solve of the same system with the constant set, an independent path
(its own lowering, its own compiled loop)."""

import json

import numpy as np
import pytest

import pdelang as pl
import runtime
from runtime.cli import main
from runtime.errors import OptionError, SolveError

HEAT = """
problem "heat with a moving end"
param alpha = 0.5
space x in [0, 1]
time t in [0, 0.5]
field u(t, x)
pde d(u, t) = alpha*d(u, x, 2)
bc u = 0 at x = 0
bc u = exp(-alpha*t)*sin(1) at x = 1
ic u = sin(pi*x) + sin(x)
exact u = exp(-alpha*pi^2*t)*sin(pi*x) + exp(-alpha*t)*sin(x)
"""

ALPHAS = [0.1, 0.4, 1.0]


@pytest.fixture(scope="module")
def heat():
    return pl.parse(HEAT, "heat.pde")


@pytest.fixture(scope="module")
def swept(heat):
    return runtime.solve(heat, "fd", grid=33, frames=5, sweep={"alpha": ALPHAS})


def test_members_match_separate_solves_and_their_exact_solutions(heat, swept):
    assert swept.values["u"].shape == (3, 5, 33) and swept.members == 3
    assert swept.meta["integrator"] == "rk4" and swept.meta["members"] == 3
    errors = swept.member_errors()["u"]
    assert len(errors) == 3 and max(errors) < 3e-4
    assert swept.errors()["u"] == max(errors)
    for i, alpha in enumerate(ALPHAS):
        alone = runtime.solve(heat.with_constants({"alpha": alpha}), "fd", grid=33, frames=5,
                              dt=swept.meta["dt"])
        assert np.abs(alone.values["u"] - swept.values["u"][i]).max() < 1e-12
        assert abs(alone.errors()["u"] - errors[i]) < 1e-12


def test_every_member_converges_at_second_order(heat):
    errors = [runtime.solve(heat, "fd", grid=n, frames=3, sweep={"alpha": ALPHAS})
              .member_errors()["u"] for n in (17, 33, 65)]
    orders = np.log2(np.asarray(errors[:-1]) / np.asarray(errors[1:]))
    assert np.all(np.abs(orders - 2) < 0.2), orders


def test_member_solution_interpolation_and_file(swept, tmp_path):
    member = swept.member(1)
    assert member.values["u"].shape == (5, 33) and member.members == 0
    assert member.system.param("alpha").value == 0.4
    assert member.errors()["u"] == swept.member_errors()["u"][1]
    at = swept("u", x=0.5, t=0.25)
    assert at.shape == (3,) and at[1] == pytest.approx(member("u", x=0.5, t=0.25))
    assert "sweep of alpha: 3 members, from 0.1 to 1" in str(swept)
    saved = np.load(swept.save(tmp_path / "sweep.npz"))
    assert saved["alpha"].tolist() == ALPHAS and saved["u"].shape == (3, 5, 33)
    meta = json.loads(str(saved["meta"]))
    assert meta["options"]["sweep"] == {"alpha": ALPHAS}
    assert len(meta["relative_l2_error_members"]["u"]) == 3
    with pytest.raises(OptionError, match="member 3 of a sweep of 3"):
        swept.member(3)


def test_initial_states_swept_through_a_constant_of_the_initial_values():
    system = pl.parse("""
param A = 1
space x in [0, 1]
time t in [0, 1]
field u(t, x)
pde d(u, t, 2) = d(u, x, 2)
bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = A*sin(pi*x)
ic d(u, t) = 0
exact u = A*cos(pi*t)*sin(pi*x)
""", "standing_wave.pde")
    amplitudes = [0.5, 1.0, 3.0]
    result = runtime.solve(system, "fd", grid=65, frames=5, sweep={"A": amplitudes})
    assert result.meta["integrator"] == "leapfrog"          # auto: an undamped wave
    u = result.values["u"]
    for i, a in enumerate(amplitudes):                     # a linear equation: u scales
        assert np.abs(u[i] - a * u[1]).max() < 1e-12 * a
    assert max(result.member_errors()["u"]) < 5e-4


def test_ode_members_take_their_own_adaptive_steps():
    system = pl.parse("""
param r = 1
time t in [0, 4]
field y(t)
pde d(y, t) = r*y*(1 - y)
ic y = 0.01
exact y = 1/(1 + 99*exp(-r*t))
""", "logistic.pde")
    result = runtime.solve(system, "fd", frames=9, rtol=1e-9, atol=1e-12,
                           sweep={"r": [0.5, 1.0, 2.0, 4.0]})
    assert result.meta["integrator"] == "rodas4"
    assert max(result.member_errors()["y"]) < 1e-6


def test_steady_members_converge_at_second_order():
    system = pl.parse("""
param a = 1
space x in [0, 1]
space y in [0, 1]
field u(x, y)
pde laplace(u) = -2*a*pi^2*sin(pi*x)*sin(pi*y)
bc u = 0 at x = 0
bc u = 0 at x = 1
bc u = 0 at y = 0
bc u = 0 at y = 1
exact u = a*sin(pi*x)*sin(pi*y)
""", "poisson.pde")
    errors = [runtime.solve(system, "fd", grid=n, sweep={"a": [1.0, -2.0]}).member_errors()["u"]
              for n in (17, 33)]
    orders = np.log2(np.asarray(errors[0]) / np.asarray(errors[1]))
    assert np.all(np.abs(orders - 2) < 0.2), orders


def test_two_constants_swept_together(heat):
    system = pl.parse(HEAT.replace("param alpha = 0.5", "param alpha = 0.5\nparam s = 1")
                      .replace("ic u = sin(pi*x) + sin(x)", "ic u = s*sin(pi*x) + sin(x)")
                      .replace("exact u = exp", "exact u = s*exp"), "heat2.pde")
    result = runtime.solve(system, "fd", grid=33, frames=3,
                           sweep={"alpha": [0.2, 0.8], "s": [1.0, 2.0]})
    assert max(result.member_errors()["u"]) < 3e-4
    assert result.member(1).meta["member_values"] == {"alpha": 0.8, "s": 2.0}


def test_the_fixed_step_suits_the_stiffest_member_of_an_ode_sweep():
    system = pl.parse("""
param k = 1
time t in [0, 1]
field y(t)
pde d(y, t) = -k*y
ic y = 1
exact y = exp(-k*t)
""", "decay.pde")                # k = 300 alone needs dt < 2.8/300; member 0 would allow 0.01
    result = runtime.solve(system, "fd", frames=5, integrator="rk4", sweep={"k": [1.0, 300.0]})
    assert result.meta["dt"] < 2.8 / 300
    assert np.abs(result.values["y"][1]).max() <= 1.0 and result.errors()["y"] < 1e-4


def test_a_damped_member_keeps_auto_off_leapfrog():
    system = pl.parse("""
param b = 0
space x in [0, 1]
time t in [0, 1]
field u(t, x)
pde d(u, t, 2) = d(u, x, 2) - b*d(u, t)
bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = sin(pi*x)
ic d(u, t) = 0
""", "damped.pde")
    assert runtime.solve(system, "fd", grid=33, frames=3).meta["integrator"] == "leapfrog"
    swept = runtime.solve(system, "fd", grid=33, frames=3, sweep={"b": [0.0, 1e-3]})
    assert swept.meta["integrator"] == "rk4"
    with pytest.raises(OptionError, match="damp|velocit"):
        runtime.solve(system, "fd", grid=33, frames=3, integrator="leapfrog",
                      sweep={"b": [0.0, 1e-3]})


@pytest.mark.parametrize("integrator", ["sdirk2", "dopri5"])
def test_implicit_and_adaptive_members_match_separate_solves(heat, integrator):
    options = dict(grid=17, frames=3, integrator=integrator, rtol=1e-8, atol=1e-10)
    if integrator == "sdirk2":
        options.update(dt=0.01)
    swept = runtime.solve(heat, "fd", sweep={"alpha": [0.2, 1.0]}, **options)
    for i, alpha in enumerate((0.2, 1.0)):
        alone = runtime.solve(heat.with_constants({"alpha": alpha}), "fd", **options)
        assert np.abs(alone.values["u"] - swept.values["u"][i]).max() < 1e-10


def test_a_member_that_blows_up_is_named():
    system = pl.parse("""
param k = 1
time t in [0, 1]
field y(t)
pde d(y, t) = k*y^2
ic y = 1
""", "blowup.pde")                                        # y = 1 / (1 - k t): k = 2 at t = 1/2
    with pytest.raises(SolveError, match=r"member 1 \(k = 2\)"):
        runtime.solve(system, "fd", sweep={"k": [0.5, 2.0]})


@pytest.mark.parametrize("sweep, message", [
    ({"beta": [1, 2]}, "'beta', which is not a parameter"),
    ({"alpha": []}, "finite numbers, at least one"),
    ({"alpha": [1.0, float("nan")]}, "finite numbers"),
    ({"alpha": ["a"]}, "not numbers"),
    ({"alpha": [[1.0, 2.0], [3.0, 4.0]]}, "one per member"),
    ({}, "known constants of the system"),
])
def test_bad_sweeps_are_refused(heat, sweep, message):
    with pytest.raises(OptionError, match=message):
        runtime.solve(heat, "fd", grid=17, sweep=sweep)


def test_sweeps_of_what_does_not_reach_the_solver_are_refused():
    only_exact = pl.parse(HEAT.replace("param alpha = 0.5", "param alpha = 0.5\nparam q = 1")
                          .replace("exact u = exp", "exact u = q*exp"), "q.pde")
    with pytest.raises(OptionError, match="every member of the sweep came out the same"):
        runtime.solve(only_exact, "fd", grid=17, frames=3, sweep={"q": [1.0, 2.0]})
    inlined = pl.parse("""
param a = 1
param c(x) = a*x + 1
space x in [0, 1]
time t in [0, 0.1]
field u(t, x)
pde d(u, t) = d(c*d(u, x), x)
bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = sin(pi*x)
""", "inlined.pde")
    with pytest.raises(OptionError, match="defines the coefficient field c") as info:
        runtime.solve(inlined, "fd", grid=17, sweep={"a": [1.0, 2.0]})
    assert info.value.span.line == 2
    with pytest.raises(OptionError, match="which is a coefficient field"):
        runtime.solve(inlined, "fd", grid=17, sweep={"c": [1.0, 2.0]})


def test_sweep_is_an_fd_option_and_refuses_fits(heat, examples_dir):
    with pytest.raises(OptionError, match="sweep"):
        runtime.solve(heat, "pinn", sweep={"alpha": [1.0]})
    inverse = pl.load(f"{examples_dir}/heat_inverse.pde")
    with pytest.raises(OptionError, match="forward problems"):
        runtime.solve(inverse, "fd", sweep={"k": [0.1]})


def test_command_line_sweep_writes_stacked_fields(examples_dir, tmp_path, capsys):
    out = tmp_path / "sweep.npz"
    status = main(["solve", f"{examples_dir}/heat1d_dirichlet.pde", "--grid", "17",
                   "--frames", "3", "--sweep", "alpha=0.2:1:3", "--out", str(out), "--quiet"])
    assert status == 0
    assert "sweep of alpha: 3 members, from 0.2 to 1" in capsys.readouterr().out
    saved = np.load(out)
    assert np.allclose(saved["alpha"], [0.2, 0.6, 1.0]) and saved["u"].shape == (3, 3, 17)


@pytest.mark.parametrize("text", ["alpha", "alpha=1:2", "alpha=1:2:0", "alpha=1:x:3",
                                  "alpha=1:2:3,s=1:2:4", "alpha=1:2:3,alpha=1:2:3"])
def test_command_line_bad_sweep_texts_exit_2(examples_dir, text, capsys):
    with pytest.raises(SystemExit) as info:
        main(["solve", f"{examples_dir}/heat1d_dirichlet.pde", "--sweep", text])
    assert info.value.code == 2
    assert "NAME=START:STOP:COUNT" in capsys.readouterr().err
