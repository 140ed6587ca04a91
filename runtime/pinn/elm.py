"""`method="elm"`: extreme-learning-machine FBPINNs (Dolean, Heinlein, Mishra and Moseley
2024). The finite-basis network of `method="fbpinn"` with its hidden layers drawn at
random and frozen; only the subdomains' output layers are unknown. Every residual (the
equations at interior points, the conditions not built in, at theirs) is then a function
of those output weights theta alone, linear in them when the problem is linear, so

    minimise ||r(theta)||^2 + ridge ||theta||^2

is one linear least-squares problem for a linear PDE and a Gauss-Newton iteration for a
nonlinear one (each step the same problem for the update, from the Jacobian at theta).

The Jacobian is sparse: a point's residual involves only the 2^d subdomains that cover it.
It is built from 2^d * P forward-mode products (P weights per subdomain output layer), not
one per weight: subdomains whose index has the same parity along every axis never cover a
common point (overlap <= 1), so one product seeds a weight in all of one parity class at
once and each row's value belongs to the one subdomain of that class that covers its point
(`Decomposition.candidates`). The least-squares problem is solved through its normal
equations, columns scaled to unit norm and a relative ridge of RIDGE, by a sparse LU (SciPy
SuperLU; the normal matrix couples only neighbouring subdomains), then refined twice with
the residual of the unsquared problem (semi-normal equations with iterative refinement,
Bjorck 1987), which recovers the accuracy that squaring the condition number loses. On a
shaped domain the points are the region's and its boundary's (pinn's sampling). Refused,
with the reason: unknown parameters (inverse problems), mean conditions (their residual
couples every point) and periodic coordinates.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sps
import scipy.sparse.linalg as spla

from compiler.pinn import PINNOptions, PINNProgram
from compiler.pinn.networks.decomposition import FBPINNSpec
from compiler.pinn.options import ELM_LAYERS
from pdelang import System

from ..errors import OptionError
from ..observe.stopwatch import Stopwatch
from ..options import OPTIONS
from ..output.convergence import Convergence
from ..output.finish import finish_solution
from ..output.solution import Solution
from ..reuse import Remembered
from .points import make_point_derivatives, network_values, point_evaluator
from .sampling import sample_points
from .solve import grid_values, lowered, output_grid

TANGENT_BYTES = 2**30  # the most memory the column products' tangents take at once
RIDGE = 1e-12          # relative to the largest diagonal entry of the scaled normal matrix
LINEAR_MATCH = 1e-6    # the loss after a step this close (relative) to its linear model's: linear
REFINEMENTS = 2        # corrections of the least-squares solution by the unsquared residual
_PROBLEMS = Remembered(4)   # drawn networks, points and compiled products, per run setup
HIDDEN_SCALE = 2.0     # hidden weights and biases uniform in [-2, 2] (`random_hidden`)
POINTS = 1024          # interior points at least, and
ROWS_PER_UNKNOWN = 2   # ... twice as many as output weights (an overdetermined fit)


@dataclass(frozen=True, eq=False)
class ELMSystem:
    """The least-squares problem of the output weights: the frozen networks `nets`, each
    term's `points`, and compiled `residual(theta)` and column products (`linearise`)."""

    program: PINNProgram
    nets: dict
    points: dict[str, np.ndarray]

    def residual(self, theta: dict, points: dict | None = None) -> jax.Array:
        """Every term's residuals at its points (default `self.points`), each scaled by
        1/sqrt(count). Compiled with the points an argument: folded in as constants, XLA
        would sort the finite-basis networks' block layout at compile time (seconds)."""
        nets = self.with_outputs(theta)
        points_of = self.points if points is None else points
        parts = []
        for t in self.program.terms:
            points = jnp.asarray(points_of[t.name])
            parts.append(t.residual(nets, self.program.physical, points) /
                         np.sqrt(len(points)))
        return jnp.concatenate(parts)

    def outputs(self) -> dict:
        """The output layers (W, b) of every group, stacked over subdomains."""
        return {key: tuple(net["subdomains"]["layers"][-1]) for key, net in self.nets.items()}

    def with_outputs(self, theta: dict) -> dict:
        out = {}
        for key, net in self.nets.items():
            layers = list(net["subdomains"]["layers"])
            layers[-1] = theta[key]
            out[key] = {**net, "subdomains": {**net["subdomains"], "layers": layers}}
        return out

    @cached_property
    def compiled_residual(self) -> Callable:
        compiled = jax.jit(self.residual)
        return lambda theta: compiled(theta, self.points)

    @cached_property
    def evaluate(self) -> Callable:
        return jax.jit(self.program.evaluate)

    @cached_property
    def point_derivatives(self) -> Callable:
        """The fields and their derivatives at any points (`runtime.pinn.points`), compiled
        once per problem."""
        return make_point_derivatives(self.program.evaluate)

    @cached_property
    def columns(self) -> list[Columns]:
        """Per network group, how its Jacobian's columns are computed and placed."""
        return [_columns(self, g) for g in self.program.groups]


@dataclass(frozen=True, eq=False)
class Columns:
    """One group's Jacobian block: `products(theta)` (colours * per, rows) by jvp, and per
    colour the subdomain that owns each row (-1: none)."""

    key: str
    per: int
    size: int
    products: Callable
    owners: np.ndarray                      # (colours, rows)


def elm_options(self) -> PINNOptions:
    """The pinn compiler's options: the decomposition, ELM_LAYERS unless `layers`."""
    given = self.subdomains
    return PINNOptions(tuple(self.layers or ELM_LAYERS), self.activation, self.initialiser,
                       hard_constraints=self.hard_constraints,
                       subdomains=given if isinstance(given, int) else tuple(
                           sorted(given.items())), overlap=self.overlap)


ELMSolveOptions = OPTIONS.options_class(
    "elm", "ELMSolveOptions", module=__name__, namespace={"network": elm_options},
    doc="Everything `solve(..., method=\"elm\")` accepts (see "
        "`runtime.options.describe(\"elm\")`).")


def solve_elm(system: System, options: ELMSolveOptions,
              observers: Sequence[Callable] = ()) -> Solution:
    """Draw the frozen networks and the points, solve for the output weights, sample."""
    del observers
    started = clock.perf_counter()
    x64 = options.dtype != "float32"
    with jax.enable_x64(x64):
        return _solve(system, options, started, jnp.float64 if x64 else jnp.float32)


def _solve(system: System, options, started: float, dtype) -> Solution:
    _check(system)
    network = options.network()
    key = (system, network, options.points, options.boundary_points, options.initial_points,
           options.sampler, options.seed, jnp.dtype(dtype).name)
    problem = _PROBLEMS.get(key, lambda: _problem(lowered(system, network), options, dtype))
    program = problem.program
    watch = Stopwatch.of(("jacobian", "solve"))
    theta, loss, history, converged, reason = gauss_newton(problem, options.fit_steps or 20,
                                                           options.tol, watch)
    nets = problem.with_outputs(theta)
    grid = output_grid(system, options)
    mesh = np.meshgrid(*(grid[c] for c in program.coordinates), indexing="ij")
    points = jnp.asarray(np.stack([m.ravel() for m in mesh], axis=1), dtype)
    values = grid_values(system, program, problem.evaluate(nets, points), mesh)
    evaluator = point_evaluator(program.coordinates, True, dtype, network_values(
        problem.point_derivatives, nets, program.physical))
    rows = sum(len(p) for p in problem.points.values())
    verdict = Convergence(converged, "Gauss-Newton on the output weights stopped by its "
                          f"tolerance (tol {options.tol:g}), by an exact linear model, or at "
                          "the least loss",
                          f"{reason} after {len(history) - 1} steps, loss {loss:.3e}",
                          {"loss": loss, "steps": len(history) - 1},
                          () if converged else ("fit_steps", "points"))
    shown = {"layers": list(network.layers), "subdomains": options.subdomains,
             "overlap": options.overlap, "points": len(problem.points[program.terms[0].name]),
             "dtype": jnp.dtype(dtype).name}
    extra = {"final_loss": loss, "loss_history": history, "rows": rows,
             "unknowns": sum(c.per * c.size for c in problem.columns),
             "timings": watch.timings}
    return finish_solution("elm", system, grid, values, {}, shown, extra, started, evaluator,
                           convergence=verdict)


def gauss_newton(problem: ELMSystem, steps: int, tol: float, watch: Stopwatch
                 ) -> tuple[dict, float, list[float], bool, str]:
    """Output weights from the drawn ones: least-squares updates from the linearised
    residual until its linear model is exact (a linear problem: one step), the loss falls
    by less than `tol` of itself, or a step no longer lowers it."""
    residual = problem.compiled_residual
    theta = problem.outputs()
    loss = float(jnp.sum(residual(theta) ** 2))
    history = [loss]
    for _ in range(steps):
        with watch.timed("jacobian"):
            r, J = linearise(problem, theta)
        with watch.timed("solve"):
            delta = least_squares(J, -r)
        trial = _add(theta, delta, problem)
        new = float(jnp.sum(residual(trial) ** 2))
        predicted = float(np.sum((r + J @ delta) ** 2))
        history.append(new)
        if abs(new - predicted) <= LINEAR_MATCH * loss:
            return (trial, new, history, True,
                    "the residual is linear in the output weights: one least-squares solve")
        if not new < loss:
            kept = new <= loss * (1 + 1e-6)
            return ((trial, new) if kept else (theta, loss)) + (
                history, kept, f"a Gauss-Newton step no longer lowers the loss ({new:.3e} "
                f">= {loss:.3e})")
        theta, before, loss = trial, loss, new
        if before - new <= tol * before:
            return theta, loss, history, True, f"the loss fell by less than {tol:g} of itself"
    return theta, loss, history, False, f"{steps} Gauss-Newton steps without meeting the tolerance"


def _check(system: System) -> None:
    if system.unknown_params:
        raise OptionError("the elm method solves forward problems: its unknowns are the "
                          "output weights only", hint="use --method pinn or fbpinn for the "
                          "unknown parameters")
    for c in system.conditions:
        if c.kind == "mean":
            raise OptionError("a mean condition couples every point's residual, which the "
                              "elm method's sparse least squares does not take",
                              hint="fix the constant by a value at a point")


def _problem(program: PINNProgram, options, dtype) -> ELMSystem:
    key = jax.random.PRNGKey(options.seed)
    nets = program.init(key, dtype)
    for g in program.groups:
        if not isinstance(g.spec, FBPINNSpec):
            raise OptionError("the elm method needs finite-basis networks")
        nets[g.key] = random_hidden(nets[g.key], jax.random.fold_in(key, 1), dtype)
    nets = {g.key: nets[g.key] for g in program.groups}
    unknowns = sum(int(np.prod(np.shape(net["subdomains"]["layers"][-1][0]))) +
                   int(np.prod(np.shape(net["subdomains"]["layers"][-1][1])))
                   for net in nets.values() if "subdomains" in net)
    interior = options.points or max(POINTS, ROWS_PER_UNKNOWN * unknowns)
    counts = {"boundary": options.boundary_points, "initial": options.initial_points}
    faces = {kind: [t for t in program.terms if t.kind == kind] for kind in counts}
    points = {}
    for i, t in enumerate(program.terms):
        seed = options.seed * 7919 + i
        if program.domain is not None and t.kind == "pde":    # inside a shaped region
            points[t.name] = program.domain.interior(interior, seed)
        elif t.points is not None:        # data, a shape's boundary (with its normals)
            points[t.name] = np.asarray(t.points, np.float64)
        else:
            n = interior if t.kind == "pde" else max(counts[t.kind] // len(faces[t.kind]), 8)
            points[t.name] = sample_points(options.sampler, n, program.coordinates,
                                           program.bounds, t.fixed, seed)
    return ELMSystem(program, nets, points)


def random_hidden(net: dict, key: jax.Array, dtype) -> dict:
    """The subdomain networks with every hidden weight and bias drawn uniformly from
    [-HIDDEN_SCALE, HIDDEN_SCALE]: on inputs in [-1, 1] their tanh transitions then lie
    across the subdomain (Glorot's scale, made for training, gives nearly linear features:
    the cos(15 x) case stalls at rel L2 8e-2 with it, 2e-6 with these)."""
    *hidden, output = net["subdomains"]["layers"]
    drawn = []
    for layer in hidden:
        key, k_w, k_b = jax.random.split(key, 3)
        w, b = layer[-2], layer[-1]
        drawn.append((jax.random.uniform(k_w, w.shape, dtype, -HIDDEN_SCALE, HIDDEN_SCALE),
                      jax.random.uniform(k_b, b.shape, dtype, -HIDDEN_SCALE, HIDDEN_SCALE)))
    return {**net, "subdomains": {**net["subdomains"], "layers": [*drawn, output]}}


def linearise(problem: ELMSystem, theta: dict) -> tuple[np.ndarray, sps.csr_matrix]:
    """r(theta) and its sparse Jacobian by parity-coloured forward-mode products."""
    r = np.asarray(problem.compiled_residual(theta), np.float64)
    blocks = []
    for columns in problem.columns:
        values = np.asarray(columns.products(theta), np.float64)
        values = values.reshape(len(columns.owners), columns.per, len(r))  # colour, weight, row
        owner = columns.owners[:, None, :]
        colour, weight, row = np.nonzero((owner >= 0) & (values != 0))
        cols = columns.owners[colour, row] * columns.per + weight
        blocks.append(sps.csr_matrix((values[colour, weight, row], (row, cols)),
                                     shape=(len(r), columns.size * columns.per)))
    return r, sps.hstack(blocks, format="csr")


def _columns(problem: ELMSystem, group) -> Columns:
    """The column products of `group`'s output weights and their rows' owners."""
    program = problem.program
    decomposition = group.spec.decomposition
    width = len(program.coordinates)             # a shape's boundary points carry normals
    points = np.concatenate([problem.points[t.name][:, :width] for t in program.terms])
    picked = [program.coordinates.index(a) for a in group.args]
    index, _ = jax.vmap(decomposition.candidates)(jnp.asarray(points[:, picked]))
    index = np.asarray(index)                                     # (rows, 2^d)
    parity = np.stack(np.unravel_index(np.arange(decomposition.size),
                                       decomposition.counts), axis=1) % 2
    colour = parity @ (2 ** np.arange(parity.shape[1]))[::-1]     # per subdomain
    colours = int(colour.max()) + 1
    w, b = problem.outputs()[group.key]
    per = int(np.prod(w.shape[1:])) + int(np.prod(b.shape[1:]))
    seeds = _seeds(w, b, colour, colours)

    def product(theta, seed, points):
        tangent = {k: jax.tree.map(jnp.zeros_like, v) for k, v in theta.items()}
        tangent[group.key] = seed
        return jax.jvp(lambda th: problem.residual(th, points), (theta,), (tangent,))[1]

    # seeds and points arguments (not folded into the program), mapped in batches whose tangents
    # (batch x rows x 2^d candidates x widest layer) stay within TANGENT_BYTES
    widest = max(group.spec.net.hidden)
    batch = max(1, int(TANGENT_BYTES // (8 * len(points) * index.shape[1] * widest)))
    every = jax.jit(lambda theta, seeds, points: jax.lax.map(
        lambda seed: product(theta, seed, points), seeds, batch_size=batch))
    owners = np.stack([_owner(index, colour, c) for c in range(colours)])
    return Columns(group.key, per, decomposition.size,
                   lambda theta: every(theta, seeds, problem.points), owners)


def _seeds(w: jax.Array, b: jax.Array, colour: np.ndarray, colours: int) -> tuple:
    """One tangent per (colour, output weight): that weight set to one in every subdomain
    of the colour, stacked (colours * per, ...) as the output layer (W, b) is."""
    per_w, per_b = int(np.prod(w.shape[1:])), int(np.prod(b.shape[1:]))
    per = per_w + per_b
    eye = np.eye(per)
    out_w, out_b = [], []
    for c in range(colours):
        member = (colour == c).astype(float)[:, None]             # (size, 1)
        for p in range(per):
            flat = member * eye[p][None, :]                       # (size, per)
            out_w.append(flat[:, :per_w].reshape(w.shape))
            out_b.append(flat[:, per_w:].reshape(b.shape))
    return (jnp.asarray(np.stack(out_w), w.dtype), jnp.asarray(np.stack(out_b), b.dtype))


def _owner(index: np.ndarray, colour: np.ndarray, c: int) -> np.ndarray:
    """Per row, the candidate subdomain of colour c (-1 if none of the row's is)."""
    match = colour[index] == c                                    # (rows, 2^d)
    owner = np.where(match.any(axis=1), index[np.arange(len(index)), match.argmax(axis=1)], -1)
    return owner


def least_squares(J: sps.csr_matrix, rhs: np.ndarray) -> np.ndarray:
    """min ||J x - rhs||^2 + ridge ||D x||^2 (D the column norms), by the semi-normal
    equations with iterative refinement (see the module docstring)."""
    norms = np.sqrt(np.asarray(J.multiply(J).sum(axis=0))).ravel()
    norms = np.where(norms > 0, norms, 1.0)
    A = (J @ sps.diags(1.0 / norms)).tocsc()
    normal = (A.T @ A).tocsc()
    ridge = RIDGE * normal.diagonal().max()
    lu = spla.splu((normal + ridge * sps.identity(normal.shape[0])).tocsc(),
                   permc_spec="COLAMD")
    y = lu.solve(A.T @ rhs)
    for _ in range(REFINEMENTS):
        y = y + lu.solve(A.T @ (rhs - A @ y) - ridge * y)
    return y / norms


def _add(theta: dict, delta: np.ndarray, problem: ELMSystem) -> dict:
    """theta plus the flat update (groups in order, each subdomain's W then b)."""
    out, start = {}, 0
    for g in problem.program.groups:
        w, b = theta[g.key]
        size = w.shape[0]
        per_w, per_b = int(np.prod(w.shape[1:])), int(np.prod(b.shape[1:]))
        block = delta[start:start + size * (per_w + per_b)].reshape(size, per_w + per_b)
        out[g.key] = (w + jnp.asarray(block[:, :per_w].reshape(w.shape), w.dtype),
                      b + jnp.asarray(block[:, per_w:].reshape(b.shape), b.dtype))
        start += size * (per_w + per_b)
    return out
