"""Write the observation files of the inverse-problem examples (run from anywhere).

- lorenz.csv: the Lorenz trajectory with C = (10, 15, 8/3) from x0 = (-8, 7, 27), at the 25
  times of the DeepXDE reference (../shared/reference/Lorenz.npz), integrated to 1e-12 with
  SciPy's DOP853: noise-free data. (The reference's own values differ from the exact
  trajectory by up to 0.012, which alone moves the best-fit sigma by 1.3e-3.)
- heat_snapshots.csv: u = sin(pi x) e^{-k pi^2 t} + 0.5 sin(3 pi x) e^{-9 k pi^2 t}, k = 0.1,
  at t = 0.1, 0.2, ..., 0.5 and 41 points in x, plus Gaussian noise of 1% of the data's root
  mean square (seed 0).
- wave_records.csv: the 2-D acoustic wave u_tt = c^2 laplace(u) from a Gaussian pulse, with
  the wave speed c = 1 + 0.3 exp(-((x - 0.7)^2 + (y - 0.35)^2) / 0.01), solved by pdelang's
  fd method (fourth-order stencils) on a 97 x 97 grid (finer than the 33 x 33 grid the
  example fits on, so the data are not made by the model that fits them) and recorded on
  33 x 33 points at t = 0.1, 0.2, ..., 0.6.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

HERE = Path(__file__).resolve().parent
LORENZ_TIMES = np.array([
    0.0, 0.01071738, 0.06430429, 0.1226244, 0.20389738, 0.2774039, 0.36605932, 0.46484636,
    0.57747023, 0.74410941, 0.87815709, 1.01220478, 1.15004686, 1.28280759, 1.42510765,
    1.58172756, 1.75397377, 1.89764233, 2.04923335, 2.18795955, 2.37650218, 2.53747737,
    2.69922368, 2.86424061, 3.0])
HEAT_K = 0.1
NOISE = 0.01


def lorenz(sigma: float = 10.0, rho: float = 15.0, beta: float = 8.0 / 3.0) -> np.ndarray:
    def rates(t, u):
        x, y, z = u
        return [sigma * (y - x), x * (rho - z) - y, x * y - beta * z]

    solution = solve_ivp(rates, (0.0, 3.0), [-8.0, 7.0, 27.0], t_eval=LORENZ_TIMES,
                         method="DOP853", rtol=1e-12, atol=1e-12)
    return np.column_stack([LORENZ_TIMES, solution.y.T])


def heat(seed: int = 0) -> np.ndarray:
    t, x = np.meshgrid(np.linspace(0.1, 0.5, 5), np.linspace(0.0, 1.0, 41), indexing="ij")
    decay = HEAT_K * np.pi**2 * t
    u = np.sin(np.pi * x) * np.exp(-decay) + 0.5 * np.sin(3 * np.pi * x) * np.exp(-9 * decay)
    noise = NOISE * np.sqrt(np.mean(u**2)) * np.random.default_rng(seed).standard_normal(u.shape)
    return np.column_stack([t.ravel(), x.ravel(), (u + noise).ravel()])


WAVE_SPEED = "1 + 0.3*exp(-((x - 0.7)^2 + (y - 0.35)^2)/0.01)"


def wave() -> np.ndarray:
    import pdelang as pl
    import runtime

    text = (HERE.parent / "wave2d_velocity_inverse.pde").read_text()
    text = text.replace("param c(x, y) ~ 1", f"param c(x, y) = {WAVE_SPEED}")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("data"))
    times = np.linspace(0.1, 0.6, 6)
    solution = runtime.solve(pl.parse(text), "fd", grid=97, accuracy=4, frames=list(times))
    keep = np.isin(np.round(solution.grid["t"], 12), np.round(times, 12))
    u = solution.values["u"][keep][:, ::3, ::3]
    t, x, y = np.meshgrid(times, solution.grid["x"][::3], solution.grid["y"][::3],
                          indexing="ij")
    return np.column_stack([t.ravel(), x.ravel(), y.ravel(), u.ravel()])


def write(name: str, header: str, rows: np.ndarray) -> None:
    np.savetxt(HERE / name, rows, delimiter=",", header=header, comments="", fmt="%.15g")


if __name__ == "__main__":
    write("lorenz.csv", "t,x,y,z", lorenz())
    write("heat_snapshots.csv", "t,x,u", heat())
    write("wave_records.csv", "t,x,y,u", wave())
