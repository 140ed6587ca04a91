"""First-order upwinding: (u[i] - u[i-1]) / h where the velocity is positive. Monotone and
diffusive."""

from ...common.stencils import Stencil
from .base import LinearScheme

UPWIND = LinearScheme("upwind", "first-order upwind differences", 1, Stencil(1, (-1, 0)))
