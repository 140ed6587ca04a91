"""Hoisted invariant arrays are keyed by their expressions: two expressions whose Python
hashes collide (x**-1 and x**-2 do) get two arrays."""

import jax.numpy as jnp
import numpy as np
import sympy as sp

from compiler.common.operators import AxisInfo
from compiler.fd.ir import Access, Layout, Region
from compiler.fd.kernels import hoist, hoisted_key, make_kernel, prepare

x = sp.Symbol("x")


def test_colliding_hashes_give_two_hoisted_arrays():
    a, b = sp.Symbol("a"), sp.Symbol("b")
    assert hash(x**-1) == hash(x**-2) and x**-1 != x**-2      # the collision itself
    n = 6
    coordinates = np.linspace(0.5, 1.5, n)
    layout = Layout({"x": AxisInfo(n, 0.2, False)}, {"x": coordinates}, 2)
    region = Region(("x",), ((0, n),))
    accesses = {a: Access("state", "u", ("x",)), b: Access("state", "v", ("x",))}
    kernel = make_kernel(a / x + b / x**2, accesses, region, layout, None, ())
    keys = [key for key, _ in kernel.invariants]
    assert len(keys) == 2 and len(set(keys)) == 2
    u, v = np.cos(coordinates), np.sin(coordinates)
    U = {"u": jnp.asarray(u), "v": jnp.asarray(v)}
    expected = u / coordinates + v / coordinates**2
    for params in ({}, prepare([kernel], {})):
        np.testing.assert_allclose(kernel(jnp.zeros(()), U, params), expected, rtol=1e-14)


def test_hoisted_key_is_the_expression_and_the_region():
    region, other = Region(("x",), ((0, 5),)), Region(("x",), ((1, 5),))
    assert hoisted_key(x**-1, region) != hoisted_key(x**-2, region)
    assert hoisted_key(x**-1, region) != hoisted_key(x**-1, other)
    assert hoisted_key(1 / x, region) == hoisted_key(x**-1, region)
    expr, table = hoist(sp.Symbol("s") * (1 + x**2), {sp.Symbol("s")}, {x})
    assert list(table.values()) == [1 + x**2]
