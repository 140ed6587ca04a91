"""Will it fit? A rough count of the bytes an fd solve needs, checked before allocating.

The count (deliberately on the low side, so that it never refuses a solve that would fit):
the state (every field on its grid) times the buffers an integrator keeps alive during a
step (the state, its stages and a temporary), plus the output frames (kept on the device,
then copied to the host), each frame the values and, where the solve keeps them
(`Solution.rates`), their first and second time derivatives; for a steady problem, the
state and residual plus the sparse Jacobian (a stencil's nonzeros per unknown, value and
index) times a fill factor for the LU factors of SuperLU.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from pdelang import System

from ..errors import OptionError

LIVE_BUFFERS = {"rk4": 6, "ssprk3": 4, "dopri5": 9, "sdirk2": 12, "auto": 6}
FRAME_COPIES = 2              # device outputs, then the host arrays
FRAME_ARRAYS = 3              # each field's values and its two rates (u, u_t, u_tt) per frame
STEADY_BUFFERS = 6            # state, residual, Newton update, temporaries
LU_FILL = 10                  # SuperLU's factors over the Jacobian's nonzeros, roughly
SPARSE_ENTRY_BYTES = 12       # a float64 value and an int32 index


def fd_bytes(system: System, sizes: Mapping[str, int], *, dtype: str = "float64",
             integrator: str = "auto", frames: int = 21, accuracy: int = 2,
             rates: bool = True) -> int:
    """The bytes an fd solve of `system` on a grid of `sizes` points per coordinate needs
    (`rates`: whether it keeps the fields' time derivatives at the frames)."""
    itemsize = 4 if dtype == "float32" else 8
    unknowns = sum(math.prod(sizes.get(a, 1) for a in f.args) for f in system.fields)
    state = unknowns * itemsize
    if system.time is not None:
        arrays = FRAME_ARRAYS if rates else 1
        return state * (LIVE_BUFFERS.get(integrator, 6) + FRAME_COPIES * arrays * frames)
    stencil = (2 * len(sizes) * (accuracy // 2) + 1) * len(system.fields)
    jacobian = unknowns * stencil * SPARSE_ENTRY_BYTES
    return state * STEADY_BUFFERS + jacobian * (1 + LU_FILL)


def available_bytes() -> int | None:
    """Memory available now (MemAvailable of /proc/meminfo), else the physical memory;
    None when neither can be read."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fd_memory(system: System, sizes: Mapping[str, int], *, dtype: str, integrator: str,
                    frames: int, accuracy: int, available: int | None = None,
                    rates: bool = True) -> None:
    """Raise an `OptionError` when the solve would need more memory than there is."""
    available = available_bytes() if available is None else available
    needed = fd_bytes(system, sizes, dtype=dtype, integrator=integrator, frames=frames,
                      accuracy=accuracy, rates=rates)
    if available is None or needed <= available:
        return
    grid = " x ".join(str(n) for n in sizes.values())
    what = f"{frames} frames, " if system.time is not None else "steady, "
    raise OptionError(
        f"this fd solve would need about {_size(needed)} of memory (grid {grid}, {what}"
        f"{dtype}), but {_size(available)} is available",
        hint="use a smaller --grid" + (" or fewer --frames" if system.time is not None
                                       else ""))


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"
