"""The coloured sparse Jacobian against jax.jacfwd on small hand-written FD residuals."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from runtime.algebra.sparse_jacobian import (
    Sparsity,
    colour_axis,
    make_sparse_jacobian,
    sparse_jacobian,
)
from runtime.errors import OptionError


def dense_jacobian(residual, U, params):
    """The reference: jacfwd of the residual on the ravel_pytree vector."""
    u, unravel = ravel_pytree(U)
    return np.asarray(
        jax.jit(jax.jacfwd(lambda v: ravel_pytree(residual(unravel(v), params))[0]))(u)
    )


def assert_matches_dense(residual, U, params, sparsity, **kwargs):
    J = make_sparse_jacobian(residual, U, sparsity, **kwargs)(U, params)
    D = dense_jacobian(residual, U, params)
    np.testing.assert_allclose(J.toarray(), D, rtol=1e-13, atol=1e-13)
    assert J.nnz == np.count_nonzero(D), "exact zeros must be dropped, nonzeros kept"
    return J


def smooth(shape, phase=0.0):
    """A non-constant, non-symmetric test field, so no Jacobian entry vanishes by accident."""
    grids = np.meshgrid(*[np.linspace(0.1, 1.0, n) for n in shape], indexing="ij")
    return jnp.asarray(
        1.0 + 0.3 * np.sin(3.0 * sum((k + 1) * g for k, g in enumerate(grids)) + phase)
    )


def interior_1d(u, h):
    return (u[2:] - 2 * u[1:-1] + u[:-2]) / h**2


@pytest.mark.parametrize("n", [3, 9])
def test_1d_dirichlet_nonlinear_reach1(n):
    h = 1.0 / (n - 1)

    def residual(U, p):
        u = U["u"]
        inner = interior_1d(u, h) + p["lam"] * jnp.exp(u[1:-1])
        return {"u": jnp.concatenate([u[:1] - 1.0, inner, u[-1:] ** 2])}

    assert_matches_dense(residual, {"u": smooth((n,))}, {"lam": 2.0}, Sparsity(1, {"u": (False,)}))


@pytest.mark.parametrize("n", [1, 3, 4, 5, 7, 12])
def test_1d_periodic_reach2_any_size(n):
    """A 4th-order periodic stencil on sizes that do and do not divide by 5, and tiny ones."""

    def residual(U, p):
        u = U["u"]
        s = lambda k: jnp.roll(u, -k)  # noqa: E731  u[i + k], wrapped
        d2 = (-s(2) + 16 * s(1) - 30 * u + 16 * s(-1) - s(-2)) / 12
        return {"u": d2 + u**3 + 0.5 * s(2) * s(-1)}

    assert_matches_dense(residual, {"u": smooth((n,))}, None, Sparsity(2, {"u": (True,)}))


@pytest.mark.parametrize("periodic", list(itertools.product([False, True], repeat=2)))
def test_2d_five_point_nonlinear(periodic):
    shape = (6, 7)

    def residual(U, p):
        u = U["u"]
        lap = sum(jnp.roll(u, k, axis=a) for a in (0, 1) for k in (1, -1)) - 4 * u
        r = lap + jnp.sin(u) * u
        # non-periodic axes get Dirichlet rows u - 1 on their two edges
        for axis, wraps in enumerate(periodic):
            if not wraps:
                edge = [slice(None)] * 2
                for i in (0, -1):
                    edge[axis] = i
                    r = r.at[tuple(edge)].set(u[tuple(edge)] - 1.0)
        return {"u": r}

    J = assert_matches_dense(residual, {"u": smooth(shape)}, None, Sparsity(1, {"u": periodic}))
    assert J.shape == (42, 42)


def test_2d_neumann_one_sided_edge_reach2():
    """A one-sided 3-point Neumann row at x = 1 reaches two points inward."""
    n = 8
    h = 1.0 / (n - 1)

    def residual(U, p):
        u = U["u"]
        lap = (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2] - 4 * u[1:-1, 1:-1]) / h**2
        r = u - 0.0
        r = r.at[1:-1, 1:-1].set(lap + u[1:-1, 1:-1] ** 2)
        r = r.at[-1, 1:-1].set((3 * u[-1, 1:-1] - 4 * u[-2, 1:-1] + u[-3, 1:-1]) / (2 * h))
        return {"u": r}

    assert_matches_dense(residual, {"u": smooth((n, n))}, None, Sparsity(2, {"u": (False, False)}))


def near_edges(shape, periodic, reach):
    """Points within `reach` of an edge of a non-periodic axis, where rolls would wrap."""
    mask = np.zeros(shape, dtype=bool)
    for axis, (n, wraps) in enumerate(zip(shape, periodic)):
        if not wraps:
            i = np.arange(n).reshape([-1 if a == axis else 1 for a in range(len(shape))])
            mask |= (i < reach) | (i >= n - reach)
    return mask


@pytest.mark.parametrize("reach", [1, 2])
@pytest.mark.parametrize("periodic", [(False, False), (True, False), (True, True)])
def test_two_coupled_fields(reach, periodic):
    """Fields u and v, each equation using both; keys given out of alphabetical order."""
    shape = (7, 6)
    edge = near_edges(shape, periodic, reach)

    def residual(U, p):
        u, v = U["u"], U["v"]
        s = jnp.roll
        ru = s(u, 1, 0) + s(u, -1, 1) - 2 * u + v * s(v, reach, 0)
        rv = jnp.exp(-v) * u + s(u, -reach, 1) * s(v, reach, 1) - p["c"] * v**2
        return {"v": jnp.where(edge, v**2 - u, rv), "u": jnp.where(edge, u - 1.0, ru)}

    U = {"v": smooth(shape, 1.0), "u": smooth(shape, 0.3)}
    sparsity = Sparsity(reach, {"u": periodic, "v": periodic})
    assert_matches_dense(residual, U, {"c": 0.7}, sparsity)
    assert_matches_dense(residual, U, {"c": 0.7}, sparsity, batch_size=4)  # lax.map in chunks


def test_colour_count_is_the_stencil_box_when_sizes_divide():
    sparsity = Sparsity(1, {"u": (True, False), "v": (True, False)})
    jac = make_sparse_jacobian(
        lambda U, p: U, {"u": jnp.ones((9, 20)), "v": jnp.ones((9, 20))}, sparsity
    )
    assert jac.n_colours == 2 * 9  # 3 x 3 per field, fields never share a colour


@pytest.mark.parametrize("reach", [0, 1, 2, 3])
@pytest.mark.parametrize("periodic", [False, True])
def test_colour_axis_separates_equal_colours(reach, periodic):
    for size in range(1, 40):
        c = colour_axis(size, reach, periodic)
        i, j = np.nonzero((c[:, None] == c[None, :]) & ~np.eye(size, dtype=bool))
        gap = np.abs(i - j)
        if periodic:
            gap = np.minimum(gap, size - gap)
        assert np.all(gap > 2 * reach), (size, c)
        if periodic and size % (2 * reach + 1) == 0:
            assert c.max() + 1 == 2 * reach + 1
        assert c.max() + 1 < 2 * (2 * reach + 1) or size < 2 * (2 * reach + 1)


def test_ordering_and_locate_follow_ravel_pytree():
    U = {"w": jnp.zeros((2, 3)), "a": jnp.ones((2, 3))}
    jac = make_sparse_jacobian(lambda U, p: U, U, Sparsity(0, {"a": (0, 0), "w": (0, 0)}))
    assert jac.names == ("a", "w")
    np.testing.assert_array_equal(jac.ravel(U), ravel_pytree(U)[0])
    assert jac.locate(0) == ("a", (0, 0))
    assert jac.locate(5) == ("a", (1, 2))
    assert jac.locate(7) == ("w", (0, 1))


def test_identity_residual_gives_identity():
    U = {"u": jnp.arange(12.0).reshape(3, 4)}
    J = sparse_jacobian(lambda U, p: {"u": 2.0 * U["u"]}, U, None, Sparsity(0, {"u": (1, 0)}))
    np.testing.assert_array_equal(J.toarray(), 2.0 * np.eye(12))


def test_sparsity_must_name_every_field():
    with pytest.raises(OptionError, match=r"sparsity.periodic names fields \['u'\].*'v'"):
        make_sparse_jacobian(
            lambda U, p: U, {"u": jnp.ones(4), "v": jnp.ones(4)}, Sparsity(1, {"u": (False,)})
        )


def test_sparsity_flags_must_match_the_axes():
    with pytest.raises(OptionError, match=r"field 'u' has 2 axes .* gives 1 flags"):
        make_sparse_jacobian(lambda U, p: U, {"u": jnp.ones((4, 4))}, Sparsity(1, {"u": (True,)}))


@pytest.mark.parametrize("reach", [-1, 1.5, True])
def test_sparsity_reach_must_be_a_natural_number(reach):
    with pytest.raises(OptionError, match="reach"):
        Sparsity(reach, {"u": (False,)})


def test_residual_must_live_on_the_fields_grids():
    U = {"u": jnp.ones(5)}
    with pytest.raises(OptionError, match=r"residual shapes \{'u': \(3,\)\}"):
        sparse_jacobian(lambda U, p: {"u": U["u"][1:-1]}, U, None, Sparsity(1, {"u": (False,)}))
