"""Every error names its class, file, line and column, quotes the line with a caret, and says
what was expected. The broken inputs are files in `fixtures/bad/`, one error each, with
their expectations in header comments:

    # error: PdeSemanticError
    # at: LINE:COLUMN
    # message: a part of the message (one line per part)
"""

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import pdelang as pl
from pdelang.errors import Span

from .helpers import FIXTURES

BAD = sorted((FIXTURES / "bad").glob("*.pde"))
CARET_LINE = re.compile(r"^ +\| +\^+$", re.M)


def write_data_files(folder: Path) -> None:
    """The data files that the `load(...)` and `data` fixtures name."""
    np.save(folder / "square.npy", np.ones((3, 3)))
    np.save(folder / "line.npy", np.ones(3))
    np.save(folder / "with_nan.npy", np.array([0.0, 1.0, np.nan, 2.0]))
    (folder / "values.txt").write_text("1 2 3\n")
    (folder / "unknown_column.csv").write_text("x,w\n0.5,1\n")
    (folder / "not_a_number.csv").write_text("x,u\n0.5,1\n0.25,abc\n")


def expectations(path: Path) -> tuple[type, int, int, list[str]]:
    header = path.read_bytes().decode("ascii", errors="replace")
    error = re.search(r"^# error: (\w+)$", header, re.M).group(1)
    line, column = re.search(r"^# at: (\d+):(\d+)$", header, re.M).groups()
    messages = re.findall(r"^# message: (.*)$", header, re.M)
    return getattr(pl, error), int(line), int(column), messages


def test_there_is_a_fixture_for_each_spec_case():
    names = {path.stem for path in BAD}
    assert {"unknown_name", "field_wrong_argument_count", "condition_off_face",
            "no_initial_condition", "more_unknowns_than_equations",
            "interval_end_below_start", "missing_operand", "unclosed_bracket",
            "non_utf8"} <= names
    assert len(BAD) >= 50


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_file(path, tmp_path):
    error, line, column, messages = expectations(path)
    write_data_files(tmp_path)
    target = tmp_path / path.name
    shutil.copy(path, target)
    with pytest.raises(pl.PdeError) as info:
        pl.load(target)
    err = info.value
    text = str(err)
    assert type(err) is error, text
    assert (err.span.line, err.span.column) == (line, column), text
    for part in messages:
        assert part in err.message + "\n" + err.hint, f"{part!r} not in:\n{text}"
    # where: file, line:col, the source line and a caret under the culprit
    assert text.startswith(f"{target}:{line}:{column}: "), text
    assert f"(line {line}, column {column})" in text
    source = err.span.source
    assert source and source in text
    assert source == path.read_bytes().decode("utf-8", errors="replace").splitlines()[
        line - 1][: len(source)]
    caret = CARET_LINE.search(text)
    assert caret, text
    assert caret.group().index("^") - caret.group().index("|") - 2 == column - 1
    assert "Traceback" not in text


def test_error_classes_are_value_errors():
    for cls in (pl.PdeSyntaxError, pl.PdeSemanticError, pl.PdeLimitError, pl.PdeDataError):
        assert issubclass(cls, pl.PdeError)
    assert issubclass(pl.PdeError, ValueError)


def test_message_layout():
    span = Span("a.pde", 3, 5, 3, "pde u_xx = foo")
    err = pl.PdeSemanticError("unknown name `foo`", span, hint="did you mean `f`?")
    assert str(err) == (
        "a.pde:3:5: error: unknown name `foo` (line 3, column 5)\n"
        " 3 | pde u_xx = foo\n"
        "   |     ^^^\n"
        "hint: did you mean `f`?")
    assert err.args == (str(err),)
    assert (err.message, err.hint, err.span) == ("unknown name `foo`", "did you mean `f`?", span)


def test_error_kinds_in_messages():
    span = Span("a.pde", 1, 1, 1, "x")
    assert "syntax error:" in str(pl.PdeSyntaxError("m", span))
    assert "limit exceeded:" in str(pl.PdeLimitError("m", span))
    assert "data error:" in str(pl.PdeDataError("m", span))
    assert ": error:" in str(pl.PdeSemanticError("m", span))


def test_tabs_and_long_spans_keep_the_caret_aligned():
    span = Span("a.pde", 1, 3, 500, "\tx\tfoo")
    assert Span.excerpt(span).splitlines()[1] == "   |   " + "^" * 80


def test_errors_without_position_use_their_label():
    err = pl.PdeSemanticError("bad", Span(label="equation 2"))
    assert str(err) == "equation 2: error: bad"
    assert not err.span.has_position and err.span.excerpt() == ""
    assert str(pl.PdeError("bad")) == "<input>: error: bad"


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(pl.PdeDataError, match="does not exist") as info:
        pl.load(tmp_path / "nope.pde")
    assert "nope.pde" in str(info.value)
    with pytest.raises(pl.PdeDataError, match="cannot read"):
        pl.load(tmp_path)


def test_parse_names_the_given_file():
    with pytest.raises(pl.PdeSyntaxError) as info:
        pl.parse("space x in [0, 1\n", "my/file.pde")
    assert str(info.value).startswith("my/file.pde:1:17:")
