"""The result of a solve (README.md, "The same problem, two ways"): grid, values, inferred
parameters, files, plots."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import sympy as sp

from pdelang import System
from pdelang.geometry import closed_mask
from pdelang.ir import RUN
from pdelang.query import parse_query
from pdelang.text import load as load_system

from ..errors import OptionError
from ..evaluate.expression import Prepared, Term, prepare
from ..evaluate.grid import GridLayout, term_at
from ..evaluate.probe import Probe, probe
from ..evaluate.quadrature import gauss_legendre, interpolant_weights, per_interval, region_samples
from .convergence import Convergence
from .files import save_npz

Evaluator = Callable[..., np.ndarray]     # (field, {coordinate: points}, derivative=())
INTERPOLATIONS = {"auto": 0, "linear": 2, "cubic": 4, "quintic": 6}   # nodes per axis


def _check_arguments(prepared: Prepared, coordinates: Mapping[str, object]) -> None:
    """Every coordinate the expression needs is given, and no other."""
    missing = [a for a in prepared.coordinates if a not in coordinates]
    extra = [a for a in coordinates if a not in prepared.coordinates]
    if missing or extra:
        needs = ", ".join(prepared.coordinates) or "no coordinate"
        raise OptionError(f"{prepared.text} needs {needs}" +
                          (f" (missing {', '.join(missing)})" if missing else "") +
                          (f" ({', '.join(extra)} is not one of them)" if extra else ""))


def rate_names(system: System) -> list[str]:
    """The names under which a time-dependent result keeps its fields' time derivatives at
    the frames (`u_t`, `u_tt`: the language's shorthand, which no declared name may be)."""
    return [key for f in system.fields for key in rate_keys(system, f.name)]


def rate_keys(system: System, name: str) -> list[str]:
    """Field `name`'s rate names (`u_t`, `u_tt`); none if it does not depend on time."""
    time = system.time
    if time is None or time.name not in system.field(name).args:
        return []
    return [f"{name}_{time.name * k}" for k in (1, 2)]


def worst_member(errors: Mapping[str, list[float]]) -> dict[str, float]:
    """A sweep's error per field: its worst member's."""
    return {name: max(values) for name, values in errors.items()}


@dataclass(frozen=True)
class Solution:
    """Fields on a grid, with what produced them.

    `grid` maps each coordinate to its 1-D array; `values` maps each field to an array with
    axes in the field's argument order; `params` holds the inferred constants; `meta` is
    what the output file stores as JSON (method, options, timings, errors). A parameter
    sweep's Solution has `sweep`, the swept constants' values (one 1-D array each, one
    entry per member), and a first axis on every field for the members; `member(i)` is
    member i's own Solution. A fit of several runs has the same, `sweep["run"]` holding
    the runs' labels. `probes` are the series `with_probes` took (runtime.evaluate.probe),
    written with the result. `rates` holds, for a time-dependent fd solve, each field's first and
    second time derivatives at the frames (`u_t`, `u_tt`: arrays shaped as `values["u"]`),
    from which values between frames are interpolated at the integrator's accuracy.
    """

    system: System
    grid: Mapping[str, np.ndarray]
    values: Mapping[str, np.ndarray]
    params: Mapping[str, float] = field(default_factory=dict)
    meta: Mapping[str, object] = field(default_factory=dict)
    evaluator: Evaluator | None = field(default=None, repr=False, compare=False)
    sweep: Mapping[str, np.ndarray] = field(default_factory=dict)
    rates: Mapping[str, np.ndarray] = field(default_factory=dict)
    probes: tuple[Probe, ...] = ()
    _prepared_cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def mask(self) -> np.ndarray | None:
        """On a shaped domain, the grid nodes inside the region or on its boundary (axes of
        the space coordinates, in their declared order); None on a box."""
        domain = self.system.domain
        if domain is None:
            return None
        return closed_mask(domain, [self.grid[c.name] for c in self.system.space])

    @property
    def method(self) -> str:
        return str(self.meta.get("method", ""))

    @property
    def converged(self) -> bool | None:
        """Whether the solve converged by its method's criterion (`convergence`); None for
        a Solution made without a verdict."""
        value = self.meta.get("converged")
        return None if value is None else bool(value)

    @property
    def convergence(self) -> Convergence | None:
        """The verdict: criterion, reason, figures, options that may help."""
        record = self.meta.get("convergence")
        return Convergence.from_meta(record) if isinstance(record, Mapping) else None

    @property
    def members(self) -> int:
        """The number of members of a sweep (0: not a sweep)."""
        return len(next(iter(self.sweep.values()))) if self.sweep else 0

    def member(self, index: int) -> Solution:
        """Member `index` of a sweep as a Solution of its own: its fields, and the system
        with the swept constants at its values (so that `exact` solutions use them)."""
        if not self.sweep:
            raise OptionError("member() picks one solve of a sweep; this Solution is one solve")
        if not -self.members <= index < self.members:
            raise OptionError(f"member {index} of a sweep of {self.members}")
        values = {k: float(v[index]) for k, v in self.sweep.items()}
        meta = {**self.meta, "member": index, "member_values": values}
        return Solution(self.system.with_constants(values), self.grid,
                        {k: np.asarray(v)[index] for k, v in self.values.items()},
                        self.params, meta, self.evaluator,
                        rates={k: np.asarray(v)[index] for k, v in self.rates.items()})

    def __call__(self, expression: str | sp.Expr, interpolation: str = "auto",
                 **coordinates: float | np.ndarray) -> np.ndarray | float:
        """`expression` (a field, or any expression of the language over the fields, their
        derivatives, the coordinates and parameters: "d(psi, y)", "u^2 + v^2") at the given
        coordinates (arrays broadcast together; time defaults to the end); for a sweep,
        stacked over members. Grid results are differentiated by the solve's stencils and
        interpolated at its accuracy (`interpolation`: "auto", or "linear", "cubic",
        "quintic"; runtime.evaluate); network results are differentiated exactly."""
        if interpolation not in INTERPOLATIONS:
            raise OptionError(f"interpolation {interpolation!r}: one of "
                              f"{', '.join(INTERPOLATIONS)}")
        if self.sweep:
            return np.stack([np.asarray(self.member(i)(expression, interpolation,
                                                       **coordinates))
                             for i in range(self.members)])
        prepared = self._prepared(expression)
        time = self.system.time
        if time is not None and time.name in prepared.coordinates \
                and time.name not in coordinates:
            coordinates = {**coordinates, time.name: float(self.grid[time.name][-1])}
        _check_arguments(prepared, coordinates)
        arrays = np.broadcast_arrays(*(np.asarray(coordinates[a], float)
                                       for a in prepared.coordinates))
        shape = arrays[0].shape if arrays else ()
        given = {a: v.ravel() for a, v in zip(prepared.coordinates, arrays)}
        result = self._evaluate(prepared, given, interpolation).reshape(shape)
        return result if result.ndim else float(result)

    def _evaluate(self, prepared: Prepared, given: Mapping[str, np.ndarray],
                  interpolation: str, near_region: bool = False, count: int = 1
                  ) -> np.ndarray:
        """The expression at the flat points `given` (`count` of them where none is given:
        a constant); `near_region`: points just outside a shaped domain are allowed
        (quadrature's sub-cells that the boundary cuts)."""
        count = len(next(iter(given.values()))) if given else count
        points = {term: self._points(term, given, count) for term in prepared.terms}
        checked = set()
        for term in prepared.terms:                # each set of points once
            key = (term.name in self.values, self._field(term.name).args, term.fixed)
            if key not in checked:
                checked.add(key)
                self._check_points(term.name, points[term], near_region)
        values = [self._term(term, points[term], interpolation) for term in prepared.terms]
        return np.broadcast_to(np.asarray(prepared(values, given), float), (count,))

    def integral(self, expression: str | sp.Expr, over: tuple[str, ...] | str | None = None,
                 interpolation: str = "auto", **coordinates: float | np.ndarray
                 ) -> np.ndarray | float:
        """The integral of `expression` over the coordinates `over` (default: all space
        coordinates; time for a system without space), over the region on a shaped domain;
        the other coordinates the expression needs are given (time defaults to the end).
        Grid results integrate the interpolant `sol(...)` evaluates (as accurate as it);
        network results use Gauss-Legendre points (runtime.evaluate.quadrature)."""
        if self.sweep:
            return np.stack([np.asarray(self.member(i).integral(expression, over,
                                                                interpolation, **coordinates))
                             for i in range(self.members)])
        space = tuple(c.name for c in self.system.space)
        time = self.system.time
        over = (over,) if isinstance(over, str) else tuple(over or space or (time.name,))
        known = {c.name for c in self.system.coordinates}
        for a in over:
            if a not in known:
                raise OptionError(f"over {a!r}: not a coordinate (coordinates: "
                                  f"{', '.join(sorted(known))})")
            if a in coordinates:
                raise OptionError(f"{a} is integrated over and also given a value")
        shaped = self.system.domain is not None and any(a in space for a in over)
        if shaped and not set(space) <= set(over):
            raise OptionError("a shaped domain is integrated over all its space coordinates "
                              f"({', '.join(space)}) at once")
        prepared = self._prepared(expression)
        rest = dict(coordinates)
        if time is not None and time.name in prepared.coordinates and time.name not in over \
                and time.name not in rest:
            rest[time.name] = float(self.grid[time.name][-1])
        _check_arguments(prepared, {**rest, **{a: 0 for a in over
                                               if a in prepared.coordinates}})
        points, weights = self._quadrature(over, shaped, interpolation)
        fixed = np.broadcast_arrays(*(np.asarray(rest[a], float) for a in rest))
        shape = fixed[0].shape if fixed else ()
        given = {a: np.repeat(v.ravel(), len(weights)) for a, v in zip(rest, fixed)}
        count = int(np.prod(shape))
        given.update({a: np.tile(p, count) for a, p in points.items()
                      if a in prepared.coordinates})
        values = self._evaluate(prepared, given, interpolation, shaped, count * len(weights))
        result = values.reshape(count, len(weights)) @ weights
        return float(result[0]) if not shape else result.reshape(shape)

    def _quadrature(self, over: tuple[str, ...], shaped: bool, interpolation: str
                    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Points (one flat array per coordinate of `over`) and weights."""
        space = [c.name for c in self.system.space]
        if shaped:
            samples, weights = region_samples(self.system.domain,
                                              [np.asarray(self.grid[a]) for a in space])
            lines = dict(zip(space, samples))
            rules = [(lines, weights)]
            rest = [a for a in over if a not in space]
        else:
            rules, rest = [], list(over)
        layout = self._layout(interpolation)
        for a in rest:
            if self.evaluator is not None:
                lo, hi = self.grid[a][0], self.grid[a][-1]
                x, w = gauss_legendre(float(lo), float(hi))
            elif a == layout.time and self.rates and layout.width > 2:
                x, w = per_interval(np.asarray(self.grid[a], float))   # between frames
            else:
                axis = layout.axis(a)
                w = interpolant_weights(axis, layout.width)
                x = axis.nodes
                x, w = x[w != 0], w[w != 0]
            rules.append(({a: x}, w))
        points: dict[str, np.ndarray] = {}
        weights = np.ones(1)
        for lines, w in rules:                      # the tensor product, flat
            count = len(weights)
            points = {a: np.repeat(v, len(w)) for a, v in points.items()}
            points.update({a: np.tile(v, count) for a, v in lines.items()})
            weights = np.outer(weights, w).ravel()
        return points, weights

    def probe(self, text: str) -> Probe:
        """`text`, an expression with `at x = ...` fixing some coordinates ("d(psi, y) at x
        = 0.5"), over the grid lines of the others (the frames, for time)."""
        return probe(text, self.system, self.grid, self._prepared, self, self.members)

    def with_probes(self, texts: Sequence[str]) -> Solution:
        """This Solution with the probes `texts` taken, to be written with it."""
        return replace(self, probes=self.probes + tuple(self.probe(t) for t in texts),
                       _prepared_cache={})

    def _prepared(self, expression: str | sp.Expr, text: str | None = None) -> Prepared:
        """The expression parsed (text) and made ready to evaluate, once per Solution;
        `text`: how messages name a SymPy expression (default: SymPy's own form)."""
        key = expression if isinstance(expression, str) else sp.srepr(expression)
        if key not in self._prepared_cache:
            if isinstance(expression, str):
                expr = parse_query(expression, self.system).expr
            else:
                expr = sp.sympify(expression)
            self._prepared_cache[key] = prepare(expr, text or str(expression), self.system,
                                                self.params)
        return self._prepared_cache[key]

    def _points(self, term: Term, given: Mapping[str, np.ndarray], count: int
                ) -> dict[str, np.ndarray]:
        """The term's arguments at the `count` points `given` (its fixed ones repeated)."""
        fixed = dict(term.fixed)
        return {a: np.full(count, fixed[a]) if a in fixed else given[a]
                for a in self._field(term.name).args}

    def _check_points(self, name: str, points: Mapping[str, np.ndarray],
                      near_region: bool) -> None:
        """Points of `name` outside the box, or (a field; unless `near_region`) outside
        a shaped region, are an error."""
        self._check_range(name, points)
        if name in self.values and not near_region:
            self._check_inside(name, tuple(points), np.stack(list(points.values()), axis=-1))

    def _term(self, term: Term, points: Mapping[str, np.ndarray], interpolation: str
              ) -> np.ndarray:
        """One term (a field or inferred coefficient field, maybe differentiated) at its
        `points` (checked)."""
        owner = self._field(term.name)
        inferred = term.name not in self.values
        if self.evaluator is not None and not inferred:
            if term.derivative:
                return np.asarray(self.evaluator(term.name, points, term.derivative), float)
            return np.asarray(self.evaluator(term.name, points), float)
        values = np.asarray(self.params[term.name] if inferred else self.values[term.name])
        rates = () if inferred else self._rates_of(term.name)
        return term_at(values, rates, owner.args, term.derivative, points,
                       self._layout(interpolation))

    def _rates_of(self, name: str) -> tuple[np.ndarray, ...]:
        """Field `name`'s first and second time derivatives at the frames (empty: not kept)."""
        keys = rate_keys(self.system, name)
        return tuple(self.rates[k] for k in keys) if keys and all(
            k in self.rates for k in keys) else ()

    def _layout(self, interpolation: str) -> GridLayout:
        options = self.meta.get("options", {}) if isinstance(self.meta, Mapping) else {}
        accuracy = int(options.get("accuracy") or 2) if isinstance(options, Mapping) else 2
        if interpolation == "auto":
            width = 2 if self._captures_shocks(options) else accuracy + 2
        else:
            width = INTERPOLATIONS[interpolation]
        time = self.system.time
        return GridLayout(self.grid, frozenset(self.system.periodic),
                          time.name if time is not None else None, accuracy, width)

    def _captures_shocks(self, options: Mapping) -> bool:
        """Whether a shock-capturing scheme (WENO, MUSCL) made the result: it is read
        linearly, so that no value between nodes leaves their range next to a shock."""
        from compiler.fd.schemes import SCHEMES, ReconstructionScheme

        named = SCHEMES.get(str(options.get("scheme")))
        return bool(self.meta.get("shock_scheme")) or isinstance(named, ReconstructionScheme)

    def _check_range(self, name: str, points: Mapping[str, np.ndarray]) -> None:
        """Points outside the grid's box are an error."""
        for a, column in points.items():
            lo, hi = self.grid[a][0], self.grid[a][-1]
            if np.any(column < lo - 1e-12 * (hi - lo)) or np.any(column > hi + 1e-12 * (hi - lo)):
                raise OptionError(f"{a} outside [{lo:g}, {hi:g}] where {name} is known")

    def _region_of(self, name: str, shape: tuple[int, ...]) -> np.ndarray | None:
        """On a shaped domain, the mask broadcast to field `name`'s array (None: a box)."""
        mask = self.mask
        if mask is None:
            return None
        args = self._field(name).args
        space = [c.name for c in self.system.space]
        lead = [a for a in args if a not in space]
        spread = np.moveaxis(mask.reshape((1,) * len(lead) + mask.shape),
                             range(len(args)), [args.index(a) for a in lead + space])
        return np.broadcast_to(spread, shape)

    def _check_inside(self, name: str, args: tuple[str, ...], points: np.ndarray) -> None:
        """On a shaped domain, points outside the region are an error."""
        domain = self.system.domain
        if domain is None:
            return
        space = [c.name for c in self.system.space]
        level = np.asarray(domain.level([points[:, args.index(a)] for a in space], np))
        extent = max(hi - lo for lo, hi in domain.bounds())
        outside = level > 1e-9 * extent
        if np.any(outside):
            first = points[np.argmax(outside)]
            where = ", ".join(f"{a} = {v:.6g}" for a, v in zip(args, first))
            raise OptionError(f"({where}) is outside the domain {domain}, where {name} is "
                              f"not defined ({int(outside.sum())} of {len(points)} points)")

    def exact_values(self, name: str) -> np.ndarray | None:
        """The `exact` solution of `name` on the grid, if the spec has one."""
        expr = self.system.exact_solution(name)
        if expr is None:
            return None
        args = self._field(name).args
        constants = {sp.Symbol(p.name): float(p.value) for p in self.system.params
                     if not p.is_field and not p.is_unknown}
        constants.update({sp.Symbol(k): float(v) for k, v in self.params.items()
                          if np.ndim(v) == 0})
        function = sp.lambdify([sp.Symbol(a) for a in args], expr.xreplace(constants), "numpy")
        mesh = np.meshgrid(*(self.grid[a] for a in args), indexing="ij")
        return np.broadcast_to(np.asarray(function(*mesh), dtype=float), mesh[0].shape)

    def errors(self) -> dict[str, float]:
        """Relative L2 error of every field that has an `exact` solution (for a sweep: the
        largest over its members, each against the exact solution at its values)."""
        if self.sweep:
            return worst_member(self.member_errors())
        out = {}
        for name in self.values:
            exact = self.exact_values(name)
            if exact is not None:
                values = np.asarray(self.values[name])
                region = self._region_of(name, values.shape)
                if region is not None:             # a shaped domain: the nodes in it
                    exact, values = exact[region], values[region]
                norm = np.linalg.norm(exact)
                diff = np.linalg.norm(values - exact)
                out[name] = float(diff / norm) if norm > 0 else float(diff)
        return out

    def member_errors(self) -> dict[str, list[float]]:
        """A sweep's relative L2 errors, member by member, of the fields that have an
        `exact` solution."""
        out: dict[str, list[float]] = {}
        for i in range(self.members):
            for name, error in self.member(i).errors().items():
                out.setdefault(name, []).append(error)
        return out

    def save(self, path: str | Path) -> Path:
        """Write the `.npz` of README.md, "Output files" (or netCDF for a `.nc` path), whole
        or not at all."""
        if Path(path).suffix == ".nc":
            from .netcdf import save_netcdf

            return save_netcdf(self, path)
        arrays = {name: np.asarray(v) for name, v in self.grid.items()}
        arrays.update({name: np.asarray(v) for name, v in self.values.items()})
        arrays.update({name: np.asarray(v) for name, v in self.params.items()})
        arrays.update({name: np.asarray(v) for name, v in self.sweep.items()})
        arrays.update({name: np.asarray(v) for name, v in self.rates.items()})
        if self.mask is not None:
            arrays["mask"] = self.mask
        meta = dict(self.meta)
        if self.probes:
            names = [f"probe.{k + 1}" for k in range(len(self.probes))]
            arrays.update({n: np.asarray(p.values) for n, p in zip(names, self.probes)})
            meta["probes"] = [p.as_meta(n) for n, p in zip(names, self.probes)]
        return save_npz(path, arrays, meta)

    def plot(self, path: str | Path | None = None, **options):
        """A default picture of the solution; saved to `path` when given (a sweep's: its
        last member's, the values named in the title; runs of a system without space:
        every run's curves)."""
        from .plots import plot_solution

        if self.sweep and not (RUN in self.sweep and not self.system.space):
            return plot_solution(self.member(-1), path, **options)

        return plot_solution(self, path, **options)   # runs without space: every run

    @classmethod
    def load(cls, path: str | Path, spec: str | Path | None = None) -> Solution:
        """The Solution saved in `path` (.npz), its system read from `spec` or from the
        spec file the result names (meta "source"). An OptionError when `path` is no
        result file or does not hold what the spec declares."""
        if not Path(path).is_file():
            raise OptionError(f"the result {str(path)!r} is not a file",
                              hint="give the .npz that `pdelang solve --out` wrote")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: np.asarray(data[k]) for k in data.files}
            meta = json.loads(str(arrays.pop("meta")))
        except (OSError, ValueError, KeyError) as error:
            raise OptionError(f"{str(path)!r} is not a result of pdelang ({error})",
                              hint="give the .npz that `pdelang solve --out` wrote") from None
        source = spec or meta.get("source")
        if not source or not Path(source).is_file():
            raise OptionError(f"the result {str(path)!r} names its spec as {source!r}, "
                              "which is not a file here", hint="give the spec with --spec "
                                                               "FILE.pde")
        system = load_system(source)
        missing = [n.name for n in (*system.coordinates, *system.fields) if n.name not in arrays]
        if missing:
            raise OptionError(f"the result {str(path)!r} holds no array `{missing[0]}`, which "
                              f"the spec {str(source)!r} declares: the result is of another "
                              "spec", hint="give its own spec with --spec FILE.pde")
        grid = {c.name: arrays.pop(c.name) for c in system.coordinates}
        values = {f.name: arrays.pop(f.name) for f in system.fields}
        arrays.pop("mask", None)
        sweep = {k: arrays.pop(k) for k in meta.get("members_of", ()) if k in arrays}
        rates = {k: arrays.pop(k) for k in rate_names(system) if k in arrays}
        probes = tuple(Probe(p["expression"], p["at"], tuple(p["axes"]), arrays.pop(p["name"]))
                       for p in meta.get("probes", ()) if p.get("name") in arrays)
        return cls(system, grid, values, arrays, meta, sweep=sweep, rates=rates, probes=probes)

    def discover(self, library: str = "poly3", tolerance: float = 0.05, refit: bool = True,
                 misfit: str | None = None):
        """Each learned function (`net` line) as a formula by sparse regression over a
        library of candidate terms (`runtime.output.discover`: "poly3", "poly2,trig",
        ...): the sparsest with relative RMS error at most `tolerance`; with `refit` (time-
        dependent systems), the terms then chosen and their coefficients fitted by the data
        (`runtime.output.refit`), the observations weighed by `misfit` ("scaled",
        "relative"; None: as an fd fit did, else scaled). Returns (the discoveries, each
        with its terms, coefficients and errors; the system with the nets replaced by
        them, `.to_pde()` ready to solve)."""
        from .discover import discover

        return discover(self, library, tolerance, refit, misfit)

    def to_xarray(self):
        """An xarray Dataset: coordinates, one variable per field, `meta` as an attribute."""
        from .netcdf import to_xarray

        return to_xarray(self)

    def animate(self, path: str | Path, name: str | None = None, fps: int = 8) -> Path:
        """An animation over time of one field (.gif, or .mp4 where ffmpeg exists); a
        sweep's last member."""
        from .animate import animate

        if self.sweep:
            return animate(self.member(-1), path, name, fps)

        return animate(self, path, name, fps)

    def _field(self, name: str):
        """The field `name`, or the unknown coefficient field `name` once inferred."""
        if name in self.params and np.ndim(self.params[name]) >= 1:
            return self.system.param(name)
        try:
            return self.system.field(name)
        except KeyError:
            raise OptionError(f"no field named {name!r} (fields: "
                              f"{', '.join(f.name for f in self.system.fields)})") from None

    def summary(self) -> str:
        failed = " (NOT CONVERGED)" if self.converged is False else ""
        lines = [f"{self.system.name or 'solution'} by {self.method}{failed}"]
        lines += [f"  {a}: {len(v)} points on [{v[0]:g}, {v[-1]:g}]" for a, v in self.grid.items()]
        lines += [f"  {len(v)} runs: {', '.join(f'{label:g}' for label in v)}" if k == RUN else
                  f"  sweep of {k}: {len(v)} members, from {v[0]:g} to {v[-1]:g}"
                  for k, v in self.sweep.items()]
        for k, v in self.params.items():
            if k.startswith("net."):
                name = k.split(".")[1]
                if k.endswith(".W0"):
                    count = sum(np.size(a) for j, a in self.params.items()
                                if j.startswith(f"net.{name}."))
                    lines.append(f"  net {name}: {count} trained weights")
            elif np.ndim(v) == 0:
                lines.append(f"  {k} = {v:.6g}")
            else:
                args = ", ".join(self.system.param(k).args)
                lines.append(f"  {k}({args}): inferred on {' x '.join(map(str, np.shape(v)))} "
                             f"points, from {np.min(v):.4g} to {np.max(v):.4g}")
        lines += [f"  relative L2 error of {k}: {e:.3e}" for k, e in self.errors().items()]
        lines += [f"  {p.describe()}" for p in self.probes]
        verdict = self.convergence
        if verdict is not None and not verdict.converged:
            lines += [verdict.warning(), f"  criterion: {verdict.criterion}"]
        elif verdict is None and self.meta.get("converged") is False:
            lines.append(f"WARNING: not converged ({self.meta.get('stop_reason', 'stopped')})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return "<pre>" + self.summary() + "</pre>"
