"""Kernels with factors of time alone (a source f(t) g(x)) are padded term by term
(`compiler.fd.kernels.TimeSeparated`, for XLA:CPU's sake): the split is exact, and the
padded values are those of the plain kernel padded, on terms the split takes and on those
it leaves whole."""

import jax.numpy as jnp
import numpy as np
import sympy as sp

from compiler.common.operators import AxisInfo
from compiler.fd.ir import Access, Layout, Region
from compiler.fd.kernels import make_kernel, prepare, separate_time

t, x, k, w = sp.symbols("t x k w")
a = sp.Symbol("a")


def test_terms_split_into_a_factor_of_time_and_a_time_free_rest():
    expr = a * x + sp.exp(-k * t) * sp.sin(x) + 3 * sp.cos(w * t) * a + sp.sin(x - t) \
        + sp.exp(-k * t) * x**2
    rest, parts = separate_time(expr, t, ("k", "w"))
    assert sp.simplify(rest - (a * x + sp.sin(x - t))) == 0     # sin(x - t) is not separable
    assert dict(parts) == {sp.exp(-k * t): sp.sin(x) + x**2, sp.cos(w * t): 3 * a}
    assert sp.simplify(rest + sum(f * term for f, term in parts) - expr) == 0


def test_a_field_in_the_time_factor_keeps_the_term_whole():
    rest, parts = separate_time(sp.exp(-a * t) * x, t, ())
    assert parts == () and rest == sp.exp(-a * t) * x


def _kernel(expr, n=9):
    coordinates = np.linspace(0.0, 1.0, n)
    layout = Layout({"x": AxisInfo(n, 1 / (n - 1), False)}, {"x": coordinates}, 2)
    region = Region(("x",), ((1, n - 1),))
    kernel = make_kernel(expr, {a: Access("state", "u", ("x",), shift=(0,))}, region, layout,
                         t, ("k", "w"))
    return kernel, coordinates


def test_padded_values_equal_the_plain_kernel_padded():
    expr = a**2 + sp.exp(-k * t) * sp.sin(3 * x) - sp.cos(w * t) * a + sp.sin(x - t)
    kernel, xs = _kernel(expr)
    assert kernel.in_time is not None and len(kernel.in_time.parts) == 2
    u = np.cos(2 * xs)
    params = prepare([kernel], {"k": jnp.asarray(0.7), "w": jnp.asarray(5.0)})
    for time in (0.0, 0.3, 1.1):
        plain = np.pad(np.asarray(kernel(jnp.asarray(time), {"u": jnp.asarray(u)}, params)), 1)
        padded = kernel.padded(jnp.asarray(time), {"u": jnp.asarray(u)}, params, [(1, 1)],
                               jnp.float64)
        inner = u[1:-1]**2 + np.exp(-0.7 * time) * np.sin(3 * xs[1:-1]) \
            - np.cos(5 * time) * u[1:-1] + np.sin(xs[1:-1] - time)
        np.testing.assert_allclose(padded, plain, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(padded[1:-1], inner, rtol=1e-13)
        assert padded[0] == padded[-1] == 0.0


def test_a_kernel_without_time_is_not_split():
    kernel, _ = _kernel(a**2 + x)
    assert kernel.in_time is None
