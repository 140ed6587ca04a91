"""Everything `solve(..., method="fd")` accepts, as one frozen object derived from the table
of options (`runtime.options`); the checks fd adds to the table's choices."""

from __future__ import annotations

from ..errors import OptionError
from ..observe.checkpoint import check_checkpoint_options
from ..options import OPTIONS


def check_fd_options(options) -> None:
    check_checkpoint_options(options.checkpoint, options.checkpoint_every, options.resume)
    if options.dt is not None and not options.dt > 0:
        raise OptionError(f"dt must be positive, not {options.dt}")
    if isinstance(options.frames, int) and options.frames < 2:
        raise OptionError(f"frames must be at least 2 (the start and the end), not "
                          f"{options.frames}")
    if not options.regularization >= 0:
        raise OptionError(f"regularization must be >= 0, not {options.regularization}")


FDSolveOptions = OPTIONS.options_class("fd", "FDSolveOptions", module=__name__,
                                       check=check_fd_options)
