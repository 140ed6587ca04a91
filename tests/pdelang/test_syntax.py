"""The surface of the `.pde` language: numbers, operators, layout, and syntax errors."""

import pytest
import sympy as sp

import pdelang as pl
from pdelang.syntax import parse_tree

from .helpers import POISSON1D, expect_error, parse, poisson1d, rhs_of, u, x

# -- numbers and operators ----------------------------------------------------------------


@pytest.mark.parametrize("text, value", [
    ("2", sp.Integer(2)),
    ("0.5", sp.Float(0.5)),
    ("1e-3", sp.Float(1e-3)),
    (".5", sp.Float(0.5)),
    ("2.", sp.Float(2.0)),
    ("1E3", sp.Float(1000.0)),
    ("2.5e+2", sp.Float(250.0)),
    ("007", sp.Integer(7)),
])
def test_numbers(text, value):
    got = rhs_of(poisson1d(text))
    assert got == value and type(got) is type(value)


def test_integers_stay_exact_and_floats_stay_floats():
    assert rhs_of(poisson1d("1/3")) == sp.Rational(1, 3)
    assert rhs_of(poisson1d("1.0/4")) == sp.Float(0.25)


@pytest.mark.parametrize("text, expected", [
    ("x + 2", x + 2),
    ("x - 2", x - 2),
    ("3*x", 3 * x),
    ("x/4", x / 4),
    ("x^2", x**2),
    ("x**2", x**2),
    ("-x", -x),
    ("+x", x),
    ("-(x + 1)", -(x + 1)),
    ("(x + 1)*(x - 1)", (x + 1) * (x - 1)),
    ("2*x^3", 2 * x**3),
    ("-x^2", -(x**2)),                  # the power binds tighter than unary minus
    ("x^-2", x**-2),                    # a signed exponent
    ("2^3^2", sp.Integer(2) ** 9),      # right-associative
    ("2**3**2", sp.Integer(2) ** 9),
    ("(2^3)^2", sp.Integer(64)),
    ("x - 1 - 2", x - 3),               # left-associative
    ("x/2/2", x / 4),
    ("1 + 2*3", sp.Integer(7)),
    ("pi", sp.pi),
    ("2*pi*x", 2 * sp.pi * x),
])
def test_operators_and_precedence(text, expected):
    assert rhs_of(poisson1d(text)) == expected


def test_spaces_and_tabs_are_ignored():
    assert rhs_of(poisson1d("\t x  *\t2 ")) == 2 * x


# -- layout: comments, blank lines, continuation, line endings -----------------------------

LAYOUT = """\
# a comment line first

   # an indented comment
space x in [0, 1]      # trailing comment


field u(x)
pde d(u, x, 2) = (1 +  # a comment inside brackets
                  x)   # the statement continues until the bracket closes
bc u = 0 at x = 0
bc u = 0 at x = 1
# a comment at the end, no newline"""


def test_comments_blank_lines_and_continuation():
    system = pl.parse(LAYOUT)
    assert system.equations[0].residual == sp.Derivative(u(x), (x, 2)) - 1 - x
    assert len(system.conditions) == 2


def test_continuation_inside_square_brackets_and_calls():
    system = parse("""
        space x in [
            0,
            1
        ]
        field u(x)
        pde d(u,
              x, 2) = sin(
            pi*x)
        bc u = 0 at x = 0
        bc u = 0 at x = 1
        """)
    assert system.coordinate("x").upper == 1
    assert system.equations[0].residual == sp.Derivative(u(x), (x, 2)) - sp.sin(sp.pi * x)


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_line_endings(newline):
    text = LAYOUT.replace("\n", newline)
    assert pl.parse(text) == pl.parse(LAYOUT)


def test_crlf_error_positions_and_source_line():
    text = POISSON1D.format(rhs="2 * * x").replace("\n", "\r\n")
    with pytest.raises(pl.PdeSyntaxError) as info:
        pl.parse(text, "crlf.pde")
    err = info.value
    assert (err.span.line, err.span.column) == (3, 22)
    assert err.span.source == "pde d(u, x, 2) = 2 * * x"


def test_a_hash_inside_a_string_is_not_a_comment():
    system = parse("""
        problem "heat # one"
        space x in [0, 1]
        field u(x)
        pde d(u, x, 2) = 1
        bc u = 0 at x = 0
        bc u = 0 at x = 1
        """)
    assert system.name == "heat # one"


def test_empty_statements_only_give_a_semantic_error():
    for text in ("", "\n\n", "# nothing\n"):
        with pytest.raises(pl.PdeSemanticError, match="no coordinates"):
            pl.parse(text)


def test_parse_tree_keeps_positions():
    tree = parse_tree("space x in [0, 1]\nfield u(x)\n")
    field = tree.children[1]
    assert (field.meta.line, field.meta.column) == (2, 1)


# -- syntax errors --------------------------------------------------------------------


def test_missing_operand():
    err = expect_error(POISSON1D.format(rhs="2 * * x"), pl.PdeSyntaxError, 3, 22,
                       "unexpected '*'", "expected an expression")
    assert "test.pde:3:22" in str(err)


def test_missing_right_operand_at_end_of_line():
    expect_error(POISSON1D.format(rhs="x +"), pl.PdeSyntaxError, 3, 21,
                 "unexpected end of the line", "expected an expression")


def test_missing_operator_between_operands():
    expect_error(POISSON1D.format(rhs="2 x"), pl.PdeSyntaxError, 3, 20,
                 "unexpected 'x'", "is an operator such as '*' missing")


def test_unclosed_bracket_at_end_of_file():
    text = "space x in [0, 1]\nfield u(x)\npde d(u, x, 2) = (x + 1"
    err = expect_error(text, pl.PdeSyntaxError, 3, 24, "unexpected end of the file",
                       "expected ')'")
    assert "'(' opened at line 3, column 18 is never closed" in str(err)


def test_unclosed_bracket_before_the_next_statement():
    text = POISSON1D.format(rhs="sin(x")
    err = expect_error(text, pl.PdeSyntaxError, 4, 1, "unexpected 'bc'")
    assert "'(' opened at line 3, column 21 is never closed" in err.hint


def test_unclosed_square_bracket():
    err = expect_error("space x in [0, 1\nfield u(x)\n", pl.PdeSyntaxError, 2, 1,
                       "unexpected 'field'")
    assert "'[' opened at line 1, column 12" in err.hint


def test_unexpected_closing_bracket():
    expect_error(POISSON1D.format(rhs="x)"), pl.PdeSyntaxError, 3, 19, "unexpected ')'")


@pytest.mark.parametrize("char", ["@", "$", "!", "{", ";", "'"])
def test_unexpected_character(char):
    expect_error(POISSON1D.format(rhs=f"x {char} 1"), pl.PdeSyntaxError, 3, 20,
                 f"unexpected character {char!r}")


def test_non_ascii_name_is_refused():
    expect_error(POISSON1D.format(rhs="α"), pl.PdeSyntaxError, 3, 18,
                 "unexpected character 'α'")


def test_unknown_statement_keyword():
    expect_error("space x in [0, 1]\nfeld u(x)\n", pl.PdeSyntaxError, 2, 1,
                 "unexpected", "'field'")


def test_keyword_declared_as_a_name():
    expect_error("space x in [0, 1]\nfield bc(x)\n", pl.PdeSemanticError, 2, 7,
                 "`bc` is a keyword and cannot name a field")


def test_keyword_used_in_an_expression():
    err = expect_error(POISSON1D.format(rhs="at"), pl.PdeSemanticError, 3, 18,
                       "`at` is a keyword")
    assert "param at" not in str(err)


def test_condition_without_an_equals_sign():
    expect_error("space x in [0, 1]\nfield u(x)\npde d(u, x, 2) = 1\nbc u at x = 0\n",
                 pl.PdeSyntaxError, 4, 6, "unexpected 'at'", "'='")


def test_param_without_value():
    expect_error("param k\n", pl.PdeSyntaxError, 1, 8, "unexpected end of the line",
                 "'='", "'~'")


def test_unterminated_string():
    expect_error('problem "heat\nspace x in [0, 1]\n', pl.PdeSyntaxError, 1, 9,
                 "unexpected character '\"'")


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.pde"
    path.write_bytes(b"space x in [0, 1]\nfield u(x)\npde d(u, x, 2) = 1 # caf\xe9\n")
    with pytest.raises(pl.PdeSyntaxError) as info:
        pl.load(path)
    err = info.value
    assert (err.span.line, err.span.column) == (3, 25)
    assert "not UTF-8" in err.message and "0xe9" in err.message
    assert str(path) in str(err)


def test_utf8_comments_are_fine(tmp_path):
    path = tmp_path / "utf8.pde"
    path.write_text(POISSON1D.format(rhs="1") + "# café, Δx, 日本\n", encoding="utf-8")
    assert pl.load(path).equations[0].residual == sp.Derivative(u(x), (x, 2)) - 1


def test_syntax_error_is_a_value_error():
    with pytest.raises(ValueError):
        pl.parse("space x in [0, 1]\n= =\n")
