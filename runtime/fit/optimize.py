"""Minimising a sum of squares `||r(theta)||^2` over a flat parameter vector.

`levenberg_marquardt` suits a few unknowns: the Jacobian comes from forward mode (one
tangent per unknown) together with r in one compiled call, and the damped normal equations
are solved densely with Marquardt's scaling, so the iteration does not care about the
units of each unknown. `lbfgs` suits many unknowns (a coefficient field on a grid): one
reverse-mode gradient per evaluation, SciPy's L-BFGS-B (its line search and stopping
tests), with the loss and gradient compiled once per fit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize

Residuals = Callable[[jax.Array], jax.Array]

_FTOL = 1e-12     # stop when an accepted step lowers the loss by less than this fraction
_XTOL = 1e-10     # ... or moves theta by less than this fraction of its size
_GTOL = 1e-14     # ... or the gradient J^T r is this small against the loss
_BLOWN_UP = 1e30  # the loss reported where the simulation is not finite (times the first)


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
    """Minimise ||residuals(theta)||^2 from `theta0` with SciPy's L-BFGS-B, the loss and
    its reverse-mode gradient from one compiled function. A point where the simulation
    blows up reports a huge loss, so the line search backs off from it."""
    value_and_grad = jax.jit(jax.value_and_grad(lambda th: jnp.sum(residuals(th) ** 2)))
    history: list[float] = []

    def evaluate(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = value_and_grad(jnp.asarray(theta))
        value, grad = float(value), np.asarray(grad, dtype=np.float64)
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            return _BLOWN_UP * max(history[0] if history else 1.0, 1.0), np.zeros_like(grad)
        return value, grad

    def record(intermediate_result) -> None:   # the name SciPy passes results by
        history.append(float(intermediate_result.fun))
        _report(observers, len(history), max_iter, history[-1])

    first, _ = evaluate(np.asarray(theta0, dtype=np.float64))
    history.append(first)
    result = scipy.optimize.minimize(
        evaluate, np.asarray(theta0, dtype=np.float64), jac=True, method="L-BFGS-B",
        callback=record, options={"maxiter": max_iter, "ftol": _FTOL, "gtol": 0.0})
    reason = str(result.message).lower().rstrip(".")
    return FitResult(np.asarray(result.x, dtype=np.float64), float(result.fun),
                     int(result.nit), tuple(history), reason)


def _host(pair) -> tuple[np.ndarray, np.ndarray]:
    J, r = pair
    return np.asarray(J, dtype=np.float64), np.asarray(r, dtype=np.float64)


def _report(observers: Sequence[Callable], iteration: int, limit: int, loss: float) -> None:
    for observe in observers:
        observe({"fit iteration": iteration, "loss": loss, "fraction": iteration / limit})
