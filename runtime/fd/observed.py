"""What fd fits (time-dependent and steady) share: the unknowns as one flat vector, and the
observations as scaled samples of the fields; for several runs (a `run` column), each run's
initial state from its observations at the initial time (`RunStarts`).

Each observed field's misfit is divided by the root mean square of its data and by the
square root of its count, so fields and data sets of any size and units weigh alike; the
norm of a field's part of the residual is then its misfit relative to its data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from scipy.interpolate import LinearNDInterpolator

from compiler.common.bounds import param_bounds, to_bounded, to_free
from compiler.common.nets import net_key
from compiler.common.observations import (
    FieldObservations,
    GridSampler,
    grid_sampler,
    in_region,
    sampler_for,
)
from compiler.errors import LoweringError
from compiler.fd import FDProgram

START = "start."       # fitted initial states: start.KEY, a first axis per run
WINDOW = "window."     # multiple shooting's window starts: window.KEY, axes (run, window, ...)


@dataclass(frozen=True)
class Unknowns:
    """The program's parameters (`base`, unknowns at their guesses) and the flat vector of
    the unknown ones (learned functions' parameters included, and fitted states: `START` or
    `WINDOW` + state key): `theta0`, with `unravel` back to {name: value}. A bounded constant
    (`param D ~ 0.3 in [0, 10]`) is held in the vector as its free variable phi, and
    `unravel` gives lo + (hi - lo) sigmoid(phi) (compiler/common/bounds.py), so no step of
    the optimiser leaves the interval."""

    base: dict[str, jax.Array]
    unravel: Callable[[jax.Array], dict[str, jax.Array]]
    theta0: np.ndarray
    free: Callable[[jax.Array], dict[str, jax.Array]] = dict   # unravel, unbounded
    states: tuple[str, ...] = ()

    @classmethod
    def of(cls, program: FDProgram, states: Mapping[str, np.ndarray] | None = None
           ) -> Unknowns:
        """`states`: states to fit, {START or WINDOW + state key: first guess}."""
        base = {k: jnp.asarray(v, program.dtype) for k, v in program.params.items()}
        bounds = param_bounds(program.system)
        free = {p.name: jnp.asarray(to_free(base[p.name], *bounds[p.name]), program.dtype)
                if p.name in bounds else base[p.name] for p in program.system.unknown_params}
        free.update({net_key(n.name): base[net_key(n.name)] for n in program.system.nets})
        free.update({k: jnp.asarray(v, program.dtype) for k, v in (states or {}).items()})
        flat, raw = ravel_pytree(free)

        def unravel(theta: jax.Array) -> dict[str, jax.Array]:
            return {k: to_bounded(v, *bounds[k]) if k in bounds else v
                    for k, v in raw(theta).items()}

        return cls(base, unravel, np.asarray(flat, dtype=np.float64), raw,
                   tuple(states or {}))

    def flatten(self, free: Mapping[str, jax.Array]) -> np.ndarray:
        """The vector of the free values `free` (as `free(theta)` gives them; the names
        of this vector's unknowns, in any order)."""
        return np.asarray(ravel_pytree({k: free[k] for k in self.free(self.theta0)})[0],
                          np.float64)

    @property
    def size(self) -> int:
        return len(self.theta0)

    def params(self, theta) -> dict[str, jax.Array]:
        """Every parameter, the unknown ones at `theta` (not yet prepared)."""
        return {**self.base, **{k: v for k, v in self.unravel(jnp.asarray(theta)).items()
                                if k not in self.states}}

    def fitted_states(self, theta, prefix: str = START) -> dict[str, jax.Array]:
        """The fitted states named `prefix` + key at `theta`, by state key (empty where
        none are)."""
        return {k[len(prefix):]: v for k, v in self.unravel(jnp.asarray(theta)).items()
                if k.startswith(prefix) and k in self.states}


RELATIVE_FLOOR = 0.01     # relative misfit: values below this fraction of the RMS count as it


def _weights(o: FieldObservations, misfit: str) -> np.ndarray:
    """Each observation's weight, over the square root of the field's count."""
    scale = o.rms or 1.0
    if misfit == "relative":
        scale = np.maximum(np.abs(o.values), RELATIVE_FLOOR * scale)
    return np.broadcast_to(1.0 / (scale * np.sqrt(o.count)), o.values.shape)


@dataclass(frozen=True)
class ScaledData:
    """The observations, their samplers and weights; `values`: the weighted data, in order."""

    observations: tuple[FieldObservations, ...]
    samplers: tuple[GridSampler, ...]
    weights: tuple[np.ndarray, ...]
    values: np.ndarray

    @classmethod
    def on(cls, observations: Sequence[FieldObservations], axes: Mapping[str, np.ndarray],
           program=None, misfit: str = "scaled", runs: int | None = None) -> ScaledData:
        """Samplers from the grid with node coordinates `axes` (ends included); on a
        shaped domain (`program.shaped`), reading only the nodes of the region. `misfit`:
        "scaled" divides each field's misfit by the RMS of its data; "relative" divides each
        point's by its own value (floored at RELATIVE_FLOOR of the field's RMS), the least
        squares that suits noise proportional to the value. `runs`: the arrays sampled
        have a first axis of that many runs, each row read from its own run's."""
        weights = tuple(_weights(o, misfit) for o in observations)
        values = np.concatenate([o.values * w for o, w in zip(observations, weights)])
        if runs is None:
            samplers = tuple(sampler_for(o, axes) for o in observations)
        else:
            samplers = tuple(grid_sampler(
                [np.arange(runs), *(axes[a] for a in o.args)],
                np.column_stack([np.zeros(o.count) if o.runs is None else o.runs, o.points]))
                for o in observations)
        if program is not None and program.shaped is not None:
            samplers = tuple(in_region(s, o, program.shaped.cut)
                             for s, o in zip(samplers, observations))
        return cls(tuple(observations), samplers, weights, values)

    @property
    def counts(self) -> dict[str, int]:
        """Observations per field."""
        return {o.field: o.count for o in self.observations}

    def sampled(self, arrays: Mapping[str, jax.Array]) -> jax.Array:
        """The observed fields (arrays in their argument order on the grid) at the
        observation points, weighted like `values`; linear in the arrays."""
        return jnp.concatenate([sampler(arrays[o.field]) * w for o, sampler, w in
                                zip(self.observations, self.samplers, self.weights)])

    def misfits(self, residual: np.ndarray) -> dict[str, float]:
        """Each field's misfit relative to its data, from a residual that starts with
        `sampled(...) - values`."""
        ends = np.cumsum([o.count for o in self.observations])
        return {o.field: float(np.linalg.norm(residual[end - o.count:end]))
                for o, end in zip(self.observations, ends)}


@dataclass(frozen=True)
class RunStarts:
    """The initial states of several runs: each field a run observes at the initial time
    starts from those observations (interpolated linearly onto the grid's nodes), the
    others from the spec's initial condition; `values[key]` has a first axis per run."""

    labels: np.ndarray
    values: Mapping[str, np.ndarray]

    @classmethod
    def of(cls, program: FDProgram, observations: Sequence[FieldObservations],
           labels: np.ndarray) -> RunStarts:
        """A LoweringError at the data line where a field is observed at the initial time
        in some runs only, where no field is, or where a run's observations there do not
        cover its grid."""
        system = program.system
        time, t0 = system.time.name, float(system.time.lower)
        span = system.data[0].span
        values = {}
        for o in observations:
            if o.field not in program.state_keys or o.runs is None:
                continue
            first = np.abs(o.coordinate(time) - t0) <= 1e-9 * system.time.length
            missing = [r for r in range(len(labels)) if not np.any(first & (o.runs == r))]
            if len(missing) == len(labels):
                continue
            if missing:
                raise LoweringError(
                    f"run {labels[missing[0]]:g} has no observation of `{o.field}` at "
                    f"{time} = {t0:g}, where other runs have theirs; each run starts from "
                    "its own observations at the initial time", span,
                    hint=f"give every run its `{o.field}` at {time} = {t0:g}, or none")
            values[o.field] = np.stack([on_nodes(program, o, first & (o.runs == r),
                                                  labels[r]) for r in range(len(labels))])
        if not values:
            raise LoweringError(f"the data hold {len(labels)} runs, and none has observations "
                                f"at {time} = {t0:g} to start from; each run starts from "
                                "its own observations at the initial time", span,
                                hint=f"add each run's fields at {time} = {t0:g}")
        return cls(labels, values)

    def __len__(self) -> int:
        return len(self.labels)

    def initial(self, program: FDProgram, params, fitted: Mapping[str, jax.Array] | None = None
                ) -> dict[str, jax.Array]:
        """Every run's initial state (first axis: run), boundaries closed; `fitted`: values
        that replace the observed ones (fitted initial states)."""
        U0 = program.initial(params)
        t0 = jnp.asarray(program.system.time.lower, program.dtype)
        given = {k: jnp.asarray(v, program.dtype) for k, v in {**self.values,
                                                               **(fitted or {})}.items()}
        return jax.vmap(lambda own: program.closure(t0, {**U0, **own}, params))(given)

    def program(self, program: FDProgram, run: int,
                fitted: Mapping[str, np.ndarray] | None = None) -> FDProgram:
        """`program` starting from run `run`'s initial state (`fitted`: as in `initial`)."""
        return replace(program, initial=lambda params: jax.tree.map(
            lambda a: a[run], self.initial(program, params, fitted)))


def on_nodes(program: FDProgram, o: FieldObservations, rows: np.ndarray,
              label: float) -> np.ndarray:
    """The observations `rows` of field `o.field` (one time) on its state's nodes: their
    mean without space, else linear interpolation (a LoweringError where they do not
    cover the grid)."""
    axes = program.axes_of(o.field)
    shape = tuple(program.shapes[o.field])
    values = o.values[rows]
    if not axes:
        return np.full(shape, values.mean())
    points = o.points[rows][:, [o.args.index(a) for a in axes]]
    nodes = [program.grid.axis(a).coordinates()[:n] for a, n in zip(axes, shape)]
    mesh = np.stack([m.ravel() for m in np.meshgrid(*nodes, indexing="ij")], axis=1)
    if len(axes) == 1:
        order = np.argsort(points[:, 0])
        x, inside = points[order, 0], (mesh[:, 0] >= points[:, 0].min() - 1e-9) & (
            mesh[:, 0] <= points[:, 0].max() + 1e-9)
        result = np.where(inside, np.interp(mesh[:, 0], x, values[order]), np.nan)
    else:
        result = LinearNDInterpolator(points, values)(mesh)
    if program.shaped is not None:          # nodes outside the region hold no value
        result = np.where(np.ravel(program.shaped.cut.closed_on(tuple(axes))), result, 0.0)
    if np.any(np.isnan(result)):
        node = ", ".join(f"{a} = {v:.4g}" for a, v in zip(axes, mesh[np.argmax(np.isnan(result))]))
        raise LoweringError(f"run {label:g}'s observations of `{o.field}` at the initial time do "
                            f"not reach the grid node at ({node}); its initial state is "
                            "interpolated from them and needs them across the domain",
                            program.system.data[0].span,
                            hint="observe each run's initial state at points that span the "
                                 "domain, boundaries included")
    return result.reshape(shape)
