"""How well the trained networks satisfy each equation, on the equations' own scale.

A fit can match its data while an equation fails: the data pin the fields down where they
were observed and the unknowns drift to make up for a network that does not solve the
equation elsewhere (a Lorenz fit ended with its data fitted and rho 41% off, one equation's
mean-square residual at 1372 against terms of order 10^4). The loss does not show it in
absolute terms. `equation_balance` gives, per equation, the mean square of its residual
and the mean square of the size of its terms (the sum of the squares of the terms of the
residual `lhs - rhs` at each point); their ratio is dimensionless.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from pdelang import System

from .residuals import NetworkGroup, make_residual

BALANCE_POINTS = 4096                 # points of the regular grid, all axes together

Balance = Callable[[Mapping, Mapping, jax.Array], tuple[jax.Array, jax.Array]]


def equation_balance(system: System, groups: tuple[NetworkGroup, ...],
                     coordinates: tuple[str, ...]) -> Balance:
    """(nets, physical, points) -> (each equation's mean-square residual, the mean square
    of the size of its terms), over the points (n, len(coordinates))."""
    equations = [[make_residual(term, system, groups, coordinates, f" (equation {i + 1})")[0]
                  for term in sp.Add.make_args(e.residual)]
                 for i, e in enumerate(system.equations)]

    def balance(nets: Mapping, physical: Mapping, points: jax.Array):
        residuals, sizes = [], []
        for terms in equations:           # the residual is the sum of its terms
            values = [term(nets, physical, points) for term in terms]
            residuals.append(jnp.mean(sum(values) ** 2))
            sizes.append(jnp.mean(sum(v ** 2 for v in values)))
        return jnp.stack(residuals), jnp.stack(sizes)

    return balance


def balance_points(system: System, coordinates: tuple[str, ...]) -> np.ndarray:
    """A regular grid of about BALANCE_POINTS points over the box of `coordinates`,
    the ends of each axis left out (an equation holds inside)."""
    per_axis = max(2, int(BALANCE_POINTS ** (1 / len(coordinates))))
    axes = []
    for name in coordinates:
        lo, hi = (float(b) for b in system.coordinate(name).bounds)
        axes.append(np.linspace(lo, hi, per_axis + 2)[1:-1])
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)
