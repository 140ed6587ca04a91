"""The `pdelang` command line: check, solve, show (SPEC section 4).

Exit status: 0 on success, 1 when the input is wrong (the message says where and why, with
no traceback), 2 for a wrong command line.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import pdelang as pl

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2
METHODS = ("fd", "pinn", "odil")
ACTIVATIONS = ("tanh", "sin", "gelu", "softplus", "silu", "sigmoid")


def grid_option(text: str) -> int | dict[str, int]:
    """`65` (every space coordinate) or `x=65,y=33`."""
    try:
        if "=" not in text:
            return _points(int(text))
        out = {}
        for part in text.split(","):
            name, _, value = part.partition("=")
            if not name.strip().isidentifier():
                raise ValueError
            out[name.strip()] = _points(int(value))
        return out
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a grid: give points per coordinate, e.g. --grid 65 or "
            "--grid x=65,y=33 (at least 3 each)") from None


def _points(n: int) -> int:
    if n < 3:
        raise ValueError
    return n


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def nonnegative_int(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 0")
    return int(text)


def mesh_option(text: str) -> dict[str, int]:
    """`x=2,y=2`: devices along each space coordinate."""
    try:
        out = {}
        for part in text.split(","):
            name, _, value = part.partition("=")
            if not name.strip().isidentifier():
                raise ValueError
            out[name.strip()] = positive_int(value.strip())
        return out
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a mesh: give devices per coordinate, e.g. --mesh x=2,y=2") from None


def layers_option(text: str) -> tuple[int, ...]:
    try:
        return tuple(positive_int(part.strip()) for part in text.split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of layer widths, e.g. "
                                         "64,64,64") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pdelang",
        description="Write a PDE system once; check it, solve it, see what is generated.",
    )
    commands = parser.add_subparsers(dest="command", metavar="{check,solve,show}")
    commands.required = True

    check = commands.add_parser("check", help="parse and validate; print the system as math")
    check.add_argument("file", help="a .pde file")
    check.set_defaults(run=run_check)

    solve = commands.add_parser("solve", help="solve a system and report, save or plot it")
    solve.add_argument("file", help="a .pde file")
    solve.add_argument("--method", choices=METHODS, default=None,
                       help="fd (default), pinn or odil")
    solve.add_argument("--grid", type=grid_option, default=None,
                       help="points per space coordinate: N, or x=N,y=M")
    solve.add_argument("--out", help="write the result to this .npz file (or .nc: netCDF)")
    solve.add_argument("--plot", help="write a picture of the result (.png, .pdf, .svg)")
    solve.add_argument("--animate", help="write an animation over time (.gif, or .mp4 with "
                                         "ffmpeg)")
    solve.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    solve.add_argument("--quiet", action="store_true", help="no progress output")
    solve.add_argument("--checkpoint", metavar="DIR",
                       help="save the training (pinn) or integration (fd) state in this "
                            "folder as it goes, to --resume after an interruption (SIGINT or "
                            "SIGTERM also save it, there or in a default folder)")
    solve.add_argument("--checkpoint-every", type=positive_int, default=1, metavar="N",
                       help="save every N chunks (pinn: 250 steps each; fd: output "
                            "intervals); default 1")
    solve.add_argument("--resume", action="store_true",
                       help="go on from the state saved in --checkpoint DIR (same options)")
    fd = solve.add_argument_group("fd options")
    fd.add_argument("--accuracy", type=int, choices=(2, 4), default=2,
                    help="order of the stencils (default 2)")
    fd.add_argument("--scheme", choices=("central", "upwind", "upwind2"), default=None,
                    help="first derivatives in transport terms (default: upwind2 for "
                         "first-order hyperbolic equations, else central)")
    fd.add_argument("--dt", type=positive_float, default=None,
                    help="time step (default: from the stability limit)")
    fd.add_argument("--integrator", choices=("auto", "rk4", "ssprk3", "dopri5", "sdirk2"),
                    default="auto", help="time integrator (default: rk4, or sdirk2 when stiff)")
    solve.add_argument("--frames", type=positive_int, default=21,
                       help="output times of time-dependent problems (default 21)")
    solve.add_argument("--dtype", choices=("float64", "float32"), default=None,
                       help="floating-point type (default: float64 for fd and odil on the "
                            "CPU, float32 for pinn and on GPUs)")
    pinn = solve.add_argument_group("pinn options")
    pinn.add_argument("--layers", type=layers_option, default=None,
                      help="hidden layer widths, e.g. 64,64,64 (the default)")
    pinn.add_argument("--activation", choices=ACTIVATIONS, default=None,
                      help="activation function (default tanh)")
    pinn.add_argument("--points", type=positive_int, default=None,
                      help="interior collocation points (default 1024)")
    pinn.add_argument("--boundary-points", type=positive_int, default=None,
                      help="points on the faces, all together (default 256)")
    pinn.add_argument("--steps", type=nonnegative_int, default=None,
                      help="Adam steps (default 4000)")
    pinn.add_argument("--lbfgs-steps", type=nonnegative_int, default=None,
                      help="L-BFGS steps after Adam (default 2000)")
    pinn.add_argument("--lr", type=positive_float, default=None,
                      help="Adam's initial learning rate (default 2e-3)")
    pinn.add_argument("--sampler", choices=("sobol", "halton", "uniform", "grid"),
                      default=None, help="how points are drawn (default sobol)")
    pinn.add_argument("--resample-every", type=nonnegative_int, default=None,
                      help="draw new points every this many Adam steps (default never)")
    pinn.add_argument("--adaptive-sampling", action="store_true",
                      help="resample by residual (RAR-D); needs --resample-every")
    pinn.add_argument("--adaptive-weights", action="store_true",
                      help="balance the loss terms by learning-rate annealing")
    pinn.add_argument("--fourier-features", type=nonnegative_int, default=None,
                      help="random Fourier features of the inputs (default 0: none)")
    pinn.add_argument("--soft-constraints", action="store_true",
                      help="penalise every condition in the loss instead of building "
                           "Dirichlet and initial values into the network (u = A + D*N, the "
                           "default)")
    inverse = solve.add_argument_group(
        "inverse problems (`param k ~ guess`, `data` lines)")
    inverse.add_argument("--fit-steps", type=positive_int, default=None,
                         help="fd and odil: most iterations of the fit (default: fd 100 "
                              "with lm, 300 with lbfgs; odil 50)")
    inverse.add_argument("--optimizer", choices=("auto", "lm", "lbfgs"), default=None,
                         help="fd fitting: Levenberg-Marquardt (lm) or L-BFGS; auto: lm for "
                              "a few unknown constants, lbfgs for unknown fields")
    inverse.add_argument("--data-weight", type=positive_float, default=None,
                         help="weight of the data misfit against the equations' residual "
                              "(odil, pinn; default 1)")
    inverse.add_argument("--regularization", type=float, default=None, metavar="LAMBDA",
                         help="smoothness penalty on unknown coefficient fields: LAMBDA "
                              "times the mean squared gradient (default 0)")
    _add_device_arguments(solve)
    solve.set_defaults(run=run_solve)

    show = commands.add_parser("show", help="print what the compiler generates")
    show.add_argument("file", help="a .pde file")
    show.add_argument("--method", choices=METHODS, required=True)
    show.add_argument("--grid", type=grid_option, default=None,
                      help="points per space coordinate: N, or x=N,y=M")
    show.add_argument("--accuracy", type=int, choices=(2, 4), default=2)
    show.add_argument("--scheme", choices=("central", "upwind", "upwind2"), default=None)
    show.add_argument("--soft-constraints", action="store_true",
                      help="pinn: show the networks with every condition in the loss")
    show.set_defaults(run=run_show)
    return parser


def _add_device_arguments(solve: argparse.ArgumentParser) -> None:
    devices = solve.add_argument_group(
        "devices and hosts (fd, odil, pinn)",
        "Several devices split the grid between them (steady fd and odil: for the "
        "residual and its Jacobian, whose sparse LU runs on the host); several processes "
        "(hosts) join one run through jax.distributed, each started with the same command "
        "but its own --process-id. Without the flags, JAX_COORDINATOR_ADDRESS, "
        "JAX_NUM_PROCESSES and JAX_PROCESS_ID are read.")
    devices.add_argument("--devices", type=positive_int, default=None, metavar="N",
                         help="devices to split the grid over, pinn: its points (default: "
                              "all of the run's)")
    devices.add_argument("--mesh", type=mesh_option, default=None,
                         help="devices along each space coordinate (odil: time too), e.g. "
                              "x=2,y=2 (default: slabs along the first coordinate)")
    devices.add_argument("--parts", action="store_true",
                         help="fd in time: each process writes its own block of the grid, "
                              "to --out with .partK before the suffix, instead of process 0 "
                              "gathering and writing the whole")
    devices.add_argument("--coordinator", metavar="HOST:PORT", default=None,
                         help="address of process 0, which the others connect to")
    devices.add_argument("--num-processes", type=positive_int, default=None, metavar="N",
                         help="processes in the run")
    devices.add_argument("--process-id", type=nonnegative_int, default=None, metavar="K",
                         help="this process's number, 0 to N-1")


def run_check(args: argparse.Namespace) -> int:
    system = pl.load(args.file)
    print(system, end="")
    return EXIT_OK


def run_solve(args: argparse.Namespace) -> int:
    process, processes = _join_processes(args)
    lead = process == 0          # reports, and writes the gathered result
    system = pl.load(args.file)
    method = args.method
    if method is None:
        method = "fd"
        if lead:
            _say(args, "no --method given: using fd (finite differences on the box domain)")
    from .parallel.devices import default_dtype

    dtype = args.dtype or default_dtype(method)
    import runtime

    options = _method_options(args, method, dtype)
    from .observe.progress import Progress

    span = system.time.bounds if system.time is not None else None
    with Progress(enabled=not args.quiet and lead, span=span) as progress:
        solution = runtime.solve(system, method, observers=(progress,), **options)
    if lead:
        print(solution.summary())
    if not (lead or args.parts):
        return EXIT_OK
    for path, write in ((args.out, solution.save), (args.plot, solution.plot),
                        (args.animate, solution.animate)):
        if path:
            path = _part_path(path, process) if args.parts else path
            write(path)
            print(f"wrote {path}")
    return EXIT_OK


def _join_processes(args: argparse.Namespace) -> tuple[int, int]:
    """Start the multi-host run that the flags or the environment ask for (before any JAX
    computation); (this process's number, the number of processes)."""
    from .parallel.devices import distributed_settings, start_distributed

    settings = distributed_settings(args.coordinator, args.num_processes, args.process_id)
    if settings is None:
        return 0, 1
    start_distributed(settings)
    import jax

    return jax.process_index(), jax.process_count()


def _part_path(path: str, process: int) -> str:
    """`result.npz` -> `result.part0.npz`: the file of one process's part."""
    stem, suffix = os.path.splitext(path)
    return f"{stem}.part{process}{suffix}"


def _method_options(args: argparse.Namespace, method: str, dtype: str) -> dict:
    """The options of `method` that the command line set (the others keep their defaults)."""
    common = dict(grid=args.grid, frames=args.frames, dtype=dtype, seed=args.seed,
                  **_checkpoint_options(args))
    inverse = {k: v for k, v in dict(
        fit_steps=args.fit_steps, optimizer=args.optimizer, data_weight=args.data_weight,
        regularization=args.regularization).items() if v is not None}
    _check_inverse_options(inverse, method)
    placement = _device_options(args, method)
    if method == "fd":
        return dict(common, accuracy=args.accuracy, scheme=args.scheme, dt=args.dt,
                    integrator=args.integrator, **inverse, **placement)
    if method == "odil":
        return dict(grid=args.grid, accuracy=args.accuracy, dtype=dtype, seed=args.seed,
                    **inverse, **placement)
    given = dict(layers=args.layers, activation=args.activation, points=args.points,
                 boundary_points=args.boundary_points, steps=args.steps,
                 lbfgs_steps=args.lbfgs_steps, learning_rate=args.lr, sampler=args.sampler,
                 resample_every=args.resample_every, fourier_features=args.fourier_features)
    options = dict(common, **{k: v for k, v in given.items() if v is not None}, **inverse,
                   **placement)
    if args.adaptive_sampling:
        options["adaptive_sampling"] = True
    if args.adaptive_weights:
        options["weights"] = "adaptive"
    if args.soft_constraints:
        options["hard_constraints"] = False
    return options


_INVERSE_OPTIONS = {"fd": ("fit_steps", "optimizer", "regularization"),
                    "odil": ("fit_steps", "data_weight", "regularization"),
                    "pinn": ("data_weight", "regularization")}


def _check_inverse_options(given: dict, method: str) -> None:
    wrong = [k for k in given if k not in _INVERSE_OPTIONS[method]]
    if wrong:
        from .errors import OptionError

        flags = ", ".join("--" + k.replace("_", "-") for k in wrong)
        raise OptionError(f"{flags} is not an option of --method {method}")
    if given.get("regularization", 0) < 0:
        from .errors import OptionError

        raise OptionError(f"--regularization must be >= 0, not {given['regularization']}")


_DEVICE_OPTIONS = {"fd": ("devices", "mesh", "parts"), "odil": ("devices", "mesh"),
                   "pinn": ("devices",)}


def _device_options(args: argparse.Namespace, method: str) -> dict:
    """--devices, --mesh, --parts where given; an error for a method without them."""
    given = {k: v for k, v in dict(devices=args.devices, mesh=args.mesh,
                                   parts=args.parts or None).items() if v is not None}
    wrong = [k for k in given if k not in _DEVICE_OPTIONS[method]]
    if wrong:
        from .errors import OptionError

        flags = ", ".join("--" + k for k in wrong)
        raise OptionError(f"{flags} is not an option of --method {method} in this version",
                          hint="split a grid over devices with --method fd or odil "
                               "(--parts: fd only)")
    return given


def _checkpoint_options(args: argparse.Namespace) -> dict:
    """--checkpoint DIR, or a folder to save in only when interrupted: beside --out, or in
    the working directory."""
    if args.resume and not args.checkpoint:
        from .errors import OptionError

        raise OptionError("--resume needs the folder to resume from",
                          hint="pdelang solve FILE ... --checkpoint DIR --resume")
    import jax

    if jax.process_count() > 1:          # every process would write the same folder
        if args.checkpoint:
            from .errors import OptionError

            raise OptionError("--checkpoint is not available in a multi-host run in this "
                              "version", hint="leave out --checkpoint and --resume")
        return {}
    if args.checkpoint:
        return dict(checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every,
                    resume=args.resume)
    stem = os.path.splitext(args.out)[0] if args.out else "pdelang"
    return dict(checkpoint=f"{stem}.checkpoint", checkpoint_every=0)


def run_show(args: argparse.Namespace) -> int:
    system = pl.load(args.file)
    if args.method == "fd":
        from compiler.fd import FDOptions, lower_fd

        stages = lower_fd(system, FDOptions(args.grid, args.accuracy, args.scheme)).stages
    elif args.method == "pinn":
        from compiler.pinn import PINNOptions, lower_pinn

        options = PINNOptions(hard_constraints=not args.soft_constraints)
        stages = lower_pinn(system, options).stages
    else:
        from compiler.fd import FDOptions
        from compiler.odil import odil_stages

        stages = odil_stages(system, FDOptions(args.grid, args.accuracy, "central"))
    print(f"# {system.name or args.file}: {system.classification()}")
    for stage in stages:
        print(f"\n[{stage.name}]")
        for line in stage.lines():
            print(f"  {line}")
    return EXIT_OK


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    from .observe.interrupt import Interrupted

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        return args.run(args)
    except pl.PdeError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INPUT
    except Interrupted as stop:
        print(f"{stop}\nto go on: {_resume_command(argv, stop.folder)}", file=sys.stderr)
        return stop.exit_status
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug of ours: say so, keep the traceback in a file
        return _internal_error(exc)


def _resume_command(argv: list[str], folder) -> str:
    """The command line that resumes an interrupted one."""
    import shlex

    kept, skip = [], False
    for word in argv:
        if skip:
            skip = False
        elif word in ("--checkpoint", "--checkpoint-every"):
            skip = True
        elif not (word == "--resume" or word.startswith(("--checkpoint=",
                                                         "--checkpoint-every="))):
            kept.append(word)
    return shlex.join(["pdelang", *kept, "--checkpoint", str(folder), "--resume"])


def _internal_error(exc: Exception) -> int:
    import tempfile
    import traceback

    with tempfile.NamedTemporaryFile("w", prefix="pdelang-error-", suffix=".txt",
                                     delete=False) as log:
        traceback.print_exception(exc, file=log)
    print(f"pdelang: internal error ({type(exc).__name__}: {exc}); this is a bug in "
          f"pdelang, not in your input. The details are in {log.name}", file=sys.stderr)
    return EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
