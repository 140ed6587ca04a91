"""Inputs that would hang SymPy or exhaust memory are refused quickly with a `PdeLimitError`."""

import pytest
import sympy as sp

import pdelang as pl

from .helpers import POISSON1D, expect_error, poisson1d, rhs_of

pytestmark = pytest.mark.timeout(20)


@pytest.mark.parametrize("rhs, column, needle", [
    ("9" * 401, 18, "the number has 401 digits; at most 400"),
    ("10^401", 18, "10^401 has about 401 digits"),
    ("x^1001", 18, "the exponent 1001 is too large (at most 1000)"),
    ("2^(2^(2^(2^5)))", 21, "the exponent 4294967296 is too large"),
    ("exp(10001)", 18, "exp(10001) is too large to compute"),
    ("sinh(exp(exp(9)))", 18, "is too large to compute"),
    ("(1e-300)^(x + 2)", 18, "1e-300^(x + 2) has about 600 digits"),
    ("x^(x + 1e300)", 18, "the exponent x + 1e+300 (with numbers up to 1e+300) is too large"),
    ("exp(x + 1e300)", 18, "too large or too small to compute with"),
    ("sinh((1e-300)^(x + 1e300)/d(u, x))", 23, "the exponent x + 1e+300"),
])
def test_numbers_too_large_to_compute(rhs, column, needle):
    err = expect_error(POISSON1D.format(rhs=rhs), pl.PdeLimitError, 3, column)
    assert needle in err.message


def test_large_but_legal_numbers():
    assert rhs_of(poisson1d("9" * 400)) == int("9" * 400)
    assert rhs_of(poisson1d("2^1000")) == 2**1000
    assert rhs_of(poisson1d("1e300*x")).is_Mul
    assert rhs_of(poisson1d("exp(-1e3*x)")).func.__name__ == "exp"


def test_float_literal_beyond_double_range():
    expect_error(POISSON1D.format(rhs="1e400"), pl.PdeSemanticError, 3, 18,
                 "the number 1e400 is too large to represent")


@pytest.mark.parametrize("statements", [
    "param L = 10^300\nspace x in [0, L]\nfield u(x)\npde d(u, x, 2) = 1\n"
    "bc u = 0 at x = 0\nbc u = 2^x at x = L\n",                 # a face value in a power
    "space x in [0, 1000]\nfield u(x)\npde d(u, x, 2) = 1\n"
    "bc u = 0 at x = 0\nbc u = x^x^x at x = 1000\n",
    "space x in [0, 1e300]\nfield u(x)\npde d(u, x, 2) = 1\n"
    "bc u = 0 at x = 0\nbc u = exp(x) at x = 1e300\n",
    "param a = 10^300\nparam b = 2^a\nspace x in [0, 1]\n",       # constants from constants
    "param a = 10^300\nspace x in [0, 2^a]\n",                    # interval ends
    "param a = 1000\nspace x in [0, 1]\nfield u(x)\npde d(u, x, 2) = 1\n"
    "bc u(0) = 0\nbc u(a^a^a) = 0\n",                             # positional faces
])
def test_substituting_values_never_computes_huge_powers(statements):
    with pytest.raises(pl.PdeLimitError, match="too large|digits"):
        pl.parse(statements)


def test_deep_nesting():
    err = expect_error(POISSON1D.format(rhs="-(" * 250 + "x" + ")" * 250), pl.PdeLimitError,
                       3, 412, "nested more than 200 levels deep")
    assert "intermediate `param`" in err.hint
    expect_error(POISSON1D.format(rhs="sin(" * 150 + "x" + ")" * 150), pl.PdeLimitError,
                 3, 414, "nested more than 200 levels deep")


def test_brackets_alone_do_not_nest_the_tree():
    assert rhs_of(poisson1d("(" * 500 + "x" + ")" * 500)) == rhs_of(poisson1d("x"))


def test_long_but_shallow_expressions_are_fine():
    rhs = " + ".join(f"(x + {i})^4" for i in range(60))
    assert rhs_of(poisson1d(rhs)).is_Add


def test_source_size_and_name_count():
    with pytest.raises(pl.PdeLimitError, match="1000003 characters; the limit is 1000000"):
        pl.parse("# " + "a" * 1_000_001)
    names = "\n".join(f"param p{i} = {i}" for i in range(1001))
    expect_error(names + "\nspace x in [0, 1]\n", pl.PdeLimitError, 1, 1,
                 "1002 names are declared; at most 1000")


def test_expression_node_limit():
    rhs = " + ".join(f"x^{i % 900 + 2}*sin({i}*x)" for i in range(190))
    text = POISSON1D.format(rhs=f"({rhs})*({rhs})*({rhs})")
    # the product is kept unexpanded by SymPy, so it stays within the node limit
    assert pl.parse(text).equations


def test_long_flat_sums_and_products_are_not_nesting():
    terms = " + ".join(f"{i}*x^2" for i in range(1, 1500))
    factors = " * ".join("(1 + x)" for _ in range(300))
    text = (f"space x in [0, 1]\nfield u(x)\npde d(u, x, 2) = {terms} - {factors}\n"
            "bc u = 0 at x = 0\nbc u = 0 at x = 1\n")
    system = pl.parse(text)
    assert system.equations[0].rhs.has(sp.Integer(1124250))


def test_deep_nesting_is_still_refused():
    deep = "sin(" * 300 + "x" + ")" * 300
    with pytest.raises(pl.PdeLimitError, match="nested"):
        pl.parse(f"space x in [0, 1]\nfield u(x)\npde d(u, x, 2) = {deep}\n"
                 "bc u = 0 at x = 0\nbc u = 0 at x = 1\n")
