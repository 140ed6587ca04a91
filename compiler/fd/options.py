"""Options of the finite-difference compiler, as one frozen object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import LoweringError
from .schemes import SCHEMES as TABLE
from .schemes import get_scheme

SCHEMES = tuple(TABLE)            # names, for the options table and --scheme
ACCURACIES = (2, 4)
FACE_MEANS = ("harmonic", "arithmetic")   # of a diffusion coefficient at a cell face


@dataclass(frozen=True)
class FDOptions:
    """`grid`: points per space coordinate (an int for all, a mapping per name, None for
    defaults). `accuracy`: 2 or 4. `scheme`: how first derivatives in transport terms are
    taken, a name of `compiler.fd.schemes.SCHEMES` ("central", "upwind", "upwind2",
    "upwind3", "weno5", "muscl", "muscl-vanleer"); None picks upwind2 for first-order
    hyperbolic equations and central otherwise, and weno5 for the fluxes of nonlinear
    conservation laws. `dtype`: "float64" or "float32". `face_mean`: how a diffusion
    coefficient is taken at a cell face in flux form `d(k*d(u, x), x)`, "harmonic" (right
    for layered media) or "arithmetic" (compiler/fd/flux.py)."""

    grid: int | Mapping[str, int] | None = None
    accuracy: int = 2
    scheme: str | None = None
    dtype: str = "float64"
    face_mean: str = "harmonic"

    def __post_init__(self) -> None:
        if self.accuracy not in ACCURACIES:
            raise LoweringError(f"accuracy {self.accuracy} is not available; choose one of "
                                f"{', '.join(map(str, ACCURACIES))}")
        if self.scheme is not None:
            get_scheme(self.scheme)
        if self.face_mean not in FACE_MEANS:
            raise LoweringError(f"face_mean {self.face_mean!r} is not available; choose one of "
                                f"{', '.join(FACE_MEANS)}")
        if self.dtype not in ("float64", "float32"):
            raise LoweringError(f"dtype {self.dtype!r} is not available; choose float64 or "
                                "float32")
        if isinstance(self.grid, Mapping):
            object.__setattr__(self, "grid", tuple(sorted(self.grid.items())))

    @property
    def grid_spec(self) -> int | dict[str, int] | None:
        return dict(self.grid) if isinstance(self.grid, tuple) else self.grid
