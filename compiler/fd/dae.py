"""Differential-algebraic systems: time-dependent problems where some equations have no
time derivative (vorticity-stream function flow: w_t = ..., laplace(psi) = -w).

Such a system is split in two and each part lowered by the existing passes:

- the differential part: the fields with a time derivative, their equations and
  conditions, with every algebraic field turned into a coefficient field of the space
  coordinates (its values supplied from the state at each call);
- the algebraic part: a steady system in the algebraic fields, their equations and
  boundary, point and mean conditions, with every differential field (and the time) turned
  into a coefficient (a parameter supplied from the state).

`compose_dae` joins the two lowered programs into one whose `rhs` returns the rates of the
differential fields and the residuals of the algebraic ones, with `mass` 1 and 0 on them:
the mass-matrix form `M dU/dt = F(t, U)` that BDF integrates. An algebraic field fixed up
to a constant (periodic or pure Neumann) keeps the steady solver's Lagrange multiplier
(`constraints`).

Index: the system is index 1 when the algebraic equations determine the algebraic fields
for given differential ones. An algebraic equation that contains no algebraic field (a
constraint on differential fields only, as div(u) = 0 in primitive-variable flow) makes it
index 2 or more, which is refused here by name; a singular algebraic block is found
numerically when the consistent initial values are computed (runtime/time/host/dae.py).
"""

from __future__ import annotations

from dataclasses import replace

import jax.numpy as jnp
import sympy as sp
from sympy.core.function import AppliedUndef

from pdelang import Param, System

from ..errors import LoweringError
from .stages import params_stage, program_stage


def is_dae(system: System) -> bool:
    """Whether a time-dependent system has equations without a time derivative."""
    return system.time is not None and any(
        not _time_derivatives(e.residual, system.time.name) for e in system.equations)


def algebraic_fields(system: System) -> tuple[str, ...]:
    """The fields without a time derivative in any equation."""
    time = system.time.name
    with_rate = {n for e in system.equations for n in _time_derivatives(e.residual, time)}
    return tuple(f.name for f in system.fields if f.name not in with_rate)


def split_dae(system: System) -> tuple[System, System]:
    """(the differential part, the algebraic part) of a DAE; see the module docstring.
    LoweringError, with the position, for what is not an index-1 system in this form."""
    time = system.time.name
    algebraic = algebraic_fields(system)
    differential = tuple(f.name for f in system.fields if f.name not in algebraic)
    rate_equations = [e for e in system.equations if _time_derivatives(e.residual, time)]
    constraints = [e for e in system.equations if not _time_derivatives(e.residual, time)]
    _check_index_one(system, algebraic, constraints)
    every = _in_space(system, tuple(f.name for f in system.fields))

    def coefficient(name: str) -> Param:
        args = tuple(a for a in system.field(name).args if a != time)
        return Param(name, args=args, guess=sp.S.Zero, span=system.field(name).span)

    def keeps(names: tuple[str, ...], c) -> bool:
        return c.kind == "periodic" or bool(set(c.fields) & set(names))

    differential_part = replace(
        system,
        fields=tuple(f for f in system.fields if f.name in differential),
        params=system.params + tuple(coefficient(n) for n in algebraic),
        equations=tuple(_replaced(e, _in_space(system, algebraic)) for e in rate_equations),
        conditions=tuple(c for c in system.conditions if keeps(differential, c)),
        exact=tuple(x for x in system.exact if x.field in differential),
        data=(), info=tuple(i for i in system.info if i.name in differential))
    algebraic_part = replace(
        system,
        coordinates=system.space,
        fields=tuple(replace(f, args=tuple(a for a in f.args if a != time))
                     for f in system.fields if f.name in algebraic),
        # the time becomes a constant of the same name, set at each call (compose_dae)
        params=system.params + tuple(coefficient(n) for n in differential)
        + (Param(time, value=system.time.lower),),
        equations=tuple(_replaced(e, every) for e in constraints),
        conditions=tuple(_replaced(c, every) for c in system.conditions
                         if keeps(algebraic, c) and c.kind != "initial"),
        exact=(), data=(),
        info=tuple(replace(i, time_order=0) for i in system.info if i.name in algebraic))
    return differential_part, algebraic_part


def _check_index_one(system: System, algebraic: tuple[str, ...], constraints: list) -> None:
    """LoweringErrors, positioned, for what this split cannot take: a constraint on
    differential fields only (index 2 or more), unequal counts, a condition coupling an
    algebraic and a differential field, an initial value of an algebraic field."""
    fields = {f.name for f in system.fields}
    for e in constraints:
        found = _fields_in(e.residual) & fields
        if not found & set(algebraic):
            raise LoweringError(
                f"this equation has no time derivative and contains no algebraic field (only "
                f"{', '.join(sorted(found)) or 'no field'}, which have time derivatives): it "
                "constrains the differential fields, a DAE of index 2 or more, which the fd "
                "method does not integrate", e.span,
                hint="differentiate the constraint in time (and drop it from the fields it "
                "fixes), or pose it with an algebraic field that it determines, as a "
                "pressure Poisson equation does for div(u) = 0")
    if len(constraints) != len(algebraic):
        raise LoweringError(
            f"{len(constraints)} equation(s) without a time derivative for {len(algebraic)} "
            f"field(s) without one ({', '.join(algebraic)})", constraints[0].span)
    for c in system.conditions:
        if set(c.fields) & set(algebraic) and set(c.fields) & (fields - set(algebraic)):
            raise LoweringError("a condition couples a field with a time derivative and one "
                                "without; the fd method takes each field's conditions on "
                                "its own", c.span)
        if c.kind == "initial" and set(c.fields) & set(algebraic):
            raise LoweringError(
                f"`{c.fields[0]}` has no time derivative: its initial values follow from its "
                "equation and are computed, not given", c.span, hint="remove this line")


def _replaced(item, table: dict):
    """An equation or condition with `table` applied to its expressions."""
    changes = {k: getattr(item, k).xreplace(table) for k in ("residual", "lhs", "rhs")}
    if getattr(item, "flux", None) is not None:
        changes["flux"] = item.flux.xreplace(table)
    return replace(item, **changes)


def _in_space(system: System, names: tuple[str, ...]) -> dict:
    """field(t, x, ...) -> field(x, ...) for the fields named."""
    time = system.time.name
    return {system.field(n).applied: sp.Function(n)(*(sp.Symbol(a) for a in
                                                       system.field(n).args if a != time))
            for n in names}


def _fields_in(expr: sp.Expr) -> set[str]:
    return {a.func.__name__ for a in expr.atoms(AppliedUndef)}


def _time_derivatives(expr: sp.Expr, time: str) -> set[str]:
    """The fields differentiated in time somewhere in expr."""
    return {node.expr.func.__name__ for node in expr.atoms(sp.Derivative)
            if isinstance(node.expr, AppliedUndef)
            and any(v.name == time for v, _ in node.variable_count)}


def compose_dae(system: System, differential, algebraic):
    """One program from the lowered parts (FDPrograms): state = both parts' keys, `rhs` =
    the differential rates and the algebraic residuals, `mass` 1 and 0 on them. The
    parameters are the union of both parts'; the coefficients that stand for the other
    part's fields (and the time, in the algebraic part) are filled from the call's
    arguments, and each part's `prepare` runs inside the call, since what it hoists may
    depend on them."""
    time = system.time.name
    from_algebraic = {f.name for f in algebraic.system.fields}
    from_differential = {f.name for f in differential.system.fields}
    d_keys, a_keys = differential.state_keys, algebraic.state_keys

    def parts(t, U, params):
        d_params = differential.prepare({**params, **{n: U[n] for n in from_algebraic}})
        a_params = algebraic.prepare({**params, **{n: U[n] for n in from_differential},
                                      time: jnp.asarray(t, U[a_keys[0]].dtype)})
        return ({k: U[k] for k in d_keys}, d_params), ({k: U[k] for k in a_keys}, a_params)

    def rhs(t, U, params):
        (Ud, pd), (Ua, pa) = parts(t, U, params)
        return {**differential.rhs(t, Ud, pd), **algebraic.residual(Ua, pa)}

    def closure(t, U, params):
        (Ud, pd), (Ua, _) = parts(t, U, params)
        return {**differential.closure(t, Ud, pd), **Ua}

    def initial(params):
        guess = algebraic.initial(params)
        start = differential.initial({**params, **guess})
        return {**start, **guess}

    wave_rate = None
    if differential.wave_rate is not None:
        def wave_rate(t, U, params):
            (Ud, pd), _ = parts(t, U, params)
            return differential.wave_rate(t, Ud, pd)

    stand_ins = from_algebraic | from_differential | {time}
    params = {k: v for k, v in {**algebraic.params, **differential.params}.items()
              if k not in stand_ins}
    shapes = {**differential.shapes, **algebraic.shapes}
    rates = ", ".join(d_keys)
    residuals = ", ".join(a_keys)
    stages = (
        *(params_stage(system, params) if s.name == "parameters" else s
          for s in differential.stages if s.name != "program"),
        *(replace(s, name=f"algebraic {s.name}") for s in algebraic.stages
          if s.name in ("equations", "boundary rows")),
        program_stage(f"M dU/dt = rhs(t, U, params): the rates of {rates} (M = 1), the "
                      f"residuals of {residuals} (M = 0)", shapes, params))
    constraints = tuple(replace(c, kernel=_with_params(c.kernel, algebraic, from_differential,
                                                       time))
                        for c in algebraic.constraints)
    return replace(
        differential, system=system, state_keys=d_keys + a_keys,
        shapes=shapes, params=params,
        nodes={**differential.nodes, **algebraic.nodes}, closure=closure, initial=initial,
        rhs=rhs, residual=None, reach=max(differential.reach, algebraic.reach),
        linear=differential.linear and algebraic.linear, wave_rate=wave_rate,
        stages=stages,
        prepare=dict, constraints=constraints,
        mass={**{k: 1.0 for k in d_keys}, **{k: 0.0 for k in a_keys}})


def _with_params(kernel, algebraic, from_differential, time):
    """A constraint's kernel called with the composed program's state and parameters."""
    def call(t, U, params):
        full = algebraic.prepare({**params, **{n: U[n] for n in from_differential if n in U},
                                  time: t})
        return kernel(t, U, full)
    return call
