"""Finite-difference weights, computed exactly (Fornberg's algorithm in SymPy) and cached.

A stencil is a derivative order and the integer offsets of the points it uses; its
weights, divided by h**order, approximate the derivative at offset 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp
from sympy.calculus.finite_diff import finite_diff_weights


@dataclass(frozen=True)
class Stencil:
    order: int
    offsets: tuple[int, ...]

    @property
    def weights(self) -> tuple[float, ...]:
        return tuple(float(w) for w in exact_weights(self.order, self.offsets))

    @property
    def reach(self) -> int:
        return max(abs(o) for o in self.offsets)

    def __str__(self) -> str:
        terms = []
        for offset, weight in zip(self.offsets, exact_weights(self.order, self.offsets)):
            if weight != 0:
                terms.append(f"{weight}*u[i{offset:+d}]" if offset else f"{weight}*u[i]")
        scale = f"h^{self.order}" if self.order > 1 else "h"
        return f"({' + '.join(terms)}) / {scale}".replace("+ -", "- ")


@cache
def exact_weights(order: int, offsets: tuple[int, ...]) -> tuple[sp.Rational, ...]:
    """Exact weights of the `order`-th derivative at 0 from values at `offsets` (h = 1)."""
    if len(offsets) <= order:
        raise ValueError(f"{len(offsets)} points cannot approximate a derivative of order {order}")
    table = finite_diff_weights(order, [sp.Integer(o) for o in offsets], 0)
    return tuple(sp.nsimplify(w) for w in table[order][-1])


def central_points(order: int, accuracy: int) -> int:
    """Points of the central stencil of `order` with even `accuracy`."""
    return 2 * ((order + 1) // 2) - 1 + accuracy


def central(order: int, accuracy: int) -> Stencil:
    half = central_points(order, accuracy) // 2
    return Stencil(order, tuple(range(-half, half + 1)))


def upwind(order: int, accuracy: int, direction: int) -> Stencil:
    """A biased first-derivative stencil using `accuracy` points upstream of the node.

    `direction` +1 means the flow goes towards +x, so the points lie at and behind the node.
    """
    points = range(-accuracy, 1) if direction > 0 else range(0, accuracy + 1)
    return Stencil(order, tuple(points))


def window(stencil: Stencil, index: int, size: int, accuracy: int) -> Stencil:
    """The stencil to use at grid `index` of an axis with `size` points (not periodic).

    Where the regular stencil would leave the grid, a one-sided window of
    max(len(offsets), order + accuracy) points is moved inside, keeping the accuracy.
    """
    lo, hi = min(stencil.offsets), max(stencil.offsets)
    if index + lo >= 0 and index + hi <= size - 1:
        return stencil
    width = max(len(stencil.offsets), stencil.order + accuracy)
    if width > size:
        raise ValueError(f"an axis of {size} points is too short for a stencil of {width}")
    start = min(max(index + lo, 0), size - width)
    return Stencil(stencil.order, tuple(range(start - index, start - index + width)))
