"""Rosenbrock methods with error control: Rodas4, for stiff systems of modest size.

A Rosenbrock method is linearly implicit: each step factorises one matrix
W = I / (gamma h) - J (J the Jacobian of rhs at the step's start) and solves one linear
system per stage, with no Newton iteration. In Hairer and Wanner's transformed form
(Solving ODEs II, section IV.7; their code rodas.f):

    U_i = y + sum_{j<i} a_ij k_j
    k_i = W^-1 [ f(t + c_i h, U_i) + sum_{j<i} (C_ij / h) k_j + d_i h df/dt ]

Rodas4 (6 stages, order 4, L-stable, stiffly accurate) has y_new = U_6 + k_6 and the local
error estimate k_6 (of the embedded order-3 solution). Its coefficients are Hairer's, as
rodas.f and OrdinaryDiffEq.jl's Rodas4 tableau print them.

The Jacobian and df/dt come from JAX (forward mode) on the flattened state, dense, and W
is factorised by LU: right for ODE systems and small grids (`DENSE_LIMIT` unknowns).
Steps are accepted or rejected by the weighted RMS norm of the error estimate, with the PI
controller of the explicit pairs, and never pass `t_stop`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar, final

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from jax.scipy.linalg import lu_factor, lu_solve

from runtime.errors import OptionError

from . import pytree as tree
from .adaptive import PIController, initial_step, settle
from .base import AbstractIntegrator, Options, Rhs, State, float_dtype, initial_state
from .pytree import PyTree

DENSE_LIMIT = 4096   # unknowns: above this a dense Jacobian (n^2 memory, n^3 LU) is refused


@dataclass(frozen=True)
class RosenbrockTableau:
    """Coefficients in the transformed form: `a` and `C` strictly lower triangular (s x s),
    `c` the stage times, `d` the df/dt weights (gamma_i), `gamma` the diagonal; the new
    solution is U_s + k_s and the error estimate k_s (stiffly accurate methods)."""

    gamma: float
    a: tuple[tuple[float, ...], ...]
    C: tuple[tuple[float, ...], ...]
    c: tuple[float, ...]
    d: tuple[float, ...]
    order: int

    @property
    def stages(self) -> int:
        return len(self.c)

    def step(self, f: Callable, solve: Callable, t: Any, y: Any, h: Any, f_t: Any
             ) -> tuple[Any, Any]:
        """The stages from (t, y) with step h: (y_new = U_s + k_s, the error estimate k_s).
        `f(t, y)`: the right-hand side on flat vectors; `solve(F)`: W^-1 F for the step's
        W = I / (gamma h) - J; `f_t`: df/dt at (t, y). The arithmetic is `+` and `*` only,
        so the same code runs on jax arrays inside `jit` and on numpy arrays on the host."""
        ks: list = []
        U_i = y
        for i in range(self.stages):
            U_i = y + sum(a * k for a, k in zip(self.a[i], ks)) if i else y
            F = f(t + self.c[i] * h, U_i) + self.d[i] * h * f_t
            if i:
                F = F + sum(C / h * k for C, k in zip(self.C[i], ks))
            ks.append(solve(F))
        return U_i + ks[-1], ks[-1]


RODAS4_TABLEAU = RosenbrockTableau(
    gamma=0.25,
    a=((),
       (1.544,),
       (0.9466785280815826, 0.2557011698983284),
       (3.314825187068521, 2.896124015972201, 0.9986419139977817),
       (1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950),
       (1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950, 1.0)),
    C=((),
       (-5.6688,),
       (-2.430093356833875, -0.2063599157091915),
       (-0.1073529058151375, -9.594562251023355, -20.47028614809616),
       (7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160),
       (8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136,
        -6.058818238834054)),
    c=(0.0, 0.386, 0.21, 0.63, 1.0, 1.0),
    d=(0.25, -0.1043, 0.1035, -0.0362, 0.0, 0.0),
    order=4,
)


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class RosenbrockCarry:
    """`err_prev`: the last accepted error norm; `rejected_last`: the previous attempt
    failed (then the next step may not grow)."""

    err_prev: jax.Array
    rejected_last: jax.Array


@final
@dataclass(frozen=True)
class Rosenbrock(AbstractIntegrator):
    """An adaptive Rosenbrock method with a dense Jacobian; propagates the higher-order
    solution."""

    name: str
    tableau: RosenbrockTableau
    controller: PIController = PIController(factor_max=6.0)
    adaptive: ClassVar[bool] = True

    @property
    def order(self) -> int:
        return self.tableau.order

    def init(self, rhs: Rhs, t0: Any, U0: PyTree, params: PyTree, options: Options) -> State:
        dtype = float_dtype()
        t0 = jnp.asarray(t0, dtype)
        dt = options.dt
        if dt is None:
            dt = initial_step(rhs, t0, U0, params, rhs(t0, U0, params), options, self.order)
        carry = RosenbrockCarry(jnp.asarray(1e-4, dtype), jnp.asarray(False))
        return initial_state(rhs, t0, U0, params, options, dt, carry)

    def check(self, rhs: Rhs, t0: Any, U0: PyTree, params: PyTree) -> None:
        size = sum(int(np.size(x)) for x in jax.tree.leaves(U0))
        if size > DENSE_LIMIT:
            raise OptionError(f"{self.name} forms the Jacobian densely, and this system has "
                              f"{size} unknowns (at most {DENSE_LIMIT})",
                              hint="use --integrator sdirk2 (matrix-free) for large grids")

    def step(self, state: State) -> State:
        tab, carry, opts = self.tableau, state.carry, state.options
        remaining = state.t_stop - state.t
        lands = state.dt >= remaining
        h = jnp.minimum(state.dt, remaining)
        y, unravel = ravel_pytree(state.U)

        def f(t, flat):
            return ravel_pytree(state.rhs(t, unravel(flat), state.params))[0].astype(y.dtype)

        t, hy = state.t, h.astype(y.dtype)        # the algebra in the state's dtype
        jacobian = jax.jacfwd(f, argnums=1)(t, y)
        f_t = jax.jvp(lambda s: f(s, y), (t,), (jnp.ones_like(t),))[1].astype(y.dtype)
        W = jnp.eye(y.size, dtype=y.dtype) / (tab.gamma * hy) - jacobian
        factors = lu_factor(W)
        y_new, error = tab.step(f, lambda F: lu_solve(factors, F), t, y, hy, f_t)
        U_new = unravel(y_new)
        err = tree.rms_norm(unravel(error),
                            tree.weights(state.U, U_new, opts.rtol, opts.atol))
        finite = jnp.isfinite(err) & jnp.all(jnp.isfinite(y_new))
        err = jnp.where(finite, err, jnp.inf)
        moved, accepted, err_prev = settle(state, self.controller, tab.order - 1, h, lands,
                                           U_new, err, finite, carry.err_prev,
                                           carry.rejected_last)
        return replace(moved, carry=RosenbrockCarry(err_prev, ~accepted))


RODAS4 = Rosenbrock("rodas4", RODAS4_TABLEAU)
