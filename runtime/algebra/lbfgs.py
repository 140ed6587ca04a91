"""L-BFGS for a sum of squares `||r(theta)||^2` with many unknowns (a coefficient field
on a grid), where a Jacobian would cost a tangent per unknown: one reverse-mode gradient
per evaluation, SciPy's L-BFGS-B (its line search and stopping tests), the loss and its
gradient compiled once per fit. Few unknowns are better served by Levenberg-Marquardt
(`runtime.algebra.least_squares`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize

from .least_squares import LeastSquaresResult

Residuals = Callable[[jax.Array], jax.Array]

_FTOL = 1e-12     # stop when an iteration lowers the loss by less than this fraction
_BLOWN_UP = 1e30  # the loss reported where the simulation is not finite (times the first)


def lbfgs(residuals: Residuals, theta0: np.ndarray, max_iter: int,
          observers: Sequence[Callable] = (), monitor: Callable | None = None,
          patience: int = 50, replan: Callable[[np.ndarray], bool] | None = None
          ) -> LeastSquaresResult:
    """Minimise ||residuals(theta)||^2 from `theta0` with SciPy's L-BFGS-B, the loss and
    its reverse-mode gradient from one compiled function. A point where the simulation
    blows up reports a huge loss, so the line search backs off from it. With `monitor`
    (theta -> a held-out loss), stop once it has not improved for `patience` iterations,
    and return the iterate where it was least (early stopping). `replan(theta)`, asked at
    a non-finite loss, returns True where `residuals` has changed so that it may be finite
    there (a longer plan of adaptive steps): it is compiled afresh and evaluated again."""
    value_and_grad = [_compile(residuals)]
    history: list[float] = []

    def evaluate(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = value_and_grad[0](jnp.asarray(theta))
        if not np.isfinite(float(value)) and replan is not None and replan(theta):
            value_and_grad[0] = _compile(residuals)
            value, grad = value_and_grad[0](jnp.asarray(theta))
        value, grad = float(value), np.asarray(grad, dtype=np.float64)
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            return _BLOWN_UP * max(history[0] if history else 1.0, 1.0), np.zeros_like(grad)
        return value, grad

    watched = {"best": np.inf, "x": np.asarray(theta0, np.float64), "at": 0}

    def record(intermediate_result) -> None:   # the name SciPy passes results by
        history.append(float(intermediate_result.fun))
        _report(observers, len(history), max_iter, history[-1])
        if monitor is None:
            return
        held = float(monitor(jnp.asarray(intermediate_result.x)))
        if held < watched["best"]:
            watched.update(best=held, x=np.array(intermediate_result.x), at=len(history) - 1)
        elif len(history) - 1 - watched["at"] >= patience:
            watched["stopped"] = len(history) - 1
            raise StopIteration

    first, _ = evaluate(np.asarray(theta0, dtype=np.float64))
    history.append(first)
    result = scipy.optimize.minimize(
        evaluate, np.asarray(theta0, dtype=np.float64), jac=True, method="L-BFGS-B",
        callback=record, options={"maxiter": max_iter, "ftol": _FTOL, "gtol": 0.0})
    reason = str(result.message).lower().rstrip(".")
    if monitor is not None and watched["at"]:
        stopped = "stopped" in watched
        if stopped:
            reason = (f"the held-out misfit stopped improving (least at iteration "
                      f"{watched['at']}, none better in the {patience} after)")
        return LeastSquaresResult(watched["x"], history[watched["at"]], tuple(history),
                                  int(result.nit), 0, bool(result.success) or stopped, reason)
    return LeastSquaresResult(np.asarray(result.x, dtype=np.float64), float(result.fun),
                              tuple(history), int(result.nit), 0, bool(result.success),
                              reason)


def _compile(residuals: Residuals) -> Callable:
    """The loss and its gradient, compiled; a fresh closure, so a fresh trace."""
    return jax.jit(jax.value_and_grad(lambda th: jnp.sum(residuals(th) ** 2)))


def _report(observers: Sequence[Callable], iteration: int, limit: int, loss: float) -> None:
    for observe in observers:
        observe({"iteration": iteration, "loss": loss, "fraction": iteration / limit})
