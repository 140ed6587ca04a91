"""What a spatial scheme is: a rule for the first derivative of a field in a transport term,
taken on the upstream side of each node (the side the local velocity comes from).

Two kinds share one interface, `upwinded(array, axis, info, lo, hi, accuracy, wind)`: the
derivative along `axis` at indices lo..hi-1 for a velocity of sign `wind` everywhere (the
kernel picks between wind +1 and -1 node by node, by the sign of the local velocity).
- `LinearScheme`: two stencils (exact weights), applied by `common.operators.apply_axis`
  with one-sided windows near the ends of a bounded axis, as every other stencil.
- `ReconstructionScheme`: nonlinear in the field. Values at the faces i+-1/2 are
  reconstructed from the upstream-biased neighbours by `reconstruct` (a pure function of
  the shifted arrays: WENO5's weighted stencils, MUSCL's limited slopes), and the derivative
  at node i is (u_{i+1/2} - u_{i-1/2}) / h. Conservative fluxes reuse the same `reconstruct`.
  Beyond the ends of a bounded axis the field is continued by the polynomial through its
  last `order` nodes (ghost values of that order of accuracy, so smooth fields keep the
  scheme's order up to the boundary; a jump at the very end is seen by the weights).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import jax.numpy as jnp

from ...common.operators import AxisInfo, apply_axis
from ...common.stencils import Stencil, exact_weights

Reconstruction = Callable[[Sequence[jnp.ndarray]], jnp.ndarray]


@dataclass(frozen=True)
class CentralScheme:
    """No upwinding: every derivative by the central stencil of the chosen accuracy."""

    name: str
    help: str
    order: int | None = None          # None: the --accuracy of the central stencils
    upwinded_terms: bool = False


@dataclass(frozen=True)
class LinearScheme:
    """An upstream-biased stencil for velocity > 0 (`backward`) and its mirror image."""

    name: str
    help: str
    order: int
    backward: Stencil
    upwinded_terms: bool = True

    @property
    def forward(self) -> Stencil:
        return Stencil(self.backward.order, tuple(sorted(-o for o in self.backward.offsets)))

    @property
    def reach(self) -> int:
        return self.backward.reach

    def reach_near_ends(self, accuracy: int) -> int:
        """Half-width of the nodes a derivative reads, one-sided windows near ends included
        (`common.stencils.window`): what a sparse Jacobian's colouring must cover."""
        width = max(len(self.backward.offsets), self.backward.order + accuracy)
        return max(self.reach, width - 1)

    def stencils(self) -> tuple[Stencil, Stencil]:
        """(the stencil where the velocity is positive, where it is not)."""
        return self.backward, self.forward

    def upwinded(self, array: jnp.ndarray, axis: int, info: AxisInfo, lo: int, hi: int,
                 accuracy: int, wind: int) -> jnp.ndarray:
        stencil = self.backward if wind > 0 else self.forward
        return apply_axis(array, axis, stencil, info, lo, hi, accuracy)

    def describe(self, h: str) -> str:
        """How `pdelang show` prints it, e.g. `upwind: (-1*f[i-1] + 1*f[i]) / hx where ...`."""
        return f"upwind: {_shown(self.backward, h)} where the velocity > 0, else " \
               f"{_shown(self.forward, h)}"


@dataclass(frozen=True)
class ReconstructionScheme:
    """Face values from `reach` upstream-biased neighbours by `reconstruct`: given the
    arrays v[0..2*reach-2] = u at i-reach+1 .. i+reach-1 (upstream first), the value at the
    face between i and i+1 on the downstream side of i."""

    name: str
    help: str
    order: int
    reach: int
    reconstruct: Reconstruction
    formula: str
    upwinded_terms: bool = True

    def reach_near_ends(self, accuracy: int) -> int:
        """Half-width of the nodes a derivative reads (ends continued, never wider)."""
        return self.reach

    def upwinded(self, array: jnp.ndarray, axis: int, info: AxisInfo, lo: int, hi: int,
                 accuracy: int, wind: int) -> jnp.ndarray:
        r = self.reach
        # faces i-1/2 and i+1/2 of nodes lo..hi-1 need nodes lo-r .. hi-1+r
        padded = _continued(array, axis, info, r, self.order)
        n = hi - lo + 1                                   # faces lo-1/2 .. hi-1/2
        if wind > 0:      # face j+1/2 from u[j-r+1 .. j+r-1], upstream = lower indices
            start = lo - 1 - (r - 1) + r                   # index of u[lo-1-(r-1)] in padded
            shifts = [_take(padded, axis, start + k, n) for k in range(2 * r - 1)]
        else:             # face j-1/2 from u[j+r-1 .. j-r+1], upstream = higher indices
            start = lo + (r - 1) + r
            shifts = [_take(padded, axis, start - k, n) for k in range(2 * r - 1)]
        faces = self.reconstruct(shifts)
        upper = _take(faces, axis, 1, n - 1)
        lower = _take(faces, axis, 0, n - 1)
        return (upper - lower) / info.h

    def describe(self, h: str) -> str:
        return f"{self.name}: (u[i+1/2] - u[i-1/2]) / {h}, faces by {self.formula}, from the " \
               f"side the velocity comes from"

    def flux_difference(self, f: jnp.ndarray, u: jnp.ndarray, speed: jnp.ndarray, axis: int,
                        info: AxisInfo, lo: int, hi: int) -> jnp.ndarray:
        """(F[i+1/2] - F[i-1/2]) / h at nodes lo..hi-1 for the conservation law
        u_t + f_x = 0, by Lax-Friedrichs flux splitting: f+- = (f +- a u) / 2 with a the
        larger `speed` (a bound of |f'(u)|) of the two nodes beside each face (local), f+
        reconstructed at the face from the left, f- from the right, F = f+ + f-."""
        r = self.reach
        n = hi - lo + 1                                   # faces lo-1/2 .. hi-1/2
        padded = [_continued(a, axis, info, r, self.order) for a in (f, u, speed)]
        # face j+1/2 (j = lo-1 .. hi-1); node k sits at index k + r of the padded arrays
        f_at, u_at, s_at = ([_take(a, axis, lo - 1 + r + k, n) for k in range(-r + 1, r + 1)]
                            for a in padded)
        alpha = jnp.maximum(jnp.abs(s_at[r - 1]), jnp.abs(s_at[r]))      # nodes j, j+1
        plus = [(fk + alpha * uk) / 2 for fk, uk in zip(f_at[:-1], u_at[:-1])]    # j-r+1..j+r-1
        minus = [(fk - alpha * uk) / 2 for fk, uk in zip(f_at[1:], u_at[1:])]     # j-r+2..j+r
        faces = self.reconstruct(plus) + self.reconstruct(minus[::-1])
        return (_take(faces, axis, 1, n - 1) - _take(faces, axis, 0, n - 1)) / info.h


def _take(a: jnp.ndarray, axis: int, start: int, length: int) -> jnp.ndarray:
    index = [slice(None)] * a.ndim
    index[axis] = slice(start, start + length)
    return a[tuple(index)]


def _continued(a: jnp.ndarray, axis: int, info: AxisInfo, width: int,
               points: int) -> jnp.ndarray:
    """`a` with `width` more values at both ends of `axis`: wrapped on a periodic axis (whose
    last node is not stored: see `common.grid`), else extrapolated by the polynomial through
    the `points` nodes nearest each end."""
    if info.periodic:
        widths = [(0, 0)] * a.ndim
        widths[axis] = (width, width)
        return jnp.pad(a, widths, mode="wrap")
    points = min(points, info.size)
    low = [_take(a, axis, j, 1) for j in range(points)]
    high = [_take(a, axis, info.size - 1 - j, 1) for j in range(points)]
    before = [_extrapolated(low, k) for k in range(width, 0, -1)]        # nodes -width..-1
    after = [_extrapolated(high, k) for k in range(1, width + 1)]        # size..size+width-1
    return jnp.concatenate(before + [a] + after, axis=axis)


def _extrapolated(nearest: list[jnp.ndarray], k: int) -> jnp.ndarray:
    """The value k nodes beyond an end, from the values at the end and inwards."""
    weights = exact_weights(0, tuple(range(k, k + len(nearest))))
    return sum(float(w) * v for w, v in zip(weights, nearest))


def _shown(stencil: Stencil, h: str) -> str:
    return str(stencil).replace("h", h).replace("u[", "f[")
