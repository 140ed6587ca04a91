"""Geometric multigrid for steady fd programs, generated from the spec: the system is
lowered again on grids coarsened by two in every direction, and each level's residual gives
its operator, the Jacobian `A e` (`jax.linearize`: no matrix is ever assembled; for
nonlinear programs at the Newton iterate, `runtime.algebra.newton_krylov`). Runs as one
jitted program on the device (CPU or GPU), without the host round trip of a sparse LU; the
parameters are arguments, so a new right-hand side or parameter value does not recompile.

The cycle: V(2, 2) with Chebyshev smoothing preconditioned by the operator's diagonal
(found by probing with a colouring, `diagonal`), full-weighting restriction, multilinear
interpolation (both wrapping around on periodic axes), and a dense LU on the coarsest grid
(at most COARSEST points). For linear
programs (`solve_multigrid`) cycles repeat until the RMS residual is `tol` times that of
the initial guess (or `atol`), as Newton's target, or stop when one cycle no longer reduces
it by STALL: converged if the residual is then at roundoff (ROUNDOFF_ULPS ulps of the rows,
float32's usual end), else the verdict says why not. Dirichlet rows are solved exactly
before the first cycle (`fixed_rows`).

Applies where every state array spans all space axes, with sizes that halve down to the
coarsest grid (2^k m + 1 points; a periodic axis keeps at least PERIODIC_NODES nodes), and
no point or mean condition; `applicable` says why not. Mixed derivatives are fine: their
diagonal is probed with a colouring of the whole stencil box.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from compiler.fd import FDOptions, FDProgram, lower_fd

COARSEST = 1100          # points of the grid solved by dense LU (times the fields)
ROUNDOFF_ULPS = 64       # a stalled residual this many ulps of its rows is at roundoff
MIN_POINTS = 3           # per axis on the coarsest grid
PERIODIC_NODES = 4       # stored nodes of a periodic axis on the coarsest grid, at least
STALL = 0.9              # a cycle reducing the residual by less than this has stalled
PRE, POST = 2, 2         # Chebyshev degree before and after the coarse correction
BAND = (0.15, 1.1)       # smoothed part of D^-1 A's spectrum, times its largest eigenvalue
POWER_STEPS = 20         # power iterations for that largest eigenvalue


def applicable(program: FDProgram, in_time: bool = False) -> str | None:
    """None when multigrid applies to `program` (steady; or, `in_time`, to the implicit
    stages of a time-dependent one: `stage_preconditioner`), else the reason it does not."""
    if (program.system.time is not None) != in_time:
        return "it solves steady problems" if not in_time else "the problem is steady"
    if program.mass is not None:
        return "a differential-algebraic system's stages are not in the cycle"
    if program.constraints:
        return "the point or mean conditions' multipliers are not in the cycle"
    if program.shaped is not None:
        return "a shaped domain's cut cells are not in the cycle"
    axes = program.grid.axes
    full = tuple(a.name for a in axes)
    if any(program.axes_of(k) != full for k in program.state_keys):
        return "every field must span all space axes"
    if not level_grids({a.name: a.points for a in axes}, _periodic(program)):
        return ("the grid does not coarsen (2^k m + 1 points per axis, m small; at least "
                f"{PERIODIC_NODES} nodes left on a periodic axis)")
    return None


def _periodic(program: FDProgram) -> frozenset[str]:
    return frozenset(a.name for a in program.grid.axes if a.periodic)


def level_grids(points: Mapping[str, int], periodic: frozenset[str] = frozenset()
                ) -> list[dict[str, int]]:
    """The finest grid, then each halved in every direction, down to one of at most
    COARSEST points; [] when the sizes never get there (an odd interval count, or too few
    nodes left on a periodic axis: its points include the repeated end)."""
    grids = [dict(points)]
    while math.prod(grids[-1].values()) > COARSEST:
        coarse = {a: (n - 1) // 2 + 1 for a, n in grids[-1].items()}
        if any((n - 1) % 2 or coarse[a] < MIN_POINTS
               or (a in periodic and coarse[a] - 1 < PERIODIC_NODES)
               for a, n in grids[-1].items()):
            return []
        grids.append(coarse)
    return grids


def coarse_programs(program: FDProgram) -> tuple[FDProgram, ...]:
    """`program` and the same system lowered on each coarser grid."""
    grids = level_grids({a.name: a.points for a in program.grid.axes}, _periodic(program))
    options = program.options
    return (program, *(lower_fd(program.system, FDOptions(grid, options.accuracy,
                                                          options.scheme, options.dtype,
                                                          options.face_mean))
                       for grid in grids[1:]))


@dataclass(frozen=True)
class Outcome:
    """The solution, the RMS residual before the first cycle and after each, the cycles,
    whether the residual reached `target`, and how it stopped."""

    U: dict[str, jax.Array]
    history: np.ndarray
    cycles: int
    converged: bool
    reason: str
    target: float


def solve_multigrid(levels: tuple[FDProgram, ...], params: Mapping[str, jax.Array],
                    tol: float, atol: float, max_cycles: int) -> Outcome:
    """Solve the finest level's `residual(U, params) = 0` by V-cycles (see the module
    docstring). `params`: the finest program's (unprepared); each coarser level takes its
    own grid arrays and the finest's constants."""
    level_params = level_parameters(levels, params)
    U, history, cycles, target, floor = _program(levels, max_cycles)(level_params, tol, atol)
    history = np.asarray(history)[:int(cycles) + 1]
    target, floor = float(target), float(floor)
    if history[-1] <= target:
        return Outcome(dict(U), history, int(cycles), True,
                       f"multigrid: residual {history[-1]:.3e} at or below the target "
                       f"{target:.3e} after {int(cycles)} V-cycles", target)
    stalled = int(cycles) < max_cycles and np.isfinite(history[-1])
    if stalled and history[-1] <= floor:
        return Outcome(dict(U), history, int(cycles), True,
                       f"multigrid: residual {history[-1]:.3e} at roundoff ({ROUNDOFF_ULPS} "
                       f"ulps of the rows, {floor:.3e}; target {target:.3e}) after "
                       f"{int(cycles)} V-cycles", target)
    if not np.isfinite(history[-1]):
        why = "the residual became NaN or Inf"
    elif int(cycles) >= max_cycles:
        why = f"{max_cycles} V-cycles (max_iter) did not reach it"
    else:
        why = f"a V-cycle reduced the residual by less than {STALL:g}"
    rate = _rate(history)
    return Outcome(dict(U), history, int(cycles), False,
                   f"multigrid stopped at residual {history[-1]:.3e} (target {target:.3e}): "
                   f"{why} (roundoff: {floor:.3e}); mean reduction per cycle {rate:.3g}",
                   target)


def level_parameters(levels: tuple[FDProgram, ...], params: Mapping[str, jax.Array]):
    """Each level's parameters: the finest's as given; a coarser level's own grid arrays
    (coefficient fields) with the finest's constants."""
    constants = {k: v for k, v in params.items() if jnp.ndim(v) == 0}
    return tuple({**{k: jnp.asarray(v, p.dtype) for k, v in p.params.items()}, **constants}
                 if i else dict(params) for i, p in enumerate(levels))


def roundoff(op: Operator, u: jax.Array) -> jax.Array:
    """The residual that rounding leaves at `u`: ROUNDOFF_ULPS ulps of |A| |u|, taken as
    2 |diag| |u| (Newton's floor, matrix-free)."""
    eps = jnp.finfo(u.dtype).eps
    return ROUNDOFF_ULPS * eps * rms(2 * jnp.abs(u) / jnp.abs(op.inverse_diagonal))


def _rate(history: np.ndarray) -> float:
    if len(history) < 2 or history[0] <= 0:
        return float("nan")
    return float((history[-1] / history[0]) ** (1.0 / (len(history) - 1)))


_PROGRAMS: dict = {}


def _program(levels: tuple[FDProgram, ...], max_cycles: int):
    """The jitted solve for these levels (kept per finest program: a repeated solve with
    new parameter values reuses its compilation)."""
    key = (id(levels[0]), len(levels), max_cycles)
    if key not in _PROGRAMS:
        _PROGRAMS.clear()         # one problem at a time: its levels and their executable
        _PROGRAMS[key] = (levels, jax.jit(partial(_solve, levels, max_cycles)))
    return _PROGRAMS[key][1]


def _solve(levels, max_cycles, level_params, tol, atol):
    ops = [Operator.make(program, program.prepare(p))
           for program, p in zip(levels, level_params)]
    fine = ops[0]
    U = levels[0].initial(levels[0].prepare(level_params[0]))
    u = fine.ravel(U)
    b = -fine.residual_flat(jnp.zeros_like(u))
    target = jnp.maximum(tol * rms(b - fine.apply(u)), atol)     # as Newton's
    u = u + fixed_rows(fine) * (b - fine.apply(u))    # Dirichlet rows exact from the start
    coarse_lu = jax.scipy.linalg.lu_factor(ops[-1].dense())
    history = jnp.full((max_cycles + 1,), jnp.nan, u.dtype)
    history = history.at[0].set(rms(b - fine.apply(u)))

    def going(carry):
        u, k, history = carry
        last = history[k]
        before = jnp.where(k > 0, history[jnp.maximum(k - 1, 0)], jnp.inf)
        return (k < max_cycles) & (last > target) & jnp.isfinite(last) & \
            (last < STALL * before)

    def cycle(carry):
        u, k, history = carry
        u = v_cycle(ops, coarse_lu, 0, u, b)
        return u, k + 1, history.at[k + 1].set(rms(b - fine.apply(u)))

    u, k, history = jax.lax.while_loop(going, cycle, (u, 0, history))
    return fine.unravel(u), history, k, target, roundoff(fine, u)


def fixed_rows(op: Operator) -> jax.Array:
    """1 on rows that read their own node only, with coefficient 1 (Dirichlet rows u - g:
    a unit diagonal and row sum), else 0. Solved exactly once, their residual stays zero:
    the smoother and the coarse correction (injected there) never move them again, where a
    smoother's partial step on them would feed the 1/h^2 rows beside them."""
    sums = op.apply(jnp.ones_like(op.inverse_diagonal))
    return ((jnp.abs(op.inverse_diagonal - 1) < 1e-12) & (jnp.abs(sums - 1) < 1e-12)) \
        .astype(sums.dtype)


def rms(r: jax.Array) -> jax.Array:
    return jnp.sqrt(jnp.mean(r * r))


@dataclass(frozen=True)
class Operator:
    """One level: its linear operator on flat vectors, diagonal and spectral bound."""

    residual_flat: object
    apply: object
    ravel: object
    unravel: object
    shape: tuple[int, ...]
    keys: tuple[str, ...]
    inverse_diagonal: jax.Array
    largest: jax.Array
    periodic: tuple[bool, ...] = ()     # per array axis

    @classmethod
    def make(cls, program: FDProgram, params, at: jax.Array | None = None,
             residual=None) -> Operator:
        """The level of `program` with prepared `params`, its operator the residual's
        Jacobian at the flat state `at` (zero: for linear programs, any state). `residual`
        (U -> R, on state dicts) replaces the program's own: an implicit time step's
        U - h rhs(t, U) (`stage_preconditioner`)."""
        keys = program.state_keys
        shape = tuple(program.shapes[keys[0]])
        ravel, unravel = partial(flatten, program), partial(unflatten, program)
        residual = residual or (lambda U: program.residual(U, params))

        def residual_flat(u):
            return ravel(residual(unravel(u)))

        zero = jnp.zeros(math.prod(shape) * len(keys), program.dtype)
        _, apply = jax.linearize(residual_flat, zero if at is None else at)   # traced once

        periodic = tuple(program.grid.axis(a).periodic for a in program.axes_of(keys[0]))
        mixed = any(info.mixed for info in program.system.info)
        diag = diagonal(apply, shape, len(keys), program.reach, program.dtype, periodic, mixed)
        inverse = jnp.where(diag != 0, 1.0 / jnp.where(diag != 0, diag, 1.0), 0.0)
        largest = _largest_eigenvalue(apply, inverse, zero)
        return cls(residual_flat, apply, ravel, unravel, shape, keys, inverse, largest,
                   periodic)

    def dense(self) -> jax.Array:
        n = self.inverse_diagonal.shape[0]
        return jax.vmap(self.apply, out_axes=1)(jnp.eye(n, dtype=self.inverse_diagonal.dtype))


def flatten(program: FDProgram, U: Mapping[str, jax.Array]) -> jax.Array:
    """The state arrays of `program` (each on the whole grid) as one vector."""
    return jnp.concatenate([jnp.ravel(U[k]) for k in program.state_keys])


def unflatten(program: FDProgram, u: jax.Array) -> dict[str, jax.Array]:
    """The vector `u` back as the state arrays of `program` (`flatten`'s inverse)."""
    shape = tuple(program.shapes[program.state_keys[0]])
    size = math.prod(shape)
    return {k: u[i * size:(i + 1) * size].reshape(shape)
            for i, k in enumerate(program.state_keys)}


def diagonal(apply, shape: tuple[int, ...], blocks: int, reach: int, dtype,
             periodic: tuple[bool, ...] = (), mixed: bool = True) -> jax.Array:
    """The diagonal of a stencil operator by probing. Each axis is coloured by index modulo
    m = 2 reach + 1 (on a periodic axis whose node count m does not divide, the last
    `count % m` nodes get colours of their own, so that equal colours stay m apart around
    the circle). With `mixed` derivatives a node's colour combines the axes' colours (m^d
    of them: 9 in 2-D), so nodes of one colour never share a stencil box; without, the
    stencils couple nodes along one axis at a time and the sum of the axes' colours modulo
    the largest count suffices (m of them, plus any periodic tail). One product per colour
    (and field) then finds the diagonal."""
    m = 2 * reach + 1
    periodic = periodic or (False,) * len(shape)
    colour, count = jnp.zeros(shape, jnp.int32), 1
    per_axis = []
    for axis, (n, wraps) in enumerate(zip(shape, periodic)):
        index = jax.lax.broadcasted_iota(jnp.int32, shape, axis)   # computed, not a constant
        tail = n % m if wraps and n > m else 0
        own = m + tail if n > m else n
        per_axis.append((jnp.where(index < n - tail, index % m if n > m else index,
                                   m + index - (n - tail)), own))
    if mixed:
        for along, own in per_axis:
            colour, count = colour + count * along, count * own
    else:
        count = max(own for _, own in per_axis)
        colour = sum(along for along, _ in per_axis) % count
    colour = colour.ravel()
    colours = jnp.tile(colour, blocks) + count * jnp.repeat(jnp.arange(blocks), colour.size)

    def probe(out, c):                  # a loop, so the operator compiles once here
        seed = (colours == c).astype(dtype)
        return out + seed * apply(seed), None

    out, _ = jax.lax.scan(probe, jnp.zeros(colours.shape, dtype),
                          jnp.arange(count * blocks))
    return out


def _largest_eigenvalue(apply, inverse_diagonal, zero) -> jax.Array:
    v = jnp.sin(jnp.arange(zero.shape[0], dtype=zero.dtype) * 12.9898) * 43758.5453
    v = v - jnp.floor(v) - 0.5             # a fixed pseudo-random start: every mode in it

    def step(v, _):
        w = inverse_diagonal * apply(v)
        norm = jnp.linalg.norm(w)
        return w / jnp.where(norm > 0, norm, 1.0), norm / jnp.linalg.norm(v)

    _, ratios = jax.lax.scan(step, v / jnp.linalg.norm(v), None, length=POWER_STEPS)
    return ratios[-1]


def _chebyshev(op: Operator, u, b, degree: int):
    """`degree` steps of Chebyshev iteration on D^-1 A over BAND of its spectrum (each
    step takes the residual afresh: one operator product, in a loop compiled once)."""
    upper = BAND[1] * op.largest
    lower = BAND[0] * op.largest
    theta, delta = (upper + lower) / 2, (upper - lower) / 2
    sigma = theta / delta
    rhos = [1.0 / sigma]
    for _ in range(degree - 1):
        rhos.append(1.0 / (2 * sigma - rhos[-1]))
    keep = jnp.stack([jnp.zeros_like(sigma)] + [rhos[k + 1] * rhos[k]
                                                for k in range(degree - 1)])
    scale = jnp.stack([1.0 / theta] + [2 * rhos[k + 1] / delta for k in range(degree - 1)])

    def step(carry, coefficients):
        u, d = carry
        kept, scaled = coefficients
        d = kept * d + scaled * op.inverse_diagonal * (b - op.apply(u))
        return (u + d, d), None

    (u, _), _ = jax.lax.scan(step, (u, jnp.zeros_like(u)), (keep, scale))
    return u


def v_cycle(ops, coarse_lu, level: int, u, b):
    op = ops[level]
    if level == len(ops) - 1:
        return jax.scipy.linalg.lu_solve(coarse_lu, b)
    u = _chebyshev(op, u, b, PRE)
    r = b - op.apply(u)
    coarse = ops[level + 1]
    rc = _transfer(op, coarse, r, _restrict)
    ec = v_cycle(ops, coarse_lu, level + 1, jnp.zeros_like(rc), rc)
    u = u + _transfer(coarse, op, ec, _prolong)
    return _chebyshev(op, u, b, POST)


def _transfer(source: Operator, target: Operator, v, along):
    """`v` on `source`'s grid moved to `target`'s, field by field, axis by axis."""
    fields = source.unravel(v)
    moved = {}
    periodic = source.periodic or (False,) * len(source.shape)
    for key, array in fields.items():
        for axis in range(array.ndim):
            array = along(array, axis, periodic[axis])
        moved[key] = array
    return target.ravel(moved)


def _restrict(r: jax.Array, axis: int, periodic: bool = False) -> jax.Array:
    """Full weighting (1/4, 1/2, 1/4) along `axis`; the end nodes injected, or on a
    periodic axis the weights wrapped around (its N stored nodes go to N / 2)."""
    r = jnp.moveaxis(r, axis, 0)
    even, odd = r[::2], r[1::2]
    if periodic:
        coarse = 0.5 * even + 0.25 * (jnp.roll(odd, 1, axis=0) + odd)
        return jnp.moveaxis(coarse, 0, axis)
    zero = jnp.zeros_like(even[:1])
    coarse = 0.5 * even + 0.25 * (jnp.concatenate([zero, odd]) + jnp.concatenate([odd, zero]))
    coarse = coarse.at[0].set(even[0]).at[-1].set(even[-1])
    return jnp.moveaxis(coarse, 0, axis)


def _prolong(e: jax.Array, axis: int, periodic: bool = False) -> jax.Array:
    """Linear interpolation along `axis`: coarse nodes copied, midpoints averaged (on a
    periodic axis the last midpoint between the last node and the first)."""
    e = jnp.moveaxis(e, axis, 0)
    if periodic:
        middle = 0.5 * (e + jnp.roll(e, -1, axis=0))
        fine = jnp.stack([e, middle], axis=1).reshape((-1, *e.shape[1:]))
        return jnp.moveaxis(fine, 0, axis)
    middle = 0.5 * (e[:-1] + e[1:])
    fine = jnp.stack([e[:-1], middle], axis=1).reshape((-1, *e.shape[1:]))
    fine = jnp.concatenate([fine, e[-1:]])
    return jnp.moveaxis(fine, 0, axis)


def stage_preconditioner(levels: tuple[FDProgram, ...], level_rhs: tuple):
    """For the implicit stages of a time-dependent program: `precondition(t, U, h)` gives
    a function v -> one V-cycle's approximation of (I - h J)^-1 v, on state pytrees, with
    J the Jacobian of the right-hand side at (t, U). Each coarser level's operator is its
    own lowering's I - h J_l at U injected to its grid (`level_rhs`: each level's rhs with
    its parameters bound). Built once per compiled chunk of steps, it serves every Newton
    iteration and stage there (SDIRK's stages share h = dt gamma)."""
    fine = levels[0]

    def precondition(t, U, h):
        u = flatten(fine, U)
        ops, states = [], [u]
        for level, (program, rhs) in enumerate(zip(levels, level_rhs)):
            at = u if level == 0 else inject(ops[-1], states[-1], program)
            states.append(at)

            def step_residual(V, rhs=rhs):
                rates = rhs(t, V, {})
                return {k: V[k] - h * rates[k] for k in V}

            ops.append(Operator.make(program, {}, at, step_residual))
        coarse_lu = jax.scipy.linalg.lu_factor(ops[-1].dense())

        def apply(V):
            v = flatten(fine, V)
            return unflatten(fine, v_cycle(ops, coarse_lu, 0, jnp.zeros_like(v), v))

        return apply

    return precondition


def inject(fine: Operator, u: jax.Array, coarse: FDProgram) -> jax.Array:
    """The state `u` on the next coarser grid: every other node along every axis."""
    fields = fine.unravel(u)
    out = []
    for key in coarse.state_keys:
        array = fields[key]
        array = array[tuple(slice(None, None, 2) for _ in range(array.ndim))]
        out.append(jnp.ravel(array))
    return jnp.concatenate(out)
