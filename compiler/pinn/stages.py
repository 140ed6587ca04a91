"""The stages of the pinn driver as data: what each pass produced, and how it reads.

    networks    the field networks (`NetworkGroup`), then notes on constraints left soft (str)
    unknowns    inverse problems: the unknown parameters (`pdelang.Param`)
    learned functions   the `net` lines (`pdelang.ir.Net`), trained with the networks
    residuals   every loss term (`Term`): equations, conditions, data, regularization
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import sympy as sp

from pdelang import Param, System
from pdelang.printing import expression_to_pde

from ..common.nets import parameter_count
from ..common.stages import Stage
from .networks.architectures import ARCHITECTURES
from .residuals import NetworkGroup, Term


def network_stage(groups: tuple[NetworkGroup, ...], notes: tuple[str, ...] = ()) -> Stage:
    return Stage("networks", (*groups, *notes), _network_line)


def unknowns_stage(system: System, groups: tuple[NetworkGroup, ...]) -> Stage:
    """The unknown parameters; a coefficient field's line describes its network in `groups`."""
    return Stage("unknowns", system.unknown_params, partial(_unknown_line, groups))


def learned_stage(system: System) -> Stage:
    """The learned functions: each `net` line and its count of weights."""
    signatures = {f.name: f.args for f in system.fields}
    signatures.update({p.name: p.args for p in system.params if p.is_field})

    def line(net) -> str:
        show = partial(expression_to_pde, fields=signatures, shorthand=True)
        return (f"{net.declaration(show)}: {parameter_count(net)} weights, trained with "
                "the networks (its MLP at its inputs at each point, derivatives by "
                "forward mode through it)")

    return Stage("learned functions", system.nets, line, "none")


def residual_stage(terms: tuple[Term, ...], weights: Mapping[str, float] | None = None
                   ) -> Stage:
    """The loss terms; `weights`: the starting weights auto gives some of them."""
    weights = weights or {}
    return Stage("residuals", tuple(terms), lambda t: _term_line(t) + (
        f"; weight {weights[t.name]:.3g} on the equations' scale unless given"
        if t.name in weights else ""))


def _sizes(group: NetworkGroup) -> str:
    s = group.spec
    return "-".join(map(str, (s.inputs.width, *s.hidden, s.outputs)))


def _network_line(item: NetworkGroup | str) -> str:
    if isinstance(item, str):
        return item
    g, s = item, item.spec
    decomposition = getattr(s, "decomposition", None)
    coarse = "".join(f" + a level of {d.size}" for d in getattr(s, "coarse", ()))
    each = "" if decomposition is None else (
        f"finite-basis, {decomposition.describe(g.args)}{coarse}, windows ((1 + cos)/2)^2 "
        "summing to one, each subdomain a ")
    return (f"{', '.join(g.fields)}({', '.join(g.args)}): {each}{_kind(s, _sizes(g))}, "
            f"{s.activation}, {s.initialiser} init, inputs scaled to [-1, 1]"
            + ("" if decomposition is None else " around its centre, times a trained scale")
            + ("; periodic inputs as sin/cos" if any(s.inputs.periodic) else "")
            + (f"; {s.fourier_features} Fourier features" if s.fourier_features else "")
            + (f"; outputs times the RMS of their observations: {_scales(g)}"
               if g.scale else "")
            + "".join(f"; {c.field} = A + D*N, hard: {', '.join(c.labels)}"
                      for c in (g.constraints.fields if g.constraints else ())))


def _kind(spec, sizes: str) -> str:
    """The architecture and its widths in words, with its parts beyond a plain MLP's."""
    kind = ARCHITECTURES[spec.architecture]
    parts = kind.parts(spec.hidden)
    text = f"{kind.title} {sizes}" + (f" ({parts})" if parts else "")
    return text + (", random weight factorisation" if spec.weight_factorisation else "")


def _scales(group: NetworkGroup) -> str:
    return ", ".join(f"{f} {s:.4g}" for f, s in zip(group.fields, group.scale) if s != 1.0)


def _unknown_line(groups: tuple[NetworkGroup, ...], p: Param) -> str:
    if not p.is_field:
        return (f"{p.name}: unknown constant, trained with the networks from its "
                f"guess {_text(p.guess)}")
    g = next(g for g in groups if g.key == p.name)
    form = (f"{_text(p.guess)} * exp(MLP {_sizes(g)}), positive" if g.positive
            else f"{_text(p.guess)} + MLP {_sizes(g)}")
    return (f"{p.name}({', '.join(p.args)}): unknown coefficient field = {form}, "
            f"{g.spec.activation} (output layer starts at zero), trained with the networks")


def _text(guess: sp.Expr) -> str:
    return f"{float(guess):g}" if sp.sympify(guess).is_number else str(guess)


def _term_line(t: Term) -> str:
    if t.kind == "data":
        return f"{t.name}: {t.text}"
    where = ", ".join(f"{k} = {v:g}" for k, v in t.fixed.items()) or (
        "the shaped domain's boundary" if t.kind == "boundary" else "interior")
    return (f"{t.name}: {t.text}   sampled on {where}; derivatives by nested "
            "forward-mode jvp")
