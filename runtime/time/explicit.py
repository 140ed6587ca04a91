"""Fixed-step explicit Runge-Kutta schemes, one generic stepper driven by a tableau."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar, final

from . import tableaus
from .base import AbstractFixedStep, Rhs, State
from .pytree import PyTree, combine
from .tableaus import Tableau


def rk_stages(tableau: Tableau, rhs: Rhs, t: Any, U: PyTree, dt: Any, params: PyTree,
              k1: PyTree | None = None) -> list[PyTree]:
    """The stage derivatives `k_i = rhs(t + c_i dt, U + dt sum_j a_ij k_j, params)`.

    `k1`, when given, is reused as the first stage (first-same-as-last schemes). The loop is
    over the stages of the tableau, unrolled while tracing.
    """
    ks: list[PyTree] = []
    for i, (ci, row) in enumerate(zip(tableau.c, tableau.a)):
        if i == 0 and k1 is not None:
            ks.append(k1)
            continue
        ks.append(rhs(t + ci * dt, combine(U, dt, row, ks), params))
    return ks


@final
@dataclass(frozen=True)
class ExplicitRK(AbstractFixedStep):
    """An explicit Runge-Kutta scheme with a fixed step `state.dt`."""

    name: str
    tableau: Tableau
    adaptive: ClassVar[bool] = False

    def step(self, state: State) -> State:
        ks = rk_stages(self.tableau, state.rhs, state.t, state.U, state.dt, state.params)
        return replace(
            state,
            t=state.t + state.dt,
            U=combine(state.U, state.dt, self.tableau.b, ks),
            counters=state.counters.record(True, state.dt),
        )


RK4 = ExplicitRK("rk4", tableaus.RK4)
SSPRK3 = ExplicitRK("ssprk3", tableaus.SSPRK3)
