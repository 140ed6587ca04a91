"""Rodas4 on grids: the Rosenbrock steps of `rosenbrock.py` with a sparse Jacobian and a
sparse LU, driven from the host.

A method-of-lines system couples each node only to its stencil's neighbours, so its
Jacobian is found with a handful of coloured Jacobian-vector products
(`runtime.algebra.sparse_jacobian`, the colouring steady solves use) and
W = I / (gamma h) - J is factorised by SciPy's SuperLU: for a 2-D grid the factors stay
near-linear in size, where the dense form of `rosenbrock.py` grows as n^2 memory and n^3
work. The right-hand side, the Jacobian's jvps and df/dt run jitted on the device; the step
control and the six triangular solves a step run on the host. Each step refactorises W
(a Rosenbrock method needs the Jacobian at the step's start for its order), which bounds
its reach: a 32 x 32 Brusselator factorises in 19 ms, a 128 x 128 one in 0.55 s a step,
where a BDF code reuses one factorisation over many steps.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np
import scipy.sparse as sps
from jax.flatten_util import ravel_pytree

from runtime.algebra.sparse_jacobian import Sparsity, make_sparse_jacobian
from runtime.algebra.sparse_lu import superlu

from ..adaptive import PIController
from ..base import Rhs
from ..loop import Stats, Trajectory, output_times
from ..pytree import PyTree
from ..rosenbrock import RODAS4, RODAS4_TABLEAU, RosenbrockTableau
from .common import first_step, flat_rhs, host_failure, host_stats, stack_outputs

Observer = Callable[[float, PyTree, Stats], Any]


def integrate_sparse_rosenbrock(
    rhs: Rhs, U0: PyTree, t_eval: Sequence[float] | np.ndarray, sparsity: Sparsity, *,
    rtol: float = 1e-6, atol: float = 1e-8, max_steps: int = 100_000,
    observers: Sequence[Observer] = (), tableau: RosenbrockTableau = RODAS4_TABLEAU,
    controller: PIController = RODAS4.controller,
) -> Trajectory:
    """Integrate `dU/dt = rhs(t, U, {})` from U0 at t_eval[0], saving every t_eval, with
    Rodas4's error control (weighted RMS norm, `atol + rtol * max(|U|, |U_new|)`). Steps
    land on each output time. Raises SolveError when the solution turns NaN/Inf, the step
    collapses or `max_steps` attempts are spent; its `trajectory` holds the outputs so far.
    """
    start = time.perf_counter()
    times = output_times(t_eval)
    U0 = {k: jnp.asarray(v) for k, v in dict(U0).items()}
    y, unravel = ravel_pytree(U0)
    dtype = y.dtype
    jacobian = make_sparse_jacobian(lambda U, t: rhs(t, U, {}), U0, sparsity)
    flat = flat_rhs(rhs, unravel, dtype)
    f, f_t = flat.f, flat.f_t
    y = np.asarray(y)
    identity = sps.identity(y.size, dtype=dtype, format="csc")
    t = float(times[0])
    h = first_step(f, t, y, f(t, y), rtol, atol, 4, float(times[-1] - times[0]))
    err_prev, rejected_last = 1e-4, False
    steps = rejected = 0
    dt_min, dt_max = math.inf, 0.0
    outputs = [unravel(jnp.asarray(y))]
    for i in range(1, len(times)):
        t_to = float(times[i])
        while t < t_to:
            if steps + rejected >= max_steps or h <= 10 * np.finfo(dtype).eps * abs(t):
                reason = (f"rodas4 used up max_steps = {max_steps} steps" if steps + rejected
                          >= max_steps else f"rodas4's step size collapsed to {h:.3g}")
                raise host_failure("rodas4", f"{reason} at t = {t:.6g}", times[:i], outputs,
                                   steps)
            lands = h >= t_to - t
            step = min(h, t_to - t)
            y_new, error = _attempt(tableau, f, f_t, jacobian, identity, t, y, step, dtype)
            scale = atol + rtol * np.maximum(np.abs(y), np.abs(y_new))
            err = float(np.sqrt(np.mean((error / scale) ** 2)))
            err = err if math.isfinite(err) and np.all(np.isfinite(y_new)) else math.inf
            accepted = err <= 1.0
            factor = float(controller.factor(jnp.asarray(err), jnp.asarray(err_prev),
                                             jnp.asarray(accepted),
                                             jnp.asarray(rejected_last),
                                             error_order=tableau.order - 1))
            if accepted:
                t = t_to if lands else t + step
                y = y_new
                steps += 1
                dt_min, dt_max = min(dt_min, step), max(dt_max, step)
                err_prev = max(err, 1e-4)
                h_next = step * factor
                h = max(h_next, h) if lands else h_next
            else:
                rejected += 1
                h = step * factor
            rejected_last = not accepted
        outputs.append(unravel(jnp.asarray(y)))
        stats = host_stats("rodas4", steps, rejected, h, dt_min, dt_max, start)
        for observe in observers:
            observe(t_to, outputs[-1], stats)
    return Trajectory(t=times, U=stack_outputs(outputs),
                      stats=host_stats("rodas4", steps, rejected, h, dt_min, dt_max, start))


def _attempt(tab: RosenbrockTableau, f, f_t, jacobian, identity, t: float, y: np.ndarray,
             h: float, dtype) -> tuple[np.ndarray, np.ndarray]:
    """One Rosenbrock step of size h from (t, y): the new state and the error estimate."""
    _, J = jacobian.linearize(y, jnp.asarray(t, dtype))
    W = (identity / (tab.gamma * h) - J).tocsc()
    lu = superlu(W)                    # a new factorisation each step: see the docstring
    return tab.step(f, lu.solve, t, y, h, f_t(t, y))
