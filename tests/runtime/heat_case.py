"""The heat equation's slowest mode, which the tests of reading results between nodes and
frames share (issue 21): u_t = u_xx on [0, 1], u = 0 at both ends, u(0, x) = sin(pi x),
exactly exp(-pi^2 t) sin(pi x), to t = 0.1."""

from __future__ import annotations

import numpy as np

import pdelang as pl

SPEC = """
problem "heat 1d, one sine mode"
space x in [0, 1]
time  t in [0, 0.1]
field u(t, x)
pde d(u, t) = d(u, x, 2)
bc u = 0 at x = 0
bc u = 0 at x = 1
ic u = sin(pi*x) at t = 0
exact u = exp(-pi^2*t)*sin(pi*x)
"""


def heat_mode() -> pl.System:
    return pl.parse(SPEC)


def exact(t, x):
    return np.exp(-np.pi ** 2 * t) * np.sin(np.pi * x)
