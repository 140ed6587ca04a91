"""The records of the table (`Method`, `Option`) and what is derived from them: each method's
frozen options class, the check of the options a call gives, and `describe`."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import OptionError


@dataclasses.dataclass(frozen=True)
class Method:
    """A method of `runtime.solve`: its name, what it does in a line, and where it lives:
    `module` exposes `options_class` (built by `Table.options_class`) and `solver`
    (`solver(system, options, observers) -> Solution`)."""

    name: str
    help: str
    module: str
    options_class: str
    solver: str

    def load(self) -> tuple[type, Callable]:
        """(the options class, the solver), imported when first asked for."""
        import importlib

        module = importlib.import_module(self.module)
        return getattr(module, self.options_class), getattr(module, self.solver)


class PerMethod(dict):
    """A default that differs between the methods of an option: {method: default}."""


def per_method(**defaults: object) -> PerMethod:
    return PerMethod(defaults)


SWITCH_OFF = object()     # `Option.value` of an option that is not a switch


@dataclasses.dataclass(frozen=True)
class Option:
    """One option of one or several methods.

    `type`: the annotation of its field in each method's options class; `default`: a value,
    or `per_method(fd=..., odil=...)` where the methods differ; `help`: one line;
    `methods`: the methods that use it; `choices`: the allowed values, or a function
    returning them (imported from where the choices are implemented, when first needed);
    `parse`: how the command line reads the flag's text (an argparse type); `flag`: the
    command-line flag where it is not `--name-with-dashes`; `cli`: False for "API only";
    `value`: for a switch (a flag without an argument), the value it sets; `group`: the
    help group where it is not chosen by its methods ("inverse", "devices");
    `shown_default`: how `--help` states a default that is not a plain value; `metavar`."""

    name: str
    type: Any
    default: object
    help: str
    methods: tuple[str, ...]
    choices: Sequence | Callable[[], Sequence] | None = None
    parse: Callable[[str], object] | None = None
    flag: str | None = None
    cli: bool = True
    value: object = SWITCH_OFF
    group: str | None = None
    shown_default: str | None = None
    metavar: str | None = None

    def default_for(self, method: str) -> object:
        if isinstance(self.default, PerMethod):
            return self.default[method]
        return self.default

    def allowed(self) -> tuple | None:
        """The allowed values (None: any of its type)."""
        if self.choices is None:
            return None
        return tuple(self.choices() if callable(self.choices) else self.choices)

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def is_switch(self) -> bool:
        return self.value is not SWITCH_OFF

    def default_text(self) -> str | None:
        """The default as `--help` states it (None: nothing to state)."""
        if self.shown_default is not None:
            return self.shown_default
        if isinstance(self.default, PerMethod):
            return "; ".join(f"{m} {_shown(v)}" for m, v in self.default.items()
                             if v is not None) or None
        if self.default is None or self.is_switch:
            return None
        return _shown(self.default)


def _shown(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def _check_choice(option: Option, value: object) -> None:
    allowed = option.allowed()
    if allowed is not None and value is not None and value not in allowed:
        raise OptionError(f"{option.name} {value!r} is not available; choose one of "
                          f"{', '.join(map(str, allowed))}")


class Table:
    """The methods and their options, with lookups by method and by name."""

    def __init__(self, methods: Sequence[Method], options: Sequence[Option]) -> None:
        self.methods = tuple(methods)
        self.options = tuple(options)
        names = [m.name for m in self.methods]
        for option in self.options:
            wrong = set(option.methods) - set(names)
            if wrong or not option.methods:
                raise ValueError(f"option {option.name!r} names methods {option.methods}")
            if isinstance(option.default, PerMethod) and set(option.default) != \
                    set(option.methods):
                raise ValueError(f"option {option.name!r}: defaults for {set(option.default)}, "
                                 f"methods {option.methods}")

    @property
    def method_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.methods)

    def of(self, method: str) -> tuple[Option, ...]:
        """The options of `method`, in the table's order."""
        return tuple(o for o in self.options if method in o.methods)

    def option(self, name: str) -> Option:
        return next(o for o in self.options if o.name == name)

    def users(self, name: str) -> tuple[str, ...]:
        """The methods that use option `name` (empty: none)."""
        return next((o.methods for o in self.options if o.name == name), ())

    def method(self, name: str) -> Method:
        """The method called `name`, or an OptionError listing the methods."""
        for method in self.methods:
            if method.name == name:
                return method
        raise OptionError(f"unknown method {name!r}; choose one of "
                          f"{', '.join(self.method_names)}")

    def check_method(self, method: str) -> None:
        self.method(method)

    def check_given(self, method: str, given: Mapping[str, object], *,
                    flags: bool = False) -> None:
        """An OptionError for the first of `given` that `method` does not use: naming the
        methods that use it, or (an option of none) the closest name and `method`'s
        options. `flags`: say it the command line's way (--flag, --method)."""
        self.check_method(method)
        mine = [o.name for o in self.of(method)]
        for name in given:
            if name in mine:
                continue
            users = self.users(name)
            if users:
                option = self.option(name)
                if flags:
                    raise OptionError(f"{option.cli_flag} is not an option of --method "
                                      f"{method}; it is an option of {', '.join(users)}")
                raise OptionError(f"option {name!r} is not used by method {method!r}; it is "
                                  f"an option of {', '.join(users)}")
            close = difflib.get_close_matches(name, mine, n=1)
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            raise OptionError(f"{name!r} is not an option of any method{guess}; {method} "
                              f"options: {', '.join(mine)}")

    def options_class(self, method: str, name: str, *, module: str, doc: str = "",
                      check: Callable[[Any], None] | None = None,
                      namespace: Mapping[str, object] | None = None) -> type:
        """A frozen dataclass of `method`'s options (fields in the table's order, defaults
        from it) whose construction checks the choices, then runs `check` (the method's
        own validation)."""
        rows = self.of(method)

        def __post_init__(self) -> None:
            for option in rows:
                _check_choice(option, getattr(self, option.name))
            if check is not None:
                check(self)

        fields = [(o.name, o.type, dataclasses.field(default=o.default_for(method)))
                  for o in rows]
        body = {**(namespace or {}), "__post_init__": __post_init__,
                "__doc__": doc or f"Everything `solve(..., method={method!r})` accepts; "
                                  f"see `runtime.options.describe({method!r})`."}
        cls = dataclasses.make_dataclass(name, fields, frozen=True, namespace=body)
        cls.__module__ = module
        return cls

    def describe(self, method: str) -> str:
        """The options of `method`, a line each: name, default, choices, help."""
        lines = [f"{method}: {self.method(method).help}"]
        for o in self.of(method):
            default = repr(o.default_for(method))
            if default == "None" and o.shown_default:
                default = f"None ({o.shown_default})"
            allowed = o.allowed()
            choices = f" (one of {', '.join(map(str, allowed))})" if allowed else ""
            where = "" if o.cli else " [API only]"
            lines.append(f"  {o.name} = {default}{choices}: {o.help}{where}")
        return "\n".join(lines)

