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
axis. `apply` evaluates one point: its 2^d candidates' parameters gathered by index and
evaluated by one vmap. `apply_batch`, what training uses, evaluates many points as the
subdomains' own matrix products: the (point, candidate) pairs sorted by subdomain into
blocks of `block` rows that each belong to one subdomain (`BlockLayout`), every block one
small dense product with its subdomain's weights, gathered once per block, not per point.
Either way the work per point is 2^d small networks whatever the number of subdomains, and
no Python loop over subdomains runs at training time.

With several levels (multilevel FBPINNs, Dolean et al. 2024) the finest decomposition is
joined by coarser ones, each halving the subdomain count per coordinate (down to one),
every level its own partition of unity and networks, their outputs summed: the coarse
levels carry the low frequencies, the fine ones the detail.

`FBPINNSpec` has `init` and `apply` as `MLPSpec` has, so residuals, hard constraints and
training treat the decomposed network as any other. `staged` restricts it to a time sweep's
stage (Moseley et al.'s time-marching subdomains): the later time slabs switched off, the
earlier ones fixed, the current one trained.
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

    def candidates(self, x: jax.Array, live: jax.Array | None = None
                   ) -> tuple[jax.Array, jax.Array]:
        """At one point x (d,): the flat indices (2^d,) of the subdomains that may cover
        it and their normalised windows (2^d,), zero for those that do not. With `live`
        (size,), a mask of 0 and 1, only the live subdomains' windows count, normalised
        among themselves (zero where none covers the point)."""
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
        window, flat = jnp.stack(window), jnp.stack(flat)
        if live is not None:
            window = window * jnp.asarray(live, window.dtype)[flat]
        total = jnp.sum(window)
        return flat, window / jnp.where(total > 0, total, 1)

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

    def apply_batch(self, params: dict, x: jax.Array) -> jax.Array:
        """The outputs (n, outputs) at the points x (n, d), as `apply` at each point, each
        row a function of its own point only (so derivatives by forward mode along a
        column of x are every point's derivatives)."""
        out = self._apply_level_batch(self.decomposition, params, x)
        for decomposition, level in zip(self.coarse, params.get("coarse", ())):
            out = out + self._apply_level_batch(decomposition, level, x)
        return out

    def slabs(self, axis: int) -> np.ndarray:
        """(size,): each finest subdomain's position along `axis` (its time slab)."""
        grid = np.indices(self.decomposition.counts)[axis]
        return grid.ravel()

    def staged(self, params: dict, stage: tuple[jax.Array, jax.Array]) -> dict:
        """`params` as a time sweep's stage sees them: `stage` = (trained, live), masks (size,)
        of 0 and 1 over the finest subdomains. A subdomain not trained keeps its parameters
        out of the gradient; one not live adds nothing, the live ones' windows a partition
        of unity among themselves (so the network is not pinned to 0 where only later
        slabs' windows would reach)."""
        trained, live = stage

        def hold(a: jax.Array) -> jax.Array:
            mask = trained.reshape((-1,) + (1,) * (a.ndim - 1)).astype(a.dtype)
            return mask * a + (1 - mask) * jax.lax.stop_gradient(a)

        return {**params, "subdomains": jax.tree.map(hold, params["subdomains"]),
                "scale": hold(params["scale"]), "live": live}

    def _apply_level_batch(self, d: Decomposition, params: dict, x: jax.Array) -> jax.Array:
        n, dimension = x.shape
        index, window = jax.vmap(lambda p: d.candidates(p, params.get("live")))(x)
        per_point = index.shape[1]
        layout = BlockLayout.of(index.reshape(-1), d.size)
        point = layout.row_pair // per_point                           # (rows,)
        owner = jnp.repeat(layout.owner, layout.block)                 # (rows,)
        centres = jnp.asarray(d.centres(), x.dtype)
        local = (x[point] - centres[owner]) / jnp.asarray(d.reach, x.dtype)
        local = local.reshape(-1, layout.block, dimension)
        chosen = jax.tree.map(lambda a: a[layout.owner], params["subdomains"])
        rows = jax.vmap(lambda p, z: jax.vmap(lambda y: apply_mlp(self.net, p, y))(z))(
            chosen, local)
        rows = rows.reshape(-1, rows.shape[-1])
        outputs = rows[layout.pair_row].reshape(n, per_point, -1)
        weights = window * params["scale"][index]
        return jnp.einsum("nc,nco->no", weights, outputs)

    def _apply_level(self, d: Decomposition, params: dict, x: jax.Array) -> jax.Array:
        index, window = d.candidates(x, params.get("live"))
        centres = jnp.asarray(d.centres(), x.dtype)[index]            # (2^d, d)
        local = (x[None, :] - centres) / jnp.asarray(d.reach, x.dtype)
        chosen = jax.tree.map(lambda a: a[index], params["subdomains"])
        outputs = jax.vmap(lambda p, z: apply_mlp(self.net, p, z))(chosen, local)
        weights = window * params["scale"][index]
        return weights @ outputs


@dataclass(frozen=True)
class BlockLayout:
    """Where each (point, candidate) pair goes in a buffer of equal blocks, every block one
    subdomain's: `row_pair` (rows,) the pair each row evaluates (padding rows repeat some
    pair, their results unread), `pair_row` (pairs,) the row that evaluates each pair,
    `owner` (blocks,) each block's subdomain. Shapes depend only on the pair count and the
    subdomain count: a subdomain's pairs fill whole blocks but the last, so the blocks
    number at most pairs / block + subdomains, and the layout is traced once per shape."""

    row_pair: jax.Array
    pair_row: jax.Array
    owner: jax.Array
    block: int

    @staticmethod
    def of(groups: jax.Array, count: int, block: int | None = None) -> BlockLayout:
        """The layout of pairs whose subdomains are `groups` (pairs,), of `count`."""
        pairs = groups.shape[0]
        block = block or block_size(pairs, count)
        blocks = -(-(pairs + count * (block - 1)) // block)
        order = jnp.argsort(groups, stable=True)
        ordered = groups[order]
        counts = jnp.bincount(groups, length=count)
        spans = -(-counts // block)                          # blocks per subdomain
        ends = jnp.cumsum(spans)
        first = ends - spans
        rank = jnp.arange(pairs) - (jnp.cumsum(counts) - counts)[ordered]
        row = first[ordered] * block + rank
        pair_row = jnp.zeros((pairs,), jnp.int32).at[order].set(row.astype(jnp.int32))
        row_pair = jnp.zeros((blocks * block,), jnp.int32).at[row].set(order.astype(jnp.int32))
        owner = jnp.minimum(jnp.searchsorted(ends, jnp.arange(blocks), side="right"),
                            count - 1)
        return BlockLayout(row_pair, pair_row, owner.astype(jnp.int32), block)


def block_size(pairs: int, count: int) -> int:
    """Rows per block: a power of two near an eighth of the pairs per subdomain (so the
    worst-case padding, one block less a row per subdomain, stays near an eighth of the
    work), between 16 and 128 (smaller blocks cost a call each; on 2 CPU cores 32 to 128
    rows of a 16-wide layer are as fast per row as one large product, to ~10%)."""
    target = max(pairs // (8 * count), 1)
    return int(min(max(2 ** int(np.floor(np.log2(target))), 16), 128))


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
