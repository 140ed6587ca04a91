"""fd refuses time-stepping options on a steady system instead of ignoring them."""

from __future__ import annotations

import pytest

import pdelang as pl
import runtime
from runtime.cli import main
from runtime.errors import OptionError

POISSON = """space x in [0, 1]
field u(x)
pde d(u, x, 2) = -1
bc u = 0 at x = 0
bc u = 0 at x = 1
exact u = x*(1 - x)/2
"""


@pytest.mark.parametrize("options, words", [
    (dict(dt=1e-3), "--dt (dt=) sets the time stepping"),
    (dict(integrator="rk4"), "--integrator (integrator=) sets"),
    (dict(rtol=1e-3), "rtol= sets the time stepping"),
])
def test_time_options_on_a_steady_system_are_errors(tmp_path, options, words):
    path = tmp_path / "poisson.pde"
    path.write_text(POISSON)
    with pytest.raises(OptionError) as info:
        runtime.solve(pl.load(path), "fd", grid=9, **options)
    assert str(info.value).startswith(f"{path}: option error: {words}")


def test_defaults_pass_and_the_command_line_exits_1(tmp_path, capsys):
    path = tmp_path / "poisson.pde"
    path.write_text(POISSON)
    system = pl.load(path)                # frames is let through: scripts pass it to every run
    assert runtime.solve(system, "fd", grid=9, integrator="auto", frames=3).errors()["u"] < 1e-12
    assert main(["solve", str(path), "--grid", "9", "--dt", "0.1", "--quiet"]) == 1
    assert "leave out --dt" in capsys.readouterr().err
