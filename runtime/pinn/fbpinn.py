"""`method="fbpinn"`: finite-basis PINNs (compiler/pinn/networks/decomposition.py), trained and
sampled exactly as the pinn method's networks are (`runtime.pinn.solve`), with the
subdomain grid, overlap and levels as three more options; `layers` is each subdomain's network."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from compiler.pinn.options import SUBDOMAIN_LAYERS
from pdelang import System

from ..options import OPTIONS
from ..output.solution import Solution
from .solve import check_pinn_options, network_options, solve_pinn, training_options


def _network(self):
    """The pinn compiler's options with the decomposition; small subdomain networks
    unless `layers` is given: pinn's LM_LAYERS when Levenberg-Marquardt may finish, else
    SUBDOMAIN_LAYERS."""
    network = network_options(self, SUBDOMAIN_LAYERS)
    given = self.subdomains
    subdomains = given if isinstance(given, int) else tuple(sorted(given.items()))
    return replace(network, subdomains=subdomains, overlap=self.overlap, levels=self.levels)


FBPINNSolveOptions = OPTIONS.options_class(
    "fbpinn", "FBPINNSolveOptions", module=__name__, check=check_pinn_options,
    namespace={"network": _network, "training": training_options},
    doc="Everything `solve(..., method=\"fbpinn\")` accepts (see "
        "`runtime.options.describe(\"fbpinn\")`): the pinn method's options, `subdomains`, "
        "`overlap` and `levels`.")


def solve_fbpinn(system: System, options: FBPINNSolveOptions,
                 observers: Sequence[Callable] = ()) -> Solution:
    """Train the finite-basis network and sample it (as `solve_pinn`)."""
    return solve_pinn(system, options, observers, method="fbpinn")
