"""Second-order upwinding from two upstream neighbours (the default for first-order
hyperbolic equations)."""

from ...common.stencils import Stencil
from .base import LinearScheme

UPWIND2 = LinearScheme("upwind2", "second-order upwind differences (two upstream points)", 2,
                       Stencil(1, (-2, -1, 0)))
