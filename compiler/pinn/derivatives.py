"""Derivatives of a network at a point by nested forward mode, shared along chains.

A derivative is a multi-index: the input axes to differentiate along, in order, e.g.
(0, 0) for u_xx or (0, 1) for u_xy. Nested `jax.jvp` along a chain of axes gives the
derivative of every prefix of the chain as a by-product, so u, u_x and u_xx all come from
the one chain (x, x); `plan_chains` picks the fewest chains that cover every derivative a
residual needs. Never finite differences.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

Chain = tuple[int, ...]


def plan_chains(needed: set[Chain]) -> tuple[Chain, ...]:
    """The fewest chains whose prefixes include every multi-index in `needed`."""
    chains: list[Chain] = []
    for index in sorted(needed, key=lambda c: (-len(c), c)):
        if not any(chain[: len(index)] == index for chain in chains):
            chains.append(index)
    return tuple(chains)


def along_chain(f: Callable[[jax.Array], jax.Array],
                chain: Chain) -> Callable[[jax.Array], list[jax.Array]]:
    """x -> [f(x), D_c1 f(x), D_c2 D_c1 f(x), ...] for the axes c1, c2, ... of `chain`:
    x one point (d,), or points (n, d) when f's every row depends on its own point only."""
    if not chain:
        return lambda x: [f(x)]
    inner = along_chain(f, chain[:-1])
    direction = chain[-1]

    def outer(x: jax.Array) -> list[jax.Array]:
        tangent = jnp.zeros_like(x).at[..., direction].set(1)
        values, derivatives = jax.jvp(inner, (x,), (tangent,))
        return values + [derivatives[-1]]

    return outer


def derivatives_at(f: Callable[[jax.Array], jax.Array], x: jax.Array,
                   chains: tuple[Chain, ...]) -> dict[Chain, jax.Array]:
    """Every prefix derivative of every chain of `f` at the point `x` (or, for a row-wise
    f, at each row of `x`)."""
    out: dict[Chain, jax.Array] = {}
    for chain in chains or ((),):
        values = along_chain(f, chain)(x)
        for depth, value in enumerate(values):
            out.setdefault(chain[:depth], value)
    return out
