"""Learned functions (`net` lines, issue 19): declared, used like functions, printed back,
the same from SymPy, and every misuse refused where it is written."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import pdelang as pl
from pdelang.expressions import NetOutput, net_outputs

from .helpers import expect_error

LOTKA_VOLTERRA = """\
time t in [0, 3]
field u(t), v(t)
param alpha = 1.3
param delta = 1.8
net F(u, v) : width 16, depth 2, activation tanh
net G(u, v) -> 2 : width 8
pde d(u, t) = alpha*u + F(u, v) + G[0]
pde d(v, t) = -delta*v - F(u, v) + G(u, v)[1]
ic u = 0.44249 at t = 0
ic v = 4.6280 at t = 0
data "lv.csv"
"""


@pytest.fixture
def data_dir(tmp_path):
    t = np.linspace(0, 3, 31)
    np.savetxt(tmp_path / "lv.csv", np.stack([t, np.exp(-t), np.exp(-2 * t)], axis=1),
               delimiter=",", header="t,u,v", comments="")
    return tmp_path


def test_a_net_is_declared_used_and_printed_back(data_dir):
    system = pl.parse(LOTKA_VOLTERRA, "lv.pde", base=data_dir)
    t = sp.Symbol("t")
    u, v = sp.Function("u")(t), sp.Function("v")(t)
    F, G = system.net("F"), system.net("G")
    assert (F.inputs, F.outputs, F.width, F.depth, F.activation) == ((u, v), 1, 16, 2, "tanh")
    assert (G.outputs, G.width, G.depth) == (2, 8, 2)
    uses = net_outputs(system.equations[0].residual) + net_outputs(system.equations[1].residual)
    assert {(n.net, n.index) for n in uses} == {("F", 0), ("G", 0), ("G", 1)}
    assert all(n.inputs == (u, v) for n in uses)
    text = system.to_pde()
    assert "net F(u, v) : width 16, depth 2, activation tanh" in text
    assert "net G(u, v) -> 2 : width 8, depth 2, activation tanh" in text
    assert "G(u, v)[1]" in text
    assert pl.parse(text, base=data_dir) == system


def test_the_sympy_form_equals_the_text(data_dir):
    t = sp.Symbol("t", real=True)
    u, v = sp.Function("u")(t), sp.Function("v")(t)
    alpha, delta = sp.Symbol("alpha"), sp.Symbol("delta")
    F = pl.Net("F", inputs=[u, v], width=16, depth=2)
    G = pl.Net("G", inputs=(u, v), outputs=2, width=8)
    system = pl.PDESystem(
        [sp.Eq(u.diff(t), alpha * u + F(u, v) + G[0]),
         sp.Eq(v.diff(t), -delta * v - F(u, v) + G.output(1, u, v))],
        [sp.Eq(u.subs(t, 0), sp.Float("0.44249")), sp.Eq(v.subs(t, 0), sp.Float("4.6280"))],
        {t: (0, 3)}, [u, v], {alpha: sp.Float("1.3"), delta: sp.Float("1.8")},
        nets=[F, G], data=str(data_dir / "lv.csv"))
    assert system == pl.parse(LOTKA_VOLTERRA, base=data_dir)
    with pytest.raises(TypeError, match="2 outputs"):
        G(u, v)


def test_a_learned_flux_takes_a_derivative_as_input(data_dir):
    np.savetxt(data_dir / "T.csv", [[0.5, 0.5, 1.0]], delimiter=",", header="t,z,T",
               comments="")
    system = pl.parse("""\
time t in [0, 1]
space z in [0, 1]
field T(t, z)
param K = 0.1
net q(T, d(T, z))
pde d(T, t) = -d(q(T, d(T, z)) - K*d(T, z), z)
ic T = z at t = 0
bc d(T, z) = 0 at z = 0
bc d(T, z) = 0 at z = 1
data "T.csv"
""", base=data_dir)
    (use,) = {n for e in system.equations for n in net_outputs(e.residual)}
    z, t = sp.Symbol("z"), sp.Symbol("t")
    assert use.inputs == (sp.Function("T")(t, z), sp.Function("T")(t, z).diff(z))
    assert isinstance(use, NetOutput) and "q(T, T_z)" in system.to_pde()


@pytest.mark.parametrize("changes, line, column, needles", [
    ([("G(u, v)[1]", "G(u)[1]")], 8, 36, ("declared as G(u, v)", "1 argument")),
    ([("G[0]", "G")], 7, 35, ("2 outputs", "G[0] to G[1]")),
    ([("G[0]", "G[2]")], 7, 35, ("2 output(s)", "not 2")),
    ([("G[0]", "u[0]")], 7, 35, ("`u[...]` takes an output of a net", "field")),
    ([("width 8", "size 8")], 6, 20, ("unknown option `size`", "width, depth, activation")),
    ([("width 8", "width 8, width 4")], 6, 29, ("given twice",)),
    ([("width 8", "width 0")], 6, 26, ("positive whole number",)),
    ([("width 8", "activation relu")], 6, 1, ("relu", "choose one of tanh")),
    ([("net G(u, v) -> 2", "net G(u*v) -> 2")], 6, 1,
     ("field, a coordinate or a derivative",)),
    ([("net G(u, v)", "net G(u, u)")], 6, 1, ("takes u twice",)),
    ([("net G(u, v) -> 2", "net v(u, v) -> 2")], 6, 1, ("declared twice",)),
    ([('data "lv.csv"\n', "")], 5, 1, ("no data to learn from", "data")),
    ([(" + G[0]", ""), (" + G(u, v)[1]", "")], 6, 1, ("net `G` is declared but no", )),
    ([("param delta = 1.8", "param delta = F(1, 2)")], 4, 15, ("`F`", )),
])
def test_a_misused_net_is_refused_where_it_is_written(data_dir, changes, line, column,
                                                       needles):
    text = LOTKA_VOLTERRA
    for old, new in changes:
        assert old in text
        text = text.replace(old, new, 1)
    expect_error(text, pl.PdeSemanticError, line, column, *needles, base=data_dir)
