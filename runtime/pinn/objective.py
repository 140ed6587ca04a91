"""The training objective: every term's residual, scaled, as one sum of squares.

loss = sum over terms t and their points p of s_tp^2 |r_tp|^2, where r_tp is term t's
residual at point p (a vector for vector residuals) and s_tp its scale: sqrt(w_t / n_t)
(w_t the term's weight, n_t its point count: w_t times the mean square), or for the
equations under causal training sqrt(w_t) times the causal scale (`causal`). The same
scales weigh the rows of the residual vector that Levenberg-Marquardt minimises
(`residual_vector`), so every optimiser minimises the same function. `terms` is each
term's plain mean square, the history's columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from compiler.pinn import PINNProgram

from . import causal as causality


@dataclass(frozen=True)
class Objective:
    """The loss of `program`; `causal`: weigh the equations' residuals by time slab
    (`time_column`: the time's column in the points, between `start` and `end`)."""

    program: PINNProgram
    causal: bool = False
    time_column: int = 0
    start: float = 0.0
    end: float = 1.0

    @staticmethod
    def of(program: PINNProgram, causal: bool) -> Objective:
        time = program.system.time
        if not causal or time is None:
            return Objective(program)
        return Objective(program, True, program.coordinates.index(time.name),
                         float(time.bounds[0]), float(time.bounds[1]))

    def residuals(self, nets: Mapping, physical: Mapping, batch: Mapping) -> list[jax.Array]:
        """Every term's residual, (n_t, k): a row per point."""
        out = []
        for t in self.program.terms:
            r = t.residual(nets, physical, batch[t.name])
            out.append(r.reshape(r.shape[0], -1))
        return out

    def scales(self, residuals: list[jax.Array], batch: Mapping, weights: jax.Array,
               eps: jax.Array) -> tuple[list[jax.Array], jax.Array]:
        """Every point's scale (held constant in the gradient), and the causal weights of
        the slabs (ones when training is not causal)."""
        scales, slabs = [], jnp.ones((causality.SLABS,), weights.dtype)
        for i, (t, r) in enumerate(zip(self.program.terms, residuals)):
            n = r.shape[0]
            if self.causal and t.kind == "pde":
                squares = jnp.sum(jnp.square(r), axis=1)
                slab = causality.slab_of(batch[t.name][:, self.time_column], self.start,
                                         self.end)
                point, slabs = causality.point_scales(squares, slab, eps)
                scales.append(jnp.sqrt(weights[i]) * point)
            else:
                scales.append(jnp.full((n,), jnp.sqrt(weights[i] / n), r.dtype))
        return [jax.lax.stop_gradient(s) for s in scales], slabs

    def loss(self, nets: Mapping, physical: Mapping, batch: Mapping, weights: jax.Array,
             eps: jax.Array) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
        """The weighted loss, and (each term's mean square, the slabs' causal weights)."""
        residuals = self.residuals(nets, physical, batch)
        scales, slabs = self.scales(residuals, batch, weights, eps)
        total = sum(jnp.sum(jnp.square(s[:, None] * r)) for s, r in zip(scales, residuals))
        return total, (terms_of(residuals), slabs)

    def terms(self, nets: Mapping, physical: Mapping, batch: Mapping) -> jax.Array:
        """Each term's mean square over its points."""
        return terms_of(self.residuals(nets, physical, batch))


def terms_of(residuals: list[jax.Array]) -> jax.Array:
    """Mean over points of the squared residual (its squared norm, for a vector residual
    such as a gradient)."""
    return jnp.stack([jnp.mean(jnp.sum(jnp.square(r), axis=1)) for r in residuals])
