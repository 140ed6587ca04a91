"""The Poisson problem of examples/poisson2d.pde, written with SymPy (README.md, "The same
problem, two ways"; docs/language.md section 8).

Run it from the repository root: `python examples/poisson2d.py`.
"""

import sympy as sp

import pdelang as pl

x, y = sp.symbols("x y")
u = sp.Function("u")

system = pl.PDESystem(
    equations=[sp.Eq(u(x, y).diff(x, 2) + u(x, y).diff(y, 2),
                     -sp.sin(sp.pi * x) * sp.sin(sp.pi * y))],
    conditions=[sp.Eq(u(0, y), 0), sp.Eq(u(1, y), 0),
                sp.Eq(u(x, 0), 0), sp.Eq(u(x, 1), 0)],
    domain={x: (0, 1), y: (0, 1)},
    exact={u: sp.sin(sp.pi * x) * sp.sin(sp.pi * y) / (2 * sp.pi**2)},
    name="poisson 2d",
)

if __name__ == "__main__":
    print(system)
    same = pl.load("examples/poisson2d.pde")
    print("equal to examples/poisson2d.pde:", system == same)
