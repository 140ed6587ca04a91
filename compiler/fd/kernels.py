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

from ..common.nets import with_net_calls
from ..common.operators import apply_axis, restrict
from .expand import expand_stencils
from .ir import Access, Layout, Region

Array = jnp.ndarray


Kernel = Callable[[Array, Mapping[str, Array], Mapping[str, Array]], Array]
HOISTED = "~"           # prefix of the params keys that hold hoisted invariant arrays


@dataclass(frozen=True)
class CompiledKernel:
    """A kernel and the parts of it that change with neither time nor the state.

    Those parts (a source term's spatial profile, `c**2` of a coefficient field) are
    computed once per solve by `prepare` and read from `params` under their key; a
    kernel called with unprepared params computes them itself.
    """

    run: Kernel
    invariants: tuple[tuple[str, Callable[[Mapping[str, Array]], Array]], ...] = ()
    in_time: TimeSeparated | None = None

    def __call__(self, t: Array, U: Mapping[str, Array], params: Mapping[str, Array]) -> Array:
        return self.run(t, U, params)

    def padded(self, t: Array, U: Mapping[str, Array], params: Mapping[str, Array],
               widths: list[tuple[int, int]], dtype) -> Array:
        """The kernel's values in `dtype`, padded with zeros by `widths` (its region placed
        in a whole array).

        A term with a factor of time alone (a source `f(t) g(x)`) is padded before it is
        multiplied by that factor: XLA:CPU (jax 0.10) compiles a pad whose operand depends
        on a time carried by the loop into a loop it does not vectorise, 3-4x slower per
        step (the acoustic wave's source: 85 ms to 25 ms for 1000 steps at 300^2, float32,
        measured with a hand-written kernel); the values are the same."""
        if self.in_time is None:
            return pad_zeros(self.run(t, U, params).astype(dtype), widths)
        return self.in_time.padded(t, U, params, widths, dtype)


@dataclass(frozen=True)
class TimeSeparated:
    """A kernel as `rest + sum_k factor_k(t) * term_k`: each factor a function of time and
    constants only, each term free of time (`separate_time`)."""

    rest: Kernel | None
    parts: tuple[tuple[Callable[[Array, Mapping[str, Array]], Array], Kernel], ...]

    def padded(self, t: Array, U: Mapping[str, Array], params: Mapping[str, Array],
               widths: list[tuple[int, int]], dtype) -> Array:
        total = None
        if self.rest is not None:
            total = pad_zeros(self.rest(t, U, params).astype(dtype), widths)
        for factor, term in self.parts:
            part = jnp.asarray(factor(t, params), dtype) * \
                pad_zeros(term(t, U, params).astype(dtype), widths)
            total = part if total is None else total + part
        return total


def pad_zeros(value: Array, widths: list[tuple[int, int]]) -> Array:
    """`value` padded with zeros by `widths` (itself when there is nothing to pad)."""
    if all(w == (0, 0) for w in widths):
        return value
    return jnp.pad(value, widths)


def prepare(kernels, params: Mapping[str, Array]) -> dict[str, Array]:
    """`params` with every hoisted invariant array of `kernels` added."""
    out = dict(params)
    for kernel in kernels:
        for key, compute in kernel.invariants:
            out[key] = compute(params)
    return out


def make_kernel(expr: sp.Expr, accesses: Mapping[sp.Symbol, Access], region: Region,
                layout: Layout, time: sp.Symbol | None, constants: tuple[str, ...],
                velocities: Mapping[sp.Symbol, Kernel] | None = None) -> CompiledKernel:
    """A function (t, U, params) -> array of `expr` on `region`.

    `accesses` maps the placeholder symbols in `expr` to what they stand for; coordinates
    and constants appear as their own symbols. `velocities` gives, for upwinded accesses,
    the kernel of the transport velocity whose sign picks the stencil.
    """
    variant = {s for s, a in accesses.items() if a.source in ("state", "flux")}
    if time is not None:
        variant.add(time)
    arrays = {s for s, a in accesses.items() if a.source == "params"} | \
        {sp.Symbol(a) for a in region.axes}
    expr, hoisted = hoist(expr, variant, arrays)
    if not velocities:
        expr, accesses = expand_stencils(expr, accesses, region, layout)
    invariants = tuple((hoisted_key(sub, region),
                        _params_only(_function(sub, accesses, region, layout, None, constants)))
                       for sub in hoisted.values())
    keys = {symbol: key for symbol, (key, _) in zip(hoisted, invariants)}
    compute = dict(invariants)
    used = {s: a for s, a in accesses.items() if s in expr.free_symbols}
    evaluate = _function(expr, used, region, layout, time, constants, tuple(keys),
                         velocities)

    def bind(evaluate) -> Kernel:
        def run(t: Array, U: Mapping[str, Array], params: Mapping[str, Array]) -> Array:
            extra = [params[k] if k in params else compute[k](params) for k in keys.values()]
            return evaluate(params, U, t, extra)
        return run

    in_time = None
    if time is not None and time in expr.free_symbols:
        rest, parts = separate_time(expr, time, constants)
        if parts:
            def part(e: sp.Expr):
                return bind(_function(e, {s: a for s, a in used.items() if s in e.free_symbols},
                                      region, layout, time, constants, tuple(keys), velocities))
            in_time = TimeSeparated(None if rest == 0 else part(rest),
                                    tuple((_scalar_function(f, time, constants), part(term))
                                          for f, term in parts))
    return CompiledKernel(bind(evaluate), invariants, in_time)


TimeFactors = tuple[tuple[sp.Expr, sp.Expr], ...]   # (factor of time, time-free term) pairs


def separate_time(expr: sp.Expr, time: sp.Symbol,
                  constants: tuple[str, ...]) -> tuple[sp.Expr, TimeFactors]:
    """`expr` as `rest + sum_k factor_k * term_k`: the terms of the sum whose factors split
    into a function of `time` and constants only (factor_k) and a time-free rest (term_k),
    grouped by factor; everything else stays in `rest`."""
    scalars = {time} | {sp.Symbol(c) for c in constants}
    rest: list[sp.Expr] = []
    parts: dict[sp.Expr, list[sp.Expr]] = {}
    for term in sp.Add.make_args(expr):
        factors = sp.Mul.make_args(term)
        timed = [f for f in factors if time in f.free_symbols]
        others = [f for f in factors if time not in f.free_symbols]
        if not timed or any(not f.free_symbols <= scalars for f in timed):
            rest.append(term)
            continue
        parts.setdefault(sp.Mul(*timed), []).append(sp.Mul(*others))
    return sp.Add(*rest), tuple((f, sp.Add(*terms)) for f, terms in parts.items())


def _scalar_function(expr: sp.Expr, time: sp.Symbol, constants: tuple[str, ...]):
    """(t, params) -> the value of `expr`, a function of time and constants."""
    used = [c for c in constants if sp.Symbol(c) in expr.free_symbols]
    function = sp.lambdify([time, *(sp.Symbol(c) for c in used)], expr, modules="jax")
    return lambda t, params: function(t, *(params[c] for c in used))


def hoisted_key(sub: sp.Expr, region: Region) -> str:
    """The params key of a hoisted array: the expression itself (its exact `srepr`) and the
    region. Kernels share one params dict, so equal keys must mean equal arrays; a hash of
    the expression would not do (Python hashes `r**-1` and `r**-2` alike, and two
    coefficient arrays collided into one: a silently wrong polar Laplacian)."""
    return f"{HOISTED}{sp.srepr(sub)} on {region.axes}{region.ranges}"


def hoist(expr: sp.Expr, variant: set[sp.Symbol],
          arrays: set[sp.Symbol]) -> tuple[sp.Expr, dict[sp.Symbol, sp.Expr]]:
    """Replace the largest parts of `expr` free of `variant` symbols that are arrays (they
    contain a coordinate or a coefficient field) by new symbols; return both."""
    table: dict[sp.Symbol, sp.Expr] = {}

    def invariant(e: sp.Expr) -> bool:
        return not (e.free_symbols & variant)

    def name(e: sp.Expr) -> sp.Expr:
        if e.is_Symbol or e.is_Number or not (e.free_symbols & arrays):
            return e
        symbol = sp.Dummy("hoisted")
        table[symbol] = e
        return symbol

    def walk(e: sp.Expr) -> sp.Expr:
        if invariant(e):
            return name(e)
        if e.is_Add or e.is_Mul:
            fixed = [a for a in e.args if invariant(a)]
            moving = [walk(a) for a in e.args if not invariant(a)]
            if fixed:
                moving.insert(0, name(e.func(*fixed)))
            return e.func(*moving)
        if not e.args or isinstance(e, sp.Piecewise) or e.is_Relational:
            return e
        return e.func(*(walk(a) for a in e.args))

    return walk(expr), table


def _function(expr: sp.Expr, accesses: Mapping[sp.Symbol, Access], region: Region,
              layout: Layout, time: sp.Symbol | None, constants: tuple[str, ...],
              extra: tuple[sp.Symbol, ...] = (),
              velocities: Mapping[sp.Symbol, Kernel] | None = None):
    """`expr` as a JAX function of (params, U, t, extra values) on `region`."""
    expr, nets = with_net_calls(expr, layout.net_specs)
    placeholders = [s for s in accesses if s in expr.free_symbols]
    coordinate_names = [a for a in region.axes if sp.Symbol(a) in expr.free_symbols]
    used_constants = [c for c in constants if sp.Symbol(c) in expr.free_symbols]
    arguments = placeholders + [sp.Symbol(c) for c in coordinate_names] + \
        [sp.Symbol(c) for c in used_constants] + [s for s, _ in nets] + list(extra)
    if time is not None:
        arguments.append(time)
    function = sp.lambdify(arguments, expr, modules="jax", cse=True)
    coordinate_values = [_coordinate(layout, region, name) for name in coordinate_names]
    velocities = velocities or {}

    def evaluate(params, U, t=None, extra_values=()):
        values = []
        for symbol in placeholders:
            velocity = velocities.get(symbol)
            speed = velocity(t, U, params) if velocity is not None else None
            values.append(evaluate_access(accesses[symbol], U, params, region, layout, speed,
                                          t))
        values += coordinate_values
        values += [params[c] for c in used_constants]
        values += [params[key] for _, key in nets]
        values += list(extra_values)
        if time is not None:
            values.append(t)
        return jnp.broadcast_to(function(*values), region.shape)

    return evaluate


def _params_only(evaluate):
    return lambda params: evaluate(params, {}, None, ())


def evaluate_access(access: Access, U: Mapping[str, Array], params: Mapping[str, Array],
                    region: Region, layout: Layout, speed: Array | None = None,
                    t: Array | None = None) -> Array:
    """The array of one access on `region`, shaped to broadcast against the region."""
    if access.source == "flux":
        return access.flux(t, U, params, region)
    array = (U if access.source == "state" else params)[access.key]
    if access.shift is not None:
        for position, (axis, offset) in enumerate(zip(access.axes, access.shift)):
            lo, hi = region.range_of(axis)
            array = lax.slice_in_dim(array, lo + offset, hi + offset, axis=position)
        return _broadcastable(array, access.axes, region.axes)
    if access.layer is not None:
        axis, index = access.layer
        position = access.axes.index(axis)
        array = lax.slice_in_dim(array, index, index + 1, axis=position)
        ranges = tuple(None if a == axis else region.range_of(a) for a in access.axes)
        return _broadcastable(restrict(array, ranges), access.axes, region.axes)
    if layout.shaped is not None and access.source == "state" and access.steps and \
            access.steps[0].axis in layout.shaped.cut.cuts:
        step = access.steps[0]        # one axis at a time (checked by fd/shaped.py)
        order = sum(s.stencil.order for s in access.steps)
        array = layout.shaped.derivative(array, access.key, step.axis, order, t, params)
        ranges = tuple(region.range_of(a) if a in region.axes else None for a in access.axes)
        return _broadcastable(restrict(array, ranges), access.axes, region.axes)
    if len(access.steps) == 1 and access.steps[0].scheme is not None:
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
    """A first derivative taken by the step's scheme from the upstream side of each node."""
    step = access.steps[0]
    position = access.axes.index(step.axis)
    lo, hi = region.range_of(step.axis)
    info = layout.axes[step.axis]
    ranges = tuple(region.range_of(a) if a != step.axis else None for a in access.axes)
    back, forth = (
        _broadcastable(restrict(step.scheme.upwinded(array, position, info, lo, hi,
                                                     layout.accuracy, wind), ranges),
                       access.axes, region.axes)
        for wind in (+1, -1))
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
