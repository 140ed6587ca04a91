"""From a trained net back to a formula: sparse regression over a library of candidate
terms (STLSQ, the sequentially thresholded least squares of SINDy; Brunton, Proctor and
Kutz 2016), then the spec with the net replaced by what was found.

The samples are the net's inputs where the solution lives: its fields (and their
derivatives, by second-order differences on the output grid) at every node of the grid,
and the net's outputs there from its trained weights. The library holds the monomials of
the inputs up to a degree (`poly3`: 1, u, v, u^2, u v, ..., v^3) and, with `trig` or
`exp`, sin, cos or exp of each input. Each column is scaled to unit root mean square
before the regression, so the threshold is a fraction of the output's RMS: a term whose
contribution stays below it is dropped, and least squares is redone on the rest, until
nothing changes. The samples lie along the solution (for an ODE, on a curve in the
inputs' space), where the library's columns are nearly dependent and no one threshold
suits every problem: the thresholds from 1e-4 to 1 are tried in turn, and the sparsest
model whose relative RMS error is at most `tolerance` is kept (the most accurate one of
that size). When none is that close the library cannot express the term: the result
says so (`expressed` false) and shows the most accurate fit and its error.

STLSQ is written here (a dozen lines of NumPy) rather than taken from PySINDy: PySINDy
fits derivatives of trajectories, while this fits a known function at known points, and
its dependency tree (scikit-learn, and more) would cost more than the loop it replaces.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import sympy as sp

from compiler.common.nets import apply_net, flat_weights, formula_at, replace_nets
from compiler.common.observations import field_observations
from pdelang import System
from pdelang.expressions import NetOutput

from ..errors import OptionError

LIBRARIES = ("poly1", "poly2", "poly3", "poly4", "poly5", "trig", "exp")
TOLERANCE = 0.05          # the relative RMS error a discovered formula may have
THRESHOLDS = np.geomspace(1e-4, 1.0, 29)    # STLSQ's, as fractions of the output's RMS
ITERATIONS = 10
DIGITS = 4                # significant digits of the printed coefficients


@dataclass(frozen=True)
class Discovery:
    """What was found for output `index` of the net `net`: each kept term (in the net's
    declared inputs) with its coefficient, the formula, and the fit's relative RMS error
    over the samples (`error`); `ranges`: where the samples lay, per input."""

    net: str
    index: int | None            # None for a one-output net
    terms: tuple[tuple[sp.Expr, float], ...]
    error: float
    ranges: tuple[tuple[str, float, float], ...]
    expressed: bool = True       # a formula within the tolerance was found
    misfit: tuple[tuple[str, float], ...] = ()   # refitted: each field's, with the formula
    candidates: int = 0          # refitted: how many sets of terms the data judged

    @property
    def formula(self) -> sp.Expr:
        return sp.Add(*(sp.Float(float(f"{c:.{DIGITS}g}")) * term for term, c in self.terms))

    def report(self, show=str) -> str:
        name = self.net if self.index is None else f"{self.net}[{self.index}]"
        lines = [f"net {name} ~ {show(self.formula) if self.terms else '0'}"]
        lines += [f"  {c:+.6g} * {show(term)}" for term, c in self.terms]
        if self.misfit:
            misfits = ", ".join(f"{f} {m:.3g}" for f, m in self.misfit)
            lines.append(f"  terms chosen by the data (BIC over {self.candidates} sets of "
                         f"terms) and refitted there: relative misfit {misfits}")
        lines.append(f"  relative RMS distance from the net over {self.samples_text()}: "
                     f"{self.error:.3g}")
        if not self.expressed:
            lines.append("  WARNING: the library cannot express this term within the "
                         "tolerance; the most accurate fit is shown (try a richer "
                         "--library)")
        return "\n".join(lines)

    def samples_text(self) -> str:
        return ", ".join(f"{n} in [{lo:.4g}, {hi:.4g}]" for n, lo, hi in self.ranges)


def parse_library(text: str) -> tuple[int, tuple[str, ...]]:
    """`poly3,trig` -> (3, ("trig",)): the degree of the polynomials and the extras."""
    degree, extras = 3, []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if part not in LIBRARIES:
            raise OptionError(f"library part {part!r} is not available; choose from "
                              f"{', '.join(LIBRARIES)}", hint="e.g. --library poly3,trig")
        if part.startswith("poly"):
            degree = int(part[4:])
        else:
            extras.append(part)
    return degree, tuple(extras)


def candidates(symbols: Sequence[sp.Symbol], degree: int,
               extras: Sequence[str] = ()) -> list[sp.Expr]:
    """The library's terms in `symbols`: monomials by degree, then the extras."""
    terms: list[sp.Expr] = [sp.S.One]
    for d in range(1, degree + 1):
        terms += [sp.Mul(*c) for c in itertools.combinations_with_replacement(symbols, d)]
    for kind in extras:
        functions = (sp.sin, sp.cos) if kind == "trig" else (sp.exp,)
        terms += [f(s) for s in symbols for f in functions]
    return terms


def relative_rms(theta: np.ndarray, xi: np.ndarray, y: np.ndarray) -> float:
    """The RMS of theta @ xi - y over the RMS of y."""
    return float(np.sqrt(np.mean((theta @ xi - y) ** 2)) / (np.sqrt(np.mean(y**2)) or 1.0))


def threshold_path(theta: np.ndarray, y: np.ndarray) -> list[tuple[int, float, np.ndarray]]:
    """(terms kept, relative RMS error, coefficients) of STLSQ at each of THRESHOLDS."""
    path = []
    for threshold in THRESHOLDS:
        xi = stlsq(theta, y, threshold)
        path.append((np.count_nonzero(xi), relative_rms(theta, xi, y), xi))
    return path


def sparsest(theta: np.ndarray, y: np.ndarray, tolerance: float = TOLERANCE, path=None
             ) -> tuple[np.ndarray, float, bool]:
    """Along STLSQ's threshold path (`path`, when already taken), the sparsest
    coefficients with relative RMS error at most `tolerance` (the most accurate of that
    size); else the most accurate of all. Returns (coefficients, error, whether the
    tolerance was met)."""
    found = path if path is not None else threshold_path(theta, y)
    within = [f for f in found if f[1] <= tolerance]
    if within:
        count, error, xi = min(within, key=lambda f: (f[0], f[1]))
        return xi, error, True
    count, error, xi = min(found, key=lambda f: f[1])
    return xi, error, False


def stlsq(theta: np.ndarray, y: np.ndarray, threshold: float,
          iterations: int = ITERATIONS) -> np.ndarray:
    """Sparse xi with theta @ xi ~ y: least squares, then terms whose scaled contribution
    is below `threshold` times the RMS of y dropped and the rest refitted, until the kept
    set stops changing."""
    scale = np.sqrt(np.mean(theta**2, axis=0))
    scale[scale == 0] = 1.0
    columns = theta / scale
    size = np.sqrt(np.mean(y**2)) or 1.0
    kept = np.ones(theta.shape[1], bool)
    xi = np.zeros(theta.shape[1])
    for _ in range(iterations):
        xi = np.zeros(theta.shape[1])
        if kept.any():
            xi[kept] = np.linalg.lstsq(columns[:, kept], y, rcond=None)[0]
        small = np.abs(xi) < threshold * size
        if not np.any(small & kept):
            break
        kept &= ~small
    return xi / scale


def net_samples(solution, net, region: Mapping[str, tuple[float, float]] | None = None
                ) -> np.ndarray:
    """(n, inputs): the net's declared inputs at the nodes of the solution's grid that lie
    within `region` (per coordinate, the closed interval the data span; all nodes without
    it): the net learned from the data there, and is extrapolated elsewhere."""
    samples = _inputs_on_grid(solution, net)
    return samples if region is None else samples[np.ravel(_within(solution, region))]


def _inputs_on_grid(solution, net) -> np.ndarray:
    """(nodes, inputs): the net's declared inputs at every node of the solution's grid
    (of every member's, one after another: several runs)."""
    if solution.members:
        return np.concatenate([_inputs_on_grid(solution.member(i), net)
                               for i in range(solution.members)])
    return np.stack([np.ravel(_on_grid(solution, value)) for value in net.inputs], axis=1)


COVERAGE_SLACK = 0.05     # inputs this far (of the data's range) beyond it: a warning


def uncovered_inputs(solution, region: Mapping[str, tuple[float, float]] | None = None
                     ) -> list[tuple[object, str, tuple[float, float], tuple[float, float]]]:
    """For each net input that the solution takes beyond what the data showed the net by
    more than COVERAGE_SLACK of that range: (net, input, range over the solution, range
    where the data are: `region`, by default `data_region`). Beyond the data a trained
    net is extrapolating."""
    system: System = solution.system
    region = data_region(system) if region is None else region
    inside = np.ravel(_within(solution, region))
    found = []
    for net in system.nets:
        everywhere = _inputs_on_grid(solution, net)
        trained = everywhere[inside]
        if not len(trained) or not np.all(np.isfinite(everywhere)):
            continue
        for k, value in enumerate(net.inputs):
            lo, hi = float(np.min(trained[:, k])), float(np.max(trained[:, k]))
            a, b = float(np.min(everywhere[:, k])), float(np.max(everywhere[:, k]))
            slack = COVERAGE_SLACK * max(hi - lo, 1e-12)
            if a < lo - slack or b > hi + slack:
                found.append((net, _name(system, value), (a, b), (lo, hi)))
    return found


def warn_uncovered(solution) -> None:
    """A PdeWarning at the net's line for each input that `uncovered_inputs` finds."""
    import warnings

    from pdelang.errors import PdeWarning

    region = data_region(solution.system)
    where = ", ".join(f"{n} in [{lo:.4g}, {hi:.4g}]" for n, (lo, hi) in region.items())
    for net, name, (a, b), (lo, hi) in uncovered_inputs(solution, region):
        warnings.warn(PdeWarning(
            f"the net `{net.name}` is used at {name} in [{a:.4g}, {b:.4g}], but the data "
            f"({where}) showed it only {name} in [{lo:.4g}, {hi:.4g}]: beyond that its "
            "values are extrapolation", net.span,
            hint="observe where the net is used, or read the learned term back as a "
                 "formula (pdelang discover) before trusting it there"), stacklevel=2)


def data_region(system: System) -> dict[str, tuple[float, float]]:
    """Per coordinate, the interval the observations span."""
    region: dict[str, tuple[float, float]] = {}
    for o in field_observations(system, runs=True):
        for k, name in enumerate(o.args):
            lo, hi = float(np.min(o.points[:, k])), float(np.max(o.points[:, k]))
            old = region.get(name, (lo, hi))
            region[name] = (min(lo, old[0]), max(hi, old[1]))
    return region


def _within(solution, region: Mapping[str, tuple[float, float]]) -> np.ndarray:
    """The nodes of the solution's grid inside `region` (a rounding's slack at its ends;
    flat, every member's in turn where the solution has members)."""
    if solution.members:
        return np.concatenate([np.ravel(_within(solution.member(i), region))
                               for i in range(solution.members)])
    names = [c.name for c in solution.system.coordinates]
    mesh = np.meshgrid(*(solution.grid[n] for n in names), indexing="ij")
    inside = np.ones(mesh[0].shape, bool)
    for name, (lo, hi) in region.items():
        if name in names:
            slack = 1e-9 * max(1.0, abs(lo), abs(hi))
            x = mesh[names.index(name)]
            inside &= (x >= lo - slack) & (x <= hi + slack)
    return inside


def _on_grid(solution, value: sp.Expr) -> np.ndarray:
    """A coordinate, field or derivative of a field on the whole output grid."""
    system: System = solution.system
    names = [c.name for c in system.coordinates]
    mesh = np.meshgrid(*(solution.grid[n] for n in names), indexing="ij")
    if isinstance(value, sp.Symbol):
        return mesh[names.index(value.name)]
    derivative = value if isinstance(value, sp.Derivative) else None
    field = derivative.expr if derivative is not None else value
    array = np.asarray(solution.values[field.func.__name__], float)
    args = [str(a) for a in field.args]
    if derivative is not None:
        for variable, count in derivative.variable_count:
            axis = args.index(variable.name)
            for _ in range(int(count)):
                array = np.gradient(array, solution.grid[variable.name], axis=axis,
                                    edge_order=2)
    order = [args.index(n) for n in names if n in args]
    array = np.transpose(array, order)
    shape = [len(solution.grid[n]) if n in args else 1 for n in names]
    return np.broadcast_to(array.reshape(shape), mesh[0].shape)


def net_weights(params: Mapping[str, np.ndarray], net) -> np.ndarray:
    """The flat parameter vector of `net` from a result's `net.NAME.W0`, `b0`, ..."""
    try:
        return flat_weights(net, params)
    except KeyError as missing:
        raise OptionError(f"the result holds no trained weights of the net `{net.name}` "
                          f"({missing.args[0]})", net.span) from None


def discover(solution, library: str = "poly3", tolerance: float = TOLERANCE,
             refit: bool = True, misfit: str | None = None
             ) -> tuple[list[Discovery], System]:
    """Each output of each net of the solution's system as a formula, and the system
    with the nets replaced by them. With `refit` (and a time-dependent system), the terms
    are chosen and their coefficients fitted by the data (`runtime.output.refit`), the
    observations weighed by `misfit` ("scaled" or "relative"; None: as the fit did)."""
    if misfit not in (None, "scaled", "relative"):
        raise OptionError(f"misfit {misfit!r} is not available; choose scaled or relative")
    system: System = solution.system
    if not system.nets:
        raise OptionError("the system has no `net` lines: there is nothing to discover")
    degree, extras = parse_library(library)
    region = data_region(system)
    found, searched = [], []
    for net in system.nets:
        samples = net_samples(solution, net, region)
        weights = net_weights(solution.params, net)
        outputs = np.asarray(apply_net(net, weights, list(samples.T)), float)
        symbols = [sp.Dummy(f"x{i}") for i in range(len(net.inputs))]
        terms = candidates(symbols, degree, extras)
        function = sp.lambdify(symbols, terms, "numpy")
        theta = np.stack([np.broadcast_to(np.asarray(c, float), len(samples))
                          for c in function(*samples.T)], axis=1)
        back = dict(zip(symbols, net.inputs))
        named = tuple(t.xreplace(back) for t in terms)
        ranges = tuple((_name(system, x), float(np.min(col)), float(np.max(col)))
                       for x, col in zip(net.inputs, samples.T))
        for k in range(net.outputs):
            path = threshold_path(theta, outputs[:, k])
            xi, error, expressed = sparsest(theta, outputs[:, k], tolerance, path)
            kept = tuple((named[j], float(xi[j])) for j in np.flatnonzero(xi))
            found.append(Discovery(net.name, k if net.outputs > 1 else None, kept, error,
                                   ranges, expressed))
            searched.append(_search_space(net, k, named, theta, outputs[:, k], xi, path))
    if refit and system.time is not None:
        found = _refitted(solution, found, searched, tolerance, misfit)
    return found, replaced(system, found)


def _search_space(net, index: int, terms, theta: np.ndarray, y: np.ndarray,
                  start: np.ndarray, path):
    """The candidate term sets of one output for the refit: those along the threshold
    `path` and each single term; the refit starts from `start`'s."""
    from .refit import OutputTerms

    supports = {tuple(np.flatnonzero(xi)) for _, _, xi in path}
    supports |= {(j,) for j in range(len(terms))}
    supports.discard(())
    first = tuple(np.flatnonzero(start)) or min(supports, key=len)
    return OutputTerms(net, index, tuple(terms), tuple(sorted(supports, key=len)), first,
                       theta, y)


def _misfit_bounds(solution, misfits, tolerance: float) -> list[float]:
    """For each field of `misfits`, the data misfit a formula may have and still express
    the net: the trained model's own (fd's fit or odil's, in the result's meta) plus
    `tolerance`; where the result records none (pinn), the fits' verdict bound MISFIT."""
    from .convergence import MISFIT

    own = solution.meta.get("fit", {}).get("relative_misfit") or \
        solution.meta.get("relative_misfit") or {}
    return [own[f] + tolerance if f in own else MISFIT for f in misfits]


def _refitted(solution, found: list[Discovery], searched, tolerance: float,
              misfit: str | None) -> list[Discovery]:
    """`found` with each output's terms chosen and refitted by the data; `expressed` when
    the formulas fit the data as `_misfit_bounds` asks."""
    from .refit import refit

    result = refit(solution, searched, misfit)
    fits_data = all(m <= bound for m, bound in zip(result.misfit.values(),
                                                   _misfit_bounds(solution, result.misfit,
                                                                  tolerance)))
    out = []
    for d, space, support, xi in zip(found, searched, result.supports, result.coefficients):
        error = relative_rms(space.columns, xi, space.outputs)
        kept = tuple((space.terms[j], float(xi[j])) for j in support)
        out.append(replace(d, terms=kept, error=error, expressed=fits_data,
                           misfit=tuple(sorted(result.misfit.items())),
                           candidates=result.candidates))
    return out


def replaced(system: System, found: Sequence[Discovery]) -> System:
    """`system` with every use of a net replaced by its formula at the call's arguments,
    the nets and the data gone: a forward problem, ready to solve again."""
    formulas = {(d.net, d.index or 0): d for d in found}
    nets = {n.name: n for n in system.nets}

    def one(use: NetOutput) -> sp.Expr:
        return formula_at(use, formulas[(use.net, use.index)].formula, nets[use.net].inputs)

    return replace(replace_nets(system, one), data=())


def _name(system: System, value: sp.Expr) -> str:
    from pdelang.printing import expression_to_pde

    return expression_to_pde(value, {f.name: f.args for f in system.fields}, shorthand=True)
