"""Butcher tableaus as data. A new Runge-Kutta scheme is one more constant here.

A tableau lists the stage matrix `a` row by row (explicit rows hold only the entries left
of the diagonal; diagonally implicit rows include the diagonal), the nodes `c`, the weights
`b` and, for embedded pairs, the weights `b_low` of the companion solution whose difference
from `b` estimates the local error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tableau:
    a: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]
    c: tuple[float, ...]
    order: int
    b_low: tuple[float, ...] | None = None
    fsal: bool = False  # the last stage is evaluated at the new solution (first same as last)

    @property
    def stages(self) -> int:
        return len(self.b)

    @property
    def matrix(self) -> np.ndarray:
        """The full `stages x stages` matrix `a`, zeros where the rows stop."""
        a = np.zeros((self.stages, self.stages))
        for i, row in enumerate(self.a):
            a[i, : len(row)] = row
        return a

    @property
    def error_weights(self) -> tuple[float, ...]:
        """`b - b_low`: the local error estimate is `dt * sum_i e_i k_i`."""
        if self.b_low is None:
            raise ValueError("this tableau has no embedded solution")
        return tuple(hi - lo for hi, lo in zip(self.b, self.b_low))


RK4 = Tableau(
    a=((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)),
    b=(1 / 6, 1 / 3, 1 / 3, 1 / 6),
    c=(0.0, 0.5, 0.5, 1.0),
    order=4,
)

# Shu and Osher's strong-stability-preserving scheme, written as a Butcher tableau.
SSPRK3 = Tableau(
    a=((), (1.0,), (0.25, 0.25)),
    b=(1 / 6, 1 / 6, 2 / 3),
    c=(0.0, 1.0, 0.5),
    order=3,
)

# Dormand and Prince (1980), the pair behind ode45 and DOPRI5: propagate the order-5 solution.
DOPRI5 = Tableau(
    a=(
        (),
        (1 / 5,),
        (3 / 40, 9 / 40),
        (44 / 45, -56 / 15, 32 / 9),
        (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
        (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
        (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
    ),
    b=(35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0),
    c=(0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0),
    order=5,
    b_low=(5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40),
    fsal=True,
)

# Two-stage SDIRK of order 2 (Alexander 1977), stiffly accurate (b is the last row of a),
# hence L-stable: stiff modes are damped, not just kept bounded.
_GAMMA = 1.0 - 1.0 / math.sqrt(2.0)
SDIRK2 = Tableau(
    a=((_GAMMA,), (1.0 - _GAMMA, _GAMMA)),
    b=(1.0 - _GAMMA, _GAMMA),
    c=(_GAMMA, 1.0),
    order=2,
)
