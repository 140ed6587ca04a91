"""The PINN driver: IR to networks and residual functions, stage by stage.

    lower_pinn(system, options) runs, in order:
      1. make_networks      one MLP per set of field arguments (usually one for all fields);
                            observed fields' outputs scaled to their data (`scale_to_data`)
      2. constrain_groups   optional: fields meet their Dirichlet and initial values by
                            construction, u = A + D*N (`constraints`)
      3. coefficient_networks  inverse problems: a small network per unknown coefficient
                            field (unknown constants join the trainables at `init`)
      4. to_residuals       each equation and each remaining condition as a residual
      5. data_terms         the misfit at the observations, and the regularization of
                            unknown coefficient fields (`inverse`)
      6. regions            where each residual is sampled: the interior, a face, t = t0,
                            the observation points; on a shaped domain (`shaped`) points
                            inside the region, and the conditions `on boundary` at points
                            of its boundary (step 2 then also builds in a Dirichlet value
                            on all of it, u = g + phi*N: `shaped.hard`)
and returns a `PINNProgram` with every stage as data (compiler/pinn/stages.py):
`program.stage("residuals").items` are the `Term`s, `stage.lines()` what `pdelang show`
prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from pdelang import System
from pdelang.printing import expression_to_pde

from ..common.bounds import param_bounds
from ..common.coefficients import constant_values
from ..common.stages import Stage, find_stage
from ..errors import FIXED_IN_TIME, LoweringError
from .constraints import constrain_groups
from .inverse import (
    coefficient_networks,
    data_terms,
    init_coefficient,
    initial_constants,
    initial_nets,
    observations_for_pinn,
    regularization_terms,
    scale_to_data,
    starting_weights,
)
from .networks.decomposition import Decomposition, FBPINNSpec, subdomain_counts, subdomain_net
from .networks.mlp import InputMap, MLPSpec
from .options import PINNOptions
from .residuals import (
    BOUNDS,
    CONSTANTS,
    NetworkGroup,
    Term,
    make_residual,
    network_function,
    sample_arrays,
    with_constants,
)
from .shaped import (
    ShapedDomain,
    boundary_terms,
    constrain_to_boundary,
    place_terms,
    shaped_domain,
)
from .stages import learned_stage, network_stage, residual_stage, unknowns_stage


@dataclass(frozen=True)
class PINNProgram:
    system: System
    options: PINNOptions
    coordinates: tuple[str, ...]               # columns of every point array
    bounds: Mapping[str, tuple[float, float]]
    groups: tuple[NetworkGroup, ...]
    terms: tuple[Term, ...]
    physical: Mapping[str, np.ndarray]         # constants, unknown guesses, sample arrays
    stages: tuple[Stage, ...] = ()
    starting_weights: Mapping[str, float] = field(default_factory=dict)   # data and
                                               # regularization terms (`starting_weights`)
    domain: ShapedDomain | None = None         # a shaped domain's region and its points

    def stage(self, name: str) -> Stage:
        """The stage called `name` (networks, unknowns, residuals)."""
        return find_stage(self.stages, name)

    def init(self, key: jax.Array, dtype=jnp.float32) -> dict:
        """The trainables: network parameters, one entry per network group (fields and
        unknown coefficient fields), each learned function's weights under
        `net_key(name)`, and the unknown constants at their guesses under `CONSTANTS`
        when there are any."""
        keys = jax.random.split(key, len(self.groups))
        out = {g.key: g.spec.init(k, dtype) if g.guess is None else
               init_coefficient(g.spec, k, dtype) for g, k in zip(self.groups, keys)}
        out.update(initial_nets(self.system, key, dtype))
        constants = initial_constants(self.system, dtype)
        return {**out, CONSTANTS: constants} if constants else out

    def evaluate(self, nets: Mapping, points: jax.Array,
                 physical: Mapping | None = None) -> dict[str, jax.Array]:
        """Every field and unknown coefficient field at `points` (n, len(coordinates));
        `physical` (default: the program's own) feeds the data of hard constraints."""
        physical = with_constants(nets, self.physical if physical is None else physical)
        out = {}
        for g in self.groups:
            columns = np.asarray([self.coordinates.index(a) for a in g.args])
            net = network_function(g, nets[g.key], physical)
            values = jax.vmap(net)(points[:, columns])
            out.update({name: values[:, i] for i, name in enumerate(g.fields)})
        return out


def lower_pinn(system: System, options: PINNOptions | None = None) -> PINNProgram:
    """The networks, loss terms and physical parameters of `system`, with every stage."""
    options = options or PINNOptions()
    coordinates = tuple(c.name for c in system.coordinates)
    bounds = {c.name: c.bounds for c in system.coordinates}
    periodic = set(system.periodic)
    physical = {k: np.asarray(v) for k, v in constant_values(system).items()}
    physical.update(sample_arrays(system))
    physical.update({name + BOUNDS: np.asarray(interval)
                     for name, interval in param_bounds(system).items()})
    observations = observations_for_pinn(system)
    groups = make_networks(system, options, periodic)
    if options.data_scaling:
        groups = scale_to_data(groups, observations)
    hard: frozenset[int] = frozenset()
    notes: tuple[str, ...] = ()
    if options.hard_constraints:
        groups, hard, notes = constrain_groups(system, groups, physical)
    domain = None if system.domain is None else shaped_domain(system, coordinates)
    on_boundary: frozenset[int] = frozenset()
    if domain is not None and options.hard_constraints:
        groups, on_boundary, more = constrain_to_boundary(system, groups, domain.region)
        notes += more
    coefficients = coefficient_networks(system, periodic)
    groups = groups + coefficients
    terms = to_residuals(system, groups, coordinates, periodic, hard)
    if domain is not None:
        terms += boundary_terms(system, groups, domain, physical, on_boundary)
    terms += data_terms(system, groups, coordinates, observations) + \
        regularization_terms(groups, coordinates)
    if domain is not None:
        terms = place_terms(terms, domain)
    weights = starting_weights(system, observations, terms)
    stages = (network_stage(groups[:len(groups) - len(coefficients)], notes),
              *((unknowns_stage(system, coefficients),) if system.unknown_params else ()),
              *((learned_stage(system),) if system.nets else ()),
              residual_stage(terms, weights))
    return PINNProgram(system, options, coordinates, bounds, groups, terms, physical, stages,
                       weights, domain)


def make_networks(system: System, options: PINNOptions,
                  periodic: set[str]) -> tuple[NetworkGroup, ...]:
    """One network per distinct argument list; each outputs the fields that share it."""
    by_args: dict[tuple[str, ...], list[str]] = {}
    for f in system.fields:
        by_args.setdefault(f.args, []).append(f.name)
    groups = []
    for args, names in by_args.items():
        coordinates = [system.coordinate(a) for a in args]
        lower = tuple(c.bounds[0] for c in coordinates)
        upper = tuple(c.bounds[1] for c in coordinates)
        network = dict(activation=options.activation, initialiser=options.initialiser,
                       fourier_features=options.fourier_features,
                       fourier_scale=options.fourier_scale, architecture=options.architecture,
                       weight_factorisation=options.weight_factorisation)
        if options.subdomains is None:
            inputs = InputMap(lower, upper, tuple(a in periodic for a in args),
                              options.harmonics)
            spec = MLPSpec(inputs, tuple(options.layers), len(names), **network)
        else:
            spec = decomposed(system, args, lower, upper, len(names), periodic, options,
                              network)
        groups.append(NetworkGroup("_".join(names), tuple(names), args, spec))
    return tuple(groups)


def decomposed(system: System, args: tuple[str, ...], lower: tuple[float, ...],
               upper: tuple[float, ...], outputs: int, periodic: set[str],
               options: PINNOptions, network: dict) -> FBPINNSpec:
    """A finite-basis network over `args` (`compiler/pinn/networks/decomposition.py`)."""
    cyclic = [a for a in args if a in periodic]
    if cyclic:
        raise LoweringError(f"finite-basis networks take no periodic coordinates yet "
                            f"(`{cyclic[0]}` is periodic)", system.coordinate(cyclic[0]).span,
                            hint="use --method pinn, whose inputs are periodic exactly")
    given = options.subdomains
    counts = subdomain_counts(given if isinstance(given, int) else dict(given), args)
    decomposition = Decomposition(lower, upper, counts, options.overlap)
    coarse = []
    for _ in range(options.levels - 1):
        coarse.append((coarse[-1] if coarse else decomposition).coarser())
    return FBPINNSpec(decomposition, subdomain_net(tuple(options.layers), outputs, len(args),
                                                   **network), tuple(coarse))


def to_residuals(system: System, groups: tuple[NetworkGroup, ...], coordinates: tuple[str, ...],
                 periodic: set[str], hard: frozenset[int] = frozenset()) -> tuple[Term, ...]:
    """One term per equation and per condition, except periodic ones, those in `hard`
    (indices of conditions the networks meet by construction) and those on a shaped
    domain's boundary (`shaped.boundary_terms`)."""
    signatures = {f.name: f.args for f in system.fields}
    terms = []
    for i, e in enumerate(system.equations):
        residual, _ = make_residual(e.residual, system, groups, coordinates,
                                    f" (equation {i + 1})")
        text = expression_to_pde(e.residual, signatures, shorthand=True)
        terms.append(Term(f"pde {i + 1}" if len(system.equations) > 1 else "pde", "pde",
                          residual, {}, f"{text} = 0"))
    for i, c in enumerate(system.conditions):
        if i in hard or c.kind == "shape":
            continue
        if c.kind == "periodic":
            if not all(c.coordinate in g.args for g in groups if g.guess is None):
                raise LoweringError(f"periodicity in `{c.coordinate}` needs every field to "
                                    f"depend on `{c.coordinate}`", c.span)
            continue                      # exact: the networks see sin/cos of the phase
        if c.fixes_constant:
            if system.time is not None:
                raise LoweringError(FIXED_IN_TIME.format(method="pinn"), c.span,
                                    hint="use --method fd, which integrates it as a DAE")
            terms.append(_constant_term(c, system, groups, coordinates, signatures))
            continue
        coordinate = system.coordinate(c.coordinate)
        value = float(coordinate.value(c.side))
        residual, _ = make_residual(c.residual, system, groups, coordinates, " (condition)")
        text = expression_to_pde(c.residual, signatures, shorthand=True)
        kind = "initial" if c.kind == "initial" else "boundary"
        name = f"{'ic' if kind == 'initial' else 'bc'} {c.coordinate}={value:g}"
        names = [t.name for t in terms]
        if name in names:
            name = f"{name} ({names.count(name) + 1})"
        terms.append(Term(name, kind, residual, {c.coordinate: value}, f"{text} = 0"))
    return tuple(terms)


def _constant_term(c, system: System, groups: tuple[NetworkGroup, ...],
                   coordinates: tuple[str, ...], signatures: Mapping) -> Term:
    """A point condition: its residual squared at the one point. A mean condition: the
    square of the sample mean of its residual over the interior points (drawn and
    redrawn as the equations' are), so only the mean is pinned, not every value."""
    residual, _ = make_residual(c.residual, system, groups, coordinates, f" ({c.kind} condition)")
    text = expression_to_pde(c.residual, signatures, shorthand=True)
    if c.kind == "point":
        where = dict(c.point)
        point = np.asarray([[float(where.get(a, 0.0)) for a in coordinates]])
        at = ", ".join(f"{n}={float(v):g}" for n, v in c.point)
        return Term(f"bc at {at}", "point", residual, {}, f"{text} = 0", points=point)

    def mean(nets, physical, points):
        return jnp.mean(residual(nets, physical, points)).reshape(1)

    return Term("bc mean", "mean", mean, {}, f"mean({text}) = 0")
