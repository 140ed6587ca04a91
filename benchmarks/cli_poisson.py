"""The command line's wall time on the steady 2-D Poisson problem at 513^2
(`pdelang solve examples/poisson2d.pde --grid 513 --out r.npz`), each run a new process:
with an empty compilation cache (a first run), with that cache filled (a problem solved
before), without the cache (PDELANG_CACHE=off), and with the sparse LU instead of multigrid;
beside them the fixed costs: `pdelang check` (parsing, no JAX) and `import jax` alone.

Run: python benchmarks/cli_poisson.py [--grid 513] [--repeats 3]
Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "poisson2d.pde"


def timed(command: list[str], cache: str) -> float:
    environment = {**os.environ, "PDELANG_CACHE": cache, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    subprocess.run(command, env=environment, check=True, capture_output=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=513)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    pdelang = [sys.executable, "-m", "runtime"]
    with tempfile.TemporaryDirectory() as folder:
        out = str(Path(folder) / "r.npz")
        solve = [*pdelang, "solve", str(EXAMPLE), "--grid", str(args.grid), "--out", out,
                 "--quiet"]
        cache = str(Path(folder) / "xla")
        rows = {"first run (empty cache)": [timed(solve, cache)],
                "cache filled": [timed(solve, cache) for _ in range(args.repeats)],
                "no cache": [timed(solve, "off") for _ in range(args.repeats)],
                "sparse LU (--linear-solver direct)":
                    [timed([*solve, "--linear-solver", "direct"], cache)
                     for _ in range(args.repeats)],
                "pdelang check": [timed([*pdelang, "check", str(EXAMPLE)], "off")
                                  for _ in range(args.repeats)],
                "python -c 'import jax'": [timed([sys.executable, "-c", "import jax"], "off")
                                           for _ in range(args.repeats)]}
    print(f"pdelang solve examples/poisson2d.pde --grid {args.grid} --out r.npz, "
          "each a new process")
    print(f"{'run':<38} {'best s':>8} {'median s':>9}")
    result = {"case": "cli_poisson", "grid": args.grid}
    for name, seconds in rows.items():
        ordered = sorted(seconds)
        print(f"{name:<38} {ordered[0]:>8.2f} {ordered[len(ordered) // 2]:>9.2f}")
        result[name] = ordered
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
