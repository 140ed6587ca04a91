"""Arithmetic on pytrees of arrays: the few operations the integrators need.

The state `U` of a method-of-lines system is a pytree (a dict of arrays, one per field, any
shapes). These helpers act leaf by leaf and reduce over all leaves, so the integrators never
loop over fields or grid points themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

PyTree = Any


def combine(U: PyTree, dt: Any, coeffs: Sequence[float], ks: Sequence[PyTree]) -> PyTree:
    """`U + dt * sum_j coeffs[j] * ks[j]`; zero coefficients are dropped while tracing."""
    terms = [(c, k) for c, k in zip(coeffs, ks) if c != 0.0]
    if not terms:
        return U
    weights = [c for c, _ in terms]

    def leaf(u, *k):
        total = sum(c * kj for c, kj in zip(weights, k))
        return u + jnp.asarray(dt, dtype=u.dtype) * total

    return jax.tree.map(leaf, U, *(k for _, k in terms))


def linear_combination(dt: Any, coeffs: Sequence[float], ks: Sequence[PyTree]) -> PyTree:
    """`dt * sum_j coeffs[j] * ks[j]` (at least one coefficient must be nonzero)."""
    terms = [(c, k) for c, k in zip(coeffs, ks) if c != 0.0]
    weights = [c for c, _ in terms]

    def leaf(*k):
        return jnp.asarray(dt, dtype=k[0].dtype) * sum(c * kj for c, kj in zip(weights, k))

    return jax.tree.map(leaf, *(k for _, k in terms))


def stage_sum(weights: jax.Array, stacked: PyTree) -> PyTree:
    """`sum_j weights[j] * stacked[j]` over the leading (stage) axis of every leaf; for
    weights known only when running (a scan over the stages)."""
    return jax.tree.map(lambda k: jnp.tensordot(weights.astype(k.dtype), k, 1), stacked)


def add(a: PyTree, b: PyTree) -> PyTree:
    return jax.tree.map(jnp.add, a, b)


def sub(a: PyTree, b: PyTree) -> PyTree:
    return jax.tree.map(jnp.subtract, a, b)


def scale(a: PyTree, s: Any) -> PyTree:
    """`s * a` with the scalar `s` cast to each leaf's dtype (float32 states stay float32)."""
    return jax.tree.map(lambda x: jnp.asarray(s, dtype=x.dtype) * x, a)


def where(pred: Any, a: PyTree, b: PyTree) -> PyTree:
    """Leafwise `a if pred else b` for a scalar predicate."""
    return jax.tree.map(lambda x, y: jnp.where(pred, x, y), a, b)


def size(a: PyTree) -> int:
    return sum(x.size for x in jax.tree.leaves(a))


def norm(a: PyTree) -> jax.Array:
    """Euclidean norm over all leaves together."""
    return jnp.sqrt(sum(jnp.sum(jnp.abs(x) ** 2) for x in jax.tree.leaves(a)))


def weights(U: PyTree, V: PyTree, rtol: Any, atol: Any) -> PyTree:
    """Error scales `atol + rtol * max(|U|, |V|)`, as in Hairer's codes."""
    return jax.tree.map(lambda u, v: atol + rtol * jnp.maximum(jnp.abs(u), jnp.abs(v)), U, V)


def rms_norm(a: PyTree, w: PyTree) -> jax.Array:
    """Root mean square of `a / w` over every entry of every leaf."""
    total = sum(jnp.sum(jnp.abs(x / s) ** 2) for x, s in zip(jax.tree.leaves(a),
                                                              jax.tree.leaves(w)))
    return jnp.sqrt(total / max(size(a), 1))


def all_finite(a: PyTree) -> jax.Array:
    """True when no leaf holds a NaN or an infinity (one fused reduction per leaf)."""
    flags = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(a)]
    return jnp.all(jnp.stack(flags)) if flags else jnp.array(True)
