"""Raissi's Burgers.npz (../shared/reference) against the Cole-Hopf solution, to know how
far the reference itself can be trusted before quoting PINN errors against it.

For u_t + u u_x = nu u_xx, u(0, x) = -sin(pi x), the Cole-Hopf transform gives

    u(t, x) = -int sin(pi (x - e)) w(e) de / int w(e) de,
    w(e) = exp(-cos(pi (x - e)) / (2 pi nu) - e^2 / (4 nu t)),

taken here by adaptive quadrature (scipy.integrate.quad, relative tolerance 1e-12) over
|e| <= 12 sqrt(4 nu t), the exponent shifted by its largest value on a fine grid so that
nothing overflows (the cosine term alone spans e^(+-50) at nu = 0.01/pi).

Run: python benchmarks/data/check_burgers_reference.py   (about a minute on one core)
Measured: relative L2 2.9e-12, largest difference 4.2e-11.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from scipy import integrate

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "Burgers.npz"
NU = 0.01 / np.pi
REACH = 12.0                  # half-width of the integral, in sqrt(4 nu t)


def cole_hopf(x: float, t: float, nu: float = NU) -> float:
    """u(t, x) of the viscous Burgers equation from -sin(pi x)."""
    if t == 0:
        return -np.sin(np.pi * x)
    width = REACH * np.sqrt(4 * nu * t)

    def log_weight(e):
        return -np.cos(np.pi * (x - e)) / (2 * np.pi * nu) - e**2 / (4 * nu * t)

    top = np.max(log_weight(np.linspace(-width, width, 4001)))

    def integral(f):
        return integrate.quad(lambda e: f(e) * np.exp(log_weight(e) - top), -width, width,
                              limit=400, epsabs=1e-14, epsrel=1e-12, points=[0.0])[0]

    return -integral(lambda e: np.sin(np.pi * (x - e))) / integral(lambda e: 1.0)


def main() -> None:
    started = time.perf_counter()
    with np.load(REFERENCE) as data:
        x, t, usol = data["x"].ravel(), data["t"].ravel(), data["usol"]
    exact = np.array([[cole_hopf(xi, ti) for ti in t] for xi in x])
    relative = float(np.linalg.norm(exact - usol) / np.linalg.norm(exact))
    largest = float(np.max(np.abs(exact - usol)))
    print(f"Burgers.npz against Cole-Hopf on {usol.shape[0]} x {usol.shape[1]} points: "
          f"relative L2 {relative:.2e}, largest difference {largest:.2e} "
          f"({time.perf_counter() - started:.0f} s)")
    print(json.dumps({"benchmark": "burgers_reference", "relative_l2": relative,
                      "max_abs": largest}))


if __name__ == "__main__":
    main()
