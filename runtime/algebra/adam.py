"""Adam (optax) on a sum of squares `||r(theta)||^2`: the warm start of a fit of learned
functions. Its steps are at most about the learning rate per unknown, where L-BFGS's first
step, scaled by the gradient alone, can carry an untrained net far enough to make the
simulation blow up (a learned flux that turns diffusion backwards). A step to a non-finite
loss is undone and the rate halved; the best iterate is returned (the last one, for
mini-batches, whose losses are of different batches)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

Residuals = Callable[[jax.Array], jax.Array]


def adam(residuals: Residuals, theta0: np.ndarray, steps: int, learning_rate: float,
         observers: Sequence[Callable] = (),
         batches: Callable[[int], np.ndarray] | None = None,
         replan: Callable[[np.ndarray], bool] | None = None) -> np.ndarray:
    """`steps` Adam steps from `theta0` on ||residuals(theta)||^2; the iterate of least
    loss. With `batches`, step k's loss is ||residuals(theta, batches(k))||^2 (a
    mini-batch; all of one shape). Observers get {"iteration", "loss", "fraction",
    "stage": "adam"}. `replan`, as for `runtime.algebra.lbfgs.lbfgs`: asked at a
    non-finite loss whether `residuals` has changed so that it may be finite there; then
    the step is compiled afresh and retried."""
    optimizer = optax.inject_hyperparams(optax.adam)(learning_rate=learning_rate)

    def compile_step():
        value_and_grad = jax.value_and_grad(
            lambda th, *batch: jnp.sum(residuals(th, *batch) ** 2))

        @jax.jit
        def step(theta, state, *batch):
            loss, grad = value_and_grad(theta, *batch)
            updates, state = optimizer.update(grad, state, theta)
            return optax.apply_updates(theta, updates), state, loss
        return step

    step = compile_step()
    theta = jnp.asarray(theta0, jnp.float64)
    state = optimizer.init(theta)
    best, best_loss, rate = theta, np.inf, learning_rate
    for k in range(steps):
        batch = () if batches is None else (batches(k),)
        trial, trial_state, loss = step(theta, state, *batch)
        if not np.isfinite(float(loss)) and replan is not None and \
                replan(np.asarray(theta, np.float64)):
            step = compile_step()
            trial, trial_state, loss = step(theta, state, *batch)
        loss = float(loss)                       # the loss at `theta`, before the step
        if not np.isfinite(loss):
            rate /= 2
            theta, state = best, optimizer.init(best)
            state.hyperparams["learning_rate"] = jnp.asarray(rate)
            continue
        if loss < best_loss or batches is not None:
            best, best_loss = theta, loss
        theta, state = trial, trial_state
        for observe in observers:
            observe({"iteration": k + 1, "loss": loss, "fraction": (k + 1) / steps,
                     "stage": "adam"})
    return np.asarray(best, np.float64)
