"""The hidden part of a PINN network, one architecture each: the features of the embedded
input X (the mapped coordinates, through Fourier features when there are any), which the
output layer, shared by all, maps linearly to the outputs.

    mlp       H = act(H W + b), layer after layer
    modified  the modified MLP (Wang, Teng & Perdikaris 2021): encoders U = act(X W_u + b_u),
              V = act(X W_v + b_v); H = act(X W_1 + b_1), then for each further layer
              Z = act(H W + b), H = (1 - Z) * U + Z * V
    pirate    PirateNet (Wang, Li, Chen & Perdikaris 2024): gates U, V as above; each residual
              block f = act(x W1 + b1), z1 = f*U + (1-f)*V, g = act(z1 W2 + b2),
              z2 = g*U + (1-g)*V, h = act(z2 W3 + b3), x <- alpha*h + (1 - alpha)*x, from
              x = X; alpha (trainable, one per block) starts at 0, so the network starts
              affine in X

`layers` (the hidden widths) maps to them so: mlp, a dense layer per entry; modified, the
first entry is U, V and H_1, each further entry a gated layer; pirate, the first entry is
the width of the gates U, V, each further entry one block (its W1, W2 of that width, W3
back to X's width). modified and pirate need equal widths, pirate two entries or more.

A dense layer is (W, b), or with random weight factorisation (Wang et al. 2023) (s, V, b):
W = V * exp(s) column by column, s ~ N(1, 0.1) per output column and V = W0 / exp(s) for
the usual initial kernel W0, so the network starts as the unfactorised one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

Layer = tuple              # (W, b), or (s, V, b) when factorised
Activation = Callable[[jax.Array], jax.Array]
Draw = Callable[[int, int], Layer]     # (n_in, n_out) -> a freshly drawn dense layer
RWF_MEAN, RWF_STD = 1.0, 0.1           # the distribution of s (the paper's defaults)


def key_chain(key: jax.Array) -> Iterator[jax.Array]:
    """Subkeys as the plain MLP has always drawn them: split, use the second, go on."""
    while True:
        key, sub = jax.random.split(key)
        yield sub


def init_dense(key: jax.Array, n_in: int, n_out: int, initialiser: str, factorise: bool,
               dtype) -> Layer:
    """A dense layer with zero bias and normal weights of the initialiser's scale."""
    scale = {"glorot": np.sqrt(2.0 / (n_in + n_out)), "he": np.sqrt(2.0 / n_in),
             "lecun": np.sqrt(1.0 / n_in)}[initialiser]
    w = jax.random.normal(key, (n_in, n_out), dtype) * jnp.asarray(scale, dtype)
    b = jnp.zeros((n_out,), dtype)
    if not factorise:
        return (w, b)
    s = RWF_MEAN + RWF_STD * jax.random.normal(jax.random.fold_in(key, 1), (n_out,), dtype)
    return (s, w / jnp.exp(s), b)


def kernel(layer: Layer) -> jax.Array:
    """The (n_in, n_out) matrix W of a dense layer, factorised or not."""
    if len(layer) == 2:
        return layer[0]
    s, v, _ = layer
    return v * jnp.exp(s)


def dense(layer: Layer, h: jax.Array) -> jax.Array:
    return h @ kernel(layer) + layer[-1]


def with_kernel(layer: Layer, w: jax.Array, b: jax.Array) -> Layer:
    """`layer` set to the matrix `w` and bias `b` (a factorised one keeps its s)."""
    if len(layer) == 2:
        return (w, b)
    s = layer[0]
    return (s, w / jnp.exp(s), b)


# -- mlp ------------------------------------------------------------------------------------


def init_plain(hidden: tuple[int, ...], width: int, draw: Draw, dtype) -> tuple[dict, int]:
    sizes = (width, *hidden)
    return {"layers": [draw(a, b) for a, b in zip(sizes[:-1], sizes[1:])]}, hidden[-1]


def plain_features(params: dict, x: jax.Array, act: Activation) -> jax.Array:
    h = x
    for layer in params["layers"][:-1]:
        h = act(dense(layer, h))
    return h


# -- modified -------------------------------------------------------------------------------


def init_modified(hidden: tuple[int, ...], width: int, draw: Draw, dtype) -> tuple[dict, int]:
    n = hidden[0]
    encoders = [draw(width, n), draw(width, n)]
    layers = [draw(width, n)] + [draw(n, n) for _ in hidden[1:]]
    return {"encoders": encoders, "layers": layers}, n


def modified_features(params: dict, x: jax.Array, act: Activation) -> jax.Array:
    u, v = (act(dense(e, x)) for e in params["encoders"])
    first, *gated = params["layers"][:-1]
    h = act(dense(first, x))
    for layer in gated:
        z = act(dense(layer, h))
        h = (1 - z) * u + z * v
    return h


# -- pirate ---------------------------------------------------------------------------------


def init_pirate(hidden: tuple[int, ...], width: int, draw: Draw, dtype) -> tuple[dict, int]:
    n = hidden[0]
    gates = [draw(width, n), draw(width, n)]
    blocks = [{"dense": [draw(width, n), draw(n, n), draw(n, width)],
               "alpha": jnp.zeros((), dtype)} for _ in hidden[1:]]
    return {"gates": gates, "blocks": blocks, "layers": []}, width


def pirate_features(params: dict, x: jax.Array, act: Activation) -> jax.Array:
    u, v = (act(dense(g, x)) for g in params["gates"])
    for block in params["blocks"]:
        first, second, third = block["dense"]
        f = act(dense(first, x))
        z1 = f * u + (1 - f) * v
        g = act(dense(second, z1))
        z2 = g * u + (1 - g) * v
        h = act(dense(third, z2))
        x = block["alpha"] * h + (1 - block["alpha"]) * x
    return x


@dataclass(frozen=True)
class Architecture:
    """`init(hidden, width, draw, dtype) -> (params, features width)`: every hidden
    parameter, with a list "layers" to which the output layer is appended;
    `features(params, x, act)`: what the output layer sees at the embedded point x;
    `parts(hidden)`: its parts beyond a plain MLP's, in words (`pdelang show`)."""

    title: str
    init: Callable[..., tuple[dict, int]]
    features: Callable[[dict, jax.Array, Activation], jax.Array]
    parts: Callable[[tuple[int, ...]], str] = lambda hidden: ""
    equal_widths: bool = False
    least_layers: int = 1


def _pirate_parts(hidden: tuple[int, ...]) -> str:
    blocks = len(hidden) - 1
    return f"gates U, V; {blocks} residual block{'s' * (blocks > 1)}, alpha = 0 at init"


ARCHITECTURES: dict[str, Architecture] = {
    "mlp": Architecture("MLP", init_plain, plain_features),
    "modified": Architecture("modified MLP", init_modified, modified_features,
                             lambda hidden: "encoders U, V gate every layer after the first",
                             equal_widths=True),
    "pirate": Architecture("PirateNet", init_pirate, pirate_features, _pirate_parts,
                           equal_widths=True, least_layers=2),
}
