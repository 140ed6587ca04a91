"""The Lotka-Volterra case the tests of learned functions share (issue 19): u' = 1.3 u -
B(u, v), v' = 0.8 u v - 1.8 v from (0.44249, 4.6280), B a net learned from the noise-free
trajectory every 0.1 (SciPy at 1e-12); the truth is B = 0.9 u v."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

import pdelang as pl

ALPHA, BETA, GAMMA, DELTA = 1.3, 0.9, 0.8, 1.8
U0 = (0.44249, 4.6280)

SPEC = """\
time t in [0, {end}]
field u(t), v(t)
param alpha = 1.3
param delta = 1.8
net B(u, v) : width {width}, depth {depth}
pde d(u, t) = alpha*u - B(u, v)
pde d(v, t) = 0.8*u*v - delta*v
ic u = 0.44249 at t = 0
ic v = 4.6280 at t = 0
data "lv.csv"
"""


def spec_text(end: float = 3.0, width: int = 8, depth: int = 2, text: str = SPEC) -> str:
    return text.format(end=end, width=width, depth=depth)


def lotka_volterra(times: np.ndarray, start: tuple[float, float] = U0) -> np.ndarray:
    """(u, v) at `times` (from 0, where they are `start`)."""
    def rhs(_, y):
        return [ALPHA * y[0] - BETA * y[0] * y[1], GAMMA * y[0] * y[1] - DELTA * y[1]]

    return solve_ivp(rhs, (0, times[-1]), start, t_eval=times, method="DOP853", rtol=1e-12,
                     atol=1e-12).y


def write_case(folder: Path, end: float = 3.0, width: int = 8, depth: int = 2,
               text: str = SPEC) -> pl.System:
    """lv.csv (the trajectory on [0, end]) and lv.pde in `folder`; the parsed system."""
    times = np.arange(0, end + 1e-9, 0.1)
    u, v = lotka_volterra(times)
    np.savetxt(Path(folder) / "lv.csv", np.stack([times, u, v], axis=1), delimiter=",",
               header="t,u,v", comments="", fmt="%.17g")
    source = spec_text(end, width, depth, text)
    (Path(folder) / "lv.pde").write_text(source)
    return pl.parse(source, "lv.pde", base=folder)
