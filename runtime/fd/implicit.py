"""The implicit integrators of an fd forward solve that need more than a name: those whose
sparse LU runs on the host (`on_host`: Rodas4 on grids, BDF, KenCarp4 and its IMEX pair,
DAEs among them), and the multigrid preconditioner of sdirk2's stages
(`stage_multigrid`)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from compiler.fd import FDProgram, lower_fd
from compiler.fd.imex import pde_mask, split_stiff

from ..algebra.multigrid import (
    applicable,
    coarse_programs,
    level_parameters,
    stage_preconditioner,
)
from ..algebra.steady_program import MULTIGRID_FROM, program_border, program_sparsity
from ..errors import OptionError
from ..reuse import Remembered
from ..time.host.bdf import integrate_bdf
from ..time.host.esdirk import integrate_esdirk
from ..time.host.sparse_rosenbrock import integrate_sparse_rosenbrock
from ..time.integrators import HOST_INTEGRATORS
from .options import FDSolveOptions


def on_host(method: str, program: FDProgram, rhs, U0, t_eval, options: FDSolveOptions,
             observers, placement, params):
    """The integrators whose sparse LU runs on the host: Rodas4 on a grid
    (`runtime.time.host.sparse_rosenbrock`), BDF and KenCarp4 (`runtime.time.host.bdf`,
    `.esdirk`; also for DAEs, with their point and mean conditions as a border); sparse
    Jacobians by the stencil's colouring. One device, no checkpoints (the command line's
    save-when-interrupted folder, checkpoint_every 0, is left unused)."""
    saving = options.checkpoint is not None and (options.checkpoint_every or options.resume)
    if placement is not None or saving:
        raise OptionError(f"{method} runs on one device without checkpoints (its sparse LU "
                          "is on the host)", hint="leave out --devices / --checkpoint"
                          + (", or use --integrator sdirk2" if program.mass is None else ""))
    if options.dt is not None:
        raise OptionError(f"{method} chooses its own steps (error control by rtol=, atol= in "
                          "Python); it takes no --dt", hint="leave out --dt")
    sparsity = program_sparsity(program)
    if method == "rodas4":
        return integrate_sparse_rosenbrock(rhs, U0, t_eval, sparsity, rtol=options.rtol,
                                           atol=options.atol, observers=observers)
    if method == "kencarp4-imex":
        implicit, explicit, sparsity = _imex_parts(program)
        return integrate_esdirk(implicit, U0, t_eval, sparsity, rtol=options.rtol,
                                atol=options.atol, observers=observers, explicit=explicit)
    integrate_on_host = integrate_bdf if method == "bdf" else integrate_esdirk
    return integrate_on_host(rhs, U0, t_eval, sparsity, mass=program.mass,
                             rtol=options.rtol, atol=options.atol, observers=observers,
                             border=program_border(program), border_params=params)


_IMEX = Remembered(4)


def _imex_parts(program: FDProgram):
    """The implicit (diffusion) and explicit parts of `program`'s rhs, each lowered from
    its share of the equations (`compiler.fd.imex`) and bound to its parameters; the
    implicit rates kept only where the equations hold. Refused for DAEs."""
    if program.mass is not None:
        raise OptionError("kencarp4-imex takes ODE systems in time; this one has equations "
                          "without a time derivative", hint="use --integrator bdf or kencarp4")

    def make():
        implicit, explicit = (lower_fd(part, program.options)
                              for part in split_stiff(program.system))
        bound = [p.bind(p.prepare({k: jnp.asarray(v, p.dtype) for k, v in p.params.items()}))
                 for p in (implicit, explicit)]
        masks = {k: jnp.asarray(pde_mask(implicit, k), implicit.dtype)
                 for k in implicit.state_keys}

        def stiff(t, U, params):
            return {k: masks[k] * v for k, v in bound[0](t, U, params).items()}

        return stiff, bound[1], program_sparsity(implicit)

    return _IMEX.get((program.system, program.options), make)


_STAGE_MULTIGRID = Remembered(4)   # per program: its coarse levels' bound rhs, compiled once


def stage_multigrid(program: FDProgram, params, method: str, options: FDSolveOptions,
                    placement):
    """The multigrid preconditioner of sdirk2's stage solves
    (`runtime.algebra.multigrid.stage_preconditioner`), or None: taken with
    `--linear-solver multigrid` (an OptionError says why where it does not apply) and by
    `auto` on one device from MULTIGRID_FROM unknowns where it applies."""
    if options.linear_solver == "auto" and (method != "sdirk2" or placement is not None
                                            or not program.grid.axes):
        return None
    if method != "sdirk2":
        raise OptionError(f"--linear-solver multigrid preconditions sdirk2's stage solves; "
                          f"{method} has none to precondition" if method not in
                          (*HOST_INTEGRATORS, "rodas4") else
                          f"{method} solves its stages with a sparse LU, not multigrid",
                          hint="use --integrator sdirk2, or leave out --linear-solver")
    why = "it runs on one device in this version" if placement is not None else \
        applicable(program, in_time=True)
    unknowns = program.unknowns
    if options.linear_solver == "auto":
        return None if why is not None or unknowns < MULTIGRID_FROM else \
            _stage_levels(program, params)
    if why is not None:
        raise OptionError(f"multigrid does not apply to this problem's stages: {why}",
                          hint="leave out --linear-solver")
    return _stage_levels(program, params)


def _stage_levels(program: FDProgram, params):
    def make():
        levels = coarse_programs(program)
        bound = tuple(level.bind(level.prepare(p)) for level, p in
                      zip(levels, level_parameters(levels, params)))
        return stage_preconditioner(levels, bound)

    # keyed by identity: a program (dicts inside) does not hash, and the value holds it,
    # so the id is not reused while the entry lives
    return _STAGE_MULTIGRID.get((id(program), _values_key(params)), make)


def _values_key(params) -> tuple:
    """The parameter values as a key: scalars by value, arrays by identity (their holder
    keeps them alive while cached)."""
    return tuple((k, float(v) if np.ndim(v) == 0 else id(v)) for k, v in sorted(params.items()))


def dae_integrator(program: FDProgram, method: str) -> str:
    """A differential-algebraic system takes BDF (auto picks it) or KenCarp4; other
    integrators would need dU/dt for every unknown."""
    if method == "auto":
        return "bdf"
    if method in HOST_INTEGRATORS:
        return method
    algebraic = ", ".join(f"`{k}`" for k, m in program.mass.items() if m == 0)
    raise OptionError(f"{algebraic} {'has' if ',' not in algebraic else 'have'} no time "
                      f"derivative (a differential-algebraic system), which {method} cannot "
                      "integrate", hint="leave out --integrator (auto takes bdf), or use "
                      "--integrator bdf or kencarp4")
