"""A lowered steady FD program solved with `solve_steady`: what fd and odil share."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from compiler.fd import FDProgram
from compiler.fd.boundaries.constraints import constraint_values

from ..output.convergence import Convergence, newton_verdict
from ..parallel.sharding import Placement
from .border import Border
from .newton import solve_steady
from .sparse_jacobian import Sparsity


def program_sparsity(program: FDProgram) -> Sparsity:
    """The stencil reach and the periodic axes of each state array of `program`: what its
    sparse Jacobian's colouring needs."""
    return Sparsity(program.reach, {
        key: tuple(program.grid.axis(a).periodic for a in program.axes_of(key))
        for key in program.state_keys})


def solve_program_steady(program: FDProgram, params, tol: float, max_iter: int,
                         observers: Sequence[Callable] = (),
                         placement: Placement | None = None
                         ) -> tuple[dict, dict, Convergence]:
    """(field values on the output grid, what the solver did for `meta`, the verdict:
    Newton's residual at its target); `placement` (from `place_fd`) splits the residual
    and its jvps over a device mesh, while the sparse LU runs on the host. Newton running
    out of `max_iter` iterations, or stalling, returns its last iterate, not converged."""
    params = program.prepare(params)
    result = solve_steady(program.residual, program.initial(params), params,
                          program_sparsity(program), linear=program.linear,
                          tol=tol, max_iter=max_iter, observers=observers,
                          placement=placement, raise_unconverged=False,
                          border=program_border(program))
    values = {f.name: np.asarray(program.to_output(f.name, result.U[f.name]))
              for f in program.system.fields}
    extra = {"solver": result.method, "iterations": result.iterations,
             "final_residual": float(result.residual_norm),
             **(placement.describe() if placement else {})}
    if program.constraints:
        extra["constraints"] = [c.describe() for c in program.constraints]
        extra["multipliers"] = list(result.multipliers)
    verdict = newton_verdict(result.converged, result.reason, result.residual_norm,
                             result.target, result.iterations, ("max_iter",))
    return values, extra, verdict


def program_border(program: FDProgram) -> Border | None:
    """The point and mean conditions of `program` as a bordered system (None: none)."""
    values = constraint_values(program.constraints)
    if values is None:
        return None
    return Border(values, [{c.field: c.column} for c in program.constraints])
