"""`program.reach`, the box the coloured Jacobians of implicit integrators, steady solves and
fits are built on: wide enough for every stencil (one-sided ones near ends included), and no
wider on periodic axes, where there are no ends (a wider box costs colours: 128 jvps instead
of 32 on the 128^2 Brusselator)."""

from __future__ import annotations

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest

import pdelang as pl
from compiler.fd import FDOptions, lower_fd

SYSTEM = """
space x in [0, 1], y in [0, 2]
time t in [0, 1]
field u(t, x, y), v(t, x, y)
pde d(u, t) = 0.1*laplace(u) + 0.5*d(u, x) + u^2*v - 2*u
pde d(v, t) = 0.2*laplace(v) - d(v*u, y) + u - u^2*v
ic u = 1 + 0.5*sin(2*pi*x)*cos(pi*y)
ic v = 2 + 0.3*cos(2*pi*x)
FACES
"""

FACES = {
    "periodic": "bc periodic x\nbc periodic y",
    "mixed": "bc periodic x\nbc u = 1 at y = 0\nbc u = 1 at y = 2\n"
             "bc d(v, y) = 0 at y = 0\nbc d(v, y) = 0 at y = 2",
}


@pytest.mark.parametrize("faces", sorted(FACES))
@pytest.mark.parametrize("accuracy", [2, 4])
@pytest.mark.parametrize("scheme", ["central", pytest.param("weno5", marks=pytest.mark.slow)])
def test_the_coloured_jacobian_equals_the_dense_one(faces, accuracy, scheme):
    """Two coupled fields, transport and diffusion: the Jacobian coloured by
    `program.reach` equals jax.jacfwd's, and on a fully periodic grid the reach is the
    interior stencils' (central: accuracy / 2; WENO5's faces: 3), not the one-sided
    stencils' of a bounded axis."""
    from runtime.algebra.sparse_jacobian import sparse_jacobian
    from runtime.algebra.steady_program import program_sparsity

    program = lower_fd(pl.parse(SYSTEM.replace("FACES", FACES[faces])),
                       FDOptions(13, accuracy=accuracy, scheme=scheme))
    interior = accuracy // 2 if scheme == "central" else 3
    if faces == "periodic":
        assert program.reach == interior
    else:           # second derivatives one-sided at y's ends: 2 + accuracy - 1 nodes in
        assert program.reach == max(interior, 2 + accuracy - 1)
    rng = np.random.default_rng(3)
    with jax.enable_x64(True):
        U = {k: jnp.asarray(1 + 0.2 * rng.standard_normal(shape))
             for k, shape in program.shapes.items()}
        params = program.prepare({k: jnp.asarray(v) for k, v in program.params.items()})

        def rhs(V, p):
            return program.rhs(jnp.float64(0.3), V, p)

        coloured = sparse_jacobian(rhs, U, params, program_sparsity(program)).toarray()
        flat, unravel = jax.flatten_util.ravel_pytree(U)
        dense = jax.jacfwd(lambda w: jax.flatten_util.ravel_pytree(rhs(unravel(w), params))[0])(
            flat)
    np.testing.assert_allclose(coloured, np.asarray(dense), rtol=1e-12, atol=1e-9)
