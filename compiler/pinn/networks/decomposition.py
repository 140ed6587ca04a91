"""Finite-basis PINNs (Moseley, Markham and Nissen-Meyer 2023): the box cut into overlapping
subdomains on a regular grid, a small network on each, glued by windows that sum to one.

Along each axis the box [lo, hi] holds `n` subdomains of width w = (hi - lo) / n centred at
c_i = lo + (i + 1/2) w; each reaches r = w (1 + overlap) / 2 either side of its centre.
Its window is the product over axes of ((1 + cos(pi (x - c_i) / r)) / 2)^2 inside that
reach (zero outside), and the windows are divided by their sum, so they form a partition
of unity with continuous second derivatives. With 0 < overlap <= 1 a point lies in at most
two subdomains along an axis, its own and the neighbour on its side of the centre: the
network at a point is

    u(x) = sum over those 2^d subdomains j of  window_j(x) * scale_j * N_j((x - c_j) / r)

with N_j the subdomain's network on inputs in [-1, 1] around its own centre and scale_j
its (trainable) output scale. The subdomain networks' parameters are stacked on a leading
axis; at each point the 2^d candidates are gathered by index and evaluated by one vmap, so
the cost per point does not grow with the number of subdomains and no Python loop over
subdomains runs at training time.

With several levels (multilevel FBPINNs, Dolean et al. 2024) the finest decomposition is
joined by coarser ones, each halving the subdomain count per coordinate (down to one),
every level its own partition of unity and networks, their outputs summed: the coarse
levels carry the low frequencies, the fine ones the detail.

`FBPINNSpec` has `init` and `apply` as `MLPSpec` has, so residuals, hard constraints and
training treat the decomposed network as any other.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ...errors import LoweringError
from .mlp import InputMap, MLPSpec, apply_mlp, init_mlp


@dataclass(frozen=True)
class Decomposition:
    """Subdomains on a regular grid of the box: `counts` per axis, `overlap` a fraction of
    a subdomain's width by which neighbours overlap."""

    lower: tuple[float, ...]
    upper: tuple[float, ...]
    counts: tuple[int, ...]
    overlap: float

    def __post_init__(self) -> None:
        if not 0 < self.overlap <= 1:
            raise LoweringError(f"the subdomains' overlap is a fraction of their width in "
                                f"(0, 1], not {self.overlap:g}", hint="e.g. --overlap 0.5")
        if min(self.counts) < 1:
            raise LoweringError(f"subdomain counts {self.counts} must be at least 1 per axis")

    @property
    def size(self) -> int:
        return int(np.prod(self.counts))

    @property
    def widths(self) -> np.ndarray:
        return (np.asarray(self.upper) - np.asarray(self.lower)) / np.asarray(self.counts)

    @property
    def reach(self) -> np.ndarray:
        """How far each subdomain reaches from its centre, per axis."""
        return self.widths * (1 + self.overlap) / 2

    def centres(self) -> np.ndarray:
        """(size, d): every subdomain's centre, in C order of the index grid."""
        lines = [lo + (np.arange(n) + 0.5) * w
                 for lo, n, w in zip(self.lower, self.counts, self.widths)]
        return np.stack([m.ravel() for m in np.meshgrid(*lines, indexing="ij")], axis=1)

    def candidates(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """At one point x (d,): the flat indices (2^d,) of the subdomains that may cover
        it and their normalised windows (2^d,), zero for those that do not."""
        lower = jnp.asarray(self.lower, x.dtype)
        widths = jnp.asarray(self.widths, x.dtype)
        reach = jnp.asarray(self.reach, x.dtype)
        counts = np.asarray(self.counts)
        s = (x - lower) / widths                           # position in subdomain widths
        own = jnp.clip(jnp.floor(s), 0, counts - 1).astype(jnp.int32)
        side = jnp.where(s - own - 0.5 >= 0, 1, -1).astype(jnp.int32)
        per_axis = []                                      # (2,) indices and bumps per axis
        for k in range(len(counts)):
            index = jnp.stack([own[k], own[k] + side[k]])
            centre = lower[k] + (index + 0.5) * widths[k]
            z = (x[k] - centre) / reach[k]             # signed: no kink at the centre
            valid = (index >= 0) & (index < counts[k]) & (jnp.abs(z) < 1)
            bump = jnp.where(valid, ((1 + jnp.cos(jnp.pi * z)) / 2) ** 2, 0.0)
            per_axis.append((jnp.clip(index, 0, counts[k] - 1), bump))
        flat, window = [], []
        strides = np.cumprod((1,) + tuple(counts[::-1]))[:-1][::-1]
        for choice in itertools.product((0, 1), repeat=len(counts)):
            flat.append(sum(per_axis[k][0][c] * int(strides[k]) for k, c in enumerate(choice)))
            w = jnp.asarray(1.0, x.dtype)
            for k, c in enumerate(choice):
                w = w * per_axis[k][1][c]
            window.append(w)
        window = jnp.stack(window)
        return jnp.stack(flat), window / jnp.sum(window)

    def describe(self, args: Sequence[str]) -> str:
        shown = " x ".join(f"{n} in {a}" for n, a in zip(self.counts, args))
        return f"{self.size} subdomains ({shown}), overlap {self.overlap:g} of their width"

    def coarser(self) -> Decomposition:
        """The next level down: half the subdomains per coordinate (at least one)."""
        return Decomposition(self.lower, self.upper,
                             tuple(max(1, -(-n // 2)) for n in self.counts), self.overlap)


@dataclass(frozen=True)
class FBPINNSpec:
    """A finite-basis network: `net` on each subdomain of `decomposition`, its inputs the
    point's position relative to the subdomain's centre over its reach (in [-1, 1])."""

    decomposition: Decomposition
    net: MLPSpec
    coarse: tuple[Decomposition, ...] = ()       # coarser levels (multilevel windows)

    # what the network stages print reads the subdomain network's shape
    def __getattr__(self, name: str):
        if name in ("hidden", "outputs", "activation", "initialiser", "fourier_features",
                    "architecture", "weight_factorisation", "inputs"):
            return getattr(self.net, name)
        raise AttributeError(name)

    def init(self, key: jax.Array, dtype=jnp.float32) -> dict:
        """{"subdomains": the networks' parameters stacked on a leading axis, "scale": one
        output scale per subdomain (starting at 1)}."""
        keys = jax.random.split(key, 1 + len(self.coarse))
        finest, *coarse = (self._init_level(d, k, dtype) for d, k in
                           zip((self.decomposition, *self.coarse), keys))
        return {**finest, "coarse": coarse} if coarse else finest

    def _init_level(self, decomposition: Decomposition, key: jax.Array, dtype) -> dict:
        keys = jax.random.split(key, decomposition.size)
        stacked = jax.vmap(lambda k: init_mlp(self.net, k, dtype))(keys)
        return {"subdomains": stacked, "scale": jnp.ones((decomposition.size,), dtype)}

    def apply(self, params: dict, x: jax.Array) -> jax.Array:
        """The outputs at one point x: the windowed sum of the covering subdomains', summed
        over the levels."""
        out = self._apply_level(self.decomposition, params, x)
        for decomposition, level in zip(self.coarse, params.get("coarse", ())):
            out = out + self._apply_level(decomposition, level, x)
        return out

    def _apply_level(self, d: Decomposition, params: dict, x: jax.Array) -> jax.Array:
        index, window = d.candidates(x)
        centres = jnp.asarray(d.centres(), x.dtype)[index]            # (2^d, d)
        local = (x[None, :] - centres) / jnp.asarray(d.reach, x.dtype)
        chosen = jax.tree.map(lambda a: a[index], params["subdomains"])
        outputs = jax.vmap(lambda p, z: apply_mlp(self.net, p, z))(chosen, local)
        weights = window * params["scale"][index]
        return weights @ outputs


def subdomain_net(hidden: tuple[int, ...], outputs: int, dimension: int, **network) -> MLPSpec:
    """The network of one subdomain: inputs already local, in [-1, 1] (mapped as they are)."""
    identity = InputMap((-1.0,) * dimension, (1.0,) * dimension, (False,) * dimension)
    return MLPSpec(identity, hidden, outputs, **network)


def subdomain_counts(given: int | dict[str, int], args: Sequence[str]) -> tuple[int, ...]:
    """Per argument, the subdomains along it: N along every coordinate, or per name
    (those not named get 1)."""
    if isinstance(given, int):
        return tuple(given for _ in args)
    unknown = sorted(set(given) - set(args))
    if unknown:
        raise LoweringError(f"--subdomains names {', '.join(unknown)}, which the fields do not "
                            f"depend on; their coordinates are {', '.join(args)}")
    return tuple(int(given.get(a, 1)) for a in args)
