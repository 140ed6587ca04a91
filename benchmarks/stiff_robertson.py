"""Robertson's stiff chemical kinetics (examples/robertson.pde), t in [0, 1e5]: pdelang's
default (auto: rodas4, rtol 1e-6, atol 1e-9) against SciPy's stiff integrators.

    a' = -k1 a + k3 b c,  b' = k1 a - k3 b c - k2 b^2,  c' = k2 b^2
    k = (0.04, 3e7, 1e4), (a, b, c)(0) = (1, 0, 0); 41 outputs from t = 1e-5 to 1e5

Rows: `runtime.solve` first call (lowering and compilation included) and warm (a repeated
solve of the same problem: nothing recompiles); the CLI (`pdelang solve`, a new process
with its imports and files); SciPy's BDF, Radau and LSODA given the analytic Jacobian, at
the same tolerances and at atol 1e-12 (SciPy's evaluations include the Jacobian's).
Errors: the largest relative difference of any species from SciPy's Radau at rtol 1e-10,
atol 1e-16, over all outputs and over t >= 1e-2 (where every species is above atol).

Run: python benchmarks/stiff_robertson.py [--repeats 5]
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp
from timing import warm_up

import pdelang as pl
import runtime

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "robertson.pde"
K1, K2, K3 = 0.04, 3e7, 1e4
TIMES = np.concatenate([[0.0], np.logspace(-5, 5, 41)])
RTOL, ATOL = 1e-6, 1e-9


def rates(t, y):
    a, b, c = y
    return [-K1 * a + K3 * b * c, K1 * a - K3 * b * c - K2 * b**2, K2 * b**2]


def jacobian(t, y):
    a, b, c = y
    return [[-K1, K3 * c, K3 * b], [K1, -K3 * c - 2 * K2 * b, -K3 * b], [0.0, 2 * K2 * b, 0.0]]


def scipy_run(method: str, rtol: float, atol: float):
    return solve_ivp(rates, (0.0, TIMES[-1]), [1.0, 0.0, 0.0], method=method, rtol=rtol,
                     atol=atol, t_eval=TIMES, jac=jacobian)


LATE = TIMES >= 1e-2      # every species above atol: errors there compare like with like


def worst_relative(values: np.ndarray, reference: np.ndarray, where=None) -> float:
    where = TIMES > 0 if where is None else where
    return float(np.max(np.abs(values[:, where] / reference[:, where] - 1)))


def best_of(run, repeats: int) -> tuple[object, float]:
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return result, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    warm_up()
    reference = scipy_run("Radau", 1e-10, 1e-16).y
    frames = list(TIMES[1:])

    def solve():
        system = pl.load(EXAMPLE)
        return runtime.solve(system, "fd", frames=frames)

    start = time.perf_counter()
    first = solve()
    first_s = time.perf_counter() - start
    solution, warm_s = best_of(solve, args.repeats)
    ours = np.stack([np.asarray(solution.values[k]) for k in "abc"])
    errors = (worst_relative(ours, reference), worst_relative(ours, reference, LATE))
    rows = [("pdelang solve, first call", first_s, *errors, solution.meta.get("steps")),
            ("pdelang solve, warm", warm_s, *errors, solution.meta.get("steps"))]
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "runtime", "solve", str(EXAMPLE), "--out",
                   str(Path(folder) / "robertson.npz"),
                   "--frames", str(len(TIMES))]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        cli_s = time.perf_counter() - start
    rows.append(("pdelang CLI (new process, evenly spaced outputs)",
                 cli_s if done.returncode == 0 else np.nan, np.nan, np.nan, None))
    for method in ("BDF", "Radau", "LSODA"):
        for atol in (ATOL, 1e-12):
            result, seconds = best_of(lambda m=method, a=atol: scipy_run(m, RTOL, a),
                                      args.repeats)
            rows.append((f"SciPy {method}, atol {atol:g}", seconds,
                         worst_relative(result.y, reference),
                         worst_relative(result.y, reference, LATE), result.nfev))

    print(f"Robertson kinetics to t = 1e5, rtol {RTOL:g}, atol {ATOL:g}, {len(TIMES)} outputs; "
          f"integrator {first.meta['integrator']}")
    print(f"{'solver':<48} {'time (s)':>9} {'worst rel err':>13} {'t >= 1e-2':>10} "
          f"{'steps/nfev':>10}")
    for name, seconds, error, late, count in rows:
        print(f"{name:<48} {seconds:9.4f} {error:13.2e} {late:10.2e} "
              f"{count if count else '':>10}")
    bdf = next(r[1] for r in rows if r[0].startswith("SciPy BDF"))
    print(f"warm pdelang / SciPy BDF: {warm_s / bdf:.2f}; compile and lowering (first - warm) "
          f"{first_s - warm_s:.2f} s")
    if done.returncode != 0:
        print("CLI failed:", done.stderr[-500:])
    print(json.dumps({"benchmark": "stiff_robertson", "integrator": first.meta["integrator"],
                      "rows": [{"solver": n, "seconds": s, "worst_relative_error": e,
                                "worst_relative_error_late": late, "steps_or_nfev": c}
                               for n, s, e, late, c in rows],
                      "warm_over_scipy_bdf": warm_s / bdf,
                      "compile_s": first_s - warm_s}))


if __name__ == "__main__":
    main()
