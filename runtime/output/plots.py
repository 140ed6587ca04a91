"""Default pictures of a solution with matplotlib (Agg, no screen needed).

1-D fields are drawn as lines (a family of curves over time), 2-D fields as heat maps with
a colour bar (the final time of a time-dependent field), fields of time alone as curves.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pdelang.ir import RUN

from .files import write_atomically

MAX_CURVES = 6


def plot_solution(solution, path: str | Path | None = None, fields: list[str] | None = None):
    """One panel per field; returns the figure, and writes it to `path` when given."""
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    names = fields or list(solution.values)
    inferred = [k for k, v in solution.params.items() if np.ndim(v) >= 1]
    if len(names) == 1 and _is_2d_in_time(solution, names[0]) and not inferred:
        return _snapshots(solution, names[0], path, plt)
    extras = [lambda ax, figure, solution, k=k: _inferred_panel(ax, figure, solution, k)
              for k in inferred]
    if solution.meta.get("method") in ("fbpinn", "elm"):
        extras.append(_subdomain_panel)
    if "loss_history" in solution.meta:
        extras.append(_loss_panel)
    errors = [n for n in names if solution.exact_values(n) is not None]
    if errors:
        extras.append(lambda ax, figure, solution: _error_panel(ax, figure, solution,
                                                                 errors[0]))
    count = len(names) + len(extras)
    figure, axes = plt.subplots(1, count, figsize=(5.2 * count, 4.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        _panel(ax, figure, solution, name)
    for ax, extra in zip(axes[0][len(names):], extras):
        extra(ax, figure, solution)
    return _finish(figure, solution, path, plt)


def _inferred_panel(ax, figure, solution, name: str) -> None:
    """An inferred coefficient field: a curve in 1-D, a heat map in 2-D."""
    args = list(solution.system.param(name).args)
    values = np.asarray(solution.params[name])
    if len(args) == 1:
        ax.plot(solution.grid[args[0]], values)
        ax.set_xlabel(args[0])
        ax.set_ylabel(name)
        ax.grid(alpha=0.25)
    else:
        _heat_map(ax, figure, solution, args, values, name, "magma")
    ax.set_title(f"inferred {name}({', '.join(args)})")


def _subdomain_panel(ax, figure, solution) -> None:
    """A finite-basis network's subdomains: in 1-D each one's window (they sum to one),
    in 2-D or more each one's reach in the first two coordinates, centres marked."""
    from compiler.pinn.networks.decomposition import Decomposition, subdomain_counts

    options = solution.meta.get("options", {})
    args = list(solution.system.fields[0].args)
    bounds = [solution.system.coordinate(a).bounds for a in args]
    counts = subdomain_counts(options.get("subdomains", 1), args)
    layout = Decomposition(tuple(b[0] for b in bounds), tuple(b[1] for b in bounds), counts,
                           float(options.get("overlap", 0.5)))
    if len(args) == 1:
        x = np.linspace(*bounds[0], 1000)
        z = (x[:, None] - layout.centres()[None, :, 0]) / layout.reach[0]
        bumps = np.where(np.abs(z) < 1, ((1 + np.cos(np.pi * z)) / 2) ** 2, 0.0)
        ax.plot(x, bumps / bumps.sum(axis=1, keepdims=True), lw=0.8)
        ax.set_xlabel(args[0])
        ax.set_ylabel("window")
    else:
        from matplotlib.patches import Rectangle

        centres = layout.centres()
        seen = set()
        for c in centres:
            key = (round(c[0], 12), round(c[1], 12))
            if key in seen:
                continue
            seen.add(key)
            ax.add_patch(Rectangle((c[0] - layout.reach[0], c[1] - layout.reach[1]),
                                   2 * layout.reach[0], 2 * layout.reach[1], fill=False,
                                   lw=0.6, alpha=0.6))
        ax.plot(centres[:, 0], centres[:, 1], "k.", ms=3)
        ax.set_xlim(*bounds[0])
        ax.set_ylim(*bounds[1])
        ax.set_xlabel(args[0])
        ax.set_ylabel(args[1])
        time = solution.system.time
        if time is None or time.name not in args[:2]:       # lengths alike: true shapes
            ax.set_aspect("equal")
    ax.set_title(f"{layout.size} subdomains, overlap {layout.overlap:g}")


def _loss_panel(ax, figure, solution) -> None:
    """The training loss and each term's mean squared residual (pinn), or the loss after
    each accepted step of a fit (a list), log scale."""
    history = solution.meta["loss_history"]
    if not isinstance(history, dict):
        ax.semilogy(np.arange(len(history)), history, marker=".")
        ax.set_xlabel("accepted step")
        ax.set_ylabel("loss")
        ax.set_title("fit")
        ax.grid(alpha=0.25, which="both")
        return
    steps = history["step"]
    for key, values in history.items():
        if key == "step":
            continue
        ax.semilogy(steps, values, lw=2.0 if key == "loss" else 1.0,
                    label="total (weighted)" if key == "loss" else key)
    ax.set_xlabel("step")
    ax.set_ylabel("mean squared residual")
    ax.set_title("training loss")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.25, which="both")


def _error_panel(ax, figure, solution, name: str) -> None:
    """The pointwise error against the `exact` solution (at the final time)."""
    field = solution.system.field(name)
    time = solution.system.time
    error = np.asarray(solution.values[name]) - solution.exact_values(name)
    args = list(field.args)
    if time is not None and time.name in args:
        error = np.moveaxis(error, args.index(time.name), 0)[-1]
        args.remove(time.name)
    if len(args) == 1:
        ax.plot(solution.grid[args[0]], error)
        ax.set_xlabel(args[0])
        ax.grid(alpha=0.25)
    elif len(args) >= 2:
        _heat_map(ax, figure, solution, args, error, f"{name} - exact", "RdBu_r")
    else:
        ax.plot(solution.grid[time.name], np.asarray(solution.values[name]) -
                solution.exact_values(name))
    suffix = f" at {time.name} = {solution.grid[time.name][-1]:.3g}" if time is not None \
        and len(args) else ""
    ax.set_title(f"error of {name}{suffix}")


def _title(solution) -> str:
    """The system's name, the method, inferred constants and a sweep member's values."""
    title = solution.system.name or "solution"
    shown = {**solution.meta.get("member_values", {}),
             **{k: v for k, v in solution.params.items() if np.ndim(v) == 0}}
    constants = ", ".join(f"{k} = {v:.5g}" for k, v in shown.items())
    return f"{title} ({solution.method}{'; ' + constants if constants else ''})"


def _finish(figure, solution, path, plt):
    figure.suptitle(_title(solution))
    figure.tight_layout()
    if path is not None:
        path = Path(path)
        fmt = path.suffix.lstrip(".") or "png"
        write_atomically(path, lambda f: figure.savefig(f, format=fmt, dpi=110))
        plt.close(figure)
    return figure


def _is_2d_in_time(solution, name: str) -> bool:
    time = solution.system.time
    args = solution.system.field(name).args
    return time is not None and time.name in args and len(args) == 3


def _snapshots(solution, name: str, path, plt, count: int = 4):
    """A row of heat maps of a 2-D field at evenly spaced output times, one colour scale."""
    field = solution.system.field(name)
    time = solution.system.time
    args = list(field.args)
    values = np.moveaxis(np.asarray(solution.values[name]), args.index(time.name), 0)
    space = [a for a in args if a != time.name]
    times = solution.grid[time.name]
    picks = np.unique(np.linspace(0, len(times) - 1, min(count, len(times))).astype(int))
    limit = float(np.nan_to_num(np.nanmax(np.abs(values[picks])))) or 1.0
    figure, axes = plt.subplots(1, len(picks), figsize=(3.6 * len(picks) + 1.0, 3.8),
                                squeeze=False)
    x, y = solution.grid[space[0]], solution.grid[space[1]]
    for ax, k in zip(axes[0], picks):
        image = ax.pcolormesh(x, y, values[k].T, shading="auto", cmap="RdBu_r", vmin=-limit,
                              vmax=limit)
        _outline(ax, solution, space)
        ax.set_title(f"{time.name} = {times[k]:.3g}")
        ax.set_xlabel(space[0])
        ax.set_aspect("equal")
    axes[0][0].set_ylabel(space[1])
    figure.colorbar(image, ax=list(axes[0]), label=name, shrink=0.85)
    figure.suptitle(_title(solution))
    if path is not None:
        fmt = Path(path).suffix.lstrip(".") or "png"
        write_atomically(Path(path), lambda f: figure.savefig(f, format=fmt, dpi=110,
                                                              bbox_inches="tight"))
        plt.close(figure)
    return figure


def _panel(ax, figure, solution, name: str) -> None:
    field = solution.system.field(name)
    time = solution.system.time
    values = np.asarray(solution.values[name])
    args = list(field.args)
    space = [a for a in args if time is None or a != time.name]
    if time is not None and time.name in args:
        values = np.moveaxis(values, args.index(time.name), 0)
        times = solution.grid[time.name]
    else:
        values, times = values[None], None
    if not space and RUN in solution.sweep:   # runs: a curve each, values (run, time)
        for label, run in zip(next(iter(solution.sweep.values())), solution.values[name]):
            ax.plot(solution.grid[time.name], run, label=f"run {label:g}")
        ax.set_xlabel(time.name)
        ax.set_ylabel(name)
        ax.legend(fontsize=8)
    elif not space:
        ax.plot(solution.grid[time.name], values, label=name)
        ax.set_xlabel(time.name)
        ax.set_ylabel(name)
    elif len(space) == 1:
        x = solution.grid[space[0]]
        picks = np.unique(np.linspace(0, len(values) - 1, min(MAX_CURVES, len(values))).astype(int))
        colors = _colormap()(np.linspace(0.15, 0.95, len(picks)))
        for color, k in zip(colors, picks):
            label = f"{time.name} = {times[k]:.3g}" if times is not None else name
            ax.plot(x, values[k], color=color, label=label)
        ax.set_xlabel(space[0])
        ax.set_ylabel(name)
        ax.legend(fontsize=8)
    else:
        _heat_map(ax, figure, solution, space, values[-1], name, "viridis")
        if times is not None:
            ax.set_title(f"{name} at {time.name} = {times[-1]:.3g}")
    ax.grid(alpha=0.25) if len(space) < 2 else None
    if not ax.get_title():
        ax.set_title(name)


def _heat_map(ax, figure, solution, axes: list[str], values: np.ndarray, label: str,
              cmap: str) -> None:
    """`values` over the first two of `axes` as a coloured map with a colour bar (further
    axes cut through their middle)."""
    values = np.asarray(values)
    while values.ndim > 2:
        values = values[..., values.shape[-1] // 2]
    image = ax.pcolormesh(solution.grid[axes[0]], solution.grid[axes[1]], values.T,
                          shading="auto", cmap=cmap)
    figure.colorbar(image, ax=ax, label=label)
    _outline(ax, solution, axes)
    ax.set_xlabel(axes[0])
    ax.set_ylabel(axes[1])
    ax.set_aspect("equal")


def _outline(ax, solution, axes: list[str], points: int = 400) -> None:
    """The boundary of a shaped domain (its level's zero line) over a map of the first two
    of `axes`; further axes at the middle of their grid, as `_heat_map` cuts them."""
    domain = solution.system.domain
    if domain is None:
        return
    space = [c.name for c in solution.system.space]
    lines = []
    for name in space:
        grid = solution.grid[name]
        if name in axes[:2]:
            lines.append(np.linspace(grid[0], grid[-1], points))
        else:
            lines.append(np.array([grid[len(grid) // 2]]))
    mesh = np.meshgrid(*lines, indexing="ij")
    level = np.asarray(domain.level(mesh, np), dtype=float).reshape(
        [len(line) for line in lines])
    level = np.squeeze(level)
    if space.index(axes[0]) > space.index(axes[1]):
        level = level.T
    ax.contour(lines[space.index(axes[0])], lines[space.index(axes[1])], level.T, levels=[0.0],
               colors="k", linewidths=1.0)


def _colormap():
    import matplotlib

    return matplotlib.colormaps["viridis"]
