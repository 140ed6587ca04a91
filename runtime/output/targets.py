"""The files a solve is asked to write, checked before it starts.

A result that cannot be written is better refused at once than after a long run: the
folder must exist, `--out` must be a .npz (or a .nc with xarray and h5netcdf installed),
`--plot` a format matplotlib writes, `--animate` a .gif (or .mp4 with ffmpeg) of a field
that depends on time. The writers check the same things again when called on their own.
"""

from __future__ import annotations

from pathlib import Path

from pdelang import System

from ..errors import OptionError


def check_targets(system: System, out: str | None = None, plot: str | None = None,
                  animate: str | None = None) -> None:
    """An OptionError for the first of the requested files that could not be written."""
    for flag, path in (("--out", out), ("--plot", plot), ("--animate", animate)):
        if path:
            _check_folder(flag, Path(path))
    if out:
        _check_out(Path(out))
    if plot:
        _check_plot(Path(plot))
    if animate:
        from .animate import check_animation

        check_animation(system, system.fields[0].name, animate)


def _check_folder(flag: str, path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OptionError(f"{flag} {str(path)!r}: the folder {str(folder)!r} does not exist",
                          hint="create it first, or write somewhere else")


def _check_out(path: Path) -> None:
    if path.suffix == ".nc":
        from .netcdf import check_netcdf

        check_netcdf()
    elif path.suffix != ".npz":
        raise OptionError(f"--out {str(path)!r}: results are written as .npz (or .nc for "
                          f"netCDF), not {path.suffix or 'a file without a suffix'}")


def _check_plot(path: Path) -> None:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError:
        raise OptionError("--plot needs matplotlib, which is not installed",
                          hint="pip install matplotlib") from None
    formats = FigureCanvasAgg.get_supported_filetypes()
    suffix = path.suffix.lstrip(".").lower() or "png"
    if suffix not in formats:
        raise OptionError(f"--plot {str(path)!r}: matplotlib cannot write .{suffix} pictures",
                          hint=f"use one of {', '.join('.' + f for f in sorted(formats))}")
