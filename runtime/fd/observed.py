"""What fd fits (time-dependent and steady) share: the unknowns as one flat vector, and the
observations as scaled samples of the fields.

Each observed field's misfit is divided by the root mean square of its data and by the
square root of its count, so fields and data sets of any size and units weigh alike; the
norm of a field's part of the residual is then its misfit relative to its data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from compiler.common.bounds import param_bounds, to_bounded, to_free
from compiler.common.nets import net_key
from compiler.common.observations import FieldObservations, GridSampler, in_region, sampler_for
from compiler.fd import FDProgram


@dataclass(frozen=True)
class Unknowns:
    """The program's parameters (`base`, unknowns at their guesses) and the flat vector of
    the unknown ones (learned functions' parameters included): `theta0`, with `unravel`
    back to {name: value}. A bounded constant
    (`param D ~ 0.3 in [0, 10]`) is held in the vector as its free variable phi, and
    `unravel` gives lo + (hi - lo) sigmoid(phi) (compiler/common/bounds.py), so no step of
    the optimiser leaves the interval."""

    base: dict[str, jax.Array]
    unravel: Callable[[jax.Array], dict[str, jax.Array]]
    theta0: np.ndarray

    @classmethod
    def of(cls, program: FDProgram) -> Unknowns:
        base = {k: jnp.asarray(v, program.dtype) for k, v in program.params.items()}
        bounds = param_bounds(program.system)
        free = {p.name: jnp.asarray(to_free(base[p.name], *bounds[p.name]), program.dtype)
                if p.name in bounds else base[p.name] for p in program.system.unknown_params}
        free.update({net_key(n.name): base[net_key(n.name)] for n in program.system.nets})
        flat, raw = ravel_pytree(free)

        def unravel(theta: jax.Array) -> dict[str, jax.Array]:
            return {k: to_bounded(v, *bounds[k]) if k in bounds else v
                    for k, v in raw(theta).items()}

        return cls(base, unravel, np.asarray(flat, dtype=np.float64))

    @property
    def size(self) -> int:
        return len(self.theta0)

    def params(self, theta) -> dict[str, jax.Array]:
        """Every parameter, the unknown ones at `theta` (not yet prepared)."""
        return {**self.base, **self.unravel(jnp.asarray(theta))}


RELATIVE_FLOOR = 0.01     # relative misfit: values below this fraction of the RMS count as it


def _weights(o: FieldObservations, misfit: str) -> np.ndarray:
    """Each observation's weight, over the square root of the field's count."""
    scale = o.rms or 1.0
    if misfit == "relative":
        scale = np.maximum(np.abs(o.values), RELATIVE_FLOOR * scale)
    return np.broadcast_to(1.0 / (scale * np.sqrt(o.count)), o.values.shape)


@dataclass(frozen=True)
class ScaledData:
    """The observations, their samplers and weights; `values`: the weighted data, in order."""

    observations: tuple[FieldObservations, ...]
    samplers: tuple[GridSampler, ...]
    weights: tuple[np.ndarray, ...]
    values: np.ndarray

    @classmethod
    def on(cls, observations: Sequence[FieldObservations], axes: Mapping[str, np.ndarray],
           program=None, misfit: str = "scaled") -> ScaledData:
        """Samplers from the grid with node coordinates `axes` (ends included); on a
        shaped domain (`program.shaped`), reading only the nodes of the region. `misfit`:
        "scaled" divides each field's misfit by the RMS of its data; "relative" divides each
        point's by its own value (floored at RELATIVE_FLOOR of the field's RMS), the least
        squares that suits noise proportional to the value."""
        weights = tuple(_weights(o, misfit) for o in observations)
        values = np.concatenate([o.values * w for o, w in zip(observations, weights)])
        samplers = tuple(sampler_for(o, axes) for o in observations)
        if program is not None and program.shaped is not None:
            samplers = tuple(in_region(s, o, program.shaped.cut)
                             for s, o in zip(samplers, observations))
        return cls(tuple(observations), samplers, weights, values)

    @property
    def counts(self) -> dict[str, int]:
        """Observations per field."""
        return {o.field: o.count for o in self.observations}

    def sampled(self, arrays: Mapping[str, jax.Array]) -> jax.Array:
        """The observed fields (arrays in their argument order on the grid) at the
        observation points, weighted like `values`; linear in the arrays."""
        return jnp.concatenate([sampler(arrays[o.field]) * w for o, sampler, w in
                                zip(self.observations, self.samplers, self.weights)])

    def misfits(self, residual: np.ndarray) -> dict[str, float]:
        """Each field's misfit relative to its data, from a residual that starts with
        `sampled(...) - values`."""
        ends = np.cumsum([o.count for o in self.observations])
        return {o.field: float(np.linalg.norm(residual[end - o.count:end]))
                for o, end in zip(self.observations, ends)}
