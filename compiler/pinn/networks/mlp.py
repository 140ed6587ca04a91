"""Networks for PINNs over scaled coordinates, as pure functions over a pytree.

Inputs are scaled from the domain to [-1, 1]; a periodic coordinate enters as sin and cos
of its phase (so periodicity holds exactly, for every parameter value); optional random
Fourier features widen the input. The hidden layers are one of the `ARCHITECTURES` (mlp,
modified MLP, PirateNet; compiler/pinn/networks/architectures.py), optionally with random weight
factorisation; a linear output layer, the last of `params["layers"]`, ends each. `init_mlp`
draws the parameters, `apply_mlp` evaluates one point; both are pure, so `jax.jvp`, `vmap`
and `grad` compose through them. `fit_output_layer` sets the output layer by least squares
(PirateNet's physics-informed initialisation).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from ...common.nets import ACTIVATIONS
from ...errors import LoweringError
from .architectures import ARCHITECTURES, init_dense, kernel, key_chain, with_kernel

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
    """A network from the mapped inputs through `hidden` layers (of `architecture`, see
    compiler/pinn/networks/architectures.py for how it reads them) to `outputs` values."""

    inputs: InputMap
    hidden: tuple[int, ...]
    outputs: int
    activation: str = "tanh"
    initialiser: str = "glorot"
    fourier_features: int = 0
    fourier_scale: float = 1.0
    architecture: str = "mlp"
    weight_factorisation: bool = False

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise LoweringError(f"activation {self.activation!r} is not available; choose one "
                                f"of {', '.join(ACTIVATIONS)}")
        if self.initialiser not in INITIALISERS:
            raise LoweringError(f"initialiser {self.initialiser!r} is not available; choose "
                                f"one of {', '.join(INITIALISERS)}")
        if not self.hidden or min(self.hidden) < 1:
            raise LoweringError(f"hidden layers {self.hidden} must be positive widths")
        self._check_architecture()

    def init(self, key: jax.Array, dtype=jnp.float32) -> dict:
        return init_mlp(self, key, dtype)

    def apply(self, params: dict, x: jax.Array) -> jax.Array:
        return apply_mlp(self, params, x)

    def _check_architecture(self) -> None:
        kind = ARCHITECTURES.get(self.architecture)
        if kind is None:
            raise LoweringError(f"architecture {self.architecture!r} is not available; "
                                f"choose one of {', '.join(ARCHITECTURES)}")
        if kind.equal_widths and len(set(self.hidden)) > 1:
            raise LoweringError(f"the {self.architecture} architecture needs all hidden "
                                f"widths equal, not {self.hidden}; give e.g. layers="
                                f"{(max(self.hidden),) * len(self.hidden)}")
        if len(self.hidden) < kind.least_layers:
            raise LoweringError(f"the {self.architecture} architecture needs at least "
                                f"{kind.least_layers} hidden layers (the first for the gates, "
                                f"one residual block per further one), not {self.hidden}")


def init_mlp(spec: MLPSpec, key: jax.Array, dtype=jnp.float32) -> dict:
    """Parameters {"fourier": B (absent without Fourier features), the architecture's
    hidden ones, "layers": [..., output layer]}; a plain MLP's "layers" are all its
    (W, b) pairs, drawn as they always were from `key`."""
    width = spec.inputs.width
    params: dict = {}
    if spec.fourier_features:
        key, sub = jax.random.split(key)
        params["fourier"] = jax.random.normal(sub, (width, spec.fourier_features), dtype) * \
            jnp.asarray(spec.fourier_scale, dtype)
        width = 2 * spec.fourier_features
    keys = key_chain(key)

    def draw(n_in: int, n_out: int) -> tuple:
        return init_dense(next(keys), n_in, n_out, spec.initialiser,
                          spec.weight_factorisation, dtype)

    hidden, features = ARCHITECTURES[spec.architecture].init(spec.hidden, width, draw, dtype)
    params.update(hidden)
    params["layers"] = [*hidden["layers"], draw(features, spec.outputs)]
    return params


def embed(spec: MLPSpec, params: dict, x: jax.Array) -> jax.Array:
    """What the hidden layers see of the point `x`: mapped inputs, or their Fourier features."""
    h = spec.inputs(x)
    if "fourier" in params:
        z = h @ params["fourier"]
        h = jnp.concatenate([jnp.sin(z), jnp.cos(z)])
    return h


def hidden_features(spec: MLPSpec, params: dict, x: jax.Array) -> jax.Array:
    """What the output layer sees at the point `x`."""
    activation = ACTIVATIONS[spec.activation]
    return ARCHITECTURES[spec.architecture].features(params, embed(spec, params, x), activation)


def apply_mlp(spec: MLPSpec, params: dict, x: jax.Array) -> jax.Array:
    """The network's outputs at one point `x` (its coordinates in the network's order)."""
    output = params["layers"][-1]
    return hidden_features(spec, params, x) @ kernel(output) + output[-1]


def with_output_layer(params: dict, w: jax.Array, b: jax.Array) -> dict:
    """`params` (not changed) with the output layer's matrix `w` and bias `b`."""
    *hidden, output = params["layers"]
    return {**params, "layers": [*hidden, with_kernel(output, w, b)]}


def fit_output_layer(spec: MLPSpec, params: dict, inputs: jax.Array,
                     targets: jax.Array) -> dict:
    """`params` with the output layer that fits `targets` (n, outputs), or (n,) for one
    output, at the points `inputs` (n, d) best in least squares, the rest kept: the
    physics-informed initialisation of PirateNet, for every architecture."""
    inputs = jnp.asarray(inputs)
    n = inputs.shape[0]
    targets = jnp.reshape(jnp.asarray(targets, inputs.dtype), (n, -1))
    if targets.shape[1] != spec.outputs:
        raise LoweringError(f"fit_output_layer: targets of shape {targets.shape} for "
                            f"{spec.outputs} outputs at {n} points; give ({n}, "
                            f"{spec.outputs})")
    features = jax.vmap(lambda z: hidden_features(spec, params, z))(inputs)
    design = jnp.concatenate([features, jnp.ones((n, 1), features.dtype)], axis=1)
    solution = jnp.linalg.lstsq(design, targets)[0]
    return with_output_layer(params, solution[:-1], solution[-1])
