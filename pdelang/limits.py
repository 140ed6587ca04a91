"""Size limits that keep hostile or mistaken input from hanging or exhausting memory.

Each limit is far above what a real system needs; crossing one gives a `PdeLimitError`
that says which limit and where, instead of a hang or a `RecursionError`.
"""

from __future__ import annotations

from .errors import PdeLimitError, Span

MAX_SOURCE_CHARS = 1_000_000      # characters in one .pde file
MAX_TREE_DEPTH = 200              # nesting of the parse tree (brackets, operators)
MAX_EXPRESSION_NODES = 20_000     # SymPy nodes in one expression
MAX_EXPONENT = 1_000              # |n| of a numeric exponent
MAX_NUMBER_DIGITS = 400           # decimal digits of an exact number
MAX_MAGNITUDE_DIGITS = 1_000      # |decimal exponent| of any number, exact or float
MAX_FUNCTION_ARGUMENT = 1e4       # |x| of a number given to exp, sinh, cosh, tan
MAX_DERIVATIVE_ORDER = 8          # order of one derivative in one coordinate
MAX_FIELDS = 64                   # unknown fields in one system
MAX_NAMES = 1_000                 # declared names in one system


def check(condition: bool, message: str, span: Span, hint: str = "") -> None:
    """Raise a `PdeLimitError` with `message` at `span` unless `condition` holds."""
    if not condition:
        raise PdeLimitError(message, span, hint)
