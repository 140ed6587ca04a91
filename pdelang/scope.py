"""The declared names of a system and what each one is, for checking expressions."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import sympy as sp

from .errors import PdeSemanticError, Span
from .expressions import KEYWORDS
from .ir import Coordinate, Field, Net, Param


@dataclass(frozen=True)
class Scope:
    coordinates: tuple[Coordinate, ...]
    fields: tuple[Field, ...]
    params: tuple[Param, ...]
    nets: tuple[Net, ...] = ()

    def kind(self, name: str) -> str | None:
        """"coordinate", "field", "constant", "coefficient", "net" or None."""
        if any(c.name == name for c in self.coordinates):
            return "coordinate"
        if any(f.name == name for f in self.fields):
            return "field"
        if any(n.name == name for n in self.nets):
            return "net"
        for p in self.params:
            if p.name == name:
                return "coefficient" if p.is_field else "constant"
        return None

    @property
    def time(self) -> Coordinate | None:
        return next((c for c in self.coordinates if c.is_time), None)

    def coordinate(self, name: str) -> Coordinate | None:
        return next((c for c in self.coordinates if c.name == name), None)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def net(self, name: str) -> Net | None:
        return next((n for n in self.nets if n.name == name), None)

    def args_of(self, name: str) -> tuple[str, ...]:
        """Declared arguments of a field or coefficient field."""
        found = self.field(name) or self.param(name)
        return found.args if found is not None else ()

    def constants(self) -> dict[sp.Symbol, sp.Expr]:
        """Known constant parameters and their values, for numeric substitution."""
        return {p.symbol: p.value for p in self.params
                if not p.is_field and not p.is_unknown and p.value is not None}

    def names(self) -> list[str]:
        return ([c.name for c in self.coordinates] + [f.name for f in self.fields]
                + [p.name for p in self.params] + [n.name for n in self.nets])

    def unknown_name(self, name: str, span: Span, extra: tuple[str, ...] = ()) -> PdeSemanticError:
        """The error for a name that was never declared, with a suggestion where one is close."""
        if name in KEYWORDS:
            return PdeSemanticError(f"`{name}` is a keyword of the language and cannot be used "
                                    "as a name in an expression", span)
        choices = self.names() + list(extra)
        close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}`?" if close else (
            "declare it first, e.g. `param " + name + " = 1.0`")
        known = ", ".join(self.names()) or "none"
        return PdeSemanticError(f"unknown name `{name}`: it is not declared (declared: {known})",
                                span, hint)
