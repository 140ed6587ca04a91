"""Causal training (Wang, Sankaran and Perdikaris, 2022): later times wait for earlier ones.

The time interval is cut into `SLABS` slabs; the equations' mean squared residual L_i is
taken per slab, and slab i weighs w_i = exp(-eps * sum_{k<i} L_k), held constant in the
gradient. A slab opens (w_i near 1) only once every earlier slab is fitted, so the network
cannot fit a late time to a wrong early one, the failure behind plain PINNs on
Allen-Cahn, fast advection and shocks. The causality parameter eps follows
`SCHEDULE`: it grows to the next value once every slab is open (min w_i > `OPEN`), which
tightens the fit at early times before the later ones may move again.

With points drawn at random the slabs hold different counts: each slab's loss is the mean
over its own points, and a point's share of the loss is w_i / (SLABS n_i). `point_scales`
gives the square root of that share, so the same weighting serves a sum of squares (Adam,
L-BFGS) and a residual vector (Levenberg-Marquardt).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

SLABS = 32                                     # time slabs
SCHEDULE = (1e-2, 1e-1, 1.0, 10.0, 100.0)      # the causality parameter, in turn
OPEN = 0.99                                    # every slab this open: the next eps


def slab_of(times: jax.Array, start: float, end: float, slabs: int = SLABS) -> jax.Array:
    """Each time's slab index, 0 (the start) to slabs - 1."""
    index = jnp.floor(slabs * (times - start) / (end - start)).astype(jnp.int32)
    return jnp.clip(index, 0, slabs - 1)


def slab_weights(squares: jax.Array, slab: jax.Array, eps: jax.Array,
                 slabs: int = SLABS) -> tuple[jax.Array, jax.Array]:
    """The causal weight of every slab and the number of points in it, from the squared
    residual at each point (`squares`) and its slab; no gradient flows through them."""
    squares = jax.lax.stop_gradient(squares)
    counts = jax.ops.segment_sum(jnp.ones_like(squares), slab, num_segments=slabs)
    means = jax.ops.segment_sum(squares, slab, num_segments=slabs) / jnp.maximum(counts, 1)
    before = jnp.cumsum(means) - means                    # sum over the earlier slabs
    return jnp.exp(-eps * before), counts


def point_scales(squares: jax.Array, slab: jax.Array, eps: jax.Array,
                 slabs: int = SLABS) -> tuple[jax.Array, jax.Array]:
    """sqrt(w_i / (slabs n_i)) at every point of slab i, and the slabs' weights: the loss
    sum(scale^2 * squares) is the causal loss (1/slabs) sum_i w_i L_i."""
    weights, counts = slab_weights(squares, slab, eps, slabs)
    share = weights / (slabs * jnp.maximum(counts, 1))
    return jnp.sqrt(share[slab]), weights


def next_eps(eps: float, weights, schedule=SCHEDULE) -> float:
    """The causality parameter after a chunk: the next in the schedule once every slab is
    open (the last value stays)."""
    if float(jnp.min(weights)) <= OPEN:
        return eps
    later = [e for e in schedule if e > eps]
    return later[0] if later else eps
