"""One table of methods and options (`table.OPTIONS`), from which `runtime.solve`'s options
classes and checks, and the `pdelang solve` flags and `--help`, are derived.

    from runtime.options import describe
    print(describe("pinn"))          # every option of pinn: default, choices, help

A new option is one `Option(...)` row in `table.py` (its methods, default, help; `parse` or
`cli=False` for the command line); the solver reads it as `options.<name>`. A new method is
one `Method(...)` row (naming the module of its options class and solver, which
`runtime.solve` imports when the method is first asked for), its name in the rows of the
options it uses, and its options class (`OPTIONS.options_class(...)`) beside its solver.
"""

from .core import Method, Option, PerMethod, Table, per_method
from .table import METHODS, OPTIONS

METHOD_NAMES = OPTIONS.method_names


def describe(method: str) -> str:
    """The options of `method`, a line each (name = default, choices, help)."""
    return OPTIONS.describe(method)


def defaults(method: str) -> dict[str, object]:
    """{option: default} of `method`."""
    return {o.name: o.default_for(method) for o in OPTIONS.of(method)}


__all__ = ["METHODS", "METHOD_NAMES", "OPTIONS", "Method", "Option", "PerMethod", "Table",
           "defaults", "describe", "per_method"]
