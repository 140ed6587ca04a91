"""Networks for PINNs: an MLP over scaled coordinates, as pure functions over a pytree.

Inputs are scaled from the domain to [-1, 1]; a periodic coordinate enters as sin and cos
of its phase (so periodicity holds exactly, for every parameter value); optional random
Fourier features widen the input. `init_mlp` draws the parameters, `apply_mlp` evaluates
one point; both are pure, so `jax.jvp`, `vmap` and `grad` compose through them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import LoweringError

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "tanh": jnp.tanh,
    "sin": jnp.sin,
    "gelu": jax.nn.gelu,
    "softplus": jax.nn.softplus,
    "silu": jax.nn.silu,
    "sigmoid": jax.nn.sigmoid,
}
INITIALISERS = ("glorot", "he", "lecun")


@dataclass(frozen=True)
class InputMap:
    """How the network sees coordinates: affine scaling to [-1, 1], or a periodic phase."""

    lower: tuple[float, ...]
    upper: tuple[float, ...]
    periodic: tuple[bool, ...]
    harmonics: int = 1

    @property
    def width(self) -> int:
        return sum(2 * self.harmonics if p else 1 for p in self.periodic)

    def __call__(self, x: jax.Array) -> jax.Array:
        parts = []
        for i, (lo, hi, periodic) in enumerate(zip(self.lower, self.upper, self.periodic)):
            if periodic:
                phase = 2 * jnp.pi * (x[i] - lo) / (hi - lo)
                for k in range(1, self.harmonics + 1):
                    parts += [jnp.sin(k * phase), jnp.cos(k * phase)]
            else:
                parts.append(2 * (x[i] - lo) / (hi - lo) - 1)
        return jnp.stack(parts)


@dataclass(frozen=True)
class MLPSpec:
    """An MLP from the mapped inputs through `hidden` layers to `outputs` values."""

    inputs: InputMap
    hidden: tuple[int, ...]
    outputs: int
    activation: str = "tanh"
    initialiser: str = "glorot"
    fourier_features: int = 0
    fourier_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise LoweringError(f"activation {self.activation!r} is not available; choose one "
                                f"of {', '.join(ACTIVATIONS)}")
        if self.initialiser not in INITIALISERS:
            raise LoweringError(f"initialiser {self.initialiser!r} is not available; choose "
                                f"one of {', '.join(INITIALISERS)}")
        if not self.hidden or min(self.hidden) < 1:
            raise LoweringError(f"hidden layers {self.hidden} must be positive widths")


def init_mlp(spec: MLPSpec, key: jax.Array, dtype=jnp.float32) -> dict:
    """Parameters {"layers": [(W, b), ...], "fourier": B or absent}."""
    width = spec.inputs.width
    params: dict = {}
    if spec.fourier_features:
        key, sub = jax.random.split(key)
        params["fourier"] = jax.random.normal(sub, (width, spec.fourier_features), dtype) * \
            jnp.asarray(spec.fourier_scale, dtype)
        width = 2 * spec.fourier_features
    sizes = (width, *spec.hidden, spec.outputs)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        key, sub = jax.random.split(key)
        scale = {"glorot": np.sqrt(2.0 / (n_in + n_out)), "he": np.sqrt(2.0 / n_in),
                 "lecun": np.sqrt(1.0 / n_in)}[spec.initialiser]
        weights = jax.random.normal(sub, (n_in, n_out), dtype) * jnp.asarray(scale, dtype)
        layers.append((weights, jnp.zeros((n_out,), dtype)))
    params["layers"] = layers
    return params


def apply_mlp(spec: MLPSpec, params: dict, x: jax.Array) -> jax.Array:
    """The network's outputs at one point `x` (its coordinates in the network's order)."""
    h = spec.inputs(x)
    if "fourier" in params:
        z = h @ params["fourier"]
        h = jnp.concatenate([jnp.sin(z), jnp.cos(z)])
    activation = ACTIVATIONS[spec.activation]
    *hidden, (w_out, b_out) = params["layers"]
    for w, b in hidden:
        h = activation(h @ w + b)
    return h @ w_out + b_out
