"""A naive evaluation of the fd discrete formulas, node by node, for the differential test.

Written from the documented rules, sharing no code with compiler/:
- weights from `sympy.finite_diff_weights` on the central points of a derivative of order
  k at accuracy p (2*((k+1)//2) - 1 + p points); where those leave a bounded axis, the
  window of max(that, k + p) points moved inside the grid; a periodic axis wraps around
  (n - 1 stored nodes); a mixed derivative is the product of its one-axis stencils;
- an equation holds at the nodes on no face that has a condition; a steady condition holds
  at its face, a corner going to the Dirichlet face, then to the first axis, then the lower
  side; a time-dependent condition is solved for the boundary value (it is linear in it)
  and sets the whole face before the right-hand side is evaluated: the Dirichlet faces, then
  the others (reading those Dirichlet values), then the Dirichlet faces again (so they own
  the corners), fields in order, within a kind by axis and side; the right-hand side
  re-applies only the faces whose values depend on the state or on t (the closure itself
  applies all); d^2u/dt^2 = f is the system u' = u_t, u_t' = f; the rates are zero on
  boundary nodes.
The equations themselves are evaluated by `sympy.lambdify` of the spec's own SymPy form.
"""

from __future__ import annotations

from functools import cache
from itertools import product

import numpy as np
import sympy as sp
from sympy import finite_diff_weights

from .generated_specs import ALPHA, Condition, Spec, T


@cache
def weights(order: int, offsets: tuple[int, ...]) -> tuple[float, ...]:
    return tuple(float(w) for w in finite_diff_weights(order, list(offsets), 0)[order][-1])


def offsets_at(order: int, accuracy: int, index: int, size: int,
               periodic: bool) -> tuple[int, ...]:
    half = (2 * ((order + 1) // 2) - 1 + accuracy) // 2
    if periodic or (index - half >= 0 and index + half <= size - 1):
        return tuple(range(-half, half + 1))
    width = max(2 * half + 1, order + accuracy)
    start = min(max(index - half, 0), size - width)
    return tuple(range(start - index, start - index + width))


class Grid:
    """The nodes of a spec: coordinates, spacing and stored size per axis."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self.h = [(hi - lo) / (n - 1) for (lo, hi), n in zip(spec.bounds, spec.points)]
        self.size = [n - 1 if p else n for n, p in zip(spec.points, spec.periodic)]
        self.coordinates = [np.linspace(lo, hi, n)[:m] for (lo, hi), n, m
                            in zip(spec.bounds, spec.points, self.size)]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.size)

    def point(self, index: tuple[int, ...]) -> list[float]:
        return [float(c[i]) for c, i in zip(self.coordinates, index)]

    def derivative(self, values: np.ndarray, counts: tuple[int, ...],
                   index: tuple[int, ...]) -> float:
        """The stencil sum of the derivative `counts` of `values` at node `index`."""
        per_axis = []
        for axis, order in enumerate(counts):
            if order == 0:
                per_axis.append([(0, 1.0)])
                continue
            offsets = offsets_at(order, self.spec.accuracy, index[axis], self.size[axis],
                                 self.spec.periodic[axis])
            scale = self.h[axis] ** order
            per_axis.append([(o, w / scale) for o, w in zip(offsets, weights(order, offsets))])
        total = 0.0
        for combination in product(*per_axis):
            node, weight = [], 1.0
            for axis, (offset, w) in enumerate(combination):
                node.append((index[axis] + offset) % self.size[axis])
                weight *= w
            total += weight * float(values[tuple(node)])
        return total


def evaluate(expr: sp.Expr, grid: Grid, state: dict[str, np.ndarray],
             nodes: list[tuple[int, ...]], t: float) -> np.ndarray:
    """`expr` (in placeholders) at each of `nodes`, its derivatives as stencil sums."""
    spec = grid.spec
    placeholders = sorted((s for s in expr.free_symbols if "__" in s.name), key=str)
    coordinates = spec.symbols
    c = sp.Symbol("c")
    expr = expr.subs({c: spec.coefficient, sp.Symbol("alpha"): ALPHA})
    function = sp.lambdify(coordinates + [T] + placeholders, expr, "numpy")
    columns = [[] for _ in range(len(coordinates) + 1 + len(placeholders))]
    for index in nodes:
        for k, value in enumerate(grid.point(index)):
            columns[k].append(value)
        columns[len(coordinates)].append(t)
        for k, symbol in enumerate(placeholders):
            name, counts = symbol.name.split("__")
            counts = tuple(int(n) for n in counts.split("_"))
            columns[len(coordinates) + 1 + k].append(grid.derivative(state[name], counts, index))
    out = function(*(np.asarray(col) for col in columns))
    return np.broadcast_to(np.asarray(out, float), (len(nodes),))


def on_face(condition: Condition, index: tuple[int, ...], grid: Grid) -> bool:
    end = 0 if condition.side == "lower" else grid.size[condition.axis] - 1
    return index[condition.axis] == end


def _rank(condition: Condition) -> tuple:
    return (condition.kind != "dirichlet", condition.axis, condition.side)


def interior(spec: Spec, grid: Grid, name: str) -> list[tuple[int, ...]]:
    faces = [c for c in spec.conditions if c.field == name]
    return [i for i in np.ndindex(grid.shape) if not any(on_face(c, i, grid) for c in faces)]


def residual(spec: Spec, state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The steady residual of every field on its grid."""
    grid = Grid(spec)
    out = {}
    for name in spec.fields:
        values = np.full(grid.shape, np.nan)
        inside = interior(spec, grid, name)
        values[tuple(np.array(inside).T)] = evaluate(spec.equations[name], grid, state,
                                                     inside, 0.0)
        faces = [c for c in spec.conditions if c.field == name]
        for index in np.ndindex(grid.shape):
            here = [c for c in faces if on_face(c, index, grid)]
            if here:
                owner = min(here, key=_rank)
                values[index] = evaluate(owner.residual, grid, state, [index], 0.0)[0]
        out[name] = values
    return out


def close(spec: Spec, state: dict[str, np.ndarray], t: float,
          only_changing: bool) -> dict[str, np.ndarray]:
    """The state with boundary values set from the conditions (see the module docstring)."""
    grid = Grid(spec)
    steps = [c for c in sorted(spec.conditions, key=lambda c: (spec.fields.index(c.field),)
                               + _rank(c))]
    if only_changing:
        steps = [c for c in steps if c.kind != "dirichlet" or c.residual.has(T)]
    dirichlet = [c for c in steps if c.kind == "dirichlet"]
    others = [c for c in steps if c.kind != "dirichlet"]
    state = {k: np.array(v, float) for k, v in state.items()}
    for c in (dirichlet if others else []) + others + dirichlet:
        array = state[c.field]
        face = [i for i in np.ndindex(grid.shape) if on_face(c, i, grid)]
        at = tuple(np.array(face).T)
        trial = {}
        for guess in (0.0, 1.0):
            probe = dict(state)
            probe[c.field] = array.copy()
            probe[c.field][at] = guess
            trial[guess] = evaluate(c.residual, grid, probe, face, t)
        array = array.copy()
        array[at] = -trial[0.0] / (trial[1.0] - trial[0.0])
        state[c.field] = array
    return state


def rates(spec: Spec, state: dict[str, np.ndarray], t: float) -> dict[str, np.ndarray]:
    """d/dt of every state array (keys `u`, and `u_t` for second order in time)."""
    grid = Grid(spec)
    closed = close(spec, state, t, only_changing=True)
    out = {}
    for name in spec.fields:
        inside = interior(spec, grid, name)
        at = tuple(np.array(inside).T)
        value = np.zeros(grid.shape)
        value[at] = evaluate(spec.equations[name], grid, closed, inside, t)
        if spec.time_order == 2:
            out[name] = np.zeros(grid.shape)
            out[name][at] = closed[f"{name}_t"][at]
            out[f"{name}_t"] = value
        else:
            out[name] = value
    return out


def random_state(spec: Spec, seed: int) -> dict[str, np.ndarray]:
    """A smooth random state: sums of products of sines and a polynomial."""
    rng = np.random.default_rng(seed)
    grid = Grid(spec)
    mesh = np.meshgrid(*grid.coordinates, indexing="ij")
    keys = spec.fields + ([f"{f}_t" for f in spec.fields] if spec.time_order == 2 else [])
    out = {}
    for key in keys:
        value = rng.uniform(-1, 1) + rng.uniform(-0.5, 0.5) * np.prod(mesh, axis=0)
        for _ in range(2):
            term = rng.uniform(-1, 1) * np.ones(grid.shape)
            for coordinate in mesh:
                term = term * np.sin(rng.uniform(0.5, 2.5) * coordinate + rng.uniform(0, 3))
            value = value + term
        out[key] = value
    return out

