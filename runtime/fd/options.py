"""Everything `solve(..., method="fd")` accepts, as one frozen object."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import OptionError
from ..observe.checkpoint import check_checkpoint_options

INTEGRATORS = ("auto", "rk4", "ssprk3", "dopri5", "sdirk2")
DEFAULT_FRAMES = 21


@dataclass(frozen=True)
class FDSolveOptions:
    """Everything `solve(..., method="fd")` accepts; see `runtime.solve`."""

    grid: int | dict[str, int] | None = None
    accuracy: int = 2
    scheme: str | None = None
    dtype: str | None = None       # None: float64 on the CPU, float32 on GPUs
    integrator: str = "auto"
    dt: float | None = None
    frames: int | Sequence[float] = DEFAULT_FRAMES
    rtol: float = 1e-6
    atol: float = 1e-9
    tol: float = 1e-10
    max_iter: int = 50
    seed: int = 0
    checkpoint: str | None = None
    checkpoint_every: int = 1
    resume: bool = False
    fit_steps: int | None = None   # inverse problems: most iterations (lm 100, lbfgs 300)
    optimizer: str = "auto"        # "lm", "lbfgs", or auto (lm for a few constants)
    regularization: float = 0.0    # smoothness weight on unknown coefficient fields
    devices: int | None = None     # devices to split the grid over (None: all of the run's)
    mesh: dict[str, int] | None = None   # devices per space coordinate (None: least cut)
    parts: bool = False            # keep only this process's block of the output

    def __post_init__(self) -> None:
        check_checkpoint_options(self.checkpoint, self.checkpoint_every, self.resume)
        if self.integrator not in INTEGRATORS:
            raise OptionError(f"integrator {self.integrator!r} is not available; choose one of "
                              f"{', '.join(INTEGRATORS)}")
        if self.dt is not None and not self.dt > 0:
            raise OptionError(f"dt must be positive, not {self.dt}")
        if isinstance(self.frames, int) and self.frames < 2:
            raise OptionError(f"frames must be at least 2 (the start and the end), not "
                              f"{self.frames}")
