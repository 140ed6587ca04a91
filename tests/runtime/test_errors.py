"""Errors raised during a solve name the file and the statement they concern
(`runtime.errors.locate`, applied by runtime.solve and so by the command line)."""

from __future__ import annotations

import pytest
import sympy as sp

import pdelang as pl
import runtime
from pdelang.errors import PdeDataError, Span
from runtime.cli import main
from runtime.errors import OptionError, SolveError, locate

BLOW_UP = """# u' = u^2 from u = 1 blows up at t = 1
time t in [0, 1.5]
space x in [0, 1]
field u(t, x)
pde d(u, t) = 0.01*d(u, x, 2) + u^2
bc d(u, x) = 0 at x = 0
bc d(u, x) = 0 at x = 1
ic u = 1 at t = 0
"""

HEAT = """space x in [0, 1]
time t in [0, 0.1]
field u(t, x)
pde d(u, t) = d(u, x, 2)
bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = sin(pi*x) at t = 0
"""


def test_a_blow_up_names_the_file_the_pde_line_and_the_integrator_flag(tmp_path, capsys):
    path = tmp_path / "blow.pde"
    path.write_text(BLOW_UP)
    assert main(["solve", str(path), "--grid", "5", "--frames", "2", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:5:1: solve error: the solution became NaN or Inf")
    assert " 5 | pde d(u, t) = 0.01*d(u, x, 2) + u^2" in err
    assert "--integrator sdirk2" in err and "Traceback" not in err


def test_an_option_error_during_the_solve_names_the_file(tmp_path):
    path = tmp_path / "heat.pde"
    path.write_text(HEAT)
    with pytest.raises(OptionError) as info:
        runtime.solve(pl.load(path), "fd", scheme="nonesuch")
    assert str(info.value).startswith(f"{path}: option error: scheme 'nonesuch'")


def test_locate_keeps_positions_labels_and_the_error_class(tmp_path):
    system = pl.parse(HEAT, "heat.pde")
    placed = SolveError("bad", Span("heat.pde", 5, 1, 2, "bc u = 0 at x = 0"))
    assert locate(placed, system) is placed
    failed = SolveError("Newton stalled", Span(label="steady solve"), hint="try this")
    failed.trajectory = "kept"
    located = locate(failed, system)
    assert type(located) is SolveError and located.trajectory == "kept"
    assert str(located).startswith("heat.pde:4:1: solve error: steady solve: Newton stalled")
    assert located.hint == "try this"
    assert str(locate(OptionError("no"), system)) == "heat.pde: option error: no"
    assert str(locate(PdeDataError("bad table"), system)).startswith("heat.pde:4:1")


def test_a_system_built_in_python_is_named_by_its_equation():
    t, x = sp.symbols("t x")
    u = sp.Function("u")
    system = pl.PDESystem(equations=[sp.Eq(u(t, x).diff(t), u(t, x).diff(x, 2))],
                          conditions=[sp.Eq(u(t, 0), 0), sp.Eq(u(t, 1), 0),
                                      sp.Eq(u(0, x), sp.sin(sp.pi * x))],
                          domain={x: (0, 1), t: (0, 0.1)})
    assert str(locate(SolveError("diverged"), system)).startswith("equation 1: solve error")
    assert locate(OptionError("no"), system).span.file == "<input>"


def test_show_names_the_file_of_an_error_without_a_position(tmp_path, capsys):
    path = tmp_path / "heat.pde"
    path.write_text(HEAT)
    assert main(["show", str(path), "--method", "fd", "--grid", "z=5"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}: ") and "--grid names z" in err
