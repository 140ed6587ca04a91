"""Hard PINN problems of issue 15, each measured against an independent reference.

    burgers       Raissi's Burgers shock (examples/burgers_shock.pde): relative L2 error
                  against ../shared/reference/Burgers.npz on its 256 x 100 grid
    allen_cahn    examples/allen_cahn_periodic.pde: relative L2 error against
                  benchmarks/data/allen_cahn_reference.npz (Fourier/ETDRK4, 512 x 201)
    advection     examples/advection_fast.pde (speed 50): relative L2 error against
                  sin(x - 50 t) on 256 x 201 points
    wave_inverse  examples/wave2d_velocity_inverse.pde: relative L2 error of the recovered
                  c(x, y) on the 33 x 33 output grid against the speed that made the data
                  (examples/data/make_inverse_data.py)
    lorenz        examples/lorenz_inverse.pde: largest relative error of sigma, rho, beta
                  against 10, 15, 8/3
    poisson       examples/poisson2d.pde: relative L2 error against its `exact` line (the
                  solve's meta["relative_l2_error"])

Each run is `runtime.solve(system, method="pinn", seed=s, **options)`: the options of the
case (CASES: only what the measurement needs, e.g. the output grid; training is left to the
defaults under test), then `--budget`, then `--set`. `--ablation` runs every case once per
row of ABLATIONS (one remedy switched off each) after a row with none off.

Run: python benchmarks/pinn_hard.py [CASE ...] [--seeds 0 1 2] [--budget quick|default|long]
         [--set key=value ...] [--ablation]
Prints a table per run, the median and worst error per case, and one JSON line.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# One remedy of issue 15 switched off per row (option overrides for runtime.solve), then the
# ones the defaults leave off, switched on. A name the pinn method does not know stops the
# run before any training (OptionError).
ABLATIONS: dict[str, dict[str, object]] = {
    "causal off": {"causal": False},
    "RAD off": {"resample_every": 0},
    "finish L-BFGS (64,64,64)": {"optimizer": "lbfgs"},
    "finish in float32": {"finish_dtype": "float32"},
    "+ modified MLP": {"architecture": "modified"},
    "+ weight factorisation": {"weight_factorisation": True},
    "+ gradnorm balancing": {"balance": "gradnorm"},
}

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DATA = Path(__file__).resolve().parent / "data"
BUDGETS = ("quick", "default", "long")


def shared_folder() -> Path:
    """The project's shared folder (reference data): $PDELANG_SHARED, else shared/ beside
    or inside the checkout, else /work/shared."""
    candidates = [os.environ.get("PDELANG_SHARED"), ROOT / "shared", ROOT.parent / "shared",
                  "/work/shared"]
    for folder in candidates:
        if folder and (Path(folder) / "reference").is_dir():
            return Path(folder)
    raise FileNotFoundError("no shared/reference folder; set PDELANG_SHARED to the folder "
                            "that holds reference/Burgers.npz")


def relative_l2(values: np.ndarray, truth: np.ndarray) -> float:
    """||values - truth|| / ||truth|| over all points."""
    values, truth = np.asarray(values, float), np.asarray(truth, float)
    return float(np.linalg.norm(values - truth) / np.linalg.norm(truth))


# -- the error of each case, from its Solution -----------------------------------------------

def burgers_error(solution) -> float:
    """Against Burgers.npz (usol[x, t], 256 x 100) at its own points."""
    with np.load(shared_folder() / "reference" / "Burgers.npz") as reference:
        x, t, usol = reference["x"].ravel(), reference["t"].ravel(), reference["usol"]
    tt, xx = np.meshgrid(t, x, indexing="ij")
    return relative_l2(solution("u", t=tt, x=xx), usol.T)


def allen_cahn_reference() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t, x, u[t, x]) of benchmarks/data/allen_cahn_reference.npz."""
    with np.load(DATA / "allen_cahn_reference.npz") as reference:
        return reference["t"], reference["x"], reference["u"].astype(float)


def allen_cahn_error(solution) -> float:
    """Against the pseudo-spectral reference at its 201 x 512 points."""
    t, x, u = allen_cahn_reference()
    tt, xx = np.meshgrid(t, x, indexing="ij")
    return relative_l2(solution("u", t=tt, x=xx), u)


ADVECTION_SPEED = 50.0


def advection_error(solution) -> float:
    """Against sin(x - 50 t) on 201 times x 256 points of [0, 2 pi]."""
    tt, xx = np.meshgrid(np.linspace(0, 1, 201), np.linspace(0, 2 * np.pi, 256), indexing="ij")
    return relative_l2(solution("u", t=tt, x=xx), np.sin(xx - ADVECTION_SPEED * tt))


def wave_speed(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The c(x, y) that made examples/data/wave_records.csv (its WAVE_SPEED)."""
    return 1 + 0.3 * np.exp(-((x - 0.7) ** 2 + (y - 0.35) ** 2) / 0.01)


def wave_inverse_error(solution) -> float:
    """The recovered c on the output grid against wave_speed."""
    xx, yy = np.meshgrid(solution.grid["x"], solution.grid["y"], indexing="ij")
    return relative_l2(solution.params["c"], wave_speed(xx, yy))


LORENZ_TRUTH = {"sigma": 10.0, "rho": 15.0, "beta": 8.0 / 3.0}


def lorenz_error(solution) -> float:
    """The largest |found / true - 1| of sigma, rho, beta."""
    return max(abs(float(solution.params[k]) / v - 1) for k, v in LORENZ_TRUTH.items())


def poisson_error(solution) -> float:
    """The solve's own error against the spec's `exact` line."""
    return float(solution.meta["relative_l2_error"]["u"])


@dataclass(frozen=True)
class Case:
    """A hard problem: its spec, the options its measurement needs, how its error is taken
    from a Solution, and the bound issue 15 sets on that error."""

    spec: Path
    error: Callable[[object], float]
    bound: float
    measure: str
    options: Mapping[str, object] = field(default_factory=dict)

    def system(self):
        import pdelang as pl

        return pl.load(self.spec)


CASES: dict[str, Case] = {
    "burgers": Case(EXAMPLES / "burgers_shock.pde", burgers_error, 1e-3, "rel L2 u"),
    "allen_cahn": Case(EXAMPLES / "allen_cahn_periodic.pde", allen_cahn_error, 1e-2,
                       "rel L2 u"),
    "advection": Case(EXAMPLES / "advection_fast.pde", advection_error, 1e-2, "rel L2 u"),
    "wave_inverse": Case(EXAMPLES / "wave2d_velocity_inverse.pde", wave_inverse_error, 2e-2,
                         "rel L2 c", {"grid": 33}),
    "lorenz": Case(EXAMPLES / "lorenz_inverse.pde", lorenz_error, 1e-2, "max rel constant"),
    "poisson": Case(EXAMPLES / "poisson2d.pde", poisson_error, 1e-3, "rel L2 u"),
}


def case_options(name: str, overrides: Mapping[str, object] | None = None) -> dict:
    """The options of case `name` with `overrides` on top."""
    return {**CASES[name].options, **(overrides or {})}


def check_options(overrides: Mapping[str, object], where: str, hint: str) -> None:
    """An OptionError naming `where` if the pinn method does not take one of `overrides`."""
    from runtime.errors import OptionError
    from runtime.options import OPTIONS

    try:
        OPTIONS.check_given("pinn", overrides)
    except OptionError as error:
        raise OptionError(f"{where}: {error.message}", hint=hint) from error


def run_case(name: str, seed: int = 0, overrides: Mapping[str, object] | None = None
             ) -> dict:
    """Solve case `name` with the pinn method: its error, the bound, wall time, final loss,
    the training's stop reason if it gives one, and what ran."""
    import runtime

    case = CASES[name]
    options = case_options(name, overrides)
    system = case.system()
    start = time.perf_counter()
    solution = runtime.solve(system, "pinn", seed=seed, **options)
    wall = time.perf_counter() - start
    error = case.error(solution)
    print(f"  {name} seed {seed} {dict(overrides or {})}: error {error:.3e} in {wall:.1f} s "
          f"({solution.meta.get('stop_reason')})", file=sys.stderr, flush=True)
    return {"case": name, "seed": seed, "error": error, "measure": case.measure,
            "bound": case.bound, "within": bool(error <= case.bound), "wall_s": wall,
            "final_loss": solution.meta.get("final_loss"),
            "steps": solution.meta.get("steps"),
            "stop_reason": solution.meta.get("stop_reason"),
            "converged": solution.meta.get("converged"),
            "options": {k: _jsonable(v) for k, v in options.items()}}


def summarise(runs: list[dict]) -> dict[str, dict[str, float]]:
    """Per case: the median and the worst error over its runs, and the bound."""
    out = {}
    for name in dict.fromkeys(r["case"] for r in runs):
        errors = [r["error"] for r in runs if r["case"] == name]
        worst = max(errors, key=lambda e: math.inf if math.isnan(e) else e)
        out[name] = {"median": float(np.median(errors)), "worst": float(worst),
                     "bound": CASES[name].bound, "runs": len(errors)}
    return out


def parse_setting(text: str) -> tuple[str, object]:
    """KEY=VALUE of --set: the value read by the option's own command-line parser where it
    has one, else as a Python literal, else as text."""
    from runtime.options import OPTIONS

    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--set takes KEY=VALUE, not {text!r}")
    key, value = (part.strip() for part in text.split("=", 1))
    parse = next((o.parse for o in OPTIONS.options if o.name == key), None)
    if parse is not None:
        return key, parse(value)
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def _jsonable(value: object) -> object:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _cell(value: object, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_runs(runs: list[dict]) -> None:
    print(f"{'case':<13} {'seed':>4} {'error':>9} {'bound':>7} {'ok':>3} {'wall s':>8} "
          f"{'final loss':>10} {'steps':>6}  stop reason")
    for r in runs:
        print(f"{r['case']:<13} {r['seed']:>4} {r['error']:9.2e} {r['bound']:7.0e} "
              f"{'yes' if r['within'] else 'no':>3} {r['wall_s']:8.1f} "
              f"{_cell(r['final_loss'], '10.3e'):>10} {_cell(r['steps'], '6d'):>6}  "
              f"{r['stop_reason'] or '-'}")


def print_summary(summary: dict[str, dict[str, float]]) -> None:
    print(f"\n{'case':<13} {'median':>9} {'worst':>9} {'bound':>7} {'runs':>4}")
    for name, s in summary.items():
        print(f"{name:<13} {s['median']:9.2e} {s['worst']:9.2e} {s['bound']:7.0e} "
              f"{s['runs']:>4}")


def run_ablation(names: list[str], seed: int, base: Mapping[str, object]) -> dict:
    """Error of every case with none off, then with each row of ABLATIONS."""
    rows = {"none off": {}, **ABLATIONS}
    for label, overrides in rows.items():
        check_options({**base, **overrides}, f"ablation {label!r}",
                      "edit the option names of ABLATIONS in benchmarks/pinn_hard.py")
    table: dict[str, dict[str, float]] = {}
    for label, overrides in rows.items():
        table[label] = {n: run_case(n, seed, {**base, **overrides})["error"] for n in names}
    width = max(len(label) for label in rows)
    print(f"\nablation (seed {seed}): error per case")
    print(f"{'':<{width}} " + " ".join(f"{n:>12}" for n in names))
    for label, errors in table.items():
        print(f"{label:<{width}} " + " ".join(f"{errors[n]:12.2e}" for n in names))
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", metavar="CASE",
                        help=f"cases to run (default all: {', '.join(CASES)})")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--budget", choices=BUDGETS,
                        help="the pinn method's budget option (passed only when given)")
    parser.add_argument("--set", dest="settings", action="append", default=[],
                        type=parse_setting, metavar="KEY=VALUE",
                        help="an option for every run, e.g. --set steps=50")
    parser.add_argument("--ablation", action="store_true",
                        help="once per row of ABLATIONS (first seed) instead of per seed")
    args = parser.parse_args(argv)
    unknown = [n for n in args.cases if n not in CASES]
    if unknown:
        parser.error(f"unknown case {unknown[0]!r}; choose from {', '.join(CASES)}")
    names = args.cases or list(CASES)
    base = dict(args.settings)
    if args.budget is not None:
        base["budget"] = args.budget
    from runtime.errors import OptionError

    try:
        record = run(names, args.seeds, base, args.ablation)
    except OptionError as error:              # an option name unknown to the pinn method
        raise SystemExit(f"pinn_hard.py: {error}") from None
    print(json.dumps(record))


def run(names: list[str], seeds: list[int], base: dict, ablation: bool) -> dict:
    """Every case of `names` per seed, or the ablation table at the first seed; printed as
    tables, returned as one record."""
    check_options(base, "--budget/--set", "--budget needs a runtime that has the option; "
                  "--set takes the names of runtime.options.describe('pinn')")
    record: dict[str, object] = {"benchmark": "pinn_hard", "cases": names,
                                 "options": {k: _jsonable(v) for k, v in base.items()}}
    if ablation:
        record.update({"seed": seeds[0], "ablation": run_ablation(names, seeds[0], base)})
        return record
    runs = [run_case(n, s, base) for n in names for s in seeds]
    print_runs(runs)
    summary = summarise(runs)
    print_summary(summary)
    record.update({"seeds": seeds, "runs": runs, "summary": summary})
    return record


if __name__ == "__main__":
    main()
