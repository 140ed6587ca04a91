"""The time integrators by name, for method-of-lines systems `dU/dt = rhs(t, U, params)`.

All share one shape: `init(rhs, t0, U0, params, options) -> State` and `step(State) ->
State`, pure and jittable, over a pytree `U`. `runtime.time.loop.integrate` drives them.

    rk4     classic Runge-Kutta, order 4, fixed step
    ssprk3  Shu-Osher strong-stability-preserving Runge-Kutta, order 3, fixed step
    dopri5  Dormand-Prince 5(4) with PI step-size control
    sdirk2  L-stable two-stage SDIRK, order 2, Newton-Krylov stages, fixed step (stiff)
    rodas4  Rosenbrock (linearly implicit), order 4(3), L-stable, error control, dense
            Jacobian by JAX: stiff ODE systems and small grids
    leapfrog  velocity Verlet, order 2, symplectic, one rhs call a step, fixed step: for
            equations of second order in time without damping (waves)

Integrators driven from the host (a sparse LU on the host between device calls; not of
the jittable shape above, `HOST_INTEGRATORS`):

    bdf     variable-order BDF (1-5), error control, sparse Jacobian reused over many
            steps: long stiff runs on grids, and index-1 DAEs (runtime.time.host.bdf)
    kencarp4  ESDIRK 4(3), six stages, L-stable, stiffly accurate, error control, the same
            kept Jacobian and LU: stiff problems at moderate tolerances, index-1 DAEs
            (runtime.time.host.esdirk)
    kencarp4-imex  its additive pair: diffusion terms implicit, the rest explicit
            (compiler.fd.imex): a Jacobian of the stiff part only
"""

from __future__ import annotations

import difflib

from runtime.errors import OptionError

from .adaptive import DOPRI5, EmbeddedRK, PIController
from .base import AbstractIntegrator, Counters, Options, Rhs, State
from .explicit import RK4, SSPRK3, ExplicitRK
from .implicit import SDIRK, SDIRK2
from .leapfrog import LEAPFROG, Leapfrog
from .rosenbrock import RODAS4, Rosenbrock
from .tableaus import Tableau

INTEGRATORS: dict[str, AbstractIntegrator] = {
    scheme.name: scheme for scheme in (RK4, SSPRK3, DOPRI5, SDIRK2, RODAS4, LEAPFROG)
}


HOST_INTEGRATORS = ("bdf", "kencarp4", "kencarp4-imex")


def get_integrator(method: str) -> AbstractIntegrator:
    """The integrator called `method`, or an OptionError listing the choices."""
    if method in INTEGRATORS:
        return INTEGRATORS[method]
    close = difflib.get_close_matches(str(method), list(INTEGRATORS), n=1)
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    raise OptionError(
        f"unknown time integrator {method!r}{guess}",
        hint="choose one of " + ", ".join(repr(name) for name in INTEGRATORS)
        + "; 'sdirk2' for stiff (diffusion-dominated) problems",
    )


__all__ = [
    "DOPRI5", "HOST_INTEGRATORS", "INTEGRATORS", "LEAPFROG", "RK4", "RODAS4", "SDIRK",
    "SDIRK2", "SSPRK3",
    "AbstractIntegrator", "Counters", "EmbeddedRK", "ExplicitRK", "Leapfrog", "Options",
    "PIController", "Rhs", "Rosenbrock", "State", "Tableau", "get_integrator",
]
