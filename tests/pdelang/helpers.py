"""Shared pieces of the language-layer tests: symbols, small systems, and error checks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import sympy as sp

import pdelang as pl

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

x, y, t = sp.symbols("x y t")
u, v, c = sp.Function("u"), sp.Function("v"), sp.Function("c")

# A steady 1-D problem with both faces fixed; tests put one statement in or take one out.
POISSON1D = """\
space x in [0, 1]
field u(x)
pde d(u, x, 2) = {rhs}
bc u = 0 at x = 0
bc u = 0 at x = 1
"""


def parse(text: str, file: str = "test.pde", base: str | Path | None = None) -> pl.System:
    """Parse indented test text (dedented first)."""
    return pl.parse(textwrap.dedent(text), file, base)


def poisson1d(rhs: str) -> pl.System:
    """u'' = rhs on [0, 1] with u = 0 at both ends."""
    return pl.parse(POISSON1D.format(rhs=rhs), "test.pde")


def rhs_of(system: pl.System) -> sp.Expr:
    """The right-hand side of the one equation `u'' = rhs` of a `poisson1d` system."""
    return sp.Derivative(u(x), (x, 2)) - system.equations[0].residual


def expect_error(text: str, error: type[pl.PdeError], line: int, column: int,
                 *needles: str, file: str = "test.pde", base: str | Path | None = None
                 ) -> pl.PdeError:
    """Parse `text` (dedented); assert the error class, its position and message parts."""
    with pytest.raises(error) as info:
        parse(text, file, base)
    err = info.value
    assert (err.span.line, err.span.column) == (line, column), str(err)
    for needle in needles:
        assert needle in str(err), f"{needle!r} not in:\n{err}"
    return err


def steady_arguments() -> dict[str, object]:
    """`PDESystem` arguments of u'' = 1 on [0, 1] with u = 0 at both ends."""
    return dict(equations=[sp.Eq(u(x).diff(x, 2), 1)],
                conditions=[sp.Eq(u(0), 0), sp.Eq(u(1), 0)], domain={x: (0, 1)})


def expect_api_error(error: type[pl.PdeError], *needles: str, **overrides: object
                     ) -> pl.PdeError:
    """Build the steady system with `overrides`; assert the error class and message parts."""
    arguments = steady_arguments()
    arguments.update(overrides)
    with pytest.raises(error) as info:
        pl.PDESystem(**arguments)
    for needle in needles:
        assert needle in str(info.value), f"{needle!r} not in:\n{info.value}"
    return info.value
