"""Pointwise kernels: a SymPy expression evaluated on a box of grid nodes, in JAX.

Every field value, derivative and coefficient in the expression becomes an *access*: a
small static description of how to get its array on the box (which array, which stencils
along which axes). The expression with those replaced by plain symbols is turned into a
JAX function by `sympy.lambdify`; at run time the accesses are computed with shifted
slices and passed in. Everything here runs once, at compile time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
import sympy as sp
from jax import lax

from ..operators import AxisInfo, apply_axis, restrict
from ..stencils import Stencil

Array = jnp.ndarray


@dataclass(frozen=True)
class Region:
    """A box of nodes on a field's grid: the field's space axes and an index range on each."""

    axes: tuple[str, ...]
    ranges: tuple[tuple[int, int], ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(hi - lo for lo, hi in self.ranges)

    def range_of(self, axis: str) -> tuple[int, int]:
        return self.ranges[self.axes.index(axis)]

    def index(self) -> tuple[slice, ...]:
        return tuple(slice(lo, hi) for lo, hi in self.ranges)


@dataclass(frozen=True)
class Step:
    """One derivative along one axis: `stencil`, or two upwind stencils chosen by `velocity`."""

    axis: str
    stencil: Stencil
    backward: Stencil | None = None     # used where the velocity is positive
    forward: Stencil | None = None


@dataclass(frozen=True)
class Access:
    """How to obtain one array on a region: `source[key]` (state or params), then `steps`.

    `layer` picks one index along an axis instead (a face's neighbour layers, for
    boundary closures), keeping that axis with length 1.
    """

    source: str                         # "state" or "params"
    key: str
    axes: tuple[str, ...]               # the array's axes
    steps: tuple[Step, ...] = ()
    layer: tuple[str, int] | None = None


@dataclass(frozen=True)
class Layout:
    """Static facts about axes that kernels need: spacing, size, periodicity, accuracy."""

    axes: Mapping[str, AxisInfo]
    coordinates: Mapping[str, np.ndarray]   # node coordinates per space axis
    accuracy: int


Kernel = Callable[[Array, Mapping[str, Array], Mapping[str, Array]], Array]


def make_kernel(expr: sp.Expr, accesses: Mapping[sp.Symbol, Access], region: Region,
                layout: Layout, time: sp.Symbol | None, constants: tuple[str, ...],
                velocities: Mapping[sp.Symbol, Kernel] | None = None) -> Kernel:
    """A function (t, U, params) -> array of `expr` on `region`.

    `accesses` maps the placeholder symbols in `expr` to what they stand for; coordinates
    and constants appear as their own symbols. `velocities` gives, for upwinded accesses,
    the kernel of the transport velocity whose sign picks the stencil.
    """
    placeholders = list(accesses)
    coordinate_names = [a for a in region.axes if sp.Symbol(a) in expr.free_symbols]
    constant_symbols = [sp.Symbol(c) for c in constants]
    arguments = placeholders + [sp.Symbol(c) for c in coordinate_names] + constant_symbols
    if time is not None:
        arguments.append(time)
    function = sp.lambdify(arguments, expr, modules="jax", cse=True)
    coordinate_values = [_coordinate(layout, region, name) for name in coordinate_names]
    velocities = velocities or {}

    def kernel(t: Array, U: Mapping[str, Array], params: Mapping[str, Array]) -> Array:
        values = []
        for symbol in placeholders:
            velocity = velocities.get(symbol)
            speed = velocity(t, U, params) if velocity is not None else None
            values.append(evaluate_access(accesses[symbol], U, params, region, layout, speed))
        values += coordinate_values
        values += [params[c] for c in constants]
        if time is not None:
            values.append(t)
        result = function(*values)
        return jnp.broadcast_to(result, region.shape)

    return kernel


def evaluate_access(access: Access, U: Mapping[str, Array], params: Mapping[str, Array],
                    region: Region, layout: Layout, speed: Array | None = None) -> Array:
    """The array of one access on `region`, shaped to broadcast against the region."""
    array = (U if access.source == "state" else params)[access.key]
    if access.layer is not None:
        axis, index = access.layer
        position = access.axes.index(axis)
        array = lax.slice_in_dim(array, index, index + 1, axis=position)
        ranges = tuple(None if a == axis else region.range_of(a) for a in access.axes)
        return _broadcastable(restrict(array, ranges), access.axes, region.axes)
    if len(access.steps) == 1 and access.steps[0].backward is not None:
        return _upwind(array, access, region, layout, speed)
    for step in access.steps:
        position = access.axes.index(step.axis)
        lo, hi = region.range_of(step.axis)
        array = apply_axis(array, position, step.stencil, layout.axes[step.axis], lo, hi,
                           layout.accuracy)
    ranges = tuple(region.range_of(a) if not _stepped(access, a) else None for a in access.axes)
    return _broadcastable(restrict(array, ranges), access.axes, region.axes)


def _upwind(array: Array, access: Access, region: Region, layout: Layout,
            speed: Array) -> Array:
    """A first derivative from the stencil on the upstream side of each node."""
    step = access.steps[0]
    position = access.axes.index(step.axis)
    lo, hi = region.range_of(step.axis)
    info = layout.axes[step.axis]
    ranges = tuple(region.range_of(a) if a != step.axis else None for a in access.axes)
    back, forth = (
        _broadcastable(restrict(apply_axis(array, position, s, info, lo, hi, layout.accuracy),
                                ranges), access.axes, region.axes)
        for s in (step.backward, step.forward))
    return jnp.where(speed > 0, back, forth)


def _stepped(access: Access, axis: str) -> bool:
    return any(s.axis == axis for s in access.steps)


def _broadcastable(array: Array, axes: tuple[str, ...], target: tuple[str, ...]) -> Array:
    """Reorder and expand `array` (with `axes`) to broadcast over `target` axes."""
    if axes == target or jnp.ndim(array) == 0:
        return array
    order = [a for a in target if a in axes]
    array = jnp.transpose(array, [axes.index(a) for a in order]) if list(axes) != order else array
    shape = [array.shape[order.index(a)] if a in axes else 1 for a in target]
    return jnp.reshape(array, shape)


def _coordinate(layout: Layout, region: Region, name: str) -> np.ndarray:
    lo, hi = region.range_of(name)
    values = layout.coordinates[name][lo:hi]
    shape = [hi - lo if a == name else 1 for a in region.axes]
    return values.reshape(shape)
