"""Quadrature for `sol.integral`: the integral of the interpolant that `sol(...)` evaluates.

Along an axis of nodes the weights integrate, cell by cell, the Lagrange polynomial through
the cell's `width` nodes (runtime.evaluate.lagrange): error O(h^width), so at accuracy 4
(width 6) quadrature stays far below the solve's own error, and on a periodic axis the
weights are the trapezoid rule's (spectrally accurate for smooth periodic integrands).
Networks, which can be evaluated anywhere, take Gauss-Legendre points. A shaped domain is
sampled on sub-cells whose share inside the region comes from the level function's signed
distance (a linear ramp across the boundary: second order in the sub-cell size).
"""

from __future__ import annotations

import numpy as np

from pdelang.geometry import Shape

from .lagrange import NodeAxis, axis_stencils

GAUSS_POINTS = 64            # per axis, for network results on a box
SUBCELLS = {1: 16, 2: 8, 3: 4}   # per cell and axis, on a shaped domain of each dimension


def interpolant_weights(axis: NodeAxis, width: int) -> np.ndarray:
    """Weights on the axis's points (all of them, as files show them) whose sum with a
    function's values is the integral of its interpolant over the axis."""
    nodes = np.asarray(axis.nodes, float)
    weights = np.zeros(len(nodes))
    gauss, gauss_weights = np.polynomial.legendre.leggauss(max(width, 2))
    for cell in range(len(nodes) - 1):
        lo, hi = nodes[cell], nodes[cell + 1]
        x = lo + (gauss + 1) * (hi - lo) / 2
        stencils = axis_stencils(axis, x, width)
        np.add.at(weights, stencils.indices.ravel(),
                  (stencils.weights * gauss_weights * (hi - lo) / 2).ravel())
    return weights


def gauss_legendre(lower: float, upper: float, points: int = GAUSS_POINTS
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Points and weights of Gauss-Legendre quadrature on [lower, upper]."""
    x, w = np.polynomial.legendre.leggauss(points)
    return lower + (x + 1) * (upper - lower) / 2, w * (upper - lower) / 2


def per_interval(edges: np.ndarray, points: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre points and weights in each interval between `edges` (frames, whose
    quintic Hermite interpolant 4 points integrate exactly)."""
    pairs = [gauss_legendre(lo, hi, points) for lo, hi in zip(edges[:-1], edges[1:])]
    return np.concatenate([x for x, _ in pairs]), np.concatenate([w for _, w in pairs])


def region_samples(shape: Shape, lines: list[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
    """Points (one flat array per axis, in the shape's coordinate order) and weights that
    integrate over the region: the centres of SUBCELLS^d sub-cells of each grid cell whose
    lines are `lines`, each weighed by its volume times the share of it inside."""
    centres, sizes = [], []
    per_cell = SUBCELLS.get(len(lines), 4)
    for line in lines:
        edges = np.linspace(line[0], line[-1], (len(line) - 1) * per_cell + 1)
        centres.append((edges[:-1] + edges[1:]) / 2)
        sizes.append(edges[1] - edges[0])
    mesh = np.meshgrid(*centres, indexing="ij")
    distance = _signed_distance(shape, mesh, sizes)
    share = np.clip(0.5 - distance / min(sizes), 0.0, 1.0)
    keep = share > 0
    return [m[keep] for m in mesh], share[keep] * float(np.prod(sizes))


def _signed_distance(shape: Shape, mesh: list[np.ndarray], sizes: list[float]) -> np.ndarray:
    """The level function divided by its gradient's length (central differences of it at
    the sub-cell's scale): the distance to the boundary to first order, negative inside."""
    level = np.asarray(shape.level(mesh, np), float)
    gradient = np.zeros_like(level)
    for k, h in enumerate(sizes):
        step = [m + (h / 2 if j == k else 0.0) for j, m in enumerate(mesh)]
        back = [m - (h / 2 if j == k else 0.0) for j, m in enumerate(mesh)]
        slope = (np.asarray(shape.level(step, np), float) -
                 np.asarray(shape.level(back, np), float)) / h
        gradient += slope ** 2
    return level / np.maximum(np.sqrt(gradient), 1e-300)
