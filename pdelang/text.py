"""`pl.parse` and `pl.load`: `.pde` text to a validated `System`."""

from __future__ import annotations

from pathlib import Path

from .build import build_system
from .errors import PdeDataError, PdeSyntaxError, Span
from .ir import System
from .syntax import parse_tree
from .transform import TextFrontEnd


def parse(text: str, file: str = "<input>", base: str | Path | None = None) -> System:
    """Parse and validate `.pde` source; `base` is where relative data paths start."""
    tree = parse_tree(text, file)
    decls, scope = TextFrontEnd(text, file, base).read(tree)
    return build_system(decls, scope)


def load(path: str | Path) -> System:
    """Read, parse and validate a `.pde` file."""
    path = Path(path)
    span = Span(str(path), label=str(path))
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PdeDataError(f"the file {str(path)!r} does not exist", span) from None
    except OSError as exc:
        raise PdeDataError(f"cannot read {str(path)!r}: {exc.strerror or exc}", span) from None
    return parse(decode(raw, str(path)), str(path), path.parent)


def decode(raw: bytes, file: str) -> str:
    """UTF-8 text, or a syntax error at the first byte that is not."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", errors="replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        source = before.splitlines()[-1] if before and not before.endswith("\n") else ""
        raise PdeSyntaxError(f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x})",
                             Span(file, line, column, 1, source)) from None
