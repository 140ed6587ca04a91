"""Choose a discovered formula's terms by the data, and refit its coefficients there.

The net regression (`runtime.output.discover`) fits the trained net where the solution
lives. For an ODE that is a curve in the inputs' space, where the library's columns are
nearly dependent: a net a few per cent off (noisy data, a stretch the data barely
inform) is fitted as closely by several sparse formulas as by the right one, and the
coefficients inherit the net's error. Here each candidate set of terms is judged by the
data instead. Every net output becomes a sum of all its library terms with unknown
coefficients; that system is lowered once by fd, and for a candidate only its terms'
coefficients (with the spec's own unknown constants) are fitted to the observations by
Levenberg-Marquardt through the time integrator (`runtime.fd.fit_model.FitModel`), the
others held at zero, starting from the net regression's values. Candidates are compared
by the Bayesian information criterion, BIC = n ln(RSS/n) + k ln(n) (n observations, k
coefficients; Mangan et al. 2017 compare such criteria for SINDy models), with each term
asked for strong evidence besides: a term stays only if it lowers n ln(RSS/n) by more
than ln(n) + EVIDENCE, a BIC difference of 6 being "strong" on the scale of Kass and
Raftery (1995). BIC rather than Akaike's criterion: it is consistent (with more data it
picks the true terms), where AIC's penalty of 2 per term kept three spurious terms on the
noisy Lotka-Volterra example. The evidence margin because the search is wide: among the
twenty terms the stepwise search offers there, one (v^2 in the predator's equation) lowered
the misfit by 12%, a BIC difference of 4.9, by chance (the data have 5% noise and the true
term alone). The outputs are chosen in
turn, each over its candidates with the others at their current choice, until no choice
changes. An output's candidates: every set of terms along the net regression's threshold
path, every single term, and its current set less or plus one term (stepwise). Terms the
data cannot see (a column of the Jacobian that is zero with every term present, as a
constant inside the derivative of a learned flux; judged at the known physics, every
coefficient 0) are left out of every candidate: they would change nothing, and their
coefficient could be anything.

One compiled residual and Jacobian (all coefficients' columns) serve every candidate: a
candidate is a choice of columns, so the search compiles once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sps
import sympy as sp

from compiler.common.nets import formula_at, replace_nets
from compiler.common.observations import require_observations
from compiler.fd import FDOptions, lower_fd
from pdelang import System
from pdelang.expressions import NetOutput
from pdelang.ir import Net, Param

from ..algebra.least_squares import levenberg_marquardt
from ..errors import SolveError
from ..fd.fit_model import FitModel
from ..fd.simulate import FixedSteps
from ..time.integrators import get_integrator

REFIT_STEPS = 60          # Levenberg-Marquardt iterations per candidate
REFIT_TOL = 1e-10
SWEEPS = 4                # most passes over the outputs
EVIDENCE = 6.0            # what each term must win beyond BIC's ln(n)
UNSEEN = 1e-9             # a term whose Jacobian column is this small against the largest


@dataclass(frozen=True)
class OutputTerms:
    """What the search may choose for output `index` of `net`: its library `terms` (in
    the net's inputs), candidate `supports` (tuples of term indices), the support it
    starts from; `columns` (the terms at the samples) and `outputs` (the net's there)
    give each support's first guess, least squares on the net."""

    net: Net
    index: int
    terms: tuple[sp.Expr, ...]
    supports: tuple[tuple[int, ...], ...]
    start: tuple[int, ...]
    columns: np.ndarray
    outputs: np.ndarray

    def guess(self, support: tuple[int, ...]) -> np.ndarray:
        return np.linalg.lstsq(self.columns[:, list(support)], self.outputs, rcond=None)[0]

    def neighbours(self, support: tuple[int, ...], seen: frozenset[int]
                   ) -> list[tuple[int, ...]]:
        """`support` less one term, and `support` with one more of the terms in `seen`
        (stepwise search)."""
        fewer = [tuple(j for j in support if j != drop) for drop in support]
        more = [tuple(sorted(support + (add,))) for add in sorted(seen) if add not in support]
        return [s for s in fewer + more if s]


@dataclass(frozen=True)
class Refitted:
    """The chosen support and fitted coefficients (full length, zeros elsewhere) of each
    output; the relative misfit of each observed field; BIC; the spec's own unknown
    constants as refitted; how many candidate sets were fitted."""

    supports: tuple[tuple[int, ...], ...]
    coefficients: tuple[np.ndarray, ...]
    misfit: dict[str, float]
    bic: float
    constants: dict[str, float]
    candidates: int


def _step(model: FitModel, outputs: Sequence[OutputTerms], columns, start: np.ndarray,
          solved: object) -> float:
    """RK4's step for the refit: the solve's own (fd), or else the known physics' stable
    step, each at most half the stable step with every term at the net regression's
    coefficients (what the trained net does; a learned flux can make the equation far
    stiffer than the known physics alone, and a candidate near the truth must not blow
    up for want of a smaller step)."""
    learned = start.copy()
    for o, cols in zip(outputs, columns):
        learned[cols] = o.guess(tuple(range(len(o.terms))))
    step = float(solved) if isinstance(solved, (int, float)) and solved > 0 else \
        model.first_step("rk4", 0)
    limit = model.stable_step(learned, "rk4", 0)
    return step if limit is None or not np.isfinite(limit) else min(step, limit / 2)


def coefficient_name(net: str, index: int, term: int) -> str:
    return f"refit_{net}_{index}_{term}"


def coefficient_system(system: System, outputs: Sequence[OutputTerms]) -> System:
    """`system` with each net output a sum of its terms times unknown coefficients (first
    guess 0), the nets gone, the data kept."""
    by_output = {(o.net.name, o.index): o for o in outputs}

    def one(use: NetOutput) -> sp.Expr:
        o = by_output[(use.net, use.index)]
        formula = sp.Add(*(sp.Symbol(coefficient_name(o.net.name, o.index, j)) * t
                           for j, t in enumerate(o.terms)))
        return formula_at(use, formula, o.net.inputs)

    params = tuple(Param(coefficient_name(o.net.name, o.index, j), guess=sp.Float(0),
                         span=o.net.span)
                   for o in outputs for j in range(len(o.terms)))
    return replace(replace_nets(system, one), params=system.params + params)


def refit(solution, outputs: Sequence[OutputTerms], misfit: str | None = None) -> Refitted:
    """The support of each output that minimises BIC over the data, with its coefficients
    fitted there (see the module's docstring), in float64. `misfit`: how the observations
    are weighed (`--misfit` of fd fits); None: as the solution's fit did, else scaled."""
    with jax.enable_x64(True):
        return _refit(solution, outputs, misfit)


def _refit(solution, outputs: Sequence[OutputTerms], misfit: str | None) -> Refitted:
    system: System = solution.system
    coefficients_system = coefficient_system(system, outputs)
    options = solution.meta.get("options", {})
    grid = options.get("grid") if isinstance(options.get("grid"), dict) else {}
    space = {c.name for c in system.coordinates if c != system.time}
    grid = {name: n for name, n in grid.items() if name in space}   # odil's holds time too
    # arithmetic face means: the harmonic mean of a diffusion coefficient c T is 0, with a
    # zero derivative, at c = 0, where every candidate starts
    program = lower_fd(coefficients_system,
                       FDOptions(grid or None, int(options.get("accuracy", 2) or 2),
                                 face_mean="arithmetic"))
    model = FitModel(program, require_observations(coefficients_system, "fd", runs=True), 0.0,
                     misfit or options.get("misfit", "scaled"),
                     initial_state=options.get("initial_state", "given"))
    tableau = get_integrator("rk4").tableau
    unknowns = model.unknowns
    positions = {k: np.asarray(v) for k, v in
                 unknowns.unravel(jnp.arange(unknowns.size, dtype=jnp.float64)).items()}
    columns = [[int(positions[coefficient_name(o.net.name, o.index, j)])
                for j in range(len(o.terms))] for o in outputs]
    every_coefficient = {c for cs in columns for c in cs}
    constants = [i for i in range(unknowns.size) if i not in every_coefficient]
    start = np.array(unknowns.theta0, np.float64)
    for p in system.unknown_params:         # the spec's own unknowns at their fitted values
        value = solution.params.get(p.name)
        if value is not None and not p.is_field and p.interval is None:
            start[int(positions[p.name])] = float(value)

    dt = _step(model, outputs, columns, start, options.get("dt"))
    steps = FixedSteps(dt, tableau)
    both = jax.jit(jax.jacfwd(lambda th: (model.residuals(th, steps),) * 2,
                              has_aux=True))
    n = len(model.data.values)
    scored: dict[tuple, tuple[float, np.ndarray, np.ndarray]] = {}

    def score(choice: tuple[tuple[int, ...], ...]) -> float:
        if choice not in scored:
            scored[choice] = fit_choice(choice)
        return scored[choice][0]

    def fit_choice(choice):
        """(BIC, theta, residual) of the best of two fits of `choice`: from the net
        regression's coefficients, and from 0 (the known physics, whose simulation is
        finite where a rough net's guess may blow it up)."""
        free = np.array(sorted(list(constants) + [cols[j] for cols, support in
                                                  zip(columns, choice) for j in support]), int)
        guessed = start.copy()
        for o, cols, support in zip(outputs, columns, choice):
            guessed[[cols[j] for j in support]] = o.guess(support)
        tries = [least_squares(guessed, free), least_squares(start, free)]
        rss, theta = min(tries, key=lambda t: t[0])
        k = sum(len(s) for s in choice)
        if not np.isfinite(rss) or k >= n:
            return np.inf, theta, np.full(n, np.inf)
        penalty = k * (np.log(n) + EVIDENCE)
        return float(n * np.log(max(rss, 1e-300) / n) + penalty), theta, residual_at(theta)

    def residual_at(theta: np.ndarray) -> np.ndarray:
        return np.asarray(both(jnp.asarray(theta))[1], np.float64)

    def least_squares(theta: np.ndarray, free: np.ndarray) -> tuple[float, np.ndarray]:
        """Levenberg-Marquardt over the entries `free` of `theta`: (RSS, theta)."""
        last: dict = {}

        def full(z):
            th = theta.copy()
            th[free] = z
            return th

        def evaluate(z):
            if last.get("z") is not z:
                J, r = both(jnp.asarray(full(z)))
                last.update(z=z, r=np.asarray(r, np.float64),
                            J=np.asarray(J, np.float64)[:, free])
            return last["r"]

        def linearize(z):
            return evaluate(z), sps.csr_matrix(last["J"])

        try:
            result = levenberg_marquardt(evaluate, linearize, theta[free],
                                         max_steps=REFIT_STEPS, tol=REFIT_TOL)
        except SolveError:              # the start blows the simulation up
            return np.inf, theta
        return (float(result.loss) if np.isfinite(result.loss) else np.inf), full(result.z)

    # what each term does to the data at the known physics alone (every coefficient 0)
    effect = np.linalg.norm(np.asarray(both(jnp.asarray(start))[0]), axis=0)
    if not np.all(np.isfinite(effect)):
        effect = np.ones_like(effect)
    seen = [frozenset(j for j, c in enumerate(cols) if effect[c] > UNSEEN * effect.max())
            or frozenset(range(len(cols))) for cols in columns]

    def visible(support: tuple[int, ...], i: int) -> tuple[int, ...]:
        return tuple(j for j in support if j in seen[i])

    choice = tuple(visible(o.start, i) or (min(seen[i]),) for i, o in enumerate(outputs))
    best = score(choice)
    for _ in range(SWEEPS):
        changed = False
        for i, o in enumerate(outputs):
            candidates = [visible(s, i) for s in o.supports + tuple(o.neighbours(choice[i],
                                                                                   seen[i]))]
            for support in dict.fromkeys(s for s in candidates if s):
                trial = choice[:i] + (support,) + choice[i + 1:]
                if score(trial) < best:
                    choice, best, changed = trial, score(trial), True
        if not changed:
            break
    bic, theta, residual = scored[choice]
    coefficients = tuple(np.array([theta[c] if j in support else 0.0
                                   for j, c in enumerate(cols)])
                         for cols, support in zip(columns, choice))
    values = unknowns.unravel(jnp.asarray(theta))
    fitted_constants = {p.name: float(values[p.name])
                        for p in system.unknown_params if not p.is_field}
    return Refitted(choice, coefficients, model.data.misfits(residual), bic,
                    fitted_constants, len(scored))
