"""The `pdelang` command line: check, solve, show (SPEC section 4).

Exit status: 0 on success, 1 when the input is wrong (the message says where and why, with
no traceback), 2 for a wrong command line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import pdelang as pl

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2


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
    return parser


def run_check(args: argparse.Namespace) -> int:
    system = pl.load(args.file)
    print(system, end="")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except pl.PdeError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
