"""Spatial schemes for first derivatives in transport terms, one module each, chosen by
name (`--scheme`, `FDOptions.scheme`). Adding one: a module with its rule, one line in
`SCHEMES` below, its tests in tests/compiler/fd/test_schemes.py (docs/architecture.md)."""

from __future__ import annotations

import difflib

from ...errors import LoweringError
from .base import CentralScheme, LinearScheme, ReconstructionScheme
from .central import CENTRAL
from .muscl import MUSCL, MUSCL_VAN_LEER
from .upwind import UPWIND
from .upwind2 import UPWIND2
from .upwind3 import UPWIND3
from .weno5 import WENO5

Scheme = CentralScheme | LinearScheme | ReconstructionScheme

SCHEMES: dict[str, Scheme] = {scheme.name: scheme for scheme in (
    CENTRAL,
    UPWIND,
    UPWIND2,
    UPWIND3,
    WENO5,
    MUSCL,
    MUSCL_VAN_LEER,
)}
DEFAULT_TRANSPORT = UPWIND2      # `scheme=None`: for first-order hyperbolic equations
AUTO_SHOCK_SCHEME = "weno5"      # `scheme=None`: for the fluxes of nonlinear conservation laws


def get_scheme(name: str) -> Scheme:
    """The scheme called `name`, or a LoweringError listing the choices."""
    if name in SCHEMES:
        return SCHEMES[name]
    close = difflib.get_close_matches(str(name), list(SCHEMES), n=1)
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    raise LoweringError(f"scheme {name!r} is not available{guess}; choose one of "
                        f"{', '.join(SCHEMES)}")


__all__ = ["AUTO_SHOCK_SCHEME", "DEFAULT_TRANSPORT", "SCHEMES", "CentralScheme", "LinearScheme",
           "ReconstructionScheme", "Scheme", "get_scheme"]
