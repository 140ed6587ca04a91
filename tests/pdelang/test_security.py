"""Text is never evaluated as Python: code anywhere in a file is an error or inert text."""

import io
import os
import tokenize
from pathlib import Path

import pytest
import sympy as sp

import pdelang as pl

from .helpers import expect_api_error

PACKAGE = Path(pl.__file__).resolve().parent
MARKER = "/tmp/pwned_pdelang"

BASE = """\
problem "safe"
param k = 1
space x in [0, 1]
field u(x)
pde d(u, x, 2) = k
bc u = 0 at x = 0
bc u = 0 at x = 1
exact u = x*(x - 1)/2
"""

# (what to replace in BASE, replacement with {code} in it): every position a value can take
POSITIONS = {
    "param value": ("param k = 1", "param k = {code}"),
    "param guess": ("param k = 1", "param k ~ {code}"),
    "param name": ("param k = 1", "param {code} = 1"),
    "coefficient field": ("param k = 1", "param k(x) = {code}"),
    "load path": ("param k = 1", 'param k(x) = load("{code}")'),
    "interval end": ("space x in [0, 1]", "space x in [0, {code}]"),
    "coordinate name": ("space x in [0, 1]", "space {code} in [0, 1]"),
    "field name": ("field u(x)", "field {code}"),
    "pde": ("pde d(u, x, 2) = k", "pde d(u, x, 2) = {code}"),
    "pde lhs": ("pde d(u, x, 2) = k", "pde {code} = k"),
    "derivative": ("pde d(u, x, 2) = k", "pde d({code}, x) = k"),
    "bc value": ("bc u = 0 at x = 1", "bc u = {code} at x = 1"),
    "bc face": ("bc u = 0 at x = 1", "bc u = 0 at x = {code}"),
    "bc coordinate": ("bc u = 0 at x = 1", "bc u = 0 at {code} = 1"),
    "periodic": ("bc u = 0 at x = 1", "bc periodic {code}"),
    "ic": ("bc u = 0 at x = 1", "ic u = {code} at x = 1"),
    "exact": ("exact u = x*(x - 1)/2", "exact u = {code}"),
    "exact field": ("exact u = x*(x - 1)/2", "exact {code} = 1"),
    "where": ("pde d(u, x, 2) = k", "pde d(u, x, 2) = where({code} < 1, 1, 0)"),
    "data path": ("exact u = x*(x - 1)/2", 'data "{code}"'),
    "whole line": ("exact u = x*(x - 1)/2", "{code}"),
}

PAYLOADS = [
    "__import__('os').system('touch {marker}')",
    "__import__(\"os\").system(\"touch {marker}\")",
    "exec('open(\"{marker}\", \"w\")')",
    "eval(compile('open(\"{marker}\", \"w\")', 'f', 'exec'))",
    "().__class__.__base__.__subclasses__()",
    "lambda: open('{marker}', 'w')",
    "[open('{marker}', 'w') for _ in 'a']",
    "Symbol('x').__class__",
    "os.system('touch {marker}')",
]


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "code from the input was executed"


@pytest.mark.parametrize("position", sorted(POSITIONS))
@pytest.mark.parametrize("payload", PAYLOADS[:2])
def test_code_in_every_position_is_refused(position, payload, marker, tmp_path):
    old, new = POSITIONS[position]
    code = payload.format(marker=marker)
    text = BASE.replace(old, new.format(code=code))
    assert text != BASE
    with pytest.raises(pl.PdeError) as info:
        pl.parse(text, "evil.pde", base=tmp_path)
    assert info.value.span.file == "evil.pde"
    assert "Traceback" not in str(info.value)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_other_python_is_refused_in_a_pde_line(payload, marker):
    text = BASE.replace("pde d(u, x, 2) = k", "pde d(u, x, 2) = " + payload.format(marker=marker))
    with pytest.raises(pl.PdeError):
        pl.parse(text, "evil.pde")


def test_the_spec_payload_from_a_file_executes_nothing(tmp_path):
    existed = os.path.exists(MARKER)
    path = tmp_path / "evil.pde"
    path.write_text(BASE.replace("param k = 1",
                                 "param k = __import__('os').system('touch /tmp/pwned_pdelang')"))
    with pytest.raises(pl.PdeSyntaxError) as info:
        pl.load(path)
    assert (info.value.span.line, info.value.span.column) == (2, 22)
    assert "unexpected character \"'\"" in info.value.message
    if not existed:
        assert not os.path.exists(MARKER)


def test_code_in_a_problem_name_is_inert_text(marker):
    name = f"__import__('os').system('touch {marker}')"
    system = pl.parse(BASE.replace('problem "safe"', f'problem "{name}"'))
    assert system.name == name          # kept as text, never run


def test_code_in_comments_is_ignored(marker):
    system = pl.parse(BASE + f"# __import__('os').system('touch {marker}')\n")
    assert system == pl.parse(BASE)


def test_the_sympy_front_end_refuses_text(marker):
    code = f"__import__('os').system('touch {marker}')"
    expect_api_error(pl.PdeSemanticError, "text is never evaluated", equations=[code])
    expect_api_error(pl.PdeSemanticError, "text is never evaluated",
                     params={sp.Symbol("k"): code})
    expect_api_error(pl.PdeSemanticError, "must be a list", conditions=code)
    x = sp.Symbol("x")
    expect_api_error(pl.PdeSemanticError, "text is never evaluated", domain={x: (0, code)})
    expect_api_error(pl.PdeSemanticError, "text is never evaluated",
                     exact={sp.Function("u"): code})
    with pytest.raises(pl.PdeError):
        pl.PDESystem([sp.Eq(sp.Function("u")(x).diff(x, 2), 1)], [pl.At(code, x, 0)],
                     {x: (0, 1)})


# -- the source itself ------------------------------------------------------------------

FORBIDDEN_NAMES = {"eval", "exec", "sympify", "parse_expr", "compile", "__import__",
                   "lambdify", "parse_latex", "parse_mathematica"}


def _code_tokens(path: Path) -> list[tokenize.TokenInfo]:
    """The tokens of a module without comments (docstrings stay, as STRING tokens)."""
    source = path.read_text(encoding="utf-8")
    return [tok for tok in tokenize.generate_tokens(io.StringIO(source).readline)
            if tok.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE)]


def _sources() -> list[Path]:
    sources = sorted(PACKAGE.glob("*.py"))
    assert len(sources) > 10
    return sources


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.name)
def test_no_evaluation_of_strings_in_the_source(path):
    tokens = _code_tokens(path)
    for tok in tokens:
        if tok.type == tokenize.NAME and tok.string in FORBIDDEN_NAMES:
            raise AssertionError(f"{path.name}:{tok.start[0]} uses {tok.string}")
    # S("...") / S('...'): SymPy's shorthand for sympify of a string
    for before, after in zip(tokens, tokens[2:]):
        index = tokens.index(before)
        if (before.type == tokenize.NAME and before.string == "S"
                and tokens[index + 1].string == "(" and after.type == tokenize.STRING):
            raise AssertionError(f"{path.name}:{before.start[0]} calls S() on a string")


def test_plain_grep_finds_no_eval_calls():
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        for needle in ("eval(", "exec(", "sympify(", "parse_expr(", 'S("', "S('"):
            assert needle not in text.replace("evalf(", ""), f"{needle} in {path.name}"


def test_numpy_files_are_read_without_pickle():
    assert "allow_pickle=False" in (PACKAGE / "data.py").read_text()
