"""Text to parse tree: the lark parser of `grammar.lark`, with errors turned into ours.

Only syntax is checked here. Names, arguments and faces are checked on the tree by
`transform`, where every node still knows its line and column.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

from .errors import PdeLimitError, PdeSyntaxError, Span
from .limits import MAX_SOURCE_CHARS, MAX_TREE_DEPTH, check

OPENING = {"LPAR", "LSQB"}
CLOSING = {"RPAR", "RSQB"}

# How terminals are named in "expected ..." messages.
TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": 'a "string"',
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "EQUAL": "'='",
    "TILDE": "'~'",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "POW": "'^'",
    "AMPERSAND": "'&'",
    "COMPARE": "a comparison",
    "COLON": "':'",
    "_NL": "the end of the line",
    "$END": "the end of the file",
}


class BracketNewlines:
    """Post-lexer: a newline inside open brackets continues the statement."""

    always_accept = ("_NL",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        depth = 0
        for token in stream:
            if token.type in OPENING:
                depth += 1
            elif token.type in CLOSING:
                depth = max(depth - 1, 0)
            elif token.type == "_NL" and depth > 0:
                continue
            yield token


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = resources.files("pdelang").joinpath("grammar.lark").read_text()
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        postlex=BracketNewlines(),
        propagate_positions=True,
        maybe_placeholders=False,
        start=["start", "query"],
    )


def parse_tree(text: str, file: str = "<input>", start: str = "start") -> Tree:
    """Parse `.pde` text into a lark tree, or raise `PdeSyntaxError` saying where. `start`
    "query" parses one expression with an optional `at x = ...` (pdelang.query)."""
    check(len(text) <= MAX_SOURCE_CHARS, f"the input has {len(text)} characters; the "
          f"limit is {MAX_SOURCE_CHARS}", Span(file, label=file))
    lines = text.splitlines()
    try:
        tree = _parser().parse(text, start=start)
    except UnexpectedCharacters as exc:
        raise _error(f"unexpected character {text[exc.pos_in_stream]!r}", exc.line,
                     exc.column, 1, lines, file, _expected(exc.allowed)) from None
    except UnexpectedEOF as exc:
        line = max(len(lines), 1)
        column = len(lines[-1]) + 1 if lines else 1
        raise _error("unexpected end of the file", line, column, 1, lines, file,
                     _expected(exc.expected), _unclosed(text, line, column, True)) from None
    except UnexpectedToken as exc:
        error = _token_error(exc, lines, file)
        at_end = error.message.startswith("unexpected end of the file")
        hint = _unclosed(text, error.span.line, error.span.column, at_end)
        raise (PdeSyntaxError(error.message, error.span, hint) if hint else error) from None
    except LarkError as exc:  # any other parser failure still reads as a syntax error
        raise PdeSyntaxError(f"cannot parse the input ({exc})", Span(file, label=file)) from None
    _check_depth(tree, lines, file)
    return tree


def _token_error(exc: UnexpectedToken, lines: list[str], file: str) -> PdeSyntaxError:
    token = exc.token
    if token.type == "$END":
        line = max(len(lines), 1)
        column = len(lines[-1]) + 1 if lines else 1
        return _error("unexpected end of the file", line, column, 1, lines, file,
                      _expected(exc.expected))
    if token.type == "_NL":
        found = "end of the line"
        length = 1
    else:
        found = repr(str(token))
        length = len(str(token))
    message = f"unexpected {found}"
    if token.type == "NAME" and str(token) in KEYWORD_LIKE:
        message += f" ({str(token)!r} is a keyword and cannot be used as a name)"
    try:
        allowed = exc.interactive_parser.accepts()
    except (AttributeError, LarkError):
        allowed = exc.expected
    if token.type in ("NAME", "NUMBER", "LPAR") and "STAR" in allowed:
        message += " (is an operator such as '*' missing before it?)"
    return _error(message, token.line, token.column, length, lines, file, _expected(allowed))


KEYWORD_LIKE = {"problem", "param", "space", "time", "field", "pde", "bc", "ic", "at",
                "periodic", "data", "exact", "in", "domain", "on", "boundary", "net"}


def _expected(allowed) -> str:
    # `&` is allowed after any expression but means something only in a `domain` line:
    # offering it in every "expected ..." would mislead
    words = sorted({TERMINAL_WORDS.get(t, _keyword(t)) for t in allowed or ()
                    if t != "AMPERSAND"})
    if not words:
        return ""
    if {"a name", "a number", "'('"} <= set(words):
        words = ["an expression"] + [w for w in words if w not in
                                     {"a name", "a number", "'('", "'-'", "'+'"}]
    if len(words) > 8:
        words = words[:8] + ["..."]
    return "expected " + (words[0] if len(words) == 1 else ", ".join(words[:-1]) +
                          " or " + words[-1])


def _keyword(terminal: str) -> str:
    # anonymous keyword terminals are named after the keyword, e.g. PROBLEM or AT
    return repr(terminal.lower()) if terminal.isupper() else terminal


def _error(message: str, line: int, column: int, length: int, lines: list[str], file: str,
           expected: str, hint: str = "") -> PdeSyntaxError:
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    if expected:
        message = f"{message}; {expected}"
    return PdeSyntaxError(message, Span(file, line, column, length, source), hint)


def _unclosed(text: str, line: int, column: int, at_end: bool = False) -> str:
    """A hint naming the bracket still open at (line, column), when it opened on an earlier
    line (or the file ended): a statement continues while a bracket is open, so a missing
    `)` shows up later."""
    stack: list[tuple[str, int, int]] = []
    for number, source in enumerate(text.splitlines()[:line], 1):
        in_string = False
        for col, char in enumerate(source, 1):
            if number == line and col >= column:
                break
            if char == '"':
                in_string = not in_string
            elif in_string:
                continue
            elif char == "#":
                break
            elif char in "([":
                stack.append((char, number, col))
            elif char in ")]" and stack:
                stack.pop()
    if not stack or (stack[-1][1] == line and not at_end):
        return ""
    char, number, col = stack[-1]
    closing = ")" if char == "(" else "]"
    return (f"the {char!r} opened at line {number}, column {col} is never closed: add "
            f"{closing!r} where the expression ends")


CHAINS = ({"add", "sub"}, {"mul", "div"})


def _nesting(parent: Tree, child: Tree, index: int) -> int:
    """How much deeper `child` is: a long sum `a + b + c + ...` is a left spine of `add`
    nodes that the transformer walks without recursion, so it does not count as nesting."""
    if index == 0 and any(parent.data in c and child.data in c for c in CHAINS):
        return 0
    return 1


def _check_depth(tree: Tree, lines: list[str], file: str) -> None:
    """Refuse trees nested deeper than the limit, before anything recurses over them."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            meta = node.meta
            line = getattr(meta, "line", 1)
            column = getattr(meta, "column", 1)
            source = lines[line - 1] if 0 < line <= len(lines) else ""
            raise PdeLimitError(
                f"expression nested more than {MAX_TREE_DEPTH} levels deep",
                Span(file, line, column, 1, source),
                hint="split it with intermediate `param` definitions")
        stack.extend((child, depth + _nesting(node, child, i))
                     for i, child in enumerate(node.children) if isinstance(child, Tree))
