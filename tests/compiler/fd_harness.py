"""Small, independent solvers for checking lowered FD programs in tests.

They use no part of runtime/, so a compiler test fails only when the compiler is wrong:
a dense Newton solve for steady residuals and classic RK4 with a fixed step.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
from jax.flatten_util import ravel_pytree

from compiler.fd import FDOptions, lower_fd


def params_of(program):
    return {k: jnp.asarray(v) for k, v in program.params.items()}


def steady(program, iterations: int = 8):
    """Newton with a dense Jacobian; fine for the small grids of tests."""
    params = params_of(program)
    U = program.initial(params)
    flat, unravel = ravel_pytree(U)

    @jax.jit
    def F(v):
        return ravel_pytree(program.residual(unravel(v), params))[0]

    jacobian = jax.jit(jax.jacfwd(F))
    for _ in range(iterations):
        r = F(flat)
        if float(jnp.max(jnp.abs(r))) < 1e-11:
            break
        flat = flat - jnp.linalg.solve(jacobian(flat), r)
    return unravel(flat), None


def evolve(program, dt: float):
    """RK4 from the initial time to the final time with a step close to `dt`."""
    params = params_of(program)
    t0, t1 = program.system.time.bounds
    steps = max(int(np.ceil((t1 - t0) / dt)), 1)
    h = (t1 - t0) / steps
    rhs = program.rhs

    def add(U, k, c):
        return jax.tree.map(lambda u, d: u + c * d, U, k)

    @jax.jit
    def run(U):
        def step(carry, _):
            t, U = carry
            k1 = rhs(t, U, params)
            k2 = rhs(t + h / 2, add(U, k1, h / 2), params)
            k3 = rhs(t + h / 2, add(U, k2, h / 2), params)
            k4 = rhs(t + h, add(U, k3, h), params)
            U = jax.tree.map(lambda u, a, b, c, d: u + h / 6 * (a + 2 * b + 2 * c + d),
                             U, k1, k2, k3, k4)
            return (t + h, U), None

        (t, U), _ = jax.lax.scan(step, (jnp.asarray(t0), U), None, length=steps)
        return program.closure(t, U, params)

    return run(program.initial(params)), t1


def errors(program, U, t=None) -> dict[str, float]:
    """Relative L2 error of each field with an `exact` line, on the stored nodes."""
    system = program.system
    out = {}
    constants = {sp.Symbol(k): float(v) for k, v in program.params.items() if np.ndim(v) == 0}
    for e in system.exact:
        args = [a for a in system.field(e.field).args if system.time is None
                or a != system.time.name]
        mesh = np.meshgrid(*(program.grid.axis(a).node_coordinates() for a in args),
                           indexing="ij")
        symbols = [sp.Symbol(a) for a in args]
        expr = e.expr.xreplace(constants)
        if system.time is not None:
            expr = expr.subs(system.time.symbol, t)
        exact = np.broadcast_to(sp.lambdify(symbols, expr, "numpy")(*mesh), mesh[0].shape) \
            if args else float(expr)
        value = np.asarray(U[e.field])
        out[e.field] = float(np.linalg.norm(value - exact) / np.linalg.norm(exact))
    return out


def observed_order(system, sizes, solve, **options) -> tuple[list[float], float]:
    """Errors on grids of `sizes` points and the order fitted between the last two."""
    errs = []
    for n in sizes:
        program = lower_fd(system, FDOptions(grid=n, **options))
        U, t = solve(program)
        errs.append(max(errors(program, U, t).values()))
    h = [1.0 / (n - 1) for n in sizes]
    order = float(np.log(errs[-2] / errs[-1]) / np.log(h[-2] / h[-1]))
    return errs, order
