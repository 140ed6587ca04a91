"""Loss balancing: rules that set the PINN loss weights between chunks of Adam steps.

A rule measures one number per term on the current networks and points (a function jitted
once per training, over the split point batch) and turns the measures into new weights on
the host, in float64 NumPy. `BALANCERS` holds the rules; `make_balancer` builds the step the
training loop calls.

- "annealing": learning-rate annealing (Wang, Teng and Perdikaris, 2021): each term's
  weight moves towards max|grad L_pde| / mean|grad L_i|, the first (PDE) term's stays.
- "gradnorm" (Wang, Wang and Perdikaris, 2023, "An expert's guide to training PINNs";
  JAXPI): lambda_i_hat = sum_j ||grad L_j|| / ||grad L_i||, L2 norms over all trainables,
  L_i the unweighted mean square of term i, so every weighted term pulls equally hard.
- "ntk" (Wang, Yu and Perdikaris, 2022, "When and why PINNs fail to train"; JAXPI):
  lambda_i_hat = sum_j tr K_j / tr K_i, tr K_i the mean over the term's points of
  ||d r_i(x_p) / d theta||^2, the diagonal of the term's neural tangent kernel.

gradnorm and ntk move the weights by the moving average lambda <- alpha lambda +
(1 - alpha) lambda_hat (alpha = `MOVING_AVERAGE`), starting from the initial weights.
Regularization terms keep their fixed weight and are left out of every sum; all other terms
(equations, conditions, data) are balanced. A term whose measure is zero (its residual does
not depend on the trainables) would get an infinite lambda_hat: each measure is floored at
`FLOOR` times the sum, so lambda_hat is at most 1 / FLOOR; when every measure is zero (or
one is not finite) there is nothing to balance by and the weights stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from compiler.pinn import PINNProgram
from compiler.pinn.residuals import Term

from ..errors import OptionError
from ..parallel.sharding import Placement
from .parallel import jit_split

ANNEALING_RATE = 0.1          # learning-rate annealing's moving average: w <- 0.9 w + 0.1 target
MOVING_AVERAGE = 0.9          # alpha of gradnorm and ntk: lambda <- alpha lambda + (1-alpha) hat
FLOOR = 1e-8                  # a term's measure is at least FLOOR times the sum over terms

Measure = Callable[[Mapping, Mapping], jax.Array]        # (nets, stored batch) -> per term
TermsOf = Callable[[Mapping, Mapping], jax.Array]        # (nets, stored) -> mean squares
Balancer = Callable[[Mapping, Mapping, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Rule:
    """A balancing rule. `measure(program, physical, terms_of, placement)` builds the
    measurement (unjitted): (nets, stored batch) -> an array over the terms; `update(weights,
    measured, balanced)` the new weights on the host; `balanced(terms)` the mask of the terms
    whose weight it moves."""

    measure: Callable[[PINNProgram, Mapping, TermsOf, Placement], Measure]
    update: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    balanced: Callable[[Sequence[Term]], np.ndarray]


def make_balancer(kind: str, program: PINNProgram, physical: Mapping, terms_of: TermsOf,
                  placement: Placement) -> Balancer:
    """(nets, stored batch, weights) -> new weights by rule `kind` of `BALANCERS`; its
    measurement is jitted once, here, with the batch split over `placement` (`terms_of`:
    the unweighted mean square of every term, as the loss computes it)."""
    if kind not in BALANCERS:
        raise OptionError(f"balance {kind!r} is not available; choose one of "
                          f"{', '.join(BALANCERS)}")
    rule = BALANCERS[kind]
    measure = jit_split(rule.measure(program, physical, terms_of, placement), placement, 1, 2)
    balanced = rule.balanced(program.terms)

    def balance(nets: Mapping, stored: Mapping, weights: np.ndarray) -> np.ndarray:
        return rule.update(weights, np.asarray(measure(nets, stored)), balanced)

    return balance


# -- learning-rate annealing ---------------------------------------------------------------

def _annealing_scales(program, physical, terms_of, placement) -> Measure:
    return lambda nets, batch: _gradient_scales(terms_of, nets, batch)


def _gradient_scales(terms_of, nets, batch):
    """Per term: max |grad| for the first (PDE) term, mean |grad| for every term."""
    jacobian = jax.jacrev(lambda n: terms_of(n, batch))(nets)
    leaves = [leaf.reshape(leaf.shape[0], -1) for leaf in jax.tree.leaves(jacobian)]
    stacked = jnp.abs(jnp.concatenate(leaves, axis=1))
    return jnp.stack([jnp.max(stacked[0]) * jnp.ones(stacked.shape[0]),
                      jnp.mean(stacked, axis=1)])


def _anneal(weights: np.ndarray, scales: np.ndarray, adapted: np.ndarray) -> np.ndarray:
    """One annealing update of the `adapted` terms' weights (never the first, PDE, term)."""
    scales = np.asarray(scales, dtype=np.float64)
    target = scales[0] / np.maximum(scales[1], 1e-30)
    return np.where(adapted, (1 - ANNEALING_RATE) * weights + ANNEALING_RATE * target, weights)


def _annealed(terms: Sequence[Term]) -> np.ndarray:
    return np.asarray([i > 0 and t.kind != "regularization" for i, t in enumerate(terms)])


# -- gradient norms and NTK traces -----------------------------------------------------------

def _gradient_norms(program, physical, terms_of, placement) -> Measure:
    """Per term: ||grad L_i||, the L2 norm over every trainable of the gradient of its
    unweighted mean square (one reverse pass per term, by jacrev)."""

    def measure(nets, stored):
        jacobian = jax.jacrev(lambda n: terms_of(n, stored))(nets)
        return jnp.sqrt(_squared_norms(jacobian))

    return measure


def _ntk_traces(program, physical, terms_of, placement) -> Measure:
    """Per term: tr K_i / n_i, the mean over its points of ||d r_i(x_p) / d theta||^2 (0 for
    regularization terms, which are not balanced)."""
    terms = program.terms

    def measure(nets, stored):
        batch = placement.load(stored)
        return jnp.stack([_ntk_trace(t, nets, physical, batch[t.name])
                          if t.kind != "regularization" else jnp.zeros((), batch[t.name].dtype)
                          for t in terms])

    return measure


def _ntk_trace(term: Term, nets: Mapping, physical: Mapping, points: jax.Array) -> jax.Array:
    """Mean over `points` of the squared norm of the per-point residual's gradient: jax.grad
    at one point, vmapped over the points: a pointwise residual's row for a point depends on
    that point only, so this is jacrev of the whole residual vector row by row, without the
    reverse pass per point through the whole batch that jacrev makes (1024 points, 64x64x64
    tanh network, Poisson, CPU: 10 ms against 6.2 s). A "mean" term's residual is one value
    over all its points: its own gradient. The residual at a point must be a scalar."""
    if term.kind == "mean":
        grad = jax.grad(lambda n: term.residual(n, physical, points).reshape(()))(nets)
        return _squared_norms(grad, batched=False)

    def at(point):
        return jax.grad(lambda n: term.residual(n, physical, point[None]).reshape(()))(nets)

    return jnp.mean(_squared_norms(jax.vmap(at)(points)))


def _squared_norms(tree, batched: bool = True) -> jax.Array:
    """Sum of squares over every leaf, per row of the leading axis when `batched`."""
    leaves = jax.tree.leaves(tree)
    if not batched:
        return sum(jnp.sum(jnp.square(leaf)) for leaf in leaves)
    return sum(jnp.sum(jnp.square(leaf.reshape(leaf.shape[0], -1)), axis=1) for leaf in leaves)


def _ratios(measured: np.ndarray, balanced: np.ndarray) -> np.ndarray | None:
    """lambda_hat = (sum of the balanced measures) / each measure, the measure floored at
    `FLOOR` times the sum; None when the sum is zero or not finite."""
    measured = np.asarray(measured, dtype=np.float64)
    total = float(np.sum(measured[balanced]))
    if not (np.isfinite(total) and total > 0):
        return None
    return total / np.maximum(measured, FLOOR * total)


def _average(weights: np.ndarray, measured: np.ndarray, balanced: np.ndarray) -> np.ndarray:
    """One moving-average update of the balanced terms' weights towards `_ratios`."""
    weights = np.asarray(weights, dtype=np.float64)
    hat = _ratios(measured, balanced)
    if hat is None:
        return weights
    return np.where(balanced, MOVING_AVERAGE * weights + (1 - MOVING_AVERAGE) * hat, weights)


def _unregularized(terms: Sequence[Term]) -> np.ndarray:
    return np.asarray([t.kind != "regularization" for t in terms])


BALANCERS: Mapping[str, Rule] = {
    "annealing": Rule(_annealing_scales, _anneal, _annealed),
    "gradnorm": Rule(_gradient_norms, _average, _unregularized),
    "ntk": Rule(_ntk_traces, _average, _unregularized),
}
