"""Everything `solve(..., method="fd")` accepts, as one frozen object derived from the table
of options (`runtime.options`); the checks fd adds to the table's choices."""

from __future__ import annotations

from ..errors import OptionError
from ..observe.checkpoint import check_checkpoint_options
from ..options import OPTIONS
from ..options.table import AUTO_ONLY_IN_PINN


def check_fd_options(options) -> None:
    check_checkpoint_options(options.checkpoint, options.checkpoint_every, options.resume)
    if options.dt is not None and not options.dt > 0:
        raise OptionError(f"dt must be positive, not {options.dt}")
    if isinstance(options.frames, int) and options.frames < 2:
        raise OptionError(f"frames must be at least 2 (the start and the end), not "
                          f"{options.frames}")
    if options.regularization is None or not options.regularization >= 0:
        raise OptionError(f"regularization must be a number >= 0, not "
                          f"{options.regularization}", hint=AUTO_ONLY_IN_PINN)
    if not 0 <= options.hold_out < 1:
        raise OptionError(f"hold_out must be a fraction in [0, 1), not {options.hold_out}")
    if not (isinstance(options.windows, int) and options.windows >= 1):
        raise OptionError(f"windows must be a whole number >= 1, not {options.windows!r}")
    if options.batch_windows is not None and options.windows == 1:
        raise OptionError("batch_windows takes mini-batches of multiple shooting's windows, "
                          "and there is one window", hint="add --windows N (N > 1)")
    if options.batch_windows is not None and not (isinstance(options.batch_windows, int)
                                                  and options.batch_windows >= 1):
        raise OptionError(f"batch_windows must be a whole number >= 1, not "
                          f"{options.batch_windows!r}")


TIME_ONLY = ("dt", "integrator", "rtol", "atol")   # options that change how time is stepped


def check_fd_problem(system, options) -> None:
    """An OptionError for a time-stepping option set away from its default on a steady
    system, which is solved by Newton's method and would ignore it silently, and for a
    direct linear solver asked of a time-dependent one (its implicit integrators choose
    their own; `multigrid` preconditions sdirk2's stages)."""
    if system.time is None:
        option = _changed(options, TIME_ONLY)
        if option is not None:
            flag = f"{option.cli_flag} ({option.name}=)" if option.cli else f"{option.name}="
            raise OptionError(f"{flag} sets the time stepping, and this system is steady "
                              "(it has no time coordinate): fd solves it by Newton's method",
                              hint=f"leave out {flag}")
        return
    if options.linear_solver == "direct":
        raise OptionError("--linear-solver direct (linear_solver=) chooses how steady "
                          "systems are solved, and this one is time-dependent: bdf, "
                          "kencarp4 and rodas4 take a sparse LU anyway",
                          hint="leave out --linear-solver, or use --integrator bdf")


def _changed(options, names: tuple[str, ...]):
    """The first option of `names` set away from its fd default (None: none is)."""
    return next((OPTIONS.option(name) for name in names
                 if getattr(options, name) != OPTIONS.option(name).default_for("fd")), None)


FDSolveOptions = OPTIONS.options_class("fd", "FDSolveOptions", module=__name__,
                                       check=check_fd_options)
