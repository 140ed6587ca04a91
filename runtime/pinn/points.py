"""The Solution's evaluator of a pinn-family result (pinn, fbpinn, elm, time marching):
any field, or any of its derivatives, at any points, from the trained networks.

A derivative is the networks' own, by automatic differentiation: nested forward mode
(`compiler.pinn.derivatives.along_chain`), a one-hot tangent on the point column of each
coordinate in turn. The fields are evaluated point by point (`PINNProgram.evaluate` maps
the network over the rows), so one jvp over a batch of points gives every point's
derivative at once; it runs through the whole map from the point to the field, hard
constraints (u = A + D*N) and output scaling included, in the networks' dtype. Each
(field, derivative) compiles once, on batches of at most POINTS_PER_BATCH points padded
to a power of two, so that a million points take bounded memory and few compilations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np

from compiler.pinn.derivatives import along_chain

from ..errors import OptionError

POINTS_PER_BATCH = 2**16      # points per compiled call: float64, three 64-wide layers,
                              # the process peaks 0.15 GB above 2^14 (0.9 GB at 2^18),
                              # as fast on two CPU cores (10^6 points: ~2 s for d(u, x))
FEWEST_POINTS = 2**6          # the smallest padded batch

Axes = tuple[int, ...]        # point columns to differentiate along, in order
Derivatives = Callable[[Mapping, Mapping, str, Axes, np.ndarray], np.ndarray]
PointValues = Callable[[str, Axes, np.ndarray], np.ndarray]


def make_point_derivatives(evaluate: Callable[[Mapping, jax.Array, Mapping], Mapping]
                           ) -> Derivatives:
    """(nets, physical, name, axes, points) -> the derivative of output `name` along
    `axes` (() the value) at each row of `points` (n, d), a host array; from
    `evaluate(nets, points, physical)`, every output at every row (`PINNProgram.evaluate`),
    which must treat each row alone. Compiled per (name, axes) with the networks as
    arguments, so networks of the same shapes (time windows) share the compilation."""
    compiled: dict[tuple[str, Axes], Callable] = {}

    def derivative(nets: Mapping, physical: Mapping, name: str, axes: Axes,
                   points: np.ndarray) -> np.ndarray:
        run = compiled.get((name, axes))
        if run is None:
            run = compiled[name, axes] = jax.jit(_chain(evaluate, name, axes))
        out = [np.asarray(run(nets, physical, jnp.asarray(_padded(batch))))[:len(batch)]
               for batch in _batches(points)]
        return np.concatenate(out) if out else np.zeros(0, points.dtype)

    return derivative


def _chain(evaluate: Callable, name: str, axes: Axes) -> Callable:
    def at(nets: Mapping, physical: Mapping, points: jax.Array) -> jax.Array:
        return along_chain(lambda p: evaluate(nets, p, physical)[name], axes)(points)[-1]

    return at


def _batches(points: np.ndarray) -> list[np.ndarray]:
    return [points[i:i + POINTS_PER_BATCH] for i in range(0, len(points), POINTS_PER_BATCH)]


def _padded(batch: np.ndarray) -> np.ndarray:
    """`batch` with its last row repeated up to a power of two (at least FEWEST_POINTS):
    few distinct shapes, so few compilations."""
    size = max(FEWEST_POINTS, 1 << (len(batch) - 1).bit_length())
    return np.pad(batch, ((0, size - len(batch)), (0, 0)), mode="edge")


def network_values(derivatives: Derivatives, nets: Mapping, physical: Mapping
                   ) -> PointValues:
    """(name, axes, points) -> values, of the networks `nets` under `physical`."""
    return lambda name, axes, points: derivatives(nets, physical, name, axes, points)


def point_evaluator(coordinates: tuple[str, ...], x64: bool, dtype,
                    values_at: PointValues) -> Callable:
    """The Solution's evaluator: (field name, {coordinate: array}, derivative) -> values,
    shaped as the given arrays (broadcast together; a coordinate not given is 0), a float
    for scalars. `derivative` names the coordinates to differentiate by, in order and with
    repeats: ("x", "x") is d2/dx2, ("x", "t") the mixed one, () the value. `values_at`:
    (name, axes, points (n, len(coordinates)) in `dtype`) -> values."""

    def evaluator(name: str, given: Mapping[str, np.ndarray],
                  derivative: tuple[str, ...] = ()) -> np.ndarray | float:
        axes = _axes(coordinates, name, derivative)
        arrays = np.broadcast_arrays(*(np.asarray(given[c]) for c in coordinates if c in given))
        shape = arrays[0].shape if arrays else ()
        columns = [np.asarray(given[c]) if c in given else np.zeros(shape) for c in coordinates]
        with jax.enable_x64(x64):          # the networks' dtype, outside the solve too
            points = np.stack([np.broadcast_to(c, shape).ravel() for c in columns], axis=1)
            out = np.asarray(values_at(name, axes, np.asarray(points, dtype)), dtype=float)
        out = out.reshape(shape)
        return out if out.ndim else float(out)

    return evaluator


def _axes(coordinates: tuple[str, ...], name: str, derivative: tuple[str, ...]) -> Axes:
    if isinstance(derivative, str):
        derivative = (derivative,)
    unknown = [c for c in derivative if c not in coordinates]
    if unknown:
        raise OptionError(f"cannot differentiate {name} by `{unknown[0]}`: the coordinates "
                          f"are {', '.join(coordinates)}",
                          hint=f"list coordinates, one per order, e.g. ({coordinates[-1]!r},) "
                               f"or ({coordinates[-1]!r}, {coordinates[-1]!r})")
    return tuple(coordinates.index(c) for c in derivative)
