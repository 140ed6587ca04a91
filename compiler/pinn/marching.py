"""Time marching: the time interval cut into windows, one network per window, trained in
turn, each window's initial state the previous window's network at its end.

A plain PINN fits every time at once and settles on a wrong, nearly flat solution where the
state travels far during the interval (fast advection: Krishnapriyan et al., 2021); in a
short window the same network has little to represent, and the windows pass the state on
(Wight and Zhao, 2020; Mattey and Ghosh, 2022).

All windows share ONE program, so training compiles once: it is lowered on local time
tau in [0, width] with every explicit occurrence of the time written t = tau + t_k, where
the window's start t_k is a constant of the physical parameters (`WINDOW_START`). The
initial conditions are soft terms whose residual is

    r_k = [lhs(u_k) - rhs](t_k) - [lhs(u_(k-1)) - rhs](t_k)       (k >= 1)
    r_0 = [lhs(u_0) - rhs](t_0)

the previous window's network (`PREVIOUS`, also a physical parameter) evaluated at the
end of its own window: for any condition, `u = g`, `d(u, t) = h` or a nonlinear one, the
right-hand sides cancel and window k starts where window k-1 ended, to the accuracy that
window was trained to, with no interpolation in between.

`transport_windows` settles the number of windows from the spec (auto): the equations'
transport speeds, evaluated on the initial state, tell how many times the state crosses
the domain during the interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from pdelang import Condition, System
from pdelang.ir import Coordinate, Param
from pdelang.printing import expression_to_pde

from ..errors import LoweringError
from .lower import PINNProgram, lower_pinn
from .options import PINNOptions
from .probes import coefficient, evaluate, initial_values, probe_points
from .residuals import Term, inline_coefficients, make_residual

WINDOW_START = "_window_start"        # physical: the window's start time t_k
PREVIOUS = "_previous_window"         # physical: the previous window's networks
FIRST = "_first_window"               # physical: 1 in the first window, else 0
WINDOWS_PER_CROSSING = 1              # auto: windows for each crossing of the domain
MOST_WINDOWS = 64                     # auto never asks for more


@dataclass(frozen=True)
class MarchingProgram:
    """The program of every window (`program`, on local time [0, width]) and the windows
    (start, end) of the original interval."""

    program: PINNProgram
    windows: tuple[tuple[float, float], ...]
    time_column: int

    @property
    def width(self) -> float:
        return self.windows[0][1] - self.windows[0][0]

    def physical(self, k: int, previous: Mapping) -> dict:
        """The physical parameters of window `k`, whose initial state is the networks
        `previous` at the end of their window (ignored in the first window)."""
        return {**self.program.physical, WINDOW_START: np.asarray(self.windows[k][0]),
                FIRST: np.asarray(1.0 if k == 0 else 0.0), PREVIOUS: previous}

    def window_of(self, times: np.ndarray) -> np.ndarray:
        """Each time's window index (a time on a boundary between two: the later one; the
        end of the interval: the last)."""
        starts = np.asarray([w[0] for w in self.windows])
        return np.clip(np.searchsorted(starts, times, side="right") - 1, 0,
                       len(self.windows) - 1)

    def local(self, points: np.ndarray, k: int) -> np.ndarray:
        """`points` in window k's local time."""
        out = np.array(points, copy=True)
        out[:, self.time_column] -= self.windows[k][0]
        return out


def lower_marching(system: System, options: PINNOptions, windows: int) -> MarchingProgram:
    """`system` as `windows` equal time windows sharing one program (see the module)."""
    check_marching(system)
    time = system.time
    t0, t1 = time.bounds
    width = (t1 - t0) / windows
    local = window_system(system, width)
    initial = [c for c in local.conditions if c.kind == "initial"]
    program = lower_pinn(replace(local, conditions=tuple(c for c in local.conditions
                                                         if c.kind != "initial")), options)
    column = program.coordinates.index(time.name)
    terms = tuple(_initial_term(c, local, program, column, width) for c in initial)
    edges = [t0 + k * width for k in range(windows)] + [t1]
    return MarchingProgram(replace(program, terms=program.terms + terms),
                           tuple(zip(edges[:-1], edges[1:])), column)


def check_marching(system: System) -> None:
    """Time marching needs a time, a forward problem (an unknown fitted per window would
    differ between windows) and no coefficient sampled along the time."""
    if system.time is None:
        raise LoweringError("time marching needs a time coordinate, and this system is steady")
    if system.unknown_params or system.data:
        where = system.unknown_params[0].span if system.unknown_params else system.data[0].span
        raise LoweringError("time marching trains each window alone, and an inverse problem's "
                            "unknowns and data span the whole interval; train it without "
                            "windows (time_windows=1, --time-windows 1)", where)
    name = system.time.name
    sampled = [p for p in system.params if p.samples is not None and name in p.args]
    if sampled:
        raise LoweringError(f"time marching cannot shift the coefficient "
                            f"{', '.join(p.name for p in sampled)}, sampled along {name}; "
                            "train without windows (time_windows=1, --time-windows 1)",
                            sampled[0].span)


def window_system(system: System, width: float) -> System:
    """`system` on local time [0, width]: explicit times t become t + WINDOW_START (in the
    equations, the conditions and coefficients given as expressions); fields keep their
    arguments. The exact solution and data are left out (they refer to global time)."""
    time = system.time
    start = sp.Symbol(WINDOW_START)

    def shift(expr: sp.Expr) -> sp.Expr:
        return _shift_time(expr, time.symbol, start)

    coordinates = tuple(Coordinate(c.name, sp.Integer(0), sp.Float(width), True, c.span)
                        if c.is_time else c for c in system.coordinates)
    params = tuple(replace(p, value=shift(p.value)) if p.is_field and p.value is not None
                   else p for p in system.params) + (Param(WINDOW_START, value=sp.Integer(0)),)
    equations = tuple(replace(e, residual=shift(e.residual),
                              flux=None if e.flux is None else shift(e.flux))
                      for e in system.equations)
    conditions = tuple(replace(c, residual=shift(c.residual)) for c in system.conditions)
    return replace(system, coordinates=coordinates, params=params, equations=equations,
                   conditions=conditions, exact=(), data=())


def _shift_time(expr: sp.Expr, time: sp.Symbol, start: sp.Symbol) -> sp.Expr:
    """`expr` with its explicit `time` replaced by time + start; fields and their
    derivatives (whose arguments hold the time too) untouched."""
    if time not in expr.free_symbols:
        return expr
    held = {node: sp.Dummy() for node in sp.preorder_traversal(expr)
            if isinstance(node, (sp.Derivative, AppliedUndef))}
    back = {v: k for k, v in held.items()}
    return expr.xreplace(held).xreplace({time: time + start}).xreplace(back)


def _initial_term(condition: Condition, system: System, program: PINNProgram, column: int,
                  width: float) -> Term:
    """A soft initial condition that hands the state on (r_k of the module)."""
    base, _ = make_residual(condition.residual, system, program.groups, program.coordinates,
                            " (initial condition)")

    def residual(nets: Mapping, physical: Mapping, points: jax.Array) -> jax.Array:
        own = base(nets, physical, points)
        before = {**physical, WINDOW_START: physical[WINDOW_START] - width}
        ends = points.at[:, column].set(jnp.asarray(width, points.dtype))
        previous = base(physical[PREVIOUS], before, ends)
        return own - (1 - physical[FIRST]) * previous

    signatures = {f.name: f.args for f in system.fields}
    text = expression_to_pde(condition.residual, signatures, shorthand=True)
    return Term(f"ic {condition.coordinate}=t_k", "initial", residual,
                {condition.coordinate: 0.0}, f"{text} = 0 (from the previous window)")


def transport_windows(system: System) -> int:
    """Auto's number of windows: 1 (no marching) unless the state crosses the domain more
    than once during the interval, then WINDOWS_PER_CROSSING per crossing (at most
    MOST_WINDOWS). A crossing: the largest transport speed |dR/du_x / dR/du_t| of a
    first-order-in-time equation R, evaluated on the initial state, times the interval,
    over the length along x. Inverse problems and specs it cannot evaluate: 1."""
    time = system.time
    if time is None or system.unknown_params or system.data:
        return 1
    try:
        crossings = _crossings(system)
    except (TypeError, ValueError, ZeroDivisionError, KeyError, AttributeError,
            NotImplementedError):          # sympy or numpy could not evaluate the speeds
        return 1
    if not np.isfinite(crossings) or crossings <= 1:
        return 1
    return min(math.ceil(WINDOWS_PER_CROSSING * crossings), MOST_WINDOWS)


def _crossings(system: System) -> float:
    """The most times the initial state's transport crosses the domain along one axis
    during the interval, over a grid of about PROBES points of the initial state."""
    time = system.time
    space = system.space
    if not space:
        return 0.0
    at = probe_points(system)
    constants = {p.symbol: p.value for p in system.params
                 if not p.is_field and p.value is not None}
    initial = initial_values(system)
    most = 0.0
    for equation in system.equations:
        residual = inline_coefficients(equation.residual, system).xreplace(constants)
        for f in system.fields:
            if system.field_info(f.name).time_order != 1 or time.name not in f.args:
                continue
            applied = f.applied
            rate = sp.Derivative(applied, time.symbol)
            if not residual.has(rate):
                continue
            for c in space:
                if c.name not in f.args:
                    continue
                slope = sp.Derivative(applied, c.symbol)
                speed = coefficient(residual, slope) / coefficient(residual, rate)
                values = evaluate(speed, system, initial, at)
                most = max(most, float(np.max(np.abs(values))) * time.length / c.length)
    return most


