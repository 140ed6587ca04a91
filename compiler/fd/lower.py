"""The finite-difference driver: IR to a pure JAX program, stage by stage.

    lower_fd(system, options) runs, in order:
      1. inline_time_coefficients   coefficient fields of time written into the equations
      2. make_grid                  a uniform grid per space coordinate
      3. parameter values           constants as scalars, coefficient fields on the grid
      4. assign_equations           each equation to its field, in method-of-lines form
      5. apply_conditions           the nodes each equation and each condition owns
      6. collect_derivatives        every derivative as an access with its stencil
      7. make_rhs / make_residual   the jit-able functions
and returns an `FDProgram` holding every stage as data (compiler/fd/stages.py):
`program.stage("equations").items` are the IR objects a pass produced, and
`stage.lines()` what `pdelang show` prints of them. The stages, in order: grid,
parameters, equations, boundary closures (time-dependent) or boundary rows (steady),
stencils, program.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial, reduce

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from pdelang import System
from pdelang.analysis import is_linear_in, occurrences
from pdelang.expressions import net_outputs
from pdelang.flux import is_flux

from ..common.coefficients import coefficient_on_grid, constant_values, inline_time_coefficients
from ..common.grid import Grid, make_grid
from ..common.nets import chain_rule, init_nets
from ..common.stages import Stage, find_stage
from ..errors import LoweringError
from .accesses import Collected, collect, time_key
from .boundaries.closure import make_closure, stacked_options
from .boundaries.conditions import FieldNodes, apply_conditions
from .boundaries.constraints import Constraint, make_constraints
from .boundaries.coupled import coupled_row
from .dae import compose_dae, is_dae, split_dae
from .equations import Assigned, assign_equations
from .flux import compile_flux, convective_parts, split_fluxes, wave_speed
from .ir import Access, Layout, Region
from .kernels import CompiledKernel, make_kernel, pad_zeros, prepare
from .options import FDOptions
from .schemes import AUTO_SHOCK_SCHEME, ReconstructionScheme, get_scheme
from .shaped import ShapedDomain, shaped_domain, unshaped_fluxes
from .stages import (
    BoundaryRows,
    CornerRows,
    boundary_rows_stage,
    closure_stage,
    equation_stage,
    grid_stage,
    nets_stage,
    params_stage,
    printer,
    program_stage,
    stencil_stage,
)

Array = jnp.ndarray
State = dict[str, Array]


@dataclass(frozen=True)
class FDProgram:
    """A lowered finite-difference system: pure functions plus what they work on.

    Time-dependent systems have `rhs(t, U, params) -> dU/dt`; steady ones have
    `residual(U, params) -> R`. `closure(t, U, params)` sets boundary nodes from the
    conditions; `initial(params)` gives the state at the initial time (time-dependent)
    or a first guess (steady). States are dicts of arrays keyed by `state_keys`.
    `prepare(params)` adds the arrays that depend on neither time nor the state (hoisted
    out of the loop); the functions accept prepared or plain params alike. `rhs` sets only
    the boundary nodes that change in time: the others keep the values that `initial` and
    `closure` gave them (it returns zero rates there). A steady system known up to a
    constant has `constraints`: its point and mean conditions, each solved with a
    Lagrange multiplier (compiler/fd/boundaries/constraints.py). A differential-algebraic
    system (compiler/fd/dae.py) has `mass`: its `rhs` returns the rates of the keys with
    mass 1 and the residuals of the algebraic keys (mass 0), M dU/dt = rhs.
    """

    system: System
    grid: Grid
    options: FDOptions
    state_keys: tuple[str, ...]
    shapes: Mapping[str, tuple[int, ...]]
    params: Mapping[str, np.ndarray]
    nodes: Mapping[str, FieldNodes]
    closure: Callable[[Array, State, State], State]
    initial: Callable[[State], State]
    rhs: Callable[[Array, State, State], State] | None = None
    residual: Callable[[State, State], State] | None = None
    reach: int = 1
    linear: bool = True
    shock_scheme: str | None = None      # the scheme of convective fluxes, if any (flux.py)
    wave_rate: Callable[[Array, State, State], Array] | None = field(default=None, repr=False)
    stages: tuple[Stage, ...] = field(default=(), repr=False)
    prepare: Callable[[State], State] = field(default=dict, repr=False)
    constraints: tuple[Constraint, ...] = ()
    mass: Mapping[str, float] | None = None   # a DAE's M: 1 per differential key, 0 algebraic
    shaped: ShapedDomain | None = None        # a shaped domain's cut cells (fd/shaped.py)

    def stage(self, name: str) -> Stage:
        """The stage called `name` (grid, parameters, equations, boundary closures or
        boundary rows, stencils, program)."""
        return find_stage(self.stages, name)

    @property
    def unknowns(self) -> int:
        """The number of values in the state (every array's nodes)."""
        return sum(int(np.prod(self.shapes[k])) for k in self.state_keys)

    @property
    def dtype(self):
        return jnp.float64 if self.options.dtype == "float64" else jnp.float32

    def axes_of(self, name: str) -> tuple[str, ...]:
        """The grid axes of a field or coefficient field (none for other names)."""
        if name in self.nodes:
            return self.nodes[name].axes
        param = next((p for p in self.system.params if p.name == name and p.is_field), None)
        return tuple(a for a in param.args if a in self.grid.names) if param else ()

    def bind(self, params: State) -> Callable[[Array, State, State], State]:
        """`rhs` with `params` (prepared here) fixed: for forward solves, where the arrays
        then compile into the executable as constants, which XLA handles faster than
        arguments (about 20% on a 300 x 300 wave). The returned function ignores its own
        params argument; inverse problems keep using `rhs` itself."""
        fixed = self.prepare(params)
        rhs = self.rhs
        return lambda t, U, _unused: rhs(t, U, fixed)

    def output_coordinates(self) -> dict[str, np.ndarray]:
        return {a.name: a.coordinates() for a in self.grid.axes}

    def to_output(self, name: str, values: np.ndarray) -> np.ndarray:
        """Field values with the periodic end points repeated, as output files show them.
        NumPy arrays give NumPy arrays; JAX arrays (traced ones too) give JAX arrays."""
        xp = jnp if isinstance(values, jax.Array) else np
        values = xp.asarray(values)
        if self.shaped is not None and name in self.nodes:     # NaN outside the region
            values = xp.where(self.shaped.cut.closed, values, xp.nan)
        lead = values.ndim - len(self.axes_of(name))
        for k, axis in enumerate(self.axes_of(name)):
            if self.grid.axis(axis).periodic:
                first = xp.take(values, xp.asarray([0]), axis=lead + k)
                values = xp.concatenate([values, first], axis=lead + k)
        return values


def lower_fd(system: System, options: FDOptions | None = None) -> FDProgram:
    """Lower `system` to a finite-difference program (see the module docstring)."""
    options = options or FDOptions()
    if system.domain is not None:
        system = unshaped_fluxes(system, options)
    if is_dae(system):
        differential, algebraic = split_dae(system)
        return compose_dae(system, lower_fd(differential, options),
                           lower_fd(algebraic, options))
    _check_scheme(system, options)
    _check_nets(system)
    system = _differentiated_nets(inline_time_coefficients(system))
    grid = make_grid(system, options.grid_spec)
    layout = Layout({a.name: a.info() for a in grid.axes},
                    {a.name: a.node_coordinates() for a in grid.axes}, options.accuracy,
                    nets=system.nets)
    params = _parameter_values(system, grid)
    params.update(init_nets(system.nets))
    constants = tuple(p.name for p in system.params if not p.is_field)
    shaped = None
    if system.domain is not None:
        shaped = shaped_domain(system, grid, options.accuracy, constants,
                               jnp.float64 if options.dtype == "float64" else jnp.float32)
        layout = replace(layout, shaped=shaped)
    assigned = assign_equations(system)
    shapes = {f.name: grid.shape(tuple(a for a in f.args if a in grid.names))
              for f in system.fields}
    nodes = apply_conditions(system, shapes, {a.name for a in grid.axes if a.periodic})
    time = system.time.symbol if system.time is not None else None
    show = printer(system)
    stages = [grid_stage(grid), params_stage(system, params),
              *([nets_stage(system, show)] if system.nets else []),
              equation_stage(assigned, nodes, show)]
    if shaped is not None:
        stages.insert(1, shaped.stage(system))
    if system.time is not None:
        closure, changing, closure_shown, closure_kernels = make_closure(
            nodes, system, layout, options, constants)
        stages.append(closure_stage(closure_shown, system, show))
    else:
        closure, changing, closure_kernels = _no_closure, _no_closure, []
    kernels, collected, velocity_kernels = _equation_kernels(assigned, nodes, system, layout,
                                                             options, constants)
    scheme = shock_scheme(assigned, system, options)
    every_kernel = closure_kernels + kernels + velocity_kernels
    stages.append(stencil_stage(collected, grid, show))
    state = _state(system, assigned, shapes)
    state_keys = tuple(state)
    state_shapes = {key: shapes[name] for key, (name, _) in state.items()}
    common = dict(system=system, grid=grid, options=options, state_keys=state_keys,
                  shapes=state_shapes, params=params, nodes=nodes, closure=closure,
                  linear=_is_linear(system))
    if system.time is not None:
        rhs = _make_rhs(assigned, kernels, nodes, changing, state_shapes)
        initial = _make_initial(system, state, shapes, layout, options, constants, closure)
        if shaped is not None:
            rhs = shaped.rhs(rhs)
            initial = shaped.initial(initial, float(system.time.lower))
        stages.append(program_stage("rhs(t, U, params) -> dU/dt", state_shapes, params))
        return FDProgram(**common, initial=initial, rhs=rhs, stages=tuple(stages), shaped=shaped,
                         reach=max(_reach(collected, options, layout),
                                   shaped.reach(True) if shaped is not None else 0),
                         shock_scheme=scheme.name if _differences_fluxes(collected) else None,
                         wave_rate=_wave_rate(collected),
                         prepare=partial(prepare, tuple(every_kernel)))
    residual, face_rows, face_kernels, face_collected = _make_residual(
        assigned, kernels, nodes, system, layout, options, constants, time)
    if shaped is not None:
        residual = shaped.residual(residual)
    stages.insert(3, boundary_rows_stage(face_rows, system, show))
    stages.append(program_stage("residual(U, params) -> R", state_shapes, params))
    initial = _make_guess(state_shapes, jnp.float64 if options.dtype == "float64" else jnp.float32)
    constraints = make_constraints(system, grid, layout, options, constants, nodes)
    return FDProgram(**common, initial=initial, residual=residual, stages=tuple(stages),
                     shaped=shaped,
                     reach=max(_reach(collected + face_collected, options, layout),
                               shaped.reach(False) if shaped is not None else 0),
                     prepare=partial(prepare, tuple(every_kernel + face_kernels + [
                         c.kernel for c in constraints])),
                     constraints=constraints)


def _check_nets(system: System) -> None:
    """Where fd can use a learned function: in equations (differentiated or not: see
    `_differentiated_nets`); in the conditions of a steady system (residual rows like the
    equations'), not in those of an evolution, which the integrator applies outside its
    model."""
    if system.time is not None:
        for c in system.conditions:
            uses = net_outputs(c.residual)
            if uses:
                raise LoweringError(f"the net `{uses[0].net}` in a condition: fd trains learned "
                                    "functions in the equations only (a condition's rows are "
                                    "applied outside the integrator's model)", c.span,
                                    hint="or use --method odil, whose conditions are rows "
                                         "of its loss")


def _differentiated_nets(system: System) -> System:
    """Derivatives of learned functions (a learned flux `d(q(T, d(T, z)), z)`) expanded by
    the chain rule, so that the stencils difference the net's inputs and the net's
    partials come from forward mode through it (`compiler.common.nets.chain_rule`): the
    non-conservative form, second order like the stencils."""
    if not system.nets:
        return system
    equations = []
    for e in system.equations:
        try:
            equations.append(replace(
                e, lhs=chain_rule(e.lhs), rhs=chain_rule(e.rhs),
                residual=chain_rule(e.residual),
                flux=None if e.flux is None else chain_rule(e.flux)))
        except LoweringError as error:
            raise LoweringError(error.message, e.span) from None
    return replace(system, equations=tuple(equations))


# -- parameters -------------------------------------------------------------------------

def _parameter_values(system: System, grid: Grid) -> dict[str, np.ndarray]:
    values = {name: np.asarray(v) for name, v in constant_values(system).items()}
    coordinates = {a.name: a.node_coordinates() for a in grid.axes}
    for p in system.params:
        if p.is_field:
            values[p.name] = coefficient_on_grid(p, system, coordinates)
    return values


# -- equations ------------------------------------------------------------------------

def _check_scheme(system: System, options: FDOptions) -> None:
    """A shock-capturing scheme on a steady system would be ignored (steady equations have
    no transport velocity to upwind by): say so instead."""
    if options.scheme is None or system.time is not None:
        return
    if isinstance(get_scheme(options.scheme), ReconstructionScheme):
        raise LoweringError(f"scheme {options.scheme!r} takes the transport terms of "
                            "time-dependent equations; this system is steady, and its "
                            "derivatives are central differences", system.equations[0].span,
                            hint="leave out --scheme, or pose the problem in time")


def _uses_upwind(a: Assigned, system: System, options: FDOptions) -> bool:
    """Whether the transport terms of `a` take the upwinded scheme: always for a scheme
    named so, never for central ones; by default for first-order hyperbolic equations."""
    if a.rhs is None:
        return False
    if options.scheme is not None:
        return get_scheme(options.scheme).upwinded_terms
    space = {c.name for c in system.space}
    orders = [int(n) for d in a.rhs.atoms(sp.Derivative) for v, n in d.variable_count
              if v.name in space]
    return a.time_order == 1 and bool(orders) and max(orders) == 1


def shock_scheme(assigned: tuple[Assigned, ...], system: System,
                 options: FDOptions) -> ReconstructionScheme | None:
    """The shock-capturing scheme that differences convective fluxes `d(f(u), x)`: the one
    named by `options.scheme`, or by default WENO5 where a time-dependent equation has a
    flux nonlinear in the fields (a nonlinear conservation law); None otherwise."""
    if system.time is None:
        return None
    if options.scheme is not None:
        scheme = get_scheme(options.scheme)
        return scheme if isinstance(scheme, ReconstructionScheme) else None
    names = {f.name for f in system.fields}
    for a in assigned:
        if a.flux is None or a.time_order != 1:
            continue
        for node in a.flux.atoms(sp.Derivative):
            if is_flux(node, names) and not is_linear_in(
                    node.expr, occurrences(node.expr, names), occurrences(node.expr, names)):
                return get_scheme(AUTO_SHOCK_SCHEME)
    return None


def _space_names(system: System) -> set[str]:
    return {c.name for c in system.space}


def _wave_speeds(assigned, system: System, scheme) -> dict[str, sp.Expr]:
    """Per axis, a bound on the wave speed of the convective fluxes of all equations."""
    if scheme is None:
        return {}
    per_axis: dict[str, dict[str, sp.Expr]] = {}
    for a in assigned:
        if a.time_order != 1:
            continue
        axes = tuple(x for x in system.field(a.field).args if x in _space_names(system))
        for _, axis, c, flux in convective_parts(a.discretised, system, axes):
            fluxes = per_axis.setdefault(axis, {g.name: sp.S.Zero for g in system.fields})
            fluxes[a.field] += c * flux
    return {axis: wave_speed(fluxes, system) for axis, fluxes in per_axis.items()}


def _equation_kernels(assigned, nodes, system, layout, options, constants):
    time = system.time.symbol if system.time is not None else None
    kernels: list[CompiledKernel] = []
    velocity_kernels: list[CompiledKernel] = []
    collected: list[Collected] = []
    scheme = shock_scheme(assigned, system, options)
    speeds = _wave_speeds(assigned, system, scheme)
    for a in assigned:
        expr, fluxes = a.discretised, {}
        region = nodes[a.field].interior
        if a.flux is not None or (scheme is not None and a.time_order == 1):
            expr, fluxes = split_fluxes(expr, system, a.field, options,
                                        scheme if a.time_order == 1 else None, speeds,
                                        a.equation.span)
        flux_accesses, inner = _flux_accesses(fluxes, system, options, layout, constants,
                                              a.field, region, velocity_kernels)
        upwind = _uses_upwind(a, system, options)
        c = collect(expr, system, options, upwind_terms=upwind, where=f" (equation of {a.field})")
        c.accesses.update(flux_accesses)
        c.fluxes = [(f, inner) for f in fluxes.values()]
        velocities = {}
        if c.velocities:
            plain = collect(expr, system, options)
            plain.accesses.update(flux_accesses)
            central = dict(zip(c.accesses, plain.accesses.values()))
            for symbol, velocity in c.velocities.items():
                velocities[symbol] = make_kernel(velocity, central, region, layout, time,
                                                 constants)
                velocity_kernels.append(velocities[symbol])
        kernels.append(make_kernel(c.expr, c.accesses, region, layout, time, constants,
                                   velocities))
        collected.append(c)
    return kernels, collected, velocity_kernels


def _differences_fluxes(collected: list[Collected]) -> bool:
    """Whether a convective flux is differenced by a shock-capturing scheme."""
    return any(flux.scheme is not None for c in collected for flux, _ in c.fluxes)


def _wave_rate(collected: list[Collected]):
    """(t, U, params) -> the largest wave speed bound over h of the convective fluxes (a
    time step is stable below CFL / rate), or None without convective fluxes."""
    compiled = [a.flux for c in collected for a in c.accesses.values()
                if a.source == "flux" and a.flux.convective is not None]
    if not compiled:
        return None

    def rate(t: Array, U: State, params: State) -> Array:
        return reduce(jnp.maximum, [jnp.max(jnp.abs(f.convective[1](t, U, params)))
                                    / f.layout.axes[f.flux.axis].h for f in compiled])

    return rate


def _flux_accesses(fluxes, system, options, layout, constants, field, region, kernels):
    """An access per flux placeholder, and the reach of the stencils inside the fluxes; the
    kernels of their parts are added to `kernels` (their invariants are prepared)."""
    time = system.time.symbol if system.time is not None else None
    inner: list[Collected] = []

    def make(expr: sp.Expr, whole: Region) -> CompiledKernel:
        c = collect(expr, system, options, where=f" (a flux in the equation of {field})")
        inner.append(c)
        kernel = make_kernel(c.expr, c.accesses, whole, layout, time, constants)
        kernels.append(kernel)
        return kernel

    out = {symbol: Access("flux", symbol.name, region.axes,
                          flux=compile_flux(flux, system, layout, field, make))
           for symbol, flux in fluxes.items()}
    reach = _reach(inner, options, layout) if any(c.stencils for c in inner) else 0
    return out, reach


def _state(system: System, assigned: tuple[Assigned, ...],
           shapes: dict[str, tuple[int, ...]]) -> dict[str, tuple[str, int]]:
    """State keys in order, each naming (field, time-derivative order): u, u_t, v, ..."""
    keys = {}
    for f in system.fields:
        order = max((a.time_order for a in assigned if a.field == f.name), default=0)
        if order > 2:
            raise LoweringError(f"`{f.name}` is of order {order} in time; the fd method "
                                "integrates first- and second-order equations", f.span)
        for k in range(max(order, 1)):
            keys[time_key(f.name, k)] = (f.name, k)
    return keys


def _widths(region: Region, shape: tuple[int, ...]) -> list[tuple[int, int]]:
    """The pad widths that place `region` in an array of `shape`."""
    return [(lo, n - hi) for (lo, hi), n in zip(region.ranges, shape)]


def _pad(value: Array, region: Region, shape: tuple[int, ...]) -> Array:
    return pad_zeros(value, _widths(region, shape))


def _padded_kernel(kernel, t, U, params, region: Region, shape, dtype) -> Array:
    """The values of `kernel` on `region`, in `dtype`, padded with zeros to `shape`."""
    return kernel.padded(t, U, params, _widths(region, shape), dtype)


def _set_slab(value: Array, index: tuple[slice, ...], new: Array) -> Array:
    """`value` with the box `index` (slices with explicit bounds) set to `new`.

    Written as a select over the whole array rather than a scatter: where the array is split
    over devices along an axis that the box spans (a face parallel to the cut), XLA's
    partitioner gathers the whole array for a scatter, but splits a select like any
    element-wise operation (jvps of a 513^2 Poisson residual over 4 CPU devices as 4 x 1:
    0.34 s to 0.21 s; on one device 0.072 s either way)."""
    shape = tuple(s.stop - s.start for s in index)
    widths = [(s.start, n - s.stop) for s, n in zip(index, value.shape)]
    inside = jnp.ones(value.shape, bool)
    for k, s in enumerate(index):
        i = jax.lax.broadcasted_iota(jnp.int32, value.shape, k)
        inside = inside & (i >= s.start) & (i < s.stop)
    padded = jnp.pad(jnp.broadcast_to(new.astype(value.dtype), shape), widths)
    return jnp.where(inside, padded, value)


def _make_rhs(assigned, kernels, nodes, closure, shapes):
    plan = [(a, kernel, nodes[a.field].interior) for a, kernel in zip(assigned, kernels)]

    def rhs(t: Array, U: State, params: State) -> State:
        U = closure(t, U, params)
        out: State = {}
        for a, kernel, region in plan:
            shape = shapes[a.field]
            value = _padded_kernel(kernel, t, U, params, region, shape, U[a.field].dtype)
            if a.time_order == 2:
                velocity = time_key(a.field, 1)
                out[a.field] = _pad(U[velocity][region.index()], region, shape)
                out[velocity] = value
            else:
                out[a.field] = value
        return out

    return rhs


def _make_residual(assigned, kernels, nodes, system, layout, options, constants, time):
    plan = []
    shown = []
    collected = []
    for a, kernel in zip(assigned, kernels):
        n = nodes[a.field]
        faces = []
        for face, slab in zip(n.faces, n.slabs):
            # a closing row is the owner's equation: its stencils keep the accuracy
            face_options, face_layout = (options, layout) if face.transferred else \
                stacked_options(face, options, layout)
            expr, layers = face.condition.residual, {}
            if face.transferred:
                owner = next(b for b in assigned if b.field in face.condition.fields)
                expr, layers = coupled_row(face, owner.equation, system, layout,
                                           options.accuracy)
            c = collect(expr, system, face_options, where=" (boundary condition)")
            collected.append(c)
            source = n.source_region(face, whole=False)
            faces.append((slab.index(), make_kernel(c.expr, {**c.accesses, **layers}, source,
                                                    face_layout, time, constants)))
            shown.append(BoundaryRows(face, slab, expr if face.transferred else None))
        if n.corners:
            c = collect(a.equation.residual, system, options, where=f" (equation of {a.field})")
            collected.append(c)
            faces += [(corner.index(), make_kernel(c.expr, c.accesses, corner, layout, time,
                                                   constants)) for corner in n.corners]
            shown += [CornerRows(a.field, corner, a.equation.residual) for corner in n.corners]
        plan.append((a, kernel, n.interior, faces))
    face_kernels = [k for *_, faces in plan for _, k in faces]
    zero = jnp.zeros(())

    def residual(U: State, params: State) -> State:
        out: State = {}
        for a, kernel, region, faces in plan:
            value = _pad(kernel(zero, U, params).astype(U[a.field].dtype), region,
                         U[a.field].shape)
            for index, face_kernel in faces:
                value = _set_slab(value, index, face_kernel(zero, U, params))
            out[a.field] = value
        return out

    return residual, shown, face_kernels, collected


def _make_initial(system, state, shapes, layout, options, constants, closure):
    kernels = {}
    for key, (name, order) in state.items():
        expr = _initial_value(system, name, order, key)
        axes = tuple(a for a in system.field(name).args if a in layout.axes)
        region = Region(axes, tuple((0, n) for n in shapes[name]))
        c = collect(expr, system, options, where=" (initial condition)")
        if c.accesses:
            raise LoweringError(f"the initial condition of `{key}` refers to fields; the fd "
                                "method needs initial values as expressions of the coordinates")
        kernels[key] = make_kernel(expr, {}, region, layout, None, constants)
    t0 = float(system.time.lower)
    dtype = jnp.float64 if options.dtype == "float64" else jnp.float32

    def initial(params: State) -> State:
        t = jnp.asarray(t0, dtype)
        U = {key: kernel(t, {}, params).astype(dtype) for key, kernel in kernels.items()}
        return closure(t, U, params)

    return initial


def _initial_value(system: System, name: str, order: int, key: str) -> sp.Expr:
    """The value of the `order`-th time derivative of `name` at t0, from its `ic` line."""
    time = system.time.symbol
    target = system.field(name).applied
    if order:
        target = sp.Derivative(target, (time, order))
    for c in system.conditions:
        if c.kind != "initial" or name not in c.fields or not c.residual.has(target):
            continue
        if _time_order_in(c.residual, name, time.name) != order:
            continue
        slope = sp.diff(c.residual, target)
        if slope == 0 or slope.has(target):
            raise LoweringError(f"the initial condition of `{key}` must be linear in it",
                                c.span)
        return (-c.residual.subs(target, 0) / slope).subs(time, system.time.lower)
    raise LoweringError(f"no initial condition gives `{key}`")


def _time_order_in(expr: sp.Expr, name: str, time: str) -> int:
    return max((sum(int(n) for v, n in d.variable_count if v.name == time)
                for d in expr.atoms(sp.Derivative)
                if getattr(d.expr, "func", None) is not None
                and d.expr.func.__name__ == name), default=0)


def _make_guess(shapes, dtype):
    def initial(params: State) -> State:
        return {k: jnp.zeros(s, dtype) for k, s in shapes.items()}

    return initial


def _no_closure(t, U, params):
    return U


def _is_linear(system: System) -> bool:
    names = {f.name for f in system.fields}
    if not all(i.linear for i in system.info):
        return False
    for c in system.conditions:
        found = occurrences(c.residual, names)
        if not is_linear_in(c.residual, found, found):
            return False
    return True


def _reach(collected: list[Collected], options: FDOptions, layout: Layout) -> int:
    """The half-width of the box of unknowns any residual entry depends on (`Sparsity`):
    the centred stencils' reach, and on an axis with ends, the one-sided stencils' there."""
    periodic = {name for name, axis in layout.axes.items() if axis.periodic}
    reach = 1
    for c in collected:
        for flux, inner in c.fluxes:
            reach = max(reach, (flux.scheme.reach if flux.scheme is not None else 1) + inner)
        for _, step in c.stencils:
            reach = max(reach, step.stencil.reach)
            if step.scheme is not None:
                reach = max(reach, step.scheme.reach if step.axis in periodic
                            else step.scheme.reach_near_ends(options.accuracy))
            if step.axis not in periodic:
                reach = max(reach, step.stencil.order + options.accuracy - 1)
    return reach
