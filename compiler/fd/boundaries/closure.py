"""Boundary closures for time stepping: each condition solved for its boundary nodes.

A condition such as `d(u, x) + 2*u = 1 at x = 0` becomes, with the one-sided stencil of
the normal derivative written out, an equation in the boundary value u0 and the values
u1, u2, ... next to it. Solved for u0 (it must be linear in u0), it is a formula that
sets the boundary nodes from the inner ones before every evaluation of the right-hand
side, so the interior stencils see boundary values that satisfy the condition.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import jax.numpy as jnp
import sympy as sp
from sympy.core.function import AppliedUndef

from pdelang import System

from ...common.stencils import central, window
from ...errors import LoweringError
from ..accesses import collect
from ..ir import Access, Layout
from ..kernels import CompiledKernel, make_kernel
from ..options import FDOptions
from .conditions import Face, FieldNodes

Closure = Callable[[jnp.ndarray, Mapping[str, jnp.ndarray], Mapping[str, jnp.ndarray]],
                   dict[str, jnp.ndarray]]


def stacked_options(face: Face, options: FDOptions,
                    layout: Layout) -> tuple[FDOptions, Layout]:
    """The options and layout for the derivatives of `face`'s condition: two orders more
    accurate when its field takes several conditions on the face (the equation then no
    longer holds on the layers they set, and an O(h^2) condition there would cost the
    solution an order)."""
    if not face.stacked:
        return options, layout
    more = options.accuracy + 2
    return dataclasses.replace(options, accuracy=more), dataclasses.replace(layout,
                                                                            accuracy=more)


def solve_face(face: Face, nodes: FieldNodes, system: System, layout: Layout,
               options: FDOptions) -> tuple[sp.Expr, dict[sp.Symbol, Access], sp.Expr]:
    """The values of `face`'s layer as an expression of the other layers and other terms.

    Returns (formula with placeholders, the layer accesses, the layer symbol's equation
    as shown by `pdelang show`).
    """
    c = face.condition
    if face.transferred:
        raise LoweringError(
            f"the condition at {face.axis} = {system.coordinate(face.axis).value(face.side)} "
            f"closes `{face.field}`, which it does not contain; the fd method takes such "
            "closures in steady problems only", c.span, hint="solve the steady problem, or "
            f"write a condition for `{face.field}`")
    options, layout = stacked_options(face, options, layout)
    info = layout.axes[face.axis]
    size = info.size
    index0 = 0 if face.side == "lower" else size - 1
    sign = 1 if face.side == "lower" else -1
    layers: dict[int, sp.Symbol] = {}

    def layer(depth: int) -> sp.Symbol:
        return layers.setdefault(depth, sp.Symbol(f"{face.field}[{index0 + sign * depth}]"))

    replacements: dict[sp.Expr, sp.Expr] = {}
    for node in sp.preorder_traversal(c.residual):
        if isinstance(node, AppliedUndef) and node.func.__name__ == face.field:
            replacements[node] = layer(0)
        elif isinstance(node, sp.Derivative) and isinstance(node.expr, AppliedUndef) \
                and node.expr.func.__name__ == face.field:
            variables = {v.name: int(n) for v, n in node.variable_count}
            if set(variables) != {face.axis}:
                raise LoweringError(
                    f"the condition at {face.axis} = "
                    f"{system.coordinate(face.axis).value(face.side)} has the derivative "
                    f"{node}, which is not normal to the face; the fd method takes normal "
                    "derivatives in time-dependent boundary conditions", c.span)
            order = variables[face.axis]
            stencil = window(central(order, options.accuracy), index0, size, options.accuracy)
            total = sp.S.Zero
            for offset, weight in zip(stencil.offsets, stencil.weights):
                total += sp.Float(weight) * layer(abs(offset))
            replacements[node] = total / sp.Float(info.h) ** order
    equation = c.residual.xreplace(replacements)
    target = layer(face.depth)
    slope = sp.diff(equation, target)
    if slope == 0 or slope.has(target):
        raise LoweringError(
            f"the condition at {face.axis} = {system.coordinate(face.axis).value(face.side)} "
            f"cannot be solved for the {'boundary' if not face.depth else 'next-to-boundary'}"
            f" value of `{face.field}` (it must be linear in it)", c.span)
    others = {d: s for d, s in layers.items() if d != face.depth}
    formula = sp.simplify(-equation.subs(target, 0) / slope) if len(others) < 4 else \
        -equation.subs(target, 0) / slope
    accesses = {}
    for depth, symbol in others.items():
        index = depth if face.side == "lower" else size - 1 - depth
        accesses[symbol] = Access("state", face.field, nodes.axes, layer=(face.axis, index))
    return formula, accesses, sp.Eq(target, formula)


def make_face_kernel(face: Face, nodes: FieldNodes, system: System, layout: Layout,
                     options: FDOptions,
                     constants: tuple[str, ...]) -> tuple[CompiledKernel, sp.Expr, bool]:
    """The kernel of a face's boundary values, their formula, and whether they change in
    time (they depend on t or on the state)."""
    formula, layer_accesses, shown = solve_face(face, nodes, system, layout, options)
    collected = collect(formula, system, options, where=" (boundary condition)")
    accesses = {**collected.accesses, **layer_accesses}
    time = system.time.symbol if system.time is not None else None
    region = nodes.source_region(face, whole=True)
    changing = any(a.source == "state" for a in accesses.values()) or (
        time is not None and time in collected.expr.free_symbols)
    kernel = make_kernel(collected.expr, accesses, region, layout, time, constants)
    return kernel, shown, changing


def make_closure(fields: dict[str, FieldNodes], system: System, layout: Layout,
                 options: FDOptions,
                 constants: tuple[str, ...]) -> tuple[Closure, Closure, list, list]:
    """Functions that set the boundary nodes from their conditions: all of them (for the
    initial state and outputs), and only those that change in time (for every evaluation
    of the right-hand side, which leaves boundary nodes alone); what they do; their kernels.
    """
    steps = []
    shown = []
    for nodes in fields.values():
        for face in nodes.faces:
            kernel, equation, changing = make_face_kernel(face, nodes, system, layout, options,
                                                          constants)
            index = nodes.face_region(face, whole=True).index()
            steps.append((face, nodes.field, index, kernel, changing))
            shown.append((face, equation))
    every = _closure(steps)
    changing = _closure([s for s in steps if s[4]])
    return every, changing, shown, [s[3] for s in steps]


def _closure(steps: list) -> Closure:
    # Dirichlet faces last, so that they own the corners they share with other faces;
    # non-Dirichlet faces first read the Dirichlet values of the previous pass.
    # A condition on the layer next to a face reads the face's value: it comes after.
    dirichlet = [s for s in steps if s[0].dirichlet]
    others = sorted((s for s in steps if not s[0].dirichlet), key=lambda s: s[0].depth)
    ordered = (dirichlet if others else []) + others + dirichlet

    def closure(t, U, params):
        if not ordered:
            return U
        U = dict(U)
        for _, name, index, kernel, _ in ordered:
            U[name] = U[name].at[index].set(kernel(t, U, params).astype(U[name].dtype))
        return U

    return closure
