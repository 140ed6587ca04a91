"""The `pdelang` command line: check, solve, show (SPEC section 4).

Exit status: 0 on success, 1 when the input is wrong (the message says where and why, with
no traceback), 2 for a wrong command line.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import pdelang as pl

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2
METHODS = ("fd", "pinn", "odil")


def grid_option(text: str) -> int | dict[str, int]:
    """`65` (every space coordinate) or `x=65,y=33`."""
    try:
        if "=" not in text:
            return _points(int(text))
        out = {}
        for part in text.split(","):
            name, _, value = part.partition("=")
            if not name.strip().isidentifier():
                raise ValueError
            out[name.strip()] = _points(int(value))
        return out
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a grid: give points per coordinate, e.g. --grid 65 or "
            "--grid x=65,y=33 (at least 3 each)") from None


def _points(n: int) -> int:
    if n < 3:
        raise ValueError
    return n


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pdelang",
        description="Write a PDE system once; check it, solve it, see what is generated.",
    )
    commands = parser.add_subparsers(dest="command", metavar="{check,solve,show}")
    commands.required = True

    check = commands.add_parser("check", help="parse and validate; print the system as math")
    check.add_argument("file", help="a .pde file")
    check.set_defaults(run=run_check)

    solve = commands.add_parser("solve", help="solve a system and report, save or plot it")
    solve.add_argument("file", help="a .pde file")
    solve.add_argument("--method", choices=METHODS, default=None,
                       help="fd (default), pinn or odil")
    solve.add_argument("--grid", type=grid_option, default=None,
                       help="points per space coordinate: N, or x=N,y=M")
    solve.add_argument("--out", help="write the result to this .npz file")
    solve.add_argument("--plot", help="write a picture of the result (.png, .pdf, .svg)")
    solve.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    solve.add_argument("--quiet", action="store_true", help="no progress output")
    fd = solve.add_argument_group("fd options")
    fd.add_argument("--accuracy", type=int, choices=(2, 4), default=2,
                    help="order of the stencils (default 2)")
    fd.add_argument("--scheme", choices=("central", "upwind", "upwind2"), default=None,
                    help="first derivatives in transport terms (default: upwind2 for "
                         "first-order hyperbolic equations, else central)")
    fd.add_argument("--dt", type=positive_float, default=None,
                    help="time step (default: from the stability limit)")
    fd.add_argument("--integrator", choices=("auto", "rk4", "ssprk3", "dopri5", "sdirk2"),
                    default="auto", help="time integrator (default: rk4, or sdirk2 when stiff)")
    fd.add_argument("--frames", type=int, default=21, help="output times (default 21)")
    fd.add_argument("--dtype", choices=("float64", "float32"), default=None,
                    help="floating-point type (default: float64 for fd)")
    solve.set_defaults(run=run_solve)

    show = commands.add_parser("show", help="print what the compiler generates")
    show.add_argument("file", help="a .pde file")
    show.add_argument("--method", choices=METHODS, required=True)
    show.add_argument("--grid", type=grid_option, default=None,
                      help="points per space coordinate: N, or x=N,y=M")
    show.add_argument("--accuracy", type=int, choices=(2, 4), default=2)
    show.add_argument("--scheme", choices=("central", "upwind", "upwind2"), default=None)
    show.set_defaults(run=run_show)
    return parser


def run_check(args: argparse.Namespace) -> int:
    system = pl.load(args.file)
    print(system, end="")
    return EXIT_OK


def run_solve(args: argparse.Namespace) -> int:
    system = pl.load(args.file)
    method = args.method
    if method is None:
        method = "fd"
        _say(args, "no --method given: using fd (finite differences on the box domain)")
    dtype = args.dtype or ("float64" if method in ("fd", "odil") else "float32")
    import runtime

    options = dict(grid=args.grid, accuracy=args.accuracy, scheme=args.scheme, dt=args.dt,
                   integrator=args.integrator, frames=args.frames, dtype=dtype, seed=args.seed)
    from .progress import Progress

    span = system.time.bounds if system.time is not None else None
    with Progress(enabled=not args.quiet, span=span) as progress:
        solution = runtime.solve(system, method, observers=(progress,), **options)
    print(solution.summary())
    if args.out:
        solution.save(args.out)
        print(f"wrote {args.out}")
    if args.plot:
        solution.plot(args.plot)
        print(f"wrote {args.plot}")
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    system = pl.load(args.file)
    if args.method != "fd":
        from .errors import OptionError

        raise OptionError(f"`show` for method {args.method!r} is not available in this version")
    from compiler.fd import FDOptions, lower_fd

    program = lower_fd(system, FDOptions(args.grid, args.accuracy, args.scheme))
    print(f"# {system.name or args.file}: {system.classification()}")
    for stage in program.stages:
        print(f"\n[{stage.name}]")
        for line in stage.lines:
            print(f"  {line}")
    return EXIT_OK


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        return args.run(args)
    except pl.PdeError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: say so, keep the traceback in a file
        return _internal_error(exc)


def _internal_error(exc: Exception) -> int:
    import tempfile
    import traceback

    with tempfile.NamedTemporaryFile("w", prefix="pdelang-error-", suffix=".txt",
                                     delete=False) as log:
        traceback.print_exception(exc, file=log)
    print(f"pdelang: internal error ({type(exc).__name__}: {exc}); this is a bug in "
          f"pdelang, not in your input. The details are in {log.name}", file=sys.stderr)
    return EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
