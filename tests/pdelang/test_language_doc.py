"""Every `.pde` example in docs/language.md is real.

The convention, stated at the top of the page:

- a fenced block opened with ```pde is a complete file and must parse with `pl.parse`;
- ```pde error=CLASS file=NAME.pde must raise `pl.CLASS` when loaded as NAME.pde, and the
  ```text block right after it (after its ```csv block, if it has one), which starts
  with `$ pdelang check NAME.pde`, must be the exact message
  (what `pdelang check` prints on stderr);
- ```csv file=NAME.csv blocks are written into the folder the examples are parsed from;
  this test also supplies `speed.npy` (an 11 x 11 array) for the `load()` example;
- other ```text blocks are fragments and are not run.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import pdelang as pl

DOC = Path(__file__).resolve().parents[2] / "docs" / "language.md"
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


def blocks() -> list[tuple[str, dict[str, str], str]]:
    """(language, attributes, body) of every fenced block, in order."""
    out = []
    for match in FENCE.finditer(DOC.read_text(encoding="utf-8")):
        attributes = dict(part.split("=", 1) for part in match.group(2).split() if "=" in part)
        out.append((match.group(1), attributes, match.group(3)))
    return out


BLOCKS = blocks()
GOOD = [body for lang, attrs, body in BLOCKS if lang == "pde" and "error" not in attrs]
BAD = [(attrs, body, next((b for b in BLOCKS[i + 1:] if b[0] != "csv"), None))
       for i, (lang, attrs, body) in enumerate(BLOCKS) if lang == "pde" and "error" in attrs]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """The folder the examples live in: the doc's CSV files and speed.npy, as cwd."""
    for lang, attrs, body in BLOCKS:
        if lang == "csv":
            (tmp_path / attrs["file"]).write_text(body, encoding="utf-8")
    np.save(tmp_path / "speed.npy", np.ones((11, 11)))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_page_has_examples_of_every_kind():
    assert len(GOOD) >= 8
    classes = {attrs["error"] for attrs, _, _ in BAD}
    assert classes == {"PdeSyntaxError", "PdeSemanticError", "PdeDataError", "PdeLimitError"}


@pytest.mark.parametrize("text", GOOD, ids=[b.splitlines()[0][:40] for b in GOOD])
def test_complete_examples_parse(text, folder):
    system = pl.parse(text, file="example.pde", base=folder)
    assert system.fields and system.equations


@pytest.mark.parametrize("attrs, text, after", BAD, ids=[a["file"] for a, _, _ in BAD])
def test_error_examples_raise_their_class_with_the_shown_message(attrs, text, after, folder):
    name = attrs["file"]
    (folder / name).write_text(text, encoding="utf-8")
    error_class = getattr(pl, attrs["error"])
    with pytest.raises(pl.PdeError) as info:
        pl.load(name)
    assert type(info.value) is error_class, str(info.value)
    assert after is not None and after[0] == "text", f"no output block after {name}"
    command, _, shown = after[2].partition("\n")
    assert command == f"$ pdelang check {name}"
    assert shown.rstrip("\n") == str(info.value)


def test_the_python_example_builds_the_same_system_as_the_file(monkeypatch):
    """The SymPy example at the end of the page, run as written."""
    python = [body for lang, _, body in BLOCKS if lang == "python"]
    assert len(python) == 1
    monkeypatch.chdir(DOC.parents[1])
    namespace: dict = {}
    exec(compile(python[0], str(DOC), "exec"), namespace)  # the doc's own code, not input
    assert namespace["system"] == pl.load("examples/poisson2d.pde")
