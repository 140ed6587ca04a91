"""to_residuals: every equation and condition as a pure JAX function of the networks.

A residual function takes (network parameters, physical parameters, points) and returns
one residual per point. Field values and derivatives in the residual expression come from
the networks by nested forward mode (`derivatives`); coordinates are the point's columns;
constants come from the physical parameters; a coefficient field given by an expression
is written out, one given as samples is interpolated (multilinear) at the points.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from pdelang import System
from pdelang.expressions import NetOutput

from ..common.bounds import to_bounded
from ..common.nets import with_net_calls
from ..errors import LoweringError
from .derivatives import Chain, along_chain, derivatives_at, plan_chains
from .networks.mlp import MLPSpec, apply_mlp

if TYPE_CHECKING:
    from .constraints import GroupConstraints

Residual = Callable[[Mapping, Mapping, jax.Array], jax.Array]
CONSTANTS = "unknown constants"   # their entry in the trainable pytree (never a field's name)
STAGE = "~stage"    # physical[STAGE][group key]: a time sweep's (trained, live) subdomain masks


@dataclass(frozen=True)
class Term:
    """One loss term: a residual and where its points lie: drawn in the interior, on a face
    (`fixed` coordinates), or, for a data term, the observation `points` themselves."""

    name: str
    kind: str                                  # "pde", "boundary", "initial", "data",
    residual: Residual                         # "regularization"
    fixed: Mapping[str, float] = field(default_factory=dict)
    text: str = ""
    points: np.ndarray | None = None


BOUNDS = "~bounds"  # physical[name + BOUNDS]: (lower, upper) of a bounded unknown constant


def with_constants(nets: Mapping, physical: Mapping) -> Mapping:
    """The physical parameters with the unknown constants at their current (trained)
    values, which the trainable pytree `nets` holds under `CONSTANTS`."""
    constants = nets.get(CONSTANTS)
    return {**physical, **trained_constants(nets, physical)} if constants else physical


def trained_constants(nets: Mapping, physical: Mapping) -> dict:
    """The unknown constants' values: the trainables as they are, or for a bounded one
    (`physical` holds its bounds) lo + (hi - lo) sigmoid(phi) of its trainable phi."""
    out = {}
    for name, value in (nets.get(CONSTANTS) or {}).items():
        bounds = physical.get(name + BOUNDS)
        out[name] = value if bounds is None else to_bounded(value, bounds[0], bounds[1])
    return out


@dataclass(frozen=True)
class NetworkGroup:
    """One network: the fields it outputs and the coordinates it takes, in order, and the
    hard constraints (if any) its outputs pass through. A network of an unknown coefficient
    field has a `guess`, (physical, point) -> value, that its output is added to, or with
    `positive` that exp(output) multiplies (the field keeps the guess's sign)."""

    key: str
    fields: tuple[str, ...]
    args: tuple[str, ...]
    spec: MLPSpec
    constraints: GroupConstraints | None = None
    guess: Callable[[Mapping, jax.Array], jax.Array] | None = None
    scale: tuple[float, ...] | None = None
    positive: bool = False


def pick_columns(array: jax.Array, columns: tuple[int, ...]) -> jax.Array:
    """`array[..., columns]`, the index made while tracing: a NumPy index array made once
    and traced under both of JAX's 32- and 64-bit modes fails (jax 0.10: int32 against
    int64 in its index normalisation), as when one process trains in float32 and then
    again with the float64 finish."""
    return array[..., list(columns)]


def network_function(group: NetworkGroup, params: Mapping,
                     physical: Mapping) -> Callable[[jax.Array], jax.Array]:
    """The group's fields at one point (in `group.args` order): the MLP, through the hard
    constraints when there are any, so that values and derivatives both see them; for an
    unknown coefficient field the guess plus the MLP, or times exp(MLP) when positive."""

    params = staged(group, params, physical)

    def net(z: jax.Array) -> jax.Array:
        return scaled(group, group.spec.apply(params, z))

    def guessed(z: jax.Array) -> jax.Array:
        out = apply_mlp(group.spec, params, z)
        if group.positive:
            return group.guess(physical, z) * jnp.exp(out)
        return out + group.guess(physical, z)

    if group.guess is not None:
        return guessed
    return net if group.constraints is None else group.constraints.apply(net, physical)


def staged(group: NetworkGroup, params: Mapping, physical: Mapping) -> Mapping:
    """The group's parameters as a time sweep's stage sees them, when `physical` holds one
    for it (`STAGE`); else as they are."""
    stage = physical.get(STAGE, {}).get(group.key)
    return params if stage is None else group.spec.staged(params, stage)


def scaled(group: NetworkGroup, out: jax.Array) -> jax.Array:
    return out if group.scale is None else out * jnp.asarray(group.scale, out.dtype)


def batch_function(group: NetworkGroup, params: Mapping,
                   physical: Mapping) -> Callable[[jax.Array], jax.Array] | None:
    """The group's fields at many points (n, args) -> (n, outputs), for a network that
    evaluates batches its own way (`spec.apply_batch`, the finite-basis one); None for the
    others. The hard constraints wrap it point by point: they call the network once, at
    their own point, so each point's row is handed its precomputed network row, and
    forward mode along a column of the points still gives every point's derivatives (the
    row's tangent carries the network's)."""
    apply_batch = getattr(group.spec, "apply_batch", None)
    if apply_batch is None or group.guess is not None:
        return None
    params = staged(group, params, physical)

    def batch(points: jax.Array) -> jax.Array:
        rows = scaled(group, apply_batch(params, points))
        if group.constraints is None:
            return rows
        wrapped = lambda z, row: group.constraints.apply(lambda _: row, physical)(z)  # noqa: E731
        return jax.vmap(wrapped)(points, rows)

    return batch


def group_derivatives(group: NetworkGroup, params: Mapping, physical: Mapping,
                      points: jax.Array, chains: tuple[Chain, ...]) -> dict[Chain, jax.Array]:
    """Every prefix derivative of every chain of the group's fields, at each of `points`
    (n, args): (n, outputs) per multi-index."""
    batch = batch_function(group, params, physical)
    if batch is not None:
        return derivatives_at(batch, points, chains)
    net = network_function(group, params, physical)
    return jax.vmap(lambda z: derivatives_at(net, z, chains))(points)


@dataclass(frozen=True)
class Occurrence:
    """A field value or derivative in a residual: which network, output and chain."""

    group: str
    output: int
    chain: Chain


def inline_coefficients(expr: sp.Expr, system: System) -> sp.Expr:
    """Coefficient fields defined by expressions, written out (derivatives evaluated)."""
    table = {p.symbol: p.value for p in system.params if p.is_field and p.value is not None}
    return expr.xreplace(table).doit() if table and expr.has(*table) else expr


def make_residual(expr: sp.Expr, system: System, groups: tuple[NetworkGroup, ...],
                  coordinates: tuple[str, ...], where: str = "") -> tuple[Residual, sp.Expr]:
    """`expr` as a function of (net params, physical params, points (n, d)) -> (n,).

    `coordinates` names the columns of the points. Returns the function and the
    expression with its placeholders, for `pdelang show`. A learned function (`net`
    line) is its MLP at its inputs, point by point, its weights the trainables under
    `net_key(name)`; a derivative of one (a learned flux, `d(q(T, d(T, z)), z)`) is
    forward mode along the coordinates through the residual of what it differentiates,
    so the net's inputs (fields and their derivatives) carry their own derivatives in.
    """
    expr = inline_coefficients(expr, system)
    occurrences: dict[sp.Symbol, Occurrence] = {}
    replacements: dict[sp.Expr, sp.Symbol] = {}
    samples: dict[sp.Symbol, str] = {}
    learned: dict[sp.Symbol, tuple[Residual, Chain]] = {}
    walk = sp.preorder_traversal(expr)
    for node in walk:
        if node in replacements:
            walk.skip()
            continue
        if isinstance(node, sp.Derivative) and isinstance(node.expr, NetOutput):
            symbol = sp.Dummy(f"d{node.expr.net}")
            replacements[node] = symbol
            learned[symbol] = _net_derivative(node, system, groups, coordinates, where)
            walk.skip()
            continue
        if isinstance(node, sp.Derivative) and isinstance(node.expr, AppliedUndef):
            name = node.expr.func.__name__
            variables = [v.name for v, n in node.variable_count for _ in range(int(n))]
        elif isinstance(node, AppliedUndef):
            name, variables = node.func.__name__, []
        else:
            continue
        symbol = sp.Dummy(_label(name, variables))
        replacements[node] = symbol
        group = next((g for g in groups if name in g.fields), None)
        if group is None:
            if variables:
                raise LoweringError(f"the derivative {node} of the sampled coefficient `{name}` "
                                    f"cannot be taken by the pinn method{where}; give the "
                                    "coefficient as an expression")
            samples[symbol] = name
            continue
        chain = tuple(sorted(group.args.index(v) for v in variables))
        occurrences[symbol] = Occurrence(group.key, group.fields.index(name), chain)
    body, weights = with_net_calls(expr.xreplace(replacements),
                                   {n.name: n for n in system.nets})
    constants = [p.name for p in system.params if not p.is_field]
    columns = [c for c in coordinates if sp.Symbol(c) in body.free_symbols]
    symbols = list(occurrences) + list(learned) + list(samples) + \
        [sp.Symbol(c) for c in columns] + [sp.Symbol(c) for c in constants] + \
        [s for s, _ in weights]
    function = sp.lambdify(symbols, body, modules="jax")
    plans = {g.key: plan_chains({o.chain for o in occurrences.values() if o.group == g.key})
             for g in groups}
    plans = {k: v for k, v in plans.items()
             if any(o.group == k for o in occurrences.values())}
    by_key = {g.key: g for g in groups}
    interpolators = {s: sample_interpolator(system, name, coordinates)
                     for s, name in samples.items()}
    column_index = [coordinates.index(c) for c in columns]

    picks = {g.key: (None if g.args == coordinates else
                     tuple(coordinates.index(a) for a in g.args)) for g in groups}

    def at_point(found: Mapping, derived: list, nets: Mapping, physical: Mapping,
                 point: jax.Array) -> jax.Array:
        values = [found[o.group][o.chain][o.output] for o in occurrences.values()]
        values += derived
        values += [interpolators[s](physical, point) for s in samples]
        values += [point[i] for i in column_index]
        values += [physical[c] for c in constants]
        values += [nets[key] for _, key in weights]
        return jnp.asarray(function(*values), point.dtype)

    def residual(nets: Mapping, physical: Mapping, points: jax.Array) -> jax.Array:
        physical = with_constants(nets, physical)
        found = {key: group_derivatives(by_key[key], nets[key], physical,
                                        points if picks[key] is None else
                                        pick_columns(points, picks[key]), chains)
                 for key, chains in plans.items()}
        derived = [along_chain(lambda p, inner=inner: inner(nets, physical, p), chain)(points)[-1]
                   for inner, chain in learned.values()]
        used = {key: nets[key] for _, key in weights}
        return jax.vmap(at_point, in_axes=(0, 0, None, None, 0))(found, derived, used,
                                                                 physical, points)

    return residual, body


def _net_derivative(node: sp.Derivative, system: System, groups: tuple[NetworkGroup, ...],
                    coordinates: tuple[str, ...], where: str) -> tuple[Residual, Chain]:
    """A derivative of a learned function: the residual of the net's use and the chain of
    coordinate axes (of the points' columns) to differentiate it along."""
    variables = [v.name for v, n in node.variable_count for _ in range(int(n))]
    outside = [v for v in variables if v not in coordinates]
    if outside:
        raise LoweringError(f"the derivative of the net `{node.expr.net}` along "
                            f"`{outside[0]}`, which is no coordinate{where}")
    inner, _ = make_residual(node.expr, system, groups, coordinates, where)
    return inner, tuple(coordinates.index(v) for v in variables)


def sample_interpolator(system: System, name: str, coordinates: tuple[str, ...]):
    """Multilinear interpolation of a sampled coefficient at a point, from physical params."""
    param = system.param(name)
    shape = param.samples.array.shape
    columns = [coordinates.index(a) for a in param.args]
    bounds = [system.coordinate(a).bounds for a in param.args]

    def interpolate(physical: Mapping, point: jax.Array) -> jax.Array:
        index = [(point[c] - lo) / (hi - lo) * (n - 1)
                 for c, (lo, hi), n in zip(columns, bounds, shape)]
        return jax.scipy.ndimage.map_coordinates(physical[name], [jnp.atleast_1d(i)
                                                                  for i in index],
                                                 order=1, mode="nearest")[0]

    return interpolate


def sample_arrays(system: System) -> dict[str, np.ndarray]:
    """The sampled coefficient arrays, for the physical parameters pytree."""
    return {p.name: p.samples.array for p in system.params if p.samples is not None}


def _label(name: str, variables: list[str]) -> str:
    return f"{name}_{''.join(variables)}" if variables else name
