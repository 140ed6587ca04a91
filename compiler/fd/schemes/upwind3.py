"""Third-order upwind-biased differences: two upstream neighbours and one downstream,
(u[i-2] - 6 u[i-1] + 3 u[i] + 2 u[i+1]) / (6 h) where the velocity is positive. Less
diffusive than upwind2 at one more point."""

from ...common.stencils import Stencil
from .base import LinearScheme

UPWIND3 = LinearScheme("upwind3", "third-order upwind-biased differences", 3,
                       Stencil(1, (-2, -1, 0, 1)))
