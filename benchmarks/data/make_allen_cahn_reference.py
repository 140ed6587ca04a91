"""Write allen_cahn_reference.npz: the Allen-Cahn benchmark of the PINN literature,

    u_t = 1e-4 u_xx + 5 (u - u^3),  x in [-1, 1) periodic,  t in [0, 1],
    u(0, x) = x^2 cos(pi x)          (examples/allen_cahn_periodic.pde),

by a Fourier pseudo-spectral method in x (512 modes) and ETDRK4 in time (Kassam &
Trefethen, SIAM J. Sci. Comput. 26 (2005) 1214; phi-function coefficients by their contour
integral), dt = 1e-5: the set-up of JAXPI's reference (Chebfun's `spin`, 511 points,
dt = 1e-5). NumPy only, nothing of pdelang, so that it checks pdelang independently.

Convergence is measured, not assumed: the run is repeated with dt doubled, and with 256
and 1024 modes; the script prints the largest differences at the saved times.

Measured: doubling dt changes u by 6.9e-11 at most; 256 modes by 5.2e-3 at most (relative
L2 1.4e-4); 1024 modes by 5.9e-4 at most (relative L2 8.3e-6). Against JAXPI's data
(github.com/PredictiveIntelligenceLab/jaxpi, examples/allen_cahn/data/allen_cahn.mat, commit
e85b694; 512 points of [-1, 1] with both ends): 1.0e-5 at most, relative L2 7.9e-7
(`--compare allen_cahn.mat` prints it; the file is not shipped here).

Saved: x (512 points of [-1, 1)), t (201 times, 0 to 1), u[t, x] (float32).
Run: python benchmarks/data/make_allen_cahn_reference.py [--compare FILE.mat]
     (about a minute)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

DIFFUSION = 1e-4
RATE = 5.0
MODES = 512
DT = 1e-5
FRAMES = 201                                    # t = 0, 0.005, ..., 1
OUT = Path(__file__).resolve().parent / "allen_cahn_reference.npz"


def grid(modes: int) -> np.ndarray:
    """`modes` equispaced points of [-1, 1) (the periodic end left out)."""
    return -1.0 + 2.0 * np.arange(modes) / modes


def etdrk4_coefficients(linear: np.ndarray, dt: float, contour: int = 64):
    """E, E/2 and the weights Q, f1, f2, f3 of ETDRK4 for the diagonal operator `linear`,
    by the mean over a circle of radius 1 around each dt*L (Kassam & Trefethen's remedy
    for the cancellation in the phi functions at small dt*L)."""
    h = dt * linear
    roots = np.exp(1j * np.pi * (np.arange(1, contour + 1) - 0.5) / contour)
    z = h[:, None] + roots[None, :]
    mean = lambda f: np.real(np.mean(f, axis=1))           # noqa: E731
    q = dt * mean((np.exp(z / 2) - 1) / z)
    f1 = dt * mean((-4 - z + np.exp(z) * (4 - 3 * z + z**2)) / z**3)
    f2 = dt * mean((2 + z + np.exp(z) * (z - 2)) / z**3)
    f3 = dt * mean((-4 - 3 * z - z**2 + np.exp(z) * (4 - z)) / z**3)
    return np.exp(h), np.exp(h / 2), q, f1, f2, f3


def solve(modes: int = MODES, dt: float = DT, frames: int = FRAMES) -> np.ndarray:
    """u at `frames` equispaced times of [0, 1] on grid(modes): rows are times."""
    x = grid(modes)
    k = np.pi * np.fft.rfftfreq(modes, d=1.0 / modes)         # wavenumbers of period 2
    linear = RATE - DIFFUSION * k**2                          # the linear part, 5u + eps u_xx
    e, e2, q, f1, f2, f3 = etdrk4_coefficients(linear, dt)

    def nonlinear(v):
        return -RATE * np.fft.rfft(np.fft.irfft(v, n=modes) ** 3)

    steps = round(1.0 / ((frames - 1) * dt))                  # steps between saved frames
    if not np.isclose(steps * dt * (frames - 1), 1.0):
        raise ValueError(f"dt = {dt} does not divide the frame interval")
    v = np.fft.rfft(x**2 * np.cos(np.pi * x))
    out = np.empty((frames, modes))
    out[0] = np.fft.irfft(v, n=modes)
    for frame in range(1, frames):
        for _ in range(steps):
            nv = nonlinear(v)
            a = e2 * v + q * nv
            na = nonlinear(a)
            b = e2 * v + q * na
            nb = nonlinear(b)
            c = e2 * a + q * (2 * nb - nv)
            nc = nonlinear(c)
            v = e * v + f1 * nv + 2 * f2 * (na + nb) + f3 * nc
        out[frame] = np.fft.irfft(v, n=modes)
    return out


def spectral_interpolate(u: np.ndarray, modes: int) -> np.ndarray:
    """Rows of `u` (on grid(n)) on grid(modes), by zero-padding or cutting the spectrum."""
    n = u.shape[-1]
    spectrum = np.fft.rfft(u, axis=-1)
    keep = min(n, modes) // 2
    padded = np.zeros(u.shape[:-1] + (modes // 2 + 1,), complex)
    padded[..., :keep] = spectrum[..., :keep]
    return np.fft.irfft(padded, n=modes, axis=-1) * (modes / n)


def interpolate(u: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Rows of `u` (on grid(n)) at any `points` of [-1, 1], by their Fourier series."""
    n = u.shape[-1]
    k = np.pi * np.fft.rfftfreq(n, d=1.0 / n)
    spectrum = np.fft.rfft(u, axis=-1) / n
    spectrum[..., 1:-1] *= 2                     # n even: the Nyquist mode counts once
    return np.real(spectrum @ np.exp(1j * np.outer(k, points + 1)))


def compare(u: np.ndarray, path: str) -> None:
    """Print the differences from a .mat file of JAXPI's layout (x, t, usol[t, x])."""
    from scipy.io import loadmat

    other = loadmat(path)
    theirs = other["usol"]
    ours = interpolate(u, other["x"].ravel())
    if theirs.shape != ours.shape or not np.allclose(other["t"].ravel(),
                                                     np.linspace(0, 1, FRAMES)):
        raise ValueError(f"{path}: expected usol at {FRAMES} times of [0, 1]")
    print(f"{'against ' + Path(path).name:>18}: max |diff| "
          f"{np.max(np.abs(theirs - ours)):.2e}, relative L2 "
          f"{np.linalg.norm(theirs - ours) / np.linalg.norm(theirs):.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compare", metavar="FILE.mat",
                        help="also print the differences from this file (JAXPI's layout)")
    args = parser.parse_args()
    u = solve()
    if args.compare:
        compare(u, args.compare)
    checks = {
        "dt doubled (2e-5)": solve(dt=2 * DT),
        "256 modes": spectral_interpolate(solve(modes=256), MODES),
        "1024 modes": solve(modes=1024)[:, ::2],
    }
    scale = np.linalg.norm(u)
    for name, other in checks.items():
        print(f"{name:>18}: max |diff| {np.max(np.abs(other - u)):.2e}, "
              f"relative L2 {np.linalg.norm(other - u) / scale:.2e}")
    np.savez_compressed(OUT, x=grid(MODES), t=np.linspace(0.0, 1.0, FRAMES),
                        u=u.astype(np.float32))
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB); u(t=1) in "
          f"[{u[-1].min():.4f}, {u[-1].max():.4f}]")


if __name__ == "__main__":
    main()
