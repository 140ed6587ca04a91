"""A lowered steady FD program solved with `solve_steady`: what fd and odil share."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from compiler.fd import FDProgram
from compiler.fd.boundaries.constraints import constraint_values

from ..errors import OptionError
from ..output.convergence import Convergence, newton_verdict
from ..parallel.sharding import Placement
from ..reuse import Remembered
from .border import Border
from .multigrid import Outcome, applicable, coarse_programs, solve_multigrid
from .newton import solve_steady
from .newton_krylov import solve_newton_krylov
from .sparse_jacobian import Sparsity


def program_sparsity(program: FDProgram) -> Sparsity:
    """The stencil reach and the periodic axes of each state array of `program`: what its
    sparse Jacobian's colouring needs."""
    return Sparsity(program.reach, {
        key: tuple(program.grid.axis(a).periodic for a in program.axes_of(key))
        for key in program.state_keys})


def solve_program_steady(program: FDProgram, params, tol: float, max_iter: int,
                         observers: Sequence[Callable] = (),
                         placement: Placement | None = None, solver: str = "direct"
                         ) -> tuple[dict, dict, Convergence]:
    """(field values on the output grid, what the solver did for `meta`, the verdict:
    the residual at its target); `placement` (from `place_fd`) splits the residual and its
    jvps over a device mesh, while the sparse LU runs on the host. Newton running out of
    `max_iter` iterations, or stalling, returns its last iterate, not converged.

    `solver`: "direct" (sparse LU, Newton for nonlinear systems), "multigrid" (geometric
    multigrid, `runtime.algebra.multigrid`, for nonlinear systems as the preconditioner of
    Newton-Krylov, `runtime.algebra.newton_krylov`: an OptionError where it does not
    apply; its verdict as it stands) or "auto": multigrid for problems of at least
    MULTIGRID_FROM unknowns on one device where it applies, the direct solve otherwise or
    when it does not converge (`meta["multigrid"]` then says why)."""
    note = None
    if solver != "direct":
        why = _multigrid_refusal(program, placement, solver)
        if why is None:
            solve = solve_multigrid if program.linear else solve_newton_krylov
            outcome = solve(multigrid_levels(program), params, tol, tol, max_iter)
            if outcome.converged or solver == "multigrid":
                return _multigrid_result(program, outcome)
            note = f"{outcome.reason}; solved directly instead"
        elif solver == "multigrid":
            raise OptionError(f"multigrid does not apply to this problem: {why}",
                              hint="--linear-solver direct (or auto)")
    params = program.prepare(params)
    result = solve_steady(program.residual, program.initial(params), params,
                          program_sparsity(program), linear=program.linear,
                          tol=tol, max_iter=max_iter, observers=observers,
                          placement=placement, raise_unconverged=False,
                          border=program_border(program))
    values = _output_values(program, result.U)
    extra = {"solver": result.method, "iterations": result.iterations,
             "final_residual": float(result.residual_norm),
             **(placement.describe() if placement else {})}
    if note:
        extra["multigrid"] = note
    if program.constraints:
        extra["constraints"] = [c.describe() for c in program.constraints]
        extra["multipliers"] = list(result.multipliers)
    verdict = newton_verdict(result.converged, result.reason, result.residual_norm,
                             result.target, result.iterations, ("max_iter",))
    return values, extra, verdict


def _output_values(program: FDProgram, U) -> dict[str, np.ndarray]:
    """Each field of a solved state as the output grid shows it."""
    return {f.name: np.asarray(program.to_output(f.name, U[f.name]))
            for f in program.system.fields}


def program_border(program: FDProgram) -> Border | None:
    """The point and mean conditions of `program` as a bordered system (None: none)."""
    values = constraint_values(program.constraints)
    if values is None:
        return None
    return Border(values, [{c.field: c.column} for c in program.constraints])


MULTIGRID_FROM = 20_000       # unknowns from which "auto" takes multigrid
_LEVELS = Remembered(4)


def multigrid_levels(program: FDProgram) -> tuple[FDProgram, ...]:
    """`program` and its coarser levels, kept for a repeated solve of the same problem."""
    return _LEVELS.get((program.system, program.options), lambda: coarse_programs(program))


def _multigrid_refusal(program: FDProgram, placement: Placement | None,
                       solver: str) -> str | None:
    """Why multigrid is not taken (None: it is)."""
    if placement is not None:
        return "it runs on one device in this version"
    why = applicable(program)
    if why is None and solver == "auto":
        unknowns = program.unknowns
        if unknowns < MULTIGRID_FROM:
            return f"{unknowns} unknowns: the direct solve is quicker"
    return why


def _multigrid_result(program: FDProgram, outcome: Outcome):
    values = _output_values(program, outcome.U)
    history = outcome.history
    extra = {"solver": "multigrid" if program.linear else "newton-krylov-multigrid",
             "iterations": outcome.cycles,
             "final_residual": float(history[-1]),
             "levels": [list(p.shapes[p.state_keys[0]]) for p in
                        multigrid_levels(program)],
             "residual_history": [float(h) for h in history]}
    verdict = newton_verdict(outcome.converged, outcome.reason, float(history[-1]),
                             outcome.target,
                             outcome.cycles, ("max_iter", "linear_solver"))
    return values, extra, verdict
