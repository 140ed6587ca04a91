"""Animations over time: a line per frame for 1-D fields, a heat map for 2-D ones.

GIFs are written with Pillow (a matplotlib dependency), MP4 with ffmpeg where it exists.
The file appears whole or not at all: frames go to a temporary file that is renamed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..errors import OptionError


def animate(solution, path: str | Path, name: str | None = None, fps: int = 8) -> Path:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib import animation

    path = Path(path)
    time = solution.system.time
    name = name or next(iter(solution.values))
    field = solution.system.field(name)
    check_animation(solution.system, name, path)
    writer = _writer(path, fps, animation)
    args = list(field.args)
    values = np.moveaxis(np.asarray(solution.values[name]), args.index(time.name), 0)
    space = [a for a in args if a != time.name]
    times = solution.grid[time.name]
    figure, ax = plt.subplots(figsize=(5.6, 4.4))
    if len(space) == 1:
        x = solution.grid[space[0]]
        (line,) = ax.plot(x, values[0])
        pad = 0.05 * (values.max() - values.min() or 1.0)
        ax.set_ylim(values.min() - pad, values.max() + pad)
        ax.set_xlabel(space[0])
        ax.set_ylabel(name)

        def draw(k):
            line.set_ydata(values[k])
            ax.set_title(f"{name} at {time.name} = {times[k]:.3g}")
            return (line,)
    else:                                   # two space coordinates (check_animation)
        limit = float(np.max(np.abs(values))) or 1.0
        image = ax.pcolormesh(solution.grid[space[0]], solution.grid[space[1]], values[0].T,
                              shading="auto", cmap="RdBu_r", vmin=-limit, vmax=limit)
        figure.colorbar(image, ax=ax, label=name)
        ax.set_xlabel(space[0])
        ax.set_ylabel(space[1])
        ax.set_aspect("equal")

        def draw(k):
            image.set_array(values[k].T.ravel())
            ax.set_title(f"{name} at {time.name} = {times[k]:.3g}")
            return (image,)
    movie = animation.FuncAnimation(figure, draw, frames=len(times), blit=False)
    handle, temporary = tempfile.mkstemp(dir=path.parent or ".", suffix=path.suffix)
    os.close(handle)
    try:
        movie.save(temporary, writer=writer)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
        plt.close(figure)
    return path


def check_animation(system, name: str, path: str | Path) -> None:
    """An OptionError unless field `name` of `system` can be animated into `path`: it
    depends on time and on one or two space coordinates, and `path` is a .gif, or a .mp4
    with ffmpeg installed. Made before a solve as well as after it."""
    time = system.time
    field = system.field(name)
    if time is None or time.name not in field.args:
        raise OptionError(f"`{name}` does not depend on time: there is nothing to animate",
                          hint="use --plot for a picture")
    space = [a for a in field.args if a != time.name]
    if len(space) not in (1, 2):
        raise OptionError(f"`{name}` has {len(space)} space coordinates; animations show 1 or 2")
    suffix = Path(path).suffix.lower()
    if suffix == ".mp4" and shutil.which("ffmpeg") is None:
        raise OptionError("writing .mp4 needs ffmpeg, which is not installed",
                          hint="write a .gif instead")
    if suffix not in (".gif", ".mp4"):
        raise OptionError(f"animations are written as .gif or .mp4, not {suffix or 'no suffix'}")


def _writer(path: Path, fps: int, animation):
    if path.suffix.lower() == ".gif":
        return animation.PillowWriter(fps=fps)
    return animation.FFMpegWriter(fps=fps)
