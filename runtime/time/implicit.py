"""Diagonally implicit Runge-Kutta (SDIRK) with a matrix-free Newton-Krylov stage solver.

For stiff, diffusion-dominated systems the explicit step limit (dt ~ h^2) is far below what
accuracy needs. Each SDIRK stage solves `Y = Z + dt*gamma * rhs(t_i, Y)`; Newton's method
linearises it with `jax.linearize` (Jacobian-vector products, no matrix is formed) and solves
`(I - dt*gamma*J) delta = -G(Y)` with GMRES: without preconditioner, or right-
preconditioned by a multigrid V-cycle of that operator built once per compiled chunk
(`SDIRK.precondition`, from `runtime.algebra.multigrid.stage_preconditioner`), which keeps
GMRES's iterations few however stiff the step. Everything is jittable: the loops are
`lax.while_loop`s and failure is a counter, reported by the runtime.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar, final

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.sparse.linalg import gmres

from . import pytree as tree
from . import tableaus
from .base import AbstractFixedStep, Options, State, float_dtype
from .pytree import PyTree
from .tableaus import Tableau


def newton_krylov(f: Any, Z: PyTree, h: Any, Y0: PyTree, options: Options,
                  precondition: Any = None) -> tuple[PyTree, jax.Array, jax.Array]:
    """Solve `G(Y) = Y - Z - h f(Y) = 0` from the guess `Y0`.

    Stops once the Newton correction is within `atol + rtol*|Y|` in RMS norm, or after
    `newton_max_iter` iterations. `precondition`: v -> an approximation of
    (I - h J)^-1 v, applied from the right (GMRES solves A P y = -G, delta = P y, so its
    tolerance stays on the true residual). Returns (Y, iterations, converged).
    """

    def body(carry):
        Y, k, _ = carry
        fY, jvp = jax.linearize(f, Y)
        G = tree.sub(tree.sub(Y, Z), tree.scale(fY, h))

        def operator(v):
            return tree.sub(v, tree.scale(jvp(v), h))

        if precondition is None:
            delta, _ = gmres(operator, tree.scale(G, -1.0), tol=options.krylov_tol,
                             atol=0.0, restart=options.krylov_restart,
                             maxiter=options.krylov_max_restarts, solve_method="incremental")
        else:
            y, _ = gmres(lambda v: operator(precondition(v)), tree.scale(G, -1.0),
                         tol=options.krylov_tol, atol=0.0, restart=options.krylov_restart,
                         maxiter=options.krylov_max_restarts, solve_method="incremental")
            delta = precondition(y)
        Y = tree.add(Y, delta)
        size = tree.rms_norm(delta, tree.weights(Y, Y, options.rtol, options.atol))
        return Y, k + 1, jnp.where(jnp.isfinite(size), size, jnp.inf).astype(float_dtype())

    def unfinished(carry):
        _, k, size = carry
        return (k == 0) | ((k < options.newton_max_iter) & (size > 1.0))

    start = (Y0, jnp.zeros((), jnp.int32), jnp.asarray(jnp.inf, float_dtype()))
    Y, k, size = jax.lax.while_loop(unfinished, body, start)
    return Y, k, size <= 1.0


@final
@dataclass(frozen=True)
class SDIRK(AbstractFixedStep):
    """A singly diagonally implicit Runge-Kutta scheme with a fixed step `state.dt`."""

    name: str
    tableau: Tableau
    adaptive: ClassVar[bool] = False
    # (t, U, h) -> v -> ~(I - h J)^-1 v, built once per chunk; None: plain GMRES
    precondition: Any = None

    def chunk_context(self, state: State, dt: Any) -> Any:
        """The stage preconditioner at the chunk's first state, shared by its steps (for a
        linear problem I - h J is the same every step; for a nonlinear one an operator
        from a few steps back still preconditions well, and GMRES corrects the rest)."""
        if self.precondition is None:
            return None
        diagonal = np.diag(self.tableau.matrix)
        if not np.allclose(diagonal, diagonal[0]):
            raise ValueError(f"{self.name}: one preconditioner for all stages needs one "
                             "gamma")
        return self.precondition(state.t, state.U, dt * float(diagonal[0]))

    def step(self, state: State, precondition: Any = None) -> State:
        # The stages run in a scan over the rows of the tableau, so the Newton-Krylov solver
        # is traced (and compiled) once, not once per stage.
        t, U, dt = state.t, state.U, state.dt
        a = self.tableau.matrix
        explicit, gamma = jnp.asarray(np.tril(a, -1)), jnp.asarray(np.diag(a))
        c = jnp.asarray(self.tableau.c)

        def stage(carry, i):
            ks, k_prev, counters = carry
            h = dt * gamma[i]
            Z = tree.add(U, tree.stage_sum(dt * explicit[i], ks))
            guess = tree.add(Z, tree.scale(k_prev, h))  # predictor: the last stage's slope

            def f(Y):
                return state.rhs(t + c[i] * dt, Y, state.params)

            Y, iterations, converged = newton_krylov(f, Z, h, guess, state.options,
                                                     precondition)
            # The stage slope from the stage equation, not rhs(Y): stiff components would
            # amplify the Newton residual.
            k = tree.scale(tree.sub(Y, Z), 1.0 / h)
            ks = jax.tree.map(lambda stack, x: stack.at[i].set(x), ks, k)
            return (ks, k, counters.solved(iterations, converged)), None

        stages = self.tableau.stages
        zeros = jax.tree.map(lambda u: jnp.zeros((stages, *u.shape), u.dtype), U)
        start = (zeros, jax.tree.map(jnp.zeros_like, U), state.counters)
        (ks, _, counters), _ = jax.lax.scan(stage, start, jnp.arange(stages))
        return replace(
            state,
            t=t + dt,
            U=tree.add(U, tree.stage_sum(dt * jnp.asarray(self.tableau.b), ks)),
            counters=counters.record(True, dt),
        )


SDIRK2 = SDIRK("sdirk2", tableaus.SDIRK2)
