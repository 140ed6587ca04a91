"""Time integration of method-of-lines systems: the integrators (`integrators`: one shape,
`init` and `step`, pure and jittable; tableaus as data), the loop that runs many steps per
jitted chunk with observers between chunks (`loop`), and step-size limits from the
spectrum of the right-hand side (`stability`)."""

from .integrators import (
    DOPRI5,
    INTEGRATORS,
    LEAPFROG,
    RK4,
    RODAS4,
    SDIRK,
    SDIRK2,
    SSPRK3,
    AbstractIntegrator,
    Counters,
    EmbeddedRK,
    ExplicitRK,
    Leapfrog,
    Options,
    PIController,
    Rhs,
    Rosenbrock,
    State,
    Tableau,
    get_integrator,
)

__all__ = [
    "DOPRI5", "INTEGRATORS", "LEAPFROG", "RK4", "RODAS4", "SDIRK", "SDIRK2", "SSPRK3",
    "AbstractIntegrator", "Counters", "EmbeddedRK", "ExplicitRK", "Leapfrog", "Options",
    "PIController", "Rhs", "Rosenbrock", "State", "Tableau", "get_integrator",
]
