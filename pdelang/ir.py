"""The IR: one frozen, hashable description of a validated PDE system.

Both front ends (SymPy objects and `.pde` text) end here, and every compiler starts here.
Expressions are SymPy objects in a normal form:

- a coordinate is the plain symbol of its name (`Symbol("x")`, no assumptions);
- a field or coefficient field is its function applied to its declared coordinates
  (`u(t, x)`), a constant parameter the plain symbol of its name;
- derivatives list their variables in the field's argument order;
- equations and conditions keep their residual `lhs - rhs`; a condition also names the
  face of the domain where it holds, and its residual has that coordinate replaced by the
  face's value everywhere except inside the field and its derivatives.

Source positions ride along for messages but never take part in equality, so the text and
SymPy forms of one problem compare equal.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

import numpy as np
import sympy as sp

from .errors import Span
from .geometry import Shape

Side = Literal["lower", "upper"]
ConditionKind = Literal["boundary", "initial", "periodic", "point", "mean", "shape"]


def _no_span() -> Span:
    return Span()


@dataclass(frozen=True)
class Coordinate:
    """An independent variable with its interval; at most one is time."""

    name: str
    lower: sp.Expr
    upper: sp.Expr
    is_time: bool = False
    span: Span = field(default_factory=_no_span, compare=False, repr=False)

    @property
    def symbol(self) -> sp.Symbol:
        return sp.Symbol(self.name)

    @property
    def bounds(self) -> tuple[float, float]:
        return float(self.lower), float(self.upper)

    @property
    def length(self) -> float:
        lo, hi = self.bounds
        return hi - lo

    def value(self, side: Side) -> sp.Expr:
        return self.lower if side == "lower" else self.upper


@dataclass(frozen=True)
class Field:
    """An unknown function of some of the coordinates, in the declared argument order."""

    name: str
    args: tuple[str, ...]
    span: Span = field(default_factory=_no_span, compare=False, repr=False)

    @property
    def function(self) -> sp.FunctionClass:
        return sp.Function(self.name)

    @property
    def applied(self) -> sp.Expr:
        return self.function(*(sp.Symbol(a) for a in self.args))


@dataclass(frozen=True, eq=False)
class Samples:
    """A read-only array that samples a coefficient field on a uniform grid (ends included).

    Compared and hashed by content, so that loading one file twice gives equal systems.
    """

    array: np.ndarray
    path: str = ""

    def __post_init__(self) -> None:
        array = np.array(self.array, dtype=np.float64, copy=True)
        array.setflags(write=False)
        object.__setattr__(self, "array", array)

    @cached_property
    def digest(self) -> str:
        return hashlib.sha256(self.array.tobytes() + str(self.array.shape).encode()).hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Samples) and self.digest == other.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        where = f"{self.path!r}, " if self.path else ""
        return f"Samples({where}shape={self.array.shape})"


NET_ACTIVATIONS = ("tanh", "sin", "gelu", "softplus", "silu", "sigmoid")
NET_OPTIONS = ("width", "depth", "activation")       # after the `:` of a `net` line


@dataclass(frozen=True)
class Net:
    """A learned function (`net F(u, v) : width 16, depth 2`): a neural network of its
    `inputs` (fields, coordinates, derivatives of fields, as expressions) with `outputs`
    values, `depth` hidden layers of `width` units and `activation` between them. Used in
    equations as `F(u, v)` (any arguments of the declared count) or, with several outputs,
    `G(u, v)[k]` and `G[k]` (at the declared inputs); called from Python the same way:
    `F(u, v)`, `G[k]`, `G.output(k, u, v)`."""

    name: str
    inputs: tuple[sp.Expr, ...]
    outputs: int = 1
    width: int = 16
    depth: int = 2
    activation: str = "tanh"
    span: Span = field(default_factory=_no_span, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(self.inputs))    # a list from Python

    def output(self, index: int, *args: sp.Expr) -> sp.Expr:
        """Output `index` at `args` (default: the declared inputs)."""
        from .expressions import NetOutput

        return NetOutput.of(self.name, index, self.outputs, args or self.inputs)

    def __call__(self, *args: sp.Expr) -> sp.Expr:
        if self.outputs != 1:
            raise TypeError(f"the net {self.name} has {self.outputs} outputs: take one, "
                            f"{self.name}[0] or {self.name}.output(0, ...)")
        return self.output(0, *args)

    def __getitem__(self, index: int) -> sp.Expr:
        return self.output(index)

    def signature(self, show=str) -> str:
        """`F(u, v)`, its inputs printed by `show`."""
        return f"{self.name}({', '.join(show(a) for a in self.inputs)})"

    def declaration(self, show=str) -> str:
        """The `net` line that declares it (inputs printed by `show`)."""
        arrow = f" -> {self.outputs}" if self.outputs != 1 else ""
        return (f"net {self.signature(show)}{arrow} : width {self.width}, depth "
                f"{self.depth}, activation {self.activation}")


@dataclass(frozen=True)
class Param:
    """A parameter: a known constant, an unknown constant, or a coefficient field.

    - known constant: `value` is a number;
    - unknown constant (`param k ~ 0.5`): `guess` is a number;
    - coefficient field (`args` non-empty): defined by `value` (an expression of its
      coordinates), by `samples` (`load(...)`), or unknown with a `guess`.

    `bounds` (`param D ~ 0.3 in [0, 10]`): the closed interval an unknown constant lies
    in, numbers with lower < upper and the guess strictly inside; fits keep it there.
    """

    name: str
    args: tuple[str, ...] = ()
    value: sp.Expr | None = None
    samples: Samples | None = None
    guess: sp.Expr | None = None
    span: Span = field(default_factory=_no_span, compare=False, repr=False)
    bounds: tuple[sp.Expr, sp.Expr] | None = None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The bounds as floats, or None when the parameter is unbounded."""
        return None if self.bounds is None else (float(self.bounds[0]), float(self.bounds[1]))

    @property
    def is_field(self) -> bool:
        return bool(self.args)

    @property
    def is_unknown(self) -> bool:
        return self.guess is not None

    @property
    def symbol(self) -> sp.Expr:
        """How the parameter appears in expressions: `k`, or `c(x, y)` for a field."""
        if self.is_field:
            return sp.Function(self.name)(*(sp.Symbol(a) for a in self.args))
        return sp.Symbol(self.name)


@dataclass(frozen=True)
class Equation:
    """One PDE, kept as its residual `lhs - rhs` (zero where the equation holds), with
    derivatives of expressions carried out; `flux` is the same residual with the flux nodes
    `d(expr, x)` kept as written (pdelang.flux), None when it has none."""

    residual: sp.Expr
    lhs: sp.Expr = field(default=sp.S.Zero, compare=False, repr=False)
    rhs: sp.Expr = field(default=sp.S.Zero, compare=False, repr=False)
    span: Span = field(default_factory=_no_span, compare=False, repr=False)
    flux: sp.Expr | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Condition:
    """A boundary or initial condition on one face, periodicity in one coordinate, or a
    condition that fixes a constant: at one point, or on the mean over the domain.

    `side` names the face (`lower` or `upper` end of `coordinate`); it is None for
    periodic conditions, whose residual is zero, and for the two kinds below.
    `point` (kind "point": `bc u = 0 at x = 0, y = 0`) gives the value of every space
    coordinate, and the residual has them put in outside the fields. Kind "mean"
    (`bc mean(u) = 0`): the residual is the integrand minus the value, `u - 0`, whose mean
    over the space domain is zero. Both have `coordinate` "" and are steady-only. Kind
    "shape" (`bc u = 0 on boundary where x > 0`) holds on the boundary of the system's
    shaped `domain`, on the part where the relational `where` holds (None: all of it).
    """

    kind: ConditionKind
    coordinate: str
    side: Side | None
    residual: sp.Expr = sp.S.Zero
    lhs: sp.Expr = field(default=sp.S.Zero, compare=False, repr=False)
    rhs: sp.Expr = field(default=sp.S.Zero, compare=False, repr=False)
    span: Span = field(default_factory=_no_span, compare=False, repr=False)
    point: tuple[tuple[str, sp.Expr], ...] = ()
    where: sp.Expr | None = None

    @property
    def fixes_constant(self) -> bool:
        """A point or mean condition: one number fixed, not a face."""
        return self.kind in ("point", "mean")

    @cached_property
    def fields(self) -> tuple[str, ...]:
        """Names of the fields the condition constrains, in first-seen order."""
        return tuple(dict.fromkeys(f.func.__name__ for f in _applied_functions(self.residual)))


@dataclass(frozen=True)
class Exact:
    """A known solution of one field, used to report errors."""

    field: str
    expr: sp.Expr
    span: Span = field(default_factory=_no_span, compare=False, repr=False)


RUN = "run"     # the data column that labels each row's experiment (its own initial state)


@dataclass(frozen=True, eq=False)
class Observations:
    """Scattered or gridded observations: one column per coordinate or field."""

    columns: tuple[str, ...]
    values: np.ndarray
    path: str = ""
    span: Span = field(default_factory=_no_span, compare=False, repr=False)
    lines: tuple[int, ...] = ()         # the CSV line of each row, where read from a file

    def __post_init__(self) -> None:
        values = np.array(self.values, dtype=np.float64, copy=True)
        values.setflags(write=False)
        object.__setattr__(self, "values", values)

    @cached_property
    def digest(self) -> str:
        payload = self.values.tobytes() + repr((self.columns, self.values.shape)).encode()
        return hashlib.sha256(payload).hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Observations) and self.digest == other.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.columns.index(name)]

    def __repr__(self) -> str:
        return f"Observations({self.path!r}, columns={self.columns}, rows={len(self.values)})"


@dataclass(frozen=True)
class FieldInfo:
    """What a compiler needs to know about one field, derived from the equations.

    `orders` holds the highest derivative order in each of the field's coordinates.
    """

    name: str
    orders: tuple[tuple[str, int], ...]
    time_order: int
    linear: bool
    mixed: bool

    def order(self, coordinate: str) -> int:
        return dict(self.orders).get(coordinate, 0)


@dataclass(frozen=True)
class System:
    """A validated PDE system: the IR every compiler lowers."""

    name: str
    coordinates: tuple[Coordinate, ...]
    fields: tuple[Field, ...]
    params: tuple[Param, ...]
    equations: tuple[Equation, ...]
    conditions: tuple[Condition, ...]
    exact: tuple[Exact, ...] = ()
    data: tuple[Observations, ...] = ()
    info: tuple[FieldInfo, ...] = ()
    source: str = field(default="", compare=False, repr=False)
    domain: Shape | None = None           # the shaped region inside the box (None: the box)
    domain_span: Span = field(default_factory=_no_span, compare=False, repr=False)
    nets: tuple[Net, ...] = ()            # learned functions used in the equations

    # -- lookup ---------------------------------------------------------------------------
    @property
    def time(self) -> Coordinate | None:
        return next((c for c in self.coordinates if c.is_time), None)

    @property
    def space(self) -> tuple[Coordinate, ...]:
        return tuple(c for c in self.coordinates if not c.is_time)

    @property
    def is_steady(self) -> bool:
        return self.time is None

    def coordinate(self, name: str) -> Coordinate:
        return _find(self.coordinates, name, "coordinate")

    def field(self, name: str) -> Field:
        return _find(self.fields, name, "field")

    def param(self, name: str) -> Param:
        return _find(self.params, name, "parameter")

    def net(self, name: str) -> Net:
        return _find(self.nets, name, "net")

    def field_info(self, name: str) -> FieldInfo:
        return _find(self.info, name, "field")

    def exact_solution(self, name: str) -> sp.Expr | None:
        return next((e.expr for e in self.exact if e.field == name), None)

    @property
    def periodic(self) -> tuple[str, ...]:
        return tuple(c.coordinate for c in self.conditions if c.kind == "periodic")

    @property
    def unknown_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.is_unknown)

    @property
    def learned(self) -> tuple[Param | Net, ...]:
        """What a fit infers: the unknown parameters, then the nets."""
        return self.unknown_params + self.nets

    def with_constants(self, values: dict[str, float]) -> System:
        """This system with the known constants named in `values` set to those numbers (one
        member of a parameter sweep); every other part unchanged. The caller checks that
        each name is a known constant."""
        params = tuple(replace(p, value=sp.Float(float(values[p.name])))
                       if p.name in values else p for p in self.params)
        return replace(self, params=params)

    # -- display --------------------------------------------------------------------------
    def classification(self) -> str:
        from .analysis import classify

        return classify(self)

    def to_pde(self) -> str:
        from .printing import system_to_pde

        return system_to_pde(self)

    def __str__(self) -> str:
        from .printing import system_summary

        return system_summary(self)

    def _repr_latex_(self) -> str:
        from .printing import system_to_latex

        return system_to_latex(self)


def _find(items, name: str, what: str):
    for item in items:
        if item.name == name:
            return item
    known = ", ".join(i.name for i in items) or "none"
    raise KeyError(f"no {what} named {name!r} (known: {known})")


def _applied_functions(expr: sp.Expr) -> list[sp.Expr]:
    """Applied undefined functions (fields, coefficient fields) in `expr`, in tree order."""
    return [a for a in sp.preorder_traversal(expr) if isinstance(a, sp.core.function.AppliedUndef)]
