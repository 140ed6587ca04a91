"""Learned functions (`net` lines, `pdelang.ir.Net`) as pure JAX, for every method.

A net is a plain MLP on its inputs as they are (no scaling: a learned term sees the values
the equation gives it): `depth` hidden layers of `width` units with the net's activation,
then a linear layer to its outputs. Its parameters are one flat vector under
`net_key(name)` in a program's parameters. The output layer starts at zero, so an
untrained model is the equations without their learned terms (training starts from the
known physics, as universal differential equations do; a random output layer, even at a
tenth of the usual scale, turned a learned flux's diffusion backwards).

`with_net_calls` rewrites the uses of nets in an expression into calls that
`sympy.lambdify` evaluates (functions carrying their implementation), with one argument
per net for its parameters; `chain_rule` expands derivatives of nets into their partials
(`NetSlope`); `replace_nets` puts formulas in their place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
from sympy.utilities.lambdify import implemented_function

from pdelang import System
from pdelang.expressions import NetOutput, NetSlope
from pdelang.ir import Net

from ..errors import LoweringError

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "tanh": jnp.tanh,
    "sin": jnp.sin,
    "gelu": jax.nn.gelu,
    "softplus": jax.nn.softplus,
    "silu": jax.nn.silu,
    "sigmoid": jax.nn.sigmoid,
}


def net_key(name: str) -> str:
    """Where a net's parameters live among a program's parameters (and in result files)."""
    return f"net.{name}"


def layer_sizes(net: Net) -> list[tuple[int, int]]:
    """(inputs, outputs) of each dense layer, in order."""
    sizes = [len(net.inputs)] + [net.width] * net.depth + [net.outputs]
    return list(zip(sizes[:-1], sizes[1:]))


def parameter_count(net: Net) -> int:
    return sum(a * b + b for a, b in layer_sizes(net))


def init_net(net: Net, rng: np.random.Generator) -> np.ndarray:
    """The net's parameters as one flat float64 vector (each layer's W row by row, then
    its b): Glorot-normal hidden weights, zero biases and a zero output layer. One array
    per net keeps a program's parameters a mapping of arrays, as every method's are."""
    *hidden, (n_in, n_out) = layer_sizes(net)
    parts = []
    for a, b in hidden:
        parts += [np.ravel(rng.standard_normal((a, b)) * np.sqrt(2.0 / (a + b))), np.zeros(b)]
    return np.concatenate(parts + [np.zeros(n_in * n_out + n_out)])


def init_nets(nets: Sequence[Net], seed: int = 0) -> dict[str, np.ndarray]:
    """Every net's parameters, each from its own stream of `seed`."""
    return {net_key(n.name): init_net(n, np.random.default_rng([seed, i]))
            for i, n in enumerate(nets)}


def layers_of(net: Net, flat: jax.Array) -> list[tuple[jax.Array, jax.Array]]:
    """The (W, b) pairs of a flat parameter vector."""
    layers, at = [], 0
    for n_in, n_out in layer_sizes(net):
        w = flat[at:at + n_in * n_out].reshape(n_in, n_out)
        at += n_in * n_out
        layers.append((w, flat[at:at + n_out]))
        at += n_out
    return layers


def net_arrays(net: Net, flat) -> dict[str, np.ndarray]:
    """The net's layers as result files hold them: `net.NAME.W0`, `net.NAME.b0`, ... (the
    hidden layers, then the output layer)."""
    out = {}
    for i, (w, b) in enumerate(layers_of(net, np.asarray(flat, np.float64))):
        out[f"{net_key(net.name)}.W{i}"] = np.asarray(w)
        out[f"{net_key(net.name)}.b{i}"] = np.asarray(b)
    return out


def flat_weights(net: Net, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
    """The flat parameter vector back from `net_arrays`' layers (KeyError naming the first
    layer missing)."""
    key = net_key(net.name)
    parts = []
    for i in range(len(layer_sizes(net))):
        parts += [np.ravel(arrays[f"{key}.W{i}"]), np.ravel(arrays[f"{key}.b{i}"])]
    return np.concatenate(parts)


def apply_net(net: Net, flat: jax.Array, inputs: Sequence[jax.Array]) -> jax.Array:
    """The net's outputs (..., outputs) at inputs of any common (broadcast) shape."""
    x = jnp.stack(jnp.broadcast_arrays(*inputs), axis=-1)
    activation = ACTIVATIONS[net.activation]
    *hidden, (w, b) = layers_of(net, flat)
    for wh, bh in hidden:
        x = activation(x @ wh + bh)
    return x @ w + b


def apply_slope(net: Net, flat: jax.Array, inputs: Sequence[jax.Array], wrt: int
                ) -> jax.Array:
    """The partial derivatives (..., outputs) of the net with respect to input `wrt`, at
    every point of `inputs` (forward mode: the net acts point by point, so one tangent of
    ones along that input gives every point's derivative at once)."""
    xs = list(jnp.broadcast_arrays(*inputs))

    def along(x):
        return apply_net(net, flat, xs[:wrt] + [x] + xs[wrt + 1:])

    return jax.jvp(along, (xs[wrt],), (jnp.ones_like(xs[wrt]),))[1]


def chain_rule(expr: sp.Expr) -> sp.Expr:
    """`expr` with every derivative of an expression holding learned functions expanded
    by the chain rule: d(F(a, b), x) = dF/da d(a, x) + dF/db d(b, x), the partials as
    `NetSlope`s. A second derivative of a net (a slope differentiated again) is a
    LoweringError: no method needs it yet."""
    def expand(derivative: sp.Derivative) -> sp.Expr:
        out = derivative.expr
        for variable, count in derivative.variable_count:
            for _ in range(int(count)):
                out = _differentiate(out, variable)
        return out

    return expr.replace(lambda e: isinstance(e, sp.Derivative) and
                        any(isinstance(n, NetOutput) for n in sp.preorder_traversal(e.expr)),
                        expand)


def _differentiate(expr: sp.Expr, variable: sp.Symbol) -> sp.Expr:
    uses = {n for n in sp.preorder_traversal(expr) if isinstance(n, NetOutput)}
    symbols = {use: sp.Dummy() for use in uses}
    plain = expr.xreplace(symbols)
    out = sp.diff(plain, variable)
    for use, symbol in symbols.items():
        if isinstance(use, NetSlope):
            raise LoweringError(f"a second derivative of the net `{use.net}`: only first "
                                "derivatives of learned functions are taken so far")
        inner = sp.Add(*(NetSlope.of(use.net, use.index, use.outputs, use.inputs, k) *
                         sp.diff(x, variable) for k, x in enumerate(use.inputs)))
        out += sp.diff(plain, symbol) * inner
    return out.xreplace({s: use for use, s in symbols.items()})


def formula_at(use: NetOutput, formula: sp.Expr, inputs: Sequence[sp.Expr]) -> sp.Expr:
    """What replaces the use `use` of a net when the net is the `formula` of its declared
    `inputs`: the formula at the use's arguments, or for a `NetSlope` the formula's
    partial derivative with respect to that input there."""
    dummies = [sp.Dummy(f"x{k}") for k in range(len(inputs))]
    plain = formula.xreplace(dict(zip(inputs, dummies)))
    if isinstance(use, NetSlope):
        plain = sp.diff(plain, dummies[use.wrt])
    return plain.xreplace(dict(zip(dummies, use.inputs)))


def replace_nets(system: System, one: Callable[[NetOutput], sp.Expr]) -> System:
    """`system` with every use of a net replaced by `one(use)`, in the equations (their
    flux form too) and the conditions, and the nets gone."""
    def substitute(expr: sp.Expr | None) -> sp.Expr | None:
        if expr is None:
            return None
        return expr.replace(lambda e: isinstance(e, NetOutput), one)

    equations = tuple(replace(e, lhs=substitute(e.lhs), rhs=substitute(e.rhs),
                              residual=substitute(e.residual), flux=substitute(e.flux))
                      for e in system.equations)
    conditions = tuple(replace(c, lhs=substitute(c.lhs), rhs=substitute(c.rhs),
                               residual=substitute(c.residual)) for c in system.conditions)
    return replace(system, equations=equations, conditions=conditions, nets=())


def with_net_calls(expr: sp.Expr, nets: Mapping[str, Net]
                   ) -> tuple[sp.Expr, list[tuple[sp.Symbol, str]]]:
    """`expr` with each use of a net replaced by a call that lambdify evaluates, and the
    (symbol, parameter key) of each net's parameters argument, to pass in that order."""
    uses = {n for n in sp.preorder_traversal(expr) if isinstance(n, NetOutput)}
    if not uses:
        return expr, []
    arguments: dict[str, sp.Symbol] = {}
    table = {}
    for use in uses:
        net = nets[use.net]
        weights = arguments.setdefault(use.net, sp.Dummy(f"net_{use.net}"))
        if isinstance(use, NetSlope):
            call = implemented_function(
                f"net_{use.net}_{use.index}_slope{use.wrt}",
                lambda layers, *xs, net=net, k=use.index, j=use.wrt:
                    apply_slope(net, layers, xs, j)[..., k])
        else:
            call = implemented_function(
                f"net_{use.net}_{use.index}",
                lambda layers, *xs, net=net, k=use.index: apply_net(net, layers, xs)[..., k])
        table[use] = call(weights, *use.inputs)
    return expr.xreplace(table), [(s, net_key(name)) for name, s in arguments.items()]
