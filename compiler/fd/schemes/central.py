"""Central differences: no upwinding, order 2 or 4 as `--accuracy` says. The default for
every equation that is not first-order hyperbolic."""

from .base import CentralScheme

CENTRAL = CentralScheme("central", "central differences of the chosen --accuracy (2 or 4)")
