"""Random fd specs for the differential test, each as .pde text and as plain SymPy.

A spec is drawn from a seed: 1-D or 2-D, steady or first- or second-order in time, one to
three coupled fields, random coefficients of the coordinates (reciprocal powers among them,
whose Python hashes collide: hash(x**-1) == hash(x**-2)), first, second and mixed
derivatives, nonlinear terms, and per face and field a Dirichlet, Neumann or Robin condition,
or a periodic axis. The SymPy side writes every derivative as a placeholder symbol
`D(field, counts)`, so the naive evaluation never reads what the parser built.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import sympy as sp

AXES = ("x", "y")
FIELDS = ("u", "v", "w")
T = sp.Symbol("t")
ALPHA = 0.37

# (text, SymPy) of coefficients in a coordinate s and another o (o may be s itself)
COEFFICIENTS = [
    ("(1 + {s}^2)", lambda s, o: 1 + s**2),
    ("exp(-{s})", lambda s, o: sp.exp(-s)),
    ("exp(-2*{s})", lambda s, o: sp.exp(-2 * s)),
    ("1/(1 + {s})", lambda s, o: 1 / (1 + s)),
    ("(1 + {s})^-2", lambda s, o: (1 + s) ** -2),
    ("sin({s})*{o}", lambda s, o: sp.sin(s) * o),
    ("{s}^-1", lambda s, o: s**-1),
    ("{s}^-2", lambda s, o: s**-2),
    ("1/{s}^3", lambda s, o: s**-3),
    ("cos({o})/(2 + {s})", lambda s, o: sp.cos(o) / (2 + s)),
    ("sqrt(1 + {s}*{o})", lambda s, o: sp.sqrt(1 + s * o)),
    ("log(1 + {s})", lambda s, o: sp.log(1 + s)),
    ("tanh(1 + {s} - {o})", lambda s, o: sp.tanh(1 + s - o)),
    ("0.7", lambda s, o: sp.Float(0.7)),
    ("alpha", lambda s, o: sp.Symbol("alpha")),
    ("c", lambda s, o: sp.Symbol("c")),
]


def D(name: str, counts: tuple[int, ...]) -> sp.Symbol:
    """The placeholder of a field's derivative (counts per space axis; all zero: the value)."""
    return sp.Symbol(f"{name}__" + "_".join(map(str, counts)))


@dataclass(frozen=True)
class Condition:
    field: str
    axis: int
    side: str                  # "lower" or "upper"
    kind: str                  # "dirichlet", "neumann" or "robin"
    residual: sp.Expr          # in placeholders, coordinates and t


@dataclass
class Spec:
    text: str
    dim: int
    bounds: list[tuple[float, float]]
    points: list[int]
    periodic: list[bool]
    accuracy: int
    fields: list[str]
    time_order: int                           # 0: steady
    equations: dict[str, sp.Expr] = field(default_factory=dict)   # residual or d^k f/dt^k
    conditions: list[Condition] = field(default_factory=list)
    coefficient: sp.Expr = sp.S.Zero          # the coefficient field c

    @property
    def symbols(self) -> list[sp.Symbol]:
        return [sp.Symbol(a) for a in AXES[: self.dim]]


def _coefficient(rng: random.Random, axes: list[sp.Symbol]) -> tuple[str, sp.Expr]:
    s, o = rng.choice(axes), rng.choice(axes)
    text, make = rng.choice(COEFFICIENTS)
    return text.format(s=s, o=o), make(s, o)


def _derivative_text(name: str, counts: tuple[int, ...]) -> str:
    parts = [f"{AXES[k]}" for k, n in enumerate(counts) for _ in range(n)]
    if not parts:
        return name
    if len(parts) == 2 and parts[0] == parts[1]:
        return f"d({name}, {parts[0]}, 2)"
    return f"d({name}, {', '.join(parts)})"


def _unit(dim: int, axis: int, order: int) -> tuple[int, ...]:
    return tuple(order if k == axis else 0 for k in range(dim))


def _terms(rng: random.Random, name: str, others: list[str], dim: int,
           axes: list[sp.Symbol], steady: bool) -> tuple[list[str], sp.Expr]:
    """The terms of `name`'s equation: a diffusion part always, the rest at random; a
    steady equation always has a term in the field's value (with only derivatives of it and
    pure Neumann or periodic faces it would be known up to a constant, which is refused)."""
    texts, total = [], sp.S.Zero

    def add(counts, owner=name, weight=True):
        nonlocal total
        text, value = _coefficient(rng, axes) if weight else ("1", sp.S.One)
        texts.append(f"{text}*{_derivative_text(owner, counts)}")
        total += value * D(owner, counts)

    for axis in range(dim):
        add(_unit(dim, axis, 2))
    if dim == 2 and rng.random() < 0.6:
        add((1, 1))
    for axis in range(dim):
        if rng.random() < 0.5:
            add(_unit(dim, axis, 1))
    if steady or rng.random() < 0.5:
        add((0,) * dim)
    for other in others:
        if rng.random() < 0.7:
            add(_unit(dim, rng.randrange(dim), 1) if rng.random() < 0.4 else (0,) * dim, other)
    zero = (0,) * dim
    if rng.random() < 0.5:
        nonlinear = [(f"{name}*d({name}, {AXES[0]})", D(name, zero) * D(name, _unit(dim, 0, 1))),
                     (f"{name}^2", D(name, zero) ** 2),
                     (f"sin({name})", sp.sin(D(name, zero)))]
        if others:
            nonlinear.append((f"{name}*{others[0]}", D(name, zero) * D(others[0], zero)))
        text, value = rng.choice(nonlinear)
        texts.append(f"0.3*{text}")
        total += sp.Float(0.3) * value
    return texts, total


def _condition(rng: random.Random, name: str, axis: int, side: str, dim: int,
               axes: list[sp.Symbol], timed: bool) -> tuple[str, Condition]:
    kind = rng.choice(["dirichlet", "neumann", "robin"])
    g_text, g = _coefficient(rng, axes)
    if timed and rng.random() < 0.4:
        g_text, g = f"sin(t)*{g_text}", sp.sin(T) * g
    value, normal = D(name, (0,) * dim), D(name, _unit(dim, axis, 1))
    if kind == "dirichlet":
        text, residual = f"{name} = {g_text}", value - g
    elif kind == "neumann":
        text, residual = f"d({name}, {AXES[axis]}) = {g_text}", normal - g
    else:
        k_text, k = _coefficient(rng, axes)
        text = f"d({name}, {AXES[axis]}) + {k_text}*{name} = {g_text}"
        residual = normal + k * value - g
    return text, Condition(name, axis, side, kind, residual)


def make_spec(seed: int) -> Spec:
    """The spec drawn from `seed`."""
    rng = random.Random(seed)
    dim = rng.choice([1, 2])
    bounds = []
    for _ in range(dim):
        lower = rng.choice([0.2, 0.5, 1.0])
        bounds.append((lower, round(lower + rng.uniform(0.6, 1.5), 2)))
    points = [rng.randint(7, 12) for _ in range(dim)]
    periodic = [rng.random() < 0.3 for _ in range(dim)]
    accuracy = rng.choice([2, 2, 4])
    fields = list(FIELDS[: rng.choice([1, 1, 2, 2, 3])])
    time_order = rng.choice([0, 0, 1, 1, 2])
    axes = [sp.Symbol(a) for a in AXES[:dim]]
    names = ", ".join(AXES[:dim])
    spec = Spec("", dim, bounds, points, periodic, accuracy, fields, time_order)
    c_text, spec.coefficient = _coefficient(rng, axes)
    while spec.coefficient.has(sp.Symbol("c"), sp.Symbol("alpha")):
        c_text, spec.coefficient = _coefficient(rng, axes)
    lines = [f"space {', '.join(f'{a} in [{lo}, {hi}]' for a, (lo, hi) in zip(AXES, bounds))}"]
    if time_order:
        lines.append("time t in [0, 1]")
    lines += [f"param alpha = {ALPHA}", f"param c({names}) = {c_text}"]
    args = f"t, {names}" if time_order else names
    lines += [f"field {f}({args})" for f in fields]
    for f in fields:
        texts, total = _terms(rng, f, [o for o in fields if o != f], dim, axes,
                              steady=not time_order)
        s_text, source = _coefficient(rng, axes)
        if time_order:
            s_text, source = f"{s_text}*cos(t)", source * sp.cos(T)
            lead = "d({f}, t)" if time_order == 1 else "d({f}, t, 2)"
            lines.append(f"pde {lead.format(f=f)} = {' + '.join(texts)} + {s_text}")
            spec.equations[f] = total + source
        else:
            lines.append(f"pde {' + '.join(texts)} = {s_text}")
            spec.equations[f] = total - source
    for axis in range(dim):
        if periodic[axis]:
            lines.append(f"bc periodic {AXES[axis]}")
            continue
        for f in fields:
            for side, value in zip(("lower", "upper"), bounds[axis]):
                text, condition = _condition(rng, f, axis, side, dim, axes, bool(time_order))
                lines.append(f"bc {text} at {AXES[axis]} = {value}")
                spec.conditions.append(condition)
    for f in fields:
        if time_order:
            lines.append(f"ic {f} = sin({AXES[0]}) at t = 0")
        if time_order == 2:
            lines.append(f"ic d({f}, t) = 0 at t = 0")
    spec.text = "\n".join(lines) + "\n"
    return spec
