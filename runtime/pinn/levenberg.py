"""Levenberg-Marquardt on a PINN's residuals: second-order steps for small networks.

A PINN's loss is a sum of squares, so Gauss-Newton applies: linearise the scaled residual
vector r(theta + d) ~ r + J d and solve (J^T J + mu D) d = -J^T r, D the diagonal of
J^T J (Marquardt's scaling). For networks of a few thousand parameters the normal matrix is
small and dense and one step costs a few tenths of a second on a CPU, yet a step does what
thousands of Adam steps cannot: the loss falls by orders of magnitude to the float64
roundoff floor, where first-order methods stall near float32's (Shahab, Mukhlash and
Susanto 2026, shallow PINNs with LM on Burgers, Allen-Cahn and Bratu; Mueller and
Zeinhofer 2023 on natural-gradient PINNs reaching 1e-7 on Poisson).

J is built a row block per term: the residuals are pointwise, so each point's row is the
reverse-mode gradient of its residual (vmapped over the points), N backward passes of one
point each rather than one per parameter over all points; a mean condition, whose one
residual mixes every point, is differentiated whole. The damping follows Nielsen (1999):
a step that lowers the loss is taken and mu shrinks by how well the linear model predicted
the decrease; otherwise mu doubles its growth and the step is tried again with the same
linearisation. Rows are scaled by the objective's scales (term weights, causal weights),
fixed per linearisation, so the method minimises the same loss as Adam.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from .objective import Objective, terms_of

MU0 = 1e-3           # first damping, relative to the scaled diagonal
MU_MAX = 1e12        # beyond this no step lowers the loss: a minimum to roundoff
DIAGONAL_FLOOR = 1e-10   # columns of J below this fraction of the largest: damped at that


STALL_STEPS = 100    # steps in which the best loss fell less than LEVEL: levelled off
LEVEL = 0.5          # (a fall to half: on a log scale, the loss has stopped moving)


@dataclass
class LMState:
    """The damping between steps (mu and Nielsen's growth factor nu), and the best loss
    on the current points with the steps since it last fell by LEVEL (`restart` when the
    points change)."""

    mu: float = MU0
    nu: float = 2.0
    best: float = float("inf")
    since: int = 0

    @property
    def converged(self) -> bool:
        return self.mu > MU_MAX or self.since >= STALL_STEPS

    @property
    def reason(self) -> str:
        if self.mu > MU_MAX:
            return "converged: no Levenberg-Marquardt step lowers the loss (roundoff)"
        return (f"converged: the loss fell less than {1 / (1 - LEVEL):g}x in {STALL_STEPS} "
                "Levenberg-Marquardt steps")

    def restart(self) -> None:
        self.best, self.since = float("inf"), 0

    def record(self, loss: float) -> None:
        if loss < self.best * (1 - LEVEL):
            self.best, self.since = loss, 0
        else:
            self.since += 1


def parameter_count(nets: Mapping) -> int:
    return int(sum(np.size(leaf) for leaf in jax.tree.leaves(nets)))


class LevenbergMarquardt:
    """Steps of LM on `objective` for trainables shaped like `nets` (one device)."""

    def __init__(self, objective: Objective, nets: Mapping):
        self.objective = objective
        _, self.unravel = ravel_pytree(nets)
        self._linearize = jax.jit(self._linearize_impl)
        self._trial = jax.jit(self._trial_impl)

    def _rows(self, theta, physical, batch, scales):
        """The scaled Jacobian's row block and residual of every term."""
        blocks = []
        for t, s in zip(self.objective.program.terms, scales):
            points = batch[t.name]
            if t.kind == "mean":
                def whole(th, t=t, points=points):
                    return t.residual(self.unravel(th), physical, points).reshape(-1)
                jac = jax.jacrev(whole)(theta)[None]                   # (1, k, P)
                res = whole(theta)[None]
            elif t.kind == "data":
                # a data residual compares the field at its points with the observations in
                # their order: at one point it gives that point's value minus every
                # observation, of which the point's own (index i) is its row
                def observed(th, p, i, t=t):
                    return t.residual(self.unravel(th), physical, p[None]).reshape(-1)[i]
                index = jnp.arange(points.shape[0])
                jac = jax.vmap(jax.jacrev(observed), in_axes=(None, 0, 0))(
                    theta, points, index)[:, None]                        # (n, 1, P)
                res = t.residual(self.unravel(theta), physical, points).reshape(-1, 1)
            else:
                def one(th, p, t=t):
                    return t.residual(self.unravel(th), physical, p[None]).reshape(-1)
                jac = jax.vmap(jax.jacrev(one), in_axes=(None, 0))(theta, points)
                res = jax.vmap(one, in_axes=(None, 0))(theta, points)
            blocks.append(((s[:, None, None] * jac).reshape(-1, theta.size),
                           (s[:, None] * res).reshape(-1)))
        return blocks

    def _linearize_impl(self, theta, physical, batch, weights, eps):
        nets = self.unravel(theta)
        residuals = self.objective.residuals(nets, physical, batch)
        scales, slabs = self.objective.scales(residuals, batch, weights, eps)
        normal = jnp.zeros((theta.size, theta.size), theta.dtype)
        gradient = jnp.zeros_like(theta)
        loss = jnp.zeros((), theta.dtype)
        for jac, res in self._rows(theta, physical, batch, scales):
            normal = normal + jac.T @ jac
            gradient = gradient + jac.T @ res
            loss = loss + res @ res
        return normal, gradient, loss, terms_of(residuals), slabs, scales

    def _trial_impl(self, theta, normal, gradient, mu, physical, batch, scales):
        diagonal = jnp.diagonal(normal)
        diagonal = jnp.maximum(diagonal, DIAGONAL_FLOOR * jnp.max(diagonal))
        factor = jnp.linalg.cholesky(normal + mu * jnp.diag(diagonal))
        step = -jax.scipy.linalg.cho_solve((factor, True), gradient)
        new = theta + step
        residuals = self.objective.residuals(self.unravel(new), physical, batch)
        loss = sum(jnp.sum(jnp.square(s[:, None] * r)) for s, r in zip(scales, residuals))
        predicted = -(2 * gradient @ step + step @ (normal @ step))
        return new, loss, predicted

    def run(self, nets: Mapping, state: LMState, physical: Mapping, batch: Mapping,
            weights: jax.Array, eps: jax.Array, steps: int):
        """Up to `steps` trial steps from `nets`; per step the loss (after it), each term's
        mean square and the slabs' causal weights. Stops early once converged (mu past
        MU_MAX: no step lowers the loss)."""
        theta, _ = ravel_pytree(nets)
        normal, gradient, loss, terms, slabs, scales = self._linearize(
            theta, physical, batch, weights, eps)
        values, rows = [], []
        for _ in range(steps):
            if state.converged:
                break
            new, trial_loss, predicted = self._trial(theta, normal, gradient, state.mu,
                                                     physical, batch, scales)
            actual = float(loss - trial_loss)
            if np.isfinite(actual) and actual > 0:
                rho = actual / max(float(predicted), 1e-300)
                state.mu *= max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
                state.nu = 2.0
                theta = new
                normal, gradient, loss, terms, slabs, scales = self._linearize(
                    theta, physical, batch, weights, eps)
            else:
                state.mu *= state.nu
                state.nu *= 2.0
            values.append(float(loss))
            rows.append(np.asarray(terms))
            state.record(float(loss))
        rows = np.asarray(rows) if rows else np.zeros((0, len(self.objective.program.terms)))
        return self.unravel(theta), state, np.asarray(values), rows, np.asarray(slabs)
