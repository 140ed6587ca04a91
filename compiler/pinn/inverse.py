"""Inverse problems for PINNs: unknowns trained with the networks, and the data misfit.

- An unknown constant (`param k ~ 0.5`) is one more leaf of the trainable pytree, under
  `CONSTANTS`, starting at its guess; residuals read it through `with_constants`.
- An unknown coefficient field (`param c(x, y) ~ 1.0`) is a small network of its arguments
  whose output is added to the guess; its output layer starts at zero, so the field starts
  at the guess. It enters residuals like a field, derivatives included. A guess that is a
  positive number (wave speeds, diffusivities, conductivities) makes the field
  guess * exp(output) instead: it stays positive, so an equation that holds c only as c^2
  offers no mirror solution c -> -c (with the data weighted up, the wave-speed example
  found it: c near -1 everywhere), and the network works on the log of the field, its
  relative change.
- A learned function (`net` line) is its flat weight vector, one more leaf of the
  trainable pytree under `net_key(name)` (`initial_nets`); residuals evaluate it at its
  inputs (`residuals.make_residual`). Nets need data, as unknowns do.
- An observed field's network output is scaled by the root mean square of its
  observations (`scale_to_data`), so that the network and its initial guess work at unit
  scale whatever the data's units (the Lorenz fields reach 20 and more).
- A data term per observed field: the misfit field(points) - observed at the observation
  points (mean squared in the loss, weighted by the data weight).
- A regularization term per unknown coefficient field: its gradient at interior points
  (the loss takes the mean squared norm, weighted by the regularization option).
- The weights the data and regularization terms start from when their options are not
  given (`starting_weights`):
  the equations' residual and the data misfit are in different units, and a wave whose
  terms are of order u / width^2 outweighs a misfit of order u by orders of magnitude, so
  the equations win and the unknowns hardly move (the wave-speed example with weight 1:
  c 14% off, its guess 3.6%). The data weight makes the two the same size in their own
  units; the regularization is a small share of the same scale.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from pdelang import System

from ..common.bounds import to_free
from ..common.nets import init_net, net_key
from ..common.observations import FieldObservations, field_observations, require_observations
from .constraints import make_face_data
from .derivatives import derivatives_at
from .networks.mlp import InputMap, MLPSpec, init_mlp, with_output_layer
from .probes import Probes, initial_values, on_initial_state, on_probes, probe_points
from .residuals import (
    NetworkGroup,
    Residual,
    Term,
    network_function,
    pick_columns,
    with_constants,
)

COEFFICIENT_LAYERS = (20, 20)      # hidden widths of an unknown coefficient field's network
COEFFICIENT_ACTIVATION = "tanh"


def coefficient_networks(system: System, periodic: set[str]) -> tuple[NetworkGroup, ...]:
    """One small network per unknown coefficient field, its output added to the guess."""
    groups = []
    for p in system.unknown_params:
        if not p.is_field:
            continue
        coordinates = [system.coordinate(a) for a in p.args]
        inputs = InputMap(tuple(c.bounds[0] for c in coordinates),
                          tuple(c.bounds[1] for c in coordinates),
                          tuple(a in periodic for a in p.args))
        spec = MLPSpec(inputs, COEFFICIENT_LAYERS, 1, COEFFICIENT_ACTIVATION)
        value = sp.sympify(p.guess)
        guess = make_face_data(value, system, p.args)
        groups.append(NetworkGroup(p.name, (p.name,), p.args, spec,
                                   guess=lambda physical, z, g=guess: jnp.reshape(
                                       g(physical, z), (1,)),
                                   positive=bool(value.is_number and value.is_positive)))
    return tuple(groups)


def init_coefficient(spec: MLPSpec, key: jax.Array, dtype) -> dict:
    """Parameters of a coefficient network whose output layer is zero: the field starts at
    its guess, and the gradients still reach every layer after the first step."""
    params = init_mlp(spec, key, dtype)
    w, b = params["layers"][-1][-2:]
    return with_output_layer(params, jnp.zeros_like(w), jnp.zeros_like(b))


def initial_constants(system: System, dtype) -> dict[str, jax.Array]:
    """The unknown constants at their guesses, as trainable scalars; a bounded one as the
    free variable phi of its guess (`with_constants` maps it back into its interval)."""
    return {p.name: jnp.asarray(float(p.guess) if p.interval is None else
                                float(to_free(float(p.guess), *p.interval)), dtype)
            for p in system.unknown_params if not p.is_field}


def initial_nets(system: System, key: jax.Array, dtype) -> dict[str, jax.Array]:
    """Each learned function's flat weights (`compiler.common.nets.init_net`: Glorot, the
    output layer zero) under `net_key(name)`, drawn from a stream of `key` of their own
    (the field networks' draws stay as they were without nets)."""
    words = np.asarray(jax.random.key_data(jax.random.fold_in(key, NET_STREAM)), np.uint32)
    return {net_key(n.name): jnp.asarray(init_net(n, np.random.default_rng([*words, i])),
                                         dtype) for i, n in enumerate(system.nets)}


NET_STREAM = 19               # folded into the key for the learned functions' weights


def observations_for_pinn(system: System) -> tuple[FieldObservations, ...]:
    """The observations; an inverse problem (unknowns, or learned functions) must have
    some."""
    if system.unknown_params or system.nets:
        return require_observations(system, "pinn")
    return field_observations(system, "pinn")


REGULARIZATION_SHARE = 1e-4   # of the equations' mean square, for a change of c by its
                              # guess across the domain


def starting_weights(system: System, observations: tuple[FieldObservations, ...],
                     terms: tuple[Term, ...]) -> dict[str, float]:
    """Weights of the data and regularization terms that put them on the equations' scale,
    for an inverse problem with an unknown coefficient field (options override them); {}
    for one with unknown constants only (a few numbers that data weighted 1 pin down: the
    heat, Lorenz and Fisher-KPP fits lose accuracy or time at the scaled weights) and where
    that scale is not known (`equations_mean_square`). Data: the equations' mean square
    over the mean square of all observed values (one weight for every data term), so that
    a misfit relative to the data's size costs as much as a residual relative to the
    equations'. Regularization
    of a coefficient field c: REGULARIZATION_SHARE times the equations' mean square times
    L^2 / g^2 (L^2 the mean squared length of c's coordinates, g the root mean square of
    c's guess over the probes, 1 where that is zero), so that c changing by its guess
    across the domain costs that share of the equations' scale."""
    fields = any(p.is_field for p in system.unknown_params)
    at = probe_points(system)
    equations = equations_mean_square(system, at) if fields else None
    data = float(np.mean([o.rms ** 2 for o in observations])) if observations else 0.0
    if equations is None or not data > 0:
        return {}
    weights = {t.name: equations / data for t in terms if t.kind == "data"}
    for p in system.unknown_params:
        name = f"regularization {p.name}"
        if not p.is_field or name not in {t.name for t in terms}:
            continue
        length = float(np.mean([system.coordinate(a).length ** 2 for a in p.args]))
        size = _root_mean_square(sp.sympify(p.guess), at)
        weights[name] = REGULARIZATION_SHARE * equations * length / (size or 1.0) ** 2
    return weights


def equations_mean_square(system: System, at: Probes) -> float | None:
    """The mean square of the equations' residuals on the initial state held still in time
    (their space terms at t0, unknowns at their guesses: the size of the time derivatives
    they set), over the probes `at` (`compiler.pinn.probes`). None without time, where a field
    has no `ic u = g` value, or where the equations cannot be evaluated there (a
    coefficient field given as samples) or vanish."""
    if system.time is None:
        return None
    try:
        initial = initial_values(system)
        squares = [np.mean(np.square(on_initial_state(e.residual, system, initial, at)))
                   for e in system.equations]
    except Exception:      # noqa: BLE001 - sympy and the numpy code it prints raise many
        return None        # kinds (|x|'s derivative, DiracDelta, ...): only an estimate
    value = float(np.mean(squares))
    return value if math.isfinite(value) and value > 0 else None


def _root_mean_square(expr: sp.Expr, at: Probes) -> float | None:
    """The RMS of an expression of the coordinates over the probes (None where it cannot be
    evaluated or is not finite)."""
    try:
        value = float(np.sqrt(np.mean(np.square(on_probes(expr, at)))))
    except Exception:      # noqa: BLE001 - as in equations_mean_square
        return None
    return value if math.isfinite(value) else None


def scale_to_data(groups: tuple[NetworkGroup, ...],
                  observations: tuple[FieldObservations, ...]) -> tuple[NetworkGroup, ...]:
    """Each group with its outputs scaled by the RMS of their fields' observations (1 for a
    field without observations, or with only zeros)."""
    rms = {o.field: o.rms for o in observations}
    out = []
    for g in groups:
        scale = tuple(rms.get(f) or 1.0 for f in g.fields)
        out.append(dataclasses.replace(g, scale=scale) if any(s != 1.0 for s in scale) else g)
    return tuple(out)


def data_terms(system: System, groups: tuple[NetworkGroup, ...], coordinates: tuple[str, ...],
               observations: tuple[FieldObservations, ...]) -> tuple[Term, ...]:
    """A term per observed field: the field at the observation points minus the data."""
    terms = []
    for obs in observations:
        group = next(g for g in groups if obs.field in g.fields)
        points = np.empty((obs.count, len(coordinates)))
        for j, c in enumerate(coordinates):
            points[:, j] = obs.coordinate(c) if c in obs.args else system.coordinate(c).bounds[0]
        residual = make_data_residual(group, group.fields.index(obs.field), coordinates,
                                      obs.values)
        paths = ", ".join(t.path for t in system.data if t.path and obs.field in t.columns)
        text = (f"{obs.field}({', '.join(obs.args)}) - observed   at {obs.count} observation "
                "points" + (f" of {paths}" if paths else ""))
        terms.append(Term(f"data {obs.field}", "data", residual, {}, text, points))
    return tuple(terms)


def make_data_residual(group: NetworkGroup, output: int, coordinates: tuple[str, ...],
                       values: np.ndarray) -> Residual:
    """(nets, physical, points) -> field at the points - `values`; the points must be the
    observation points, in their order (a data term's own `points`)."""
    columns = tuple(coordinates.index(a) for a in group.args)
    observed = np.asarray(values, dtype=np.float64)

    def residual(nets: Mapping, physical: Mapping, points: jax.Array) -> jax.Array:
        net = network_function(group, nets[group.key], with_constants(nets, physical))
        predicted = jax.vmap(net)(pick_columns(points, columns))[:, output]
        return predicted - jnp.asarray(observed, predicted.dtype)

    return residual


def regularization_terms(groups: tuple[NetworkGroup, ...],
                         coordinates: tuple[str, ...]) -> tuple[Term, ...]:
    """A term per unknown coefficient field: its gradient at interior points."""
    terms = []
    for g in groups:
        if g.guess is None:
            continue
        text = f"|grad {g.key}|^2 over ({', '.join(g.args)}), weighted by the regularization"
        terms.append(Term(f"regularization {g.key}", "regularization",
                          make_gradient_residual(g, coordinates), {}, text))
    return tuple(terms)


def make_gradient_residual(group: NetworkGroup, coordinates: tuple[str, ...]) -> Residual:
    """(nets, physical, points) -> (n, d): the coefficient's gradient along its arguments."""
    columns = tuple(coordinates.index(a) for a in group.args)
    chains = tuple((i,) for i in range(len(group.args)))

    def residual(nets: Mapping, physical: Mapping, points: jax.Array) -> jax.Array:
        net = network_function(group, nets[group.key], with_constants(nets, physical))

        def gradient(z: jax.Array) -> jax.Array:
            found = derivatives_at(net, z, chains)
            return jnp.stack([found[c][0] for c in chains])

        return jax.vmap(gradient)(pick_columns(points, columns))

    return residual
