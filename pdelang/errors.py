"""Errors of the language layer, each carrying where in the user's input it arose.

Every error the user can meet while writing a system is one of these classes. A text
error names the file, line and column and shows the line with a caret under the culprit;
an error in a SymPy-built system names the equation or condition instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A place in the user's input: a text position, or a label such as "equation 2".

    `line` and `column` are 1-based; `length` is how many characters the caret covers.
    `source` is the whole text of that line, kept so that messages can quote it.
    """

    file: str = "<input>"
    line: int = 0
    column: int = 0
    length: int = 1
    source: str = ""
    label: str = ""

    @property
    def has_position(self) -> bool:
        return self.line > 0

    def describe(self) -> str:
        if self.has_position:
            return f"{self.file}:{self.line}:{self.column}"
        return self.label or self.file

    def excerpt(self) -> str:
        """The source line with a caret under the span, as compilers print it."""
        if not self.has_position or not self.source:
            return ""
        number = str(self.line)
        pad = " " * len(number)
        text = self.source.rstrip("\n").expandtabs(1)
        marker = " " * max(self.column - 1, 0) + "^" * max(min(self.length, 80), 1)
        return f" {number} | {text}\n {pad} | {marker}"


class Located:
    """A message with where it applies (`span`) and what to try (`hint`), printed as
    `file:line:col: kind: message`, the line with a caret, and the hint: what errors and
    warnings share."""

    kind = "error"

    def __init__(self, message: str, span: Span | None = None, hint: str = "") -> None:
        self.message = message
        self.span = span or Span()
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        head = f"{self.span.describe()}: {self.kind}: {self.message}"
        if self.span.has_position:
            head += f" (line {self.span.line}, column {self.span.column})"
        parts = [head]
        excerpt = self.span.excerpt()
        if excerpt:
            parts.append(excerpt)
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


class PdeError(Located, ValueError):
    """Base of every error pdelang raises about its input."""


class PdeSyntaxError(PdeError):
    """The text does not follow the grammar of the `.pde` language."""

    kind = "syntax error"


class PdeSemanticError(PdeError):
    """The text parses but does not describe a valid system (names, arguments, faces...)."""

    kind = "error"


class PdeLimitError(PdeError):
    """The input exceeds a size limit that protects against hangs and memory blow-ups."""

    kind = "limit exceeded"


class PdeDataError(PdeError):
    """A data file named by the system (`load(...)`, `data ...`) is missing or unusable."""

    kind = "data error"


class PdeWarning(Located, UserWarning):
    """A problem that can be solved but probably not as meant (issued with `warnings`):
    printed like an error, with where and a hint."""

    kind = "warning"
