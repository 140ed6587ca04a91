"""Every command-line flag that an error message or hint names exists: the words `--flag` in
the text of each error and warning built in runtime/ and compiler/ (read from the source)
are flags of `pdelang solve`, `show` or `check`; and the stiff-failure hints name the
implicit integrator the way the command line takes it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from runtime.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
FOREIGN = ("--xla",)              # flags of other programs that messages quote (XLA_FLAGS)


def real_flags() -> set[str]:
    parser = build_parser()
    flags = set()
    for action in parser._subparsers._group_actions:
        for sub in action.choices.values():
            for option in sub._actions:
                flags.update(s for s in option.option_strings if s.startswith("--"))
    return flags


def _texts(call: ast.Call) -> list[str]:
    parts = []
    for node in ast.walk(call):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            parts.append(node.value)
    return parts


def _is_message(call: ast.Call) -> bool:
    name = call.func.attr if isinstance(call.func, ast.Attribute) else \
        getattr(call.func, "id", "")
    return name.endswith(("Error", "Warning")) or name == "warn" or \
        any(k.arg == "hint" for k in call.keywords)


def message_flags() -> list[tuple[str, int, str]]:
    """(file, line, flag) of every --flag in an error's or warning's text."""
    found = []
    for package in ("runtime", "compiler"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and _is_message(node):
                    for text in _texts(node):
                        for flag in FLAG.findall(text):
                            found.append((str(path.relative_to(ROOT)), node.lineno, flag))
    return found


def test_messages_name_flags_at_all():
    flags = {flag for *_, flag in message_flags()}
    assert {"--dt", "--integrator", "--grid", "--method", "--resume"} <= flags


def test_every_flag_named_in_a_message_exists():
    flags = real_flags()
    wrong = [(f, line, flag) for f, line, flag in message_flags()
             if flag not in flags and not flag.startswith(FOREIGN)]
    assert not wrong, wrong


KEYWORD = re.compile(r"(?<![\w.-])([a-z][a-z0-9_]*)=(?!=)")
# `name=` words in messages that are not options of runtime.solve: keyword arguments of the
# lower-level public functions that raise them (runtime.algebra.newton's linear, tol and
# atol; runtime.integrate's t_eval), and coordinates in examples of --grid and --mesh values
NOT_OPTIONS = {"linear", "t_eval", "x", "y", "k"}     # k: a parameter in --sweep k=...


def message_keywords() -> list[tuple[str, int, str]]:
    found = []
    for package in ("runtime", "compiler"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Call) and _is_message(node):
                    found += [(str(path.relative_to(ROOT)), node.lineno, word)
                              for text in _texts(node) for word in KEYWORD.findall(text)]
    return found


def test_every_option_named_as_a_keyword_in_a_message_exists():
    from runtime.options import OPTIONS

    names = {o.name for o in OPTIONS.options} | NOT_OPTIONS
    found = message_keywords()
    assert {"dt", "integrator", "rtol"} <= {word for *_, word in found}
    wrong = [item for item in found if item[2] not in names]
    assert not wrong, wrong


def test_the_stability_hint_names_the_implicit_integrator_as_a_flag():
    from runtime.errors import SolveError
    from runtime.time.stability import check_dt

    with pytest.raises(SolveError) as info:
        check_dt("rk4", 1.0, 100.0)
    assert "--integrator sdirk2" in info.value.hint and "--dt" in info.value.hint
