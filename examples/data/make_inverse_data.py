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
- lotka_volterra_noisy.csv: the Lotka-Volterra trajectory of Rackauckas et al. (2020),
  alpha, beta, gamma, delta = 1.3, 0.9, 0.8, 1.8 from (0.44249, 4.6280), at t = 0, 0.1,
  ..., 3 (DOP853 to 1e-12), each value times 1 + 0.05 n with n standard normal (seed 0):
  5% noise proportional to the value.
- lotka_volterra_runs.csv: three runs of the same system (a `run` column) from (0.44249,
  4.6280), (2, 1) and (1, 2.5), at t = 0, 0.1, ..., 3 (DOP853 to 1e-12), each value times
  1 + 0.05 n (seed 0): several experiments, each from its own initial state.
- fisher_kpp_snapshots.csv: u_t = D u_xx + r u (1 - u), D = 0.01, r = 5, no flux at x = 0
  and 1, from u = exp(-((x - 0.3)/0.08)^2), by SciPy's method of lines on 385 nodes
  (second-order differences, mirror ghost nodes; DOP853 to 1e-10): independent of
  pdelang. Sampled at 33 points and t = 0.1, 0.2, ..., 1, plus Gaussian noise of 1% of
  the data's root mean square (seed 0).
- column_flux_snapshots.csv: a column's temperature under a flux it does not know,
  T_t = -d(q - K T_z, z) with K = 0.005 and q = -0.04 T T_z (mixing that grows with T),
  T = 1 at z = 0 and 0 at z = 1, from T = 1 - z + 0.3 sin(2 pi z): SciPy's method of lines
  on 385 nodes in flux form (faces at midpoints, Radau to 1e-10), sampled at 33 points
  and t = 0.2, 0.4, ..., 2, plus Gaussian noise of 0.5% of the data's RMS (seed 0).
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
LOTKA_VOLTERRA = (1.3, 0.9, 0.8, 1.8)
FISHER_KPP = (0.01, 5.0)     # D, r
COLUMN = (0.005, 0.04)       # K, a: the flux q = -a T T_z


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


def lotka_volterra_noisy(seed: int = 0, noise: float = 0.05,
                         starts=((0.44249, 4.6280),)) -> np.ndarray:
    """Rows (t, u, v) from the first start; with several starts, (run, t, u, v) for runs
    1, 2, ... (one noise draw for all)."""
    alpha, beta, gamma, delta = LOTKA_VOLTERRA

    def rates(t, y):
        u, v = y
        return [alpha * u - beta * u * v, gamma * u * v - delta * v]

    t = np.linspace(0.0, 3.0, 31)
    runs = [solve_ivp(rates, (0.0, 3.0), start, t_eval=t, method="DOP853", rtol=1e-12,
                      atol=1e-12).y for start in starts]
    y = np.concatenate(runs, axis=1)
    y = y * (1 + noise * np.random.default_rng(seed).standard_normal(y.shape))
    if len(starts) == 1:
        return np.column_stack([t, y.T])
    labels = np.repeat(np.arange(1, len(starts) + 1), len(t))
    return np.column_stack([labels, np.tile(t, len(starts)), y.T])


def fisher_kpp(seed: int = 0) -> np.ndarray:
    D, r = FISHER_KPP
    x = np.linspace(0.0, 1.0, 385)
    h = x[1] - x[0]

    def rates(t, u):
        padded = np.concatenate([u[1:2], u, u[-2:-1]])       # mirror: no flux
        return D * (padded[2:] - 2 * u + padded[:-2]) / h**2 + r * u * (1 - u)

    times = np.linspace(0.1, 1.0, 10)
    solution = solve_ivp(rates, (0.0, 1.0), np.exp(-((x - 0.3) / 0.08) ** 2), t_eval=times,
                         method="DOP853", rtol=1e-10, atol=1e-12)
    u = solution.y.T[:, ::12]                                 # 33 points
    noise = NOISE * np.sqrt(np.mean(u**2)) * np.random.default_rng(seed).standard_normal(u.shape)
    t, xs = np.meshgrid(times, x[::12], indexing="ij")
    return np.column_stack([t.ravel(), xs.ravel(), (u + noise).ravel()])


def column_flux(seed: int = 0) -> np.ndarray:
    K, a = COLUMN
    z = np.linspace(0.0, 1.0, 385)
    h = z[1] - z[0]

    def rates(t, inner):
        T = np.concatenate([[1.0], inner, [0.0]])
        face = 0.5 * (T[1:] + T[:-1])
        flux = (K + a * face) * np.diff(T) / h        # K T_z - q at the faces
        return np.diff(flux) / h

    times = np.linspace(0.2, 2.0, 10)
    start = 1 - z + 0.3 * np.sin(2 * np.pi * z)
    solution = solve_ivp(rates, (0.0, 2.0), start[1:-1], t_eval=times, method="Radau",
                         rtol=1e-10, atol=1e-12)
    T = np.column_stack([np.ones(len(times)), solution.y.T, np.zeros(len(times))])[:, ::12]
    noise = 0.005 * np.sqrt(np.mean(T**2)) * np.random.default_rng(seed).standard_normal(T.shape)
    t, zs = np.meshgrid(times, z[::12], indexing="ij")
    return np.column_stack([t.ravel(), zs.ravel(), (T + noise).ravel()])


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
    write("lotka_volterra_noisy.csv", "t,u,v", lotka_volterra_noisy())
    write("lotka_volterra_runs.csv", "run,t,u,v",
          lotka_volterra_noisy(starts=((0.44249, 4.6280), (2.0, 1.0), (1.0, 2.5))))
    write("fisher_kpp_snapshots.csv", "t,x,u", fisher_kpp())
    write("column_flux_snapshots.csv", "t,z,T", column_flux())
