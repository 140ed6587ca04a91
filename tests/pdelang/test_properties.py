"""Properties, checked with hypothesis:

(a) a SymPy expression printed as `.pde` text and parsed back is the same expression;
(b) `system.to_pde()` of every example parses back to an equal system;
(c) no input, however broken, raises anything but a `PdeError`, or takes long.

The default run is quick (a few hundred inputs); `-m slow` runs the thorough variants.
"""

from __future__ import annotations

import signal
import time
from contextlib import contextmanager

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pdelang as pl
from pdelang.text import decode

from .helpers import EXAMPLES, t, u, x, y

QUICK = settings(max_examples=120, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
THOROUGH = settings(max_examples=2500, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.pde"))
TIME_BOUND = 2.0                     # seconds one parse may take

# -- (a) expressions round-trip through their `.pde` text ------------------------------------

a = sp.Symbol("a")
U = u(t, x, y)
SIGNATURE = {"u": ("t", "x", "y")}
SYSTEM = """\
param a = 2
space x in [0, 1], y in [0, 1]
time t in [0, 1]
field u(t, x, y)
pde d(u, t, 2) = {rhs}
bc periodic x, y
ic u = 0 at t = 0
ic d(u, t) = 0 at t = 0
"""

ONE_ARGUMENT = [sp.sin, sp.cos, sp.tan, sp.exp, sp.log, sp.sqrt, sp.tanh, sp.sinh, sp.cosh,
                sp.Abs, sp.sign]
COMPARISONS = [sp.Lt, sp.Le, sp.Gt, sp.Ge]


def _divide(p: sp.Expr, q: sp.Expr) -> sp.Expr | None:
    return None if q.is_Number and q.is_zero else p / q     # SymPy raises on Float 0.0


BINARY = [lambda p, q: p + q, lambda p, q: p - q, lambda p, q: p * q, _divide]


def _where(parts: tuple) -> sp.Expr | None:
    compare, left, right, then, otherwise = parts
    if left.has(sp.Piecewise) or right.has(sp.Piecewise):
        return None                   # the language refuses where() inside a comparison
    return sp.Piecewise((then, compare(left, right)), (otherwise, True))


def sane(expr: sp.Basic | None) -> bool:
    """Finite, real and moderate everywhere: what the language accepts without limits."""
    if expr is None or expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.I):
        return False
    if expr.has(sp.re, sp.im, sp.arg, sp.conjugate):
        return False      # abs(exp(x)) is exp(re(x)) for complex x; the language has no re()
    if any(f != 0 and not 1e-300 < abs(f) < 1e300 for f in expr.atoms(sp.Float)):
        return False      # numbers in the text are IEEE doubles: exp(-711.5) has no exact text
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Expr) and node.is_number:
            if node.is_real is False:
                return False
            try:
                value = complex(sp.N(node))
            except (TypeError, ValueError, OverflowError):
                return False
            if abs(value.imag) > 1e-9 * max(1.0, abs(value.real)) or abs(value) > 1e4:
                return False
    return True


floats = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False).filter(
    lambda f: f == 0 or abs(f) >= 1e-6).map(sp.Float)
leaves = st.one_of(
    st.sampled_from([x, y, t, a, sp.pi, U, U.diff(t), U.diff(x), U.diff(x, 2), U.diff(x, y),
                     U.diff(y, 2)]),
    st.integers(-9, 9).map(sp.Integer),
    floats,
    st.tuples(st.integers(-9, 9), st.integers(1, 9)).map(lambda pq: sp.Rational(*pq)),
)


def _extend(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.tuples(st.sampled_from(BINARY), children, children).map(lambda f: f[0](f[1], f[2])),
        st.tuples(children, st.integers(-3, 4)).map(lambda p: p[0] ** p[1]),
        children.map(lambda e: -e),
        st.tuples(st.sampled_from(ONE_ARGUMENT), children).map(lambda f: f[0](f[1])),
        st.tuples(st.sampled_from([sp.Min, sp.Max]), children, children).map(
            lambda f: f[0](f[1], f[2])),
        st.tuples(st.sampled_from(COMPARISONS), children, children, children, children).map(
            _where),
    ).filter(sane)


expressions = st.recursive(leaves.filter(sane), _extend, max_leaves=10)


def rebuilt(expr: sp.Basic) -> sp.Basic:
    """`expr` built again bottom-up, as SymPy builds it from parsed text: a strategy can leave
    a node unevaluated that construction evaluates (found: Min(x, Max(0, 1)), whose text
    parses as Min(1, x))."""
    return expr.func(*(rebuilt(a) for a in expr.args)) if expr.args else expr


def check_round_trip(expr: sp.Expr, shorthand: bool) -> None:
    expr = rebuilt(expr)
    if shorthand:
        text = pl.expression_to_pde(expr, SIGNATURE, shorthand=True)
    else:
        text = pl.expression_to_pde(expr)
    system = pl.parse(SYSTEM.format(rhs=text), "roundtrip.pde")
    assert system.equations[0].rhs == expr, f"{text!r} parsed as {system.equations[0].rhs}"
    assert system.equations[0].residual == U.diff(t, 2) - expr
    # and the whole system prints and parses back too
    assert pl.parse(system.to_pde(), "printed.pde") == system


@QUICK
@given(expressions, st.booleans())
def test_expressions_round_trip(expr, shorthand):
    check_round_trip(expr, shorthand)


@pytest.mark.slow
@THOROUGH
@given(expressions, st.booleans())
def test_expressions_round_trip_thoroughly(expr, shorthand):
    check_round_trip(expr, shorthand)


@pytest.mark.parametrize("expr", [
    sp.Float(0.1) * x + sp.Float(0.2),
    x**-3 + sp.Rational(-7, 3) * x**2,
    -(x**2) + (-2) ** x,
    sp.Piecewise((U.diff(x), x <= y), (sp.sqrt(x + 1), True)),
    sp.Max(x, y, a) - sp.Min(U, 2),
    sp.exp(-a * sp.pi**2 * t) * sp.cos(sp.pi * x),
    U * U.diff(x) - U.diff(x, y) / (1 + U**2),
])
def test_known_expressions_round_trip(expr):
    check_round_trip(expr, False)
    check_round_trip(expr, True)


# -- (b) every example prints and parses back ------------------------------------------


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.stem for p in EXAMPLE_FILES])
def test_examples_round_trip(path):
    system = pl.load(path)
    again = pl.parse(system.to_pde(), "printed.pde", base=path.parent)
    assert again == system and hash(again) == hash(system)
    assert again.to_pde() == system.to_pde()


# -- (c) broken input gives a PdeError, quickly ---------------------------------------------


class ParseTimeout(BaseException):
    """Raised inside a parse that runs past its time bound (never caught by library code)."""


@contextmanager
def time_bound(seconds: float):
    """Interrupt the block after `seconds`, keeping any alarm pytest-timeout has set."""
    def on_alarm(signum, frame):
        raise ParseTimeout

    start = time.monotonic()
    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    previous_timer = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_timer[0] > 0:
            left = previous_timer[0] - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), previous_timer[1])


def parse_bytes(raw: bytes) -> None:
    """What `pl.load` does with a file's bytes; only `PdeError` may come out, within bounds."""
    try:
        with time_bound(TIME_BOUND):
            pl.parse(decode(raw, "fuzz.pde"), "fuzz.pde")
    except pl.PdeError as err:
        assert err.message and isinstance(err.span, pl.Span)
        assert str(err).startswith("fuzz.pde")
    except ParseTimeout:
        pytest.fail(f"parsing took more than {TIME_BOUND} s: {raw!r}")


EXAMPLE_BYTES = [path.read_bytes() for path in EXAMPLE_FILES]
TOKENS = [b"(", b")", b"[", b"]", b",", b"=", b"~", b"+", b"-", b"*", b"/", b"^", b"**", b"<",
          b">=", b"0", b"1", b"2.5", b".5", b"1e-3", b"1e999", b"99999", b"0.0", b"x", b"y",
          b"t", b"u", b"v", b"d", b"laplace", b"where", b"load", b"pi", b"sin", b"exp", b"log",
          b"sqrt", b"abs", b"min", b"max", b"problem", b"param", b"space", b"time", b"field",
          b"pde", b"bc", b"ic", b"at", b"periodic", b"data", b"exact", b"in", b"\n", b"\r\n",
          b"#", b'"', b" ", b"u_x", b"u_xx", b"u_t", b"u(0)", b"u(t, 0)", b"d(u, x, 2)",
          b"9^9^9", b"\xff", b"\xe9", b"\x00", b"\t"]


@st.composite
def mutated_examples(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(EXAMPLE_BYTES)))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "byte"]))
        if action == "insert":
            data[position:position] = draw(st.sampled_from(TOKENS))
        elif action == "delete":
            del data[position:position + draw(st.integers(1, 8))]
        elif action == "replace":
            data[position:position + draw(st.integers(1, 4))] = draw(st.sampled_from(TOKENS))
        else:
            data[position:position] = bytes([draw(st.integers(0, 255))])
    return bytes(data)


@st.composite
def spliced_lines(draw) -> bytes:
    """Lines of different examples mixed: valid statements in invalid company."""
    lines = [line for text in EXAMPLE_BYTES for line in text.splitlines()]
    chosen = draw(st.lists(st.sampled_from(lines), min_size=1, max_size=15))
    return b"\n".join(chosen)


NUMBERS = ["0", "1", "2", "0.5", ".5", "1e-3", "0.0", "3", "10", "1000", "1001", "99999",
           "1e5", "1e300", "1e-300", "10^300", "7"]
NAMES = ["x", "t", "y", "u", "alpha", "pi", "c", "u_x", "u_xx", "u_t", "u_tx", "u_y"]
CALLS = ["sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh", "abs", "sign",
         "min", "max", "d", "laplace", "where", "load", "u", "foo"]


def _call(parts: tuple) -> str:
    name, args = parts
    return f"{name}({', '.join(args)})"


expression_texts = st.recursive(
    st.sampled_from(NUMBERS + NAMES),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^", "**"]), inner).map(
            lambda p: f"({p[0]}) {p[1]} ({p[2]})"),
        inner.map(lambda e: f"-{e}"),
        st.tuples(st.sampled_from(CALLS), st.lists(inner, min_size=1, max_size=3)).map(_call),
        st.tuples(inner, st.sampled_from(["<", "<=", ">", ">="]), inner, inner, inner).map(
            lambda p: f"where({p[0]} {p[1]} {p[2]}, {p[3]}, {p[4]})"),
        st.tuples(inner, st.sampled_from(["x", "t", "x, 2", "x, t", "0", "x, 9", "alpha"])).map(
            lambda p: f"d({p[0]}, {p[1]})"),
        st.sampled_from(["u(t, 0)", "u(0, x)", "u(t, 1)", "u(0.5, x)", "d(u(t, 0), x)"]),
    ),
    max_leaves=12)

HEAT = (EXAMPLES / "heat1d.pde").read_text()
SLOTS = ["alpha * d(u, x, 2)", "cos(pi*x) at", "cos(pi*x)*exp(-alpha*pi^2*t)", "= 0.1",
         "[0, 0.5]", "d(u, x) = 0 at x = 0", "at x = 1"]


@st.composite
def heat_with_random_expressions(draw) -> bytes:
    """The heat example with one expression, face or interval replaced by random text."""
    slot = draw(st.sampled_from(SLOTS))
    expression = draw(expression_texts)
    if slot == "cos(pi*x) at":
        new = f"{expression} at"
    elif slot == "= 0.1":
        new = f"= {expression}"
    elif slot == "[0, 0.5]":
        new = f"[{draw(expression_texts)}, {expression}]"
    elif slot == "d(u, x) = 0 at x = 0":
        new = f"{expression} = {draw(expression_texts)} at x = {draw(expression_texts)}"
    elif slot == "at x = 1":
        new = f"at {draw(st.sampled_from(['x', 't', 'u', 'alpha']))} = {expression}"
    else:
        new = expression
    return HEAT.replace(slot, new, 1).encode()


@settings(QUICK, max_examples=150)
@given(heat_with_random_expressions())
def test_random_expressions_in_a_valid_file_give_only_pde_errors(raw):
    parse_bytes(raw)


@pytest.mark.slow
@settings(THOROUGH, max_examples=2500)
@given(heat_with_random_expressions())
def test_random_expressions_in_a_valid_file_thoroughly(raw):
    parse_bytes(raw)


@QUICK
@given(st.binary(max_size=300))
def test_random_bytes_give_only_pde_errors(raw):
    parse_bytes(raw)


@QUICK
@given(st.text(alphabet="()[],=~+-*/^<>.0123456789e xytuvdpi_\n#\"", max_size=120))
def test_random_text_gives_only_pde_errors(text):
    parse_bytes(b"space x in [0, 1]\nfield u(x)\npde " + text.encode())


@settings(QUICK, max_examples=200)
@given(st.one_of(mutated_examples(), spliced_lines()))
def test_mutated_examples_give_only_pde_errors(raw):
    parse_bytes(raw)


@pytest.mark.slow
@settings(THOROUGH, max_examples=1500)
@given(st.binary(max_size=600))
def test_random_bytes_thoroughly(raw):
    parse_bytes(raw)


@pytest.mark.slow
@settings(THOROUGH, max_examples=3000)
@given(st.one_of(mutated_examples(), spliced_lines()))
def test_mutated_examples_thoroughly(raw):
    parse_bytes(raw)


def test_time_bound_interrupts_and_restores():
    with pytest.raises(ParseTimeout):
        with time_bound(0.05):
            while True:
                pass
    assert signal.getitimer(signal.ITIMER_REAL)[0] >= 0
