"""Minimising a sum of squares `||r(theta)||^2` over a flat parameter vector.

`levenberg_marquardt` suits a few unknowns: the Jacobian comes from forward mode (one
tangent per unknown) together with r in one compiled call, and the damped normal equations
are solved densely with Marquardt's scaling, so the iteration does not care about the
units of each unknown. `lbfgs` suits many unknowns (a coefficient field on a grid): one
reverse-mode gradient per evaluation, optax's L-BFGS with its zoom line search.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

Residuals = Callable[[jax.Array], jax.Array]

_FTOL = 1e-12     # stop when an accepted step lowers the loss by less than this fraction
_XTOL = 1e-10     # ... or moves theta by less than this fraction of its size
_GTOL = 1e-14     # ... or the gradient J^T r is this small against the loss


@dataclass(frozen=True)
class FitResult:
    """Where a minimisation ended: `theta`, its `loss` (sum of squares), the iterations
    taken, the loss before each accepted step and at the end, and why it stopped."""

    theta: np.ndarray
    loss: float
    iterations: int
    history: tuple[float, ...]
    reason: str


def levenberg_marquardt(residuals: Residuals, theta0: np.ndarray, max_iter: int,
                        observers: Sequence[Callable] = ()) -> FitResult:
    """Minimise ||residuals(theta)||^2 from `theta0` (Nielsen's damping update). Trial
    points where r is not finite (a simulation that blew up) count as failed steps."""
    evaluate = jax.jit(jax.jacfwd(lambda th: (residuals(th), residuals(th)), has_aux=True))
    theta = np.asarray(theta0, dtype=np.float64)
    J, r = _host(evaluate(jnp.asarray(theta)))
    if not np.all(np.isfinite(r)) or not np.all(np.isfinite(J)):
        return FitResult(theta, float("nan"), 0, (), "the first guess gives no finite result")
    loss = float(r @ r)
    history = [loss]
    mu, nu, reason, iterations = None, 2.0, f"the iteration limit ({max_iter})", 0
    while iterations < max_iter:
        iterations += 1
        A, g = J.T @ J, J.T @ r
        if np.max(np.abs(g)) <= _GTOL * max(loss, 1e-300) or loss == 0.0:
            reason = "the gradient vanished"
            break
        scale = np.maximum(np.diag(A), 1e-30 * max(np.max(np.diag(A)), 1e-300))
        mu = 1e-3 * np.max(scale) if mu is None else mu
        step = np.linalg.solve(A + mu * np.diag(scale), -g)
        if np.linalg.norm(step) <= _XTOL * (np.linalg.norm(theta) + _XTOL):
            reason = "the step became negligible"
            break
        trial = theta + step
        J_new, r_new = _host(evaluate(jnp.asarray(trial)))
        with np.errstate(over="ignore"):
            new_loss = float(r_new @ r_new) if np.all(np.isfinite(r_new)) else np.inf
        predicted = float(-(step @ g) + mu * step @ (scale * step))  # model decrease
        if np.isfinite(new_loss) and new_loss < loss and np.all(np.isfinite(J_new)):
            gain = (loss - new_loss) / max(predicted, 1e-300)
            mu *= max(1 / 3, 1 - (2 * gain - 1) ** 3)
            nu = 2.0
            decrease = (loss - new_loss) / loss
            theta, J, r, loss = trial, J_new, r_new, new_loss
            history.append(loss)
            _report(observers, iterations, max_iter, loss)
            if decrease < _FTOL:
                reason = "the loss stopped decreasing"
                break
        else:
            mu *= nu
            nu *= 2.0
            if nu > 2.0 ** 40:
                reason = "no step lowered the loss"
                break
    return FitResult(theta, loss, iterations, tuple(history), reason)


def lbfgs(residuals: Residuals, theta0: np.ndarray, max_iter: int,
          observers: Sequence[Callable] = ()) -> FitResult:
    """Minimise ||residuals(theta)||^2 from `theta0` with optax's L-BFGS (zoom line
    search), one compiled reverse-mode step per iteration."""
    def loss_fn(theta):
        r = residuals(theta)
        return r @ r

    optimizer = optax.lbfgs()

    @jax.jit
    def update(theta, state):
        value, grad = optax.value_and_grad_from_state(loss_fn)(theta, state=state)
        updates, state = optimizer.update(grad, state, theta, value=value, grad=grad,
                                          value_fn=loss_fn)
        return optax.apply_updates(theta, updates), state, value, grad

    theta = jnp.asarray(theta0)
    state = optimizer.init(theta)
    history, reason, iterations, previous = [], f"the iteration limit ({max_iter})", 0, None
    while iterations < max_iter:
        iterations += 1
        new_theta, new_state, value, grad = update(theta, state)
        value = float(value)
        if not np.isfinite(value) or not bool(jnp.all(jnp.isfinite(new_theta))):
            reason = "the loss became non-finite"
            break
        history.append(value)
        theta, state = new_theta, new_state
        _report(observers, iterations, max_iter, value)
        if float(jnp.max(jnp.abs(grad))) <= _GTOL * max(value, 1e-300) or value == 0.0:
            reason = "the gradient vanished"
            break
        if previous is not None and abs(previous - value) <= _FTOL * max(previous, 1e-300):
            reason = "the loss stopped decreasing"
            break
        previous = value
    final = float(loss_fn(theta))
    history.append(final)
    return FitResult(np.asarray(theta, dtype=np.float64), final, iterations, tuple(history),
                     reason)


def _host(pair) -> tuple[np.ndarray, np.ndarray]:
    J, r = pair
    return np.asarray(J, dtype=np.float64), np.asarray(r, dtype=np.float64)


def _report(observers: Sequence[Callable], iteration: int, limit: int, loss: float) -> None:
    for observe in observers:
        observe({"fit iteration": iteration, "loss": loss, "fraction": iteration / limit})
