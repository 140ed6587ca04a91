"""Run the examples gallery from the command line and write its table and thumbnails.

Every `examples/*.pde` is solved with `pdelang solve` in a subprocess (fd, with the options
below; poisson2d and heat1d with `--method pinn` too). Where the file has `exact` lines the
relative L2 error (the largest over the fields) must stay under the stated bound, else the
row is marked FAIL and the script exits with status 1; a run that did not converge by its
method's criterion (exit status 4) is a FAIL too, with the reason. It writes

- docs/gallery.md: the table (example, method, grid or network, wall time, error, status);
- docs/images/NAME.png: a thumbnail of each solution's default plot (dpi 60);
- README.md: the same table and the thumbnails, between `<!-- gallery:start -->` and
  `<!-- gallery:end -->` (nothing else in README.md is touched).

Run it from anywhere: `python examples/run_all.py` (all), `python examples/run_all.py
heat1d wave1d` (only those; prints the table and writes nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
START, END = "<!-- gallery:start -->", "<!-- gallery:end -->"
THUMBNAIL_DPI = 60
NOT_CONVERGED = 4       # `pdelang solve`'s exit status for a run that did not converge
MAX_THUMBNAIL_BYTES = 100_000


@dataclass(frozen=True)
class Run:
    """One gallery row: `pdelang solve examples/NAME.pde --method METHOD *options`."""

    name: str
    method: str = "fd"
    options: tuple[str, ...] = ()
    bound: float | None = None          # largest relative L2 error allowed (files with exact)
    truth: tuple[tuple[str, float], ...] = ()   # inverse problems: the true unknowns
    param_bound: float | None = None    # largest relative error of an inferred constant
    animate: bool = False               # also write images/KEY.gif (`--animate`)

    @property
    def key(self) -> str:
        return self.name if self.method == "fd" else f"{self.name}_{self.method}"


# fewer optimiser steps than the defaults (4000 Adam + 2000 L-BFGS) keep a row near a minute
PINN_OPTIONS = ("--steps", "2000", "--lbfgs-steps", "500")

LORENZ = (("sigma", 10.0), ("rho", 15.0), ("beta", 8.0 / 3.0))

# Bounds sit a few times above the errors of a fresh run: a regression trips them, noise not.
RUNS = {run.key: run for run in (
    Run("poisson2d", bound=1e-3),
    Run("poisson2d", "pinn", PINN_OPTIONS, bound=1e-2),
    Run("poisson3d", options=("--grid", "65"), bound=3e-4),
    Run("heat1d", bound=1e-4),
    Run("heat1d", "pinn", PINN_OPTIONS, bound=2e-2),
    Run("heat1d_dirichlet", bound=1e-4),
    Run("heat2d_periodic", bound=5e-3),
    Run("helmholtz2d", bound=5e-3),
    Run("clamped_plate", options=("--grid", "65"), bound=5e-3),
    Run("lid_driven_cavity", options=("--grid", "65")),
    Run("layered_medium", bound=1e-10),
    Run("wave1d", bound=1e-3),
    Run("advection1d", bound=1e-2),
    Run("advection_fast", options=("--grid", "257"), bound=2e-2),   # measured 5.9e-3
    Run("burgers1d", bound=1e-3),
    Run("sod_shock_tube", options=("--grid", "401")),   # no exact line: density L1 2.0e-3
    Run("allen_cahn1d", bound=2e-3),
    # fronts of width ~0.006: 129 points do not resolve them (reference: benchmarks/data)
    Run("allen_cahn_periodic", options=("--grid", "1025", "--accuracy", "4")),
    Run("schrodinger1d", bound=5e-3),
    Run("reaction_diffusion2d", bound=1e-3),
    Run("kuramoto_sivashinsky1d", options=("--grid", "257")),
    Run("gray_scott2d"),
    Run("wave2d_acoustic"),
    Run("lotka_volterra", options=("--frames", "121")),
    Run("robertson", options=("--frames", "101")),
    Run("brusselator2d", options=("--integrator", "bdf", "--grid", "33")),
    Run("taylor_green_dae", options=("--grid", "65"), bound=1e-3),   # measured 8.8e-4 (psi)
    Run("lorenz_inverse", truth=LORENZ, param_bound=1e-6),
    Run("lorenz_inverse", "odil", ("--grid", "1601"), truth=LORENZ, param_bound=1e-3),
    Run("lorenz_inverse", "pinn", ("--data-weight", "100", "--lr", "1e-2", "--lbfgs-steps", "4000",
                                   "--finish-dtype", "float32"),
        truth=LORENZ, param_bound=3e-3),
    Run("heat_inverse", bound=1e-3, truth=(("k", 0.1),), param_bound=1e-2),
    Run("heat_inverse", "odil", ("--grid", "65"), bound=1e-2, truth=(("k", 0.1),),
        param_bound=1e-2),
    Run("heat_inverse", "pinn", bound=2e-2, truth=(("k", 0.1),), param_bound=1e-2),
    Run("burgers_shock", options=("--scheme", "weno5", "--integrator", "ssprk3", "--grid",
                                  "513")),      # central differences blow up at the shock
    Run("wave2d_velocity_inverse", options=("--grid", "33", "--accuracy", "4",
                                            "--regularization", "1e-4")),
    # shaped domains (cut cells): the disk's quadratic is exact to rounding
    Run("poisson_disk", bound=1e-10),
    Run("annulus_neumann", bound=1e-3),                 # measured 1.5e-4 at 65
    Run("lshape"),
    Run("heat_disk", bound=3e-4),                       # measured 4.1e-5
    Run("heat_disk", "odil", ("--grid", "33"), bound=1e-3),     # measured 1.6e-4
    Run("wave_obstacle", animate=True),                 # the reflections: images/*.gif
    Run("poisson_ball", bound=5e-4),                    # measured 5.7e-5
    Run("poisson_disk", "pinn", PINN_OPTIONS, bound=1e-3),
    Run("lshape", "pinn", PINN_OPTIONS),
    # finite-basis PINNs and their extreme-learning-machine variant
    Run("sine_frequency", options=("--grid", "1025"), bound=2e-2),   # measured 5.9e-3
    Run("sine_frequency", "fbpinn", ("--subdomains", "30", "--budget", "60"), bound=2e-2),
    Run("damped_oscillator", "elm", ("--subdomains", "8"), bound=1e-5),
    Run("damped_oscillator", bound=1e-6),
    Run("poisson_multiscale", options=("--grid", "129"), bound=5e-3),  # measured 1.7e-3
    Run("poisson_multiscale", "elm", ("--subdomains", "8", "--points", "16384"),
        bound=5e-4),
    # universal differential equations: nets inside the equations, trained on data
    # (`pdelang discover` reads them back: tests/runtime/output/test_discover.py)
    Run("lotka_volterra_ude", options=("--misfit", "relative", "--hold-out", "0.2")),
    Run("lotka_volterra_runs_ude", options=("--misfit", "relative", "--hold-out", "0.2",
                                            "--fit-steps", "1000")),
    Run("fisher_kpp_ude", options=("--grid", "33", "--hold-out", "0.2")),
    Run("column_flux_ude", options=("--grid", "33", "--hold-out", "0.2")),
)}


@dataclass(frozen=True)
class Result:
    run: Run
    size: str
    seconds: float
    error: float | None
    status: str
    inferred: str = "-"

    @property
    def ok(self) -> bool:
        return self.status.startswith("ok")


def all_runs() -> list[Run]:
    """The runs above, plus a plain fd run of any example not listed (no bound)."""
    runs = list(RUNS.values())
    listed = {run.name for run in runs}
    runs += [Run(p.stem) for p in sorted(EXAMPLES.glob("*.pde")) if p.stem not in listed]
    return runs


def solve(run: Run, images: Path | None) -> Result:
    """Run the command, time it, read the error from its output file, draw the thumbnail."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.npz"
        command = [sys.executable, "-m", "runtime", "solve", str(EXAMPLES / f"{run.name}.pde"),
                   "--method", run.method, "--quiet", "--out", str(out), *run.options]
        if run.animate and images is not None:
            images.mkdir(parents=True, exist_ok=True)
            command += ["--animate", str(images / f"{run.key}.gif")]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                              env=dict(os.environ, MPLBACKEND="Agg"))
        seconds = time.perf_counter() - start
        if done.returncode == NOT_CONVERGED and out.exists():   # written, but a failed run
            with np.load(out) as arrays:
                reason = json.loads(str(arrays["meta"]))["convergence"]["reason"]
            return Result(run, "-", seconds, None, f"FAIL (not converged: {reason})")
        if done.returncode != 0:
            message = (done.stderr.strip().splitlines() or ["?"])[-1]
            return Result(run, "-", seconds, None, f"FAIL (exit {done.returncode}: {message})")
        with np.load(out) as arrays:
            meta = json.loads(str(arrays["meta"]))
            unknown = [p.name for p in load_system(run).unknown_params if not p.is_field]
            inferred = {name: float(arrays[name]) for name in unknown if name in arrays}
            if images is not None:
                draw_thumbnail(run, arrays, meta, images / f"{run.key}.png")
    errors = meta.get("relative_l2_error") or {}
    error = max(errors.values()) if errors else None
    missing = [name for name, _ in run.truth if name not in inferred]
    if missing:
        return Result(run, describe_size(meta), seconds, error,
                      f"FAIL (no inferred value of {', '.join(missing)})")
    param_errors = {name: abs(inferred[name] / value - 1) for name, value in run.truth}
    return Result(run, describe_size(meta), seconds, error,
                  judge(run, error, param_errors), describe_inferred(inferred, param_errors))


def describe_inferred(inferred: dict, errors: dict) -> str:
    if not inferred:
        return "-"
    return ", ".join(f"{k} = {v:.6g}" + (f" ({errors[k]:.1e})" if k in errors else "")
                     for k, v in inferred.items())


def judge(run: Run, error: float | None, param_errors: dict | None = None) -> str:
    worst = max((param_errors or {}).values(), default=None)
    if worst is not None and not (np.isfinite(worst) and worst < run.param_bound):
        return f"FAIL (inferred value off by {worst:.1e} > {run.param_bound:.0e})"
    if error is None:
        return "ok" if run.bound is None else "FAIL (no error reported)"
    if not np.isfinite(error):
        return "FAIL (error is not finite)"
    if run.bound is None:
        return "ok"
    return f"ok (< {run.bound:.0e})" if error < run.bound else f"FAIL (> {run.bound:.0e})"


def describe_size(meta: dict) -> str:
    options = meta.get("options", {})
    if meta.get("method") in ("pinn", "fbpinn", "elm"):
        layers = options.get("layers") or meta.get("layers")
        steps = [options.get("steps"), options.get("lbfgs_steps")]
        text = "x".join(str(n) for n in layers) if layers else "network"
        if "subdomains" in options:
            text = f"subdomains {options['subdomains']}, {text} each"
        if all(s is not None for s in steps):
            text += f", {steps[0]} Adam + {steps[1]} L-BFGS"
        return text
    grid = options.get("grid") or {}
    return " x ".join(str(n) for n in grid.values()) if grid else "no space"


def load_system(run: Run):
    import pdelang as pl

    return pl.load(EXAMPLES / f"{run.name}.pde")


def draw_thumbnail(run: Run, arrays, meta: dict, path: Path) -> None:
    """The solution's own default plot, saved small."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from runtime.output.solution import Solution

    system = load_system(run)
    coordinates = [c.name for c in system.coordinates]
    grid = {name: arrays[name] for name in coordinates if name in arrays}
    values = {f.name: arrays[f.name] for f in system.fields}
    params = {p.name: arrays[p.name] if p.is_field else float(arrays[p.name])
              for p in system.unknown_params if p.name in arrays}
    members = {k: arrays[k] for k in meta.get("members_of", ()) if k in arrays}  # runs, sweeps
    figure = Solution(system, grid, values, params, meta, sweep=members).plot()
    path.parent.mkdir(parents=True, exist_ok=True)
    for dpi in (THUMBNAIL_DPI, 45, 30):     # wide figures (three panels) get fewer dots
        figure.savefig(path, dpi=dpi)
        if path.stat().st_size < MAX_THUMBNAIL_BYTES:
            break
    plt.close(figure)


def table(results: list[Result]) -> str:
    lines = ["| example | method | grid or network | wall time | relative L2 error | "
             "inferred (relative error) | status |",
             "|---|---|---|---:|---:|---|---|"]
    for r in results:
        error = "-" if r.error is None else f"{r.error:.2e}"
        lines.append(f"| [{r.run.name}](examples/{r.run.name}.pde) | {r.run.method} | "
                     f"{r.size} | {r.seconds:.1f} s | {error} | {r.inferred} | {r.status} |")
    return "\n".join(lines)


def thumbnails(results: list[Result], prefix: str, per_row: int = 3) -> str:
    cells = [f"[![{r.run.key}]({prefix}{r.run.key}.png)](examples/{r.run.name}.pde)<br>"
             f"{r.run.name} ({r.run.method})" + (
                 f" [animation]({prefix}{r.run.key}.gif)" if r.run.animate else "")
             for r in results if r.ok]
    rows = [cells[i:i + per_row] for i in range(0, len(cells), per_row)]
    lines = ["| " + " | ".join([""] * per_row) + " |", "|" + "---|" * per_row]
    lines += ["| " + " | ".join(row + [""] * (per_row - len(row))) + " |" for row in rows]
    return "\n".join(lines)


def gallery(results: list[Result], images_prefix: str, links_prefix: str) -> str:
    """The table and the thumbnails; links relative to the file they are written into."""
    text = (f"Each row is `pdelang solve examples/NAME.pde` (plus the options in "
            f"examples/run_all.py) on {os.cpu_count()} CPU cores; the wall time is the whole "
            "command, JAX start-up and compilation included. Regenerate with "
            "`python examples/run_all.py`.\n\n"
            f"{table(results)}\n\n{thumbnails(results, images_prefix)}\n")
    return text.replace("](examples/", f"]({links_prefix}examples/")


def write_docs(results: list[Result], docs: Path, readme: Path) -> None:
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "gallery.md").write_text("# Gallery\n\n" + gallery(results, "images/", "../"))
    text = readme.read_text()
    block = f"{START}\n{gallery(results, 'docs/images/', '')}{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Gallery\n\n" + block + "\n"
    readme.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only these rows (example or example_pinn); "
                                                 "writes no files")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs",
                        help="where gallery.md and images/ go (default docs/)")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args(argv)
    runs = all_runs()
    if args.names:
        unknown = set(args.names) - {r.key for r in runs}
        if unknown:
            parser.error(f"unknown rows {sorted(unknown)}; choose from "
                         f"{', '.join(r.key for r in runs)}")
        runs = [r for r in runs if r.key in args.names]
    images = None if args.names else args.docs / "images"
    results = []
    for run in runs:
        result = solve(run, images)
        print(f"{run.key:28s} {result.seconds:6.1f} s  "
              f"{'-' if result.error is None else f'{result.error:.2e}':>9s}  {result.status}",
              flush=True)
        results.append(result)
    if not args.names:
        write_docs(results, args.docs, args.readme)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
