"""The `pdelang` command line: check, solve, show (README.md, "The command line").

Exit status:

- 0 (`EXIT_OK`): success;
- 1 (`EXIT_INPUT`): the input is wrong (the message says where and why, with no traceback);
- 2 (`EXIT_USAGE`): a wrong command line;
- 3 (`EXIT_INTERNAL`): an internal error, a bug in pdelang: one line says so and names the
  file that holds the traceback;
- 4 (`EXIT_NOT_CONVERGED`): the solve finished but did not converge by its method's
  criterion (`runtime.output.convergence`): the summary ends with a WARNING line saying
  what failed and which options may help, and the result files are written whole (their
  `meta` has `converged: false` and the verdict); with `--strict` the same run is an error,
  with the same status 4 and no result files written. The status is 4 either way so
  that a script tells "did not converge" from bad input (1) whether or not it asked for
  strictness; `--strict` decides only whether a result that failed its criterion is kept;
- 130 (Ctrl-C, SIGINT) or 143 (SIGTERM): interrupted, saying how to resume where the run
  checkpoints.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import pdelang as pl

from .options import METHOD_NAMES as METHODS
from .options import OPTIONS, Option
from .options.parse import (  # noqa: F401  (the command line's readers, imported from here)
    grid_option,
    layers_option,
    mesh_option,
    nonnegative_int,
    positive_float,
    positive_int,
)

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_INTERNAL, EXIT_NOT_CONVERGED = 0, 1, 2, 3, 4


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `command` "check", without the method flags of solve
    and show, whose choices come from the modules that implement them and so import JAX
    (1-2 s that a check does not need)."""
    flags = command != "check"
    parser = argparse.ArgumentParser(
        prog="pdelang",
        description="Write a PDE system once; check it, solve it, see what is generated.",
    )
    commands = parser.add_subparsers(dest="command", metavar="{check,solve,show,discover}")
    commands.required = True

    check = commands.add_parser("check", help="parse and validate; print the system as math")
    check.add_argument("file", help="a .pde file")
    check.set_defaults(run=run_check)

    solve = commands.add_parser(
        "solve", help="solve a system and report, save or plot it",
        description="Solve a system and report, save or plot it. The method options are "
                    "grouped by the methods that use them; a flag of another method is an "
                    "error. `runtime.options.describe(METHOD)` lists every option of a "
                    "method, with those of the Python API only.")
    solve.add_argument("file", help="a .pde file")
    solve.add_argument("--method", choices=METHODS, default=None,
                       help="; ".join(f"{m.name}: {m.help}" for m in OPTIONS.methods)
                       + " (default fd)")
    solve.add_argument("--out", help="write the result to this .npz file (or .nc: netCDF)")
    solve.add_argument("--plot", help="write a picture of the result (.png, .pdf, .svg)")
    solve.add_argument("--animate", help="write an animation over time (.gif, or .mp4 with "
                                         "ffmpeg)")
    solve.add_argument("--probe", action="append", default=[], metavar="EXPR",
                       help="an expression of the language at fixed coordinates, over the "
                            "result's grid of the others: \"d(psi, y) at x = 0.5\"; written "
                            "to --out as probe.K (repeatable)")
    solve.add_argument("--quiet", action="store_true", help="no progress output")
    if flags:
        groups = _option_groups(solve)
        _add_host_arguments(groups["devices"])
    solve.set_defaults(run=run_solve)

    show = commands.add_parser("show", help="print what the compiler generates")
    show.add_argument("file", help="a .pde file")
    show.add_argument("--method", choices=METHODS, required=True)
    for name in ("grid", "accuracy", "scheme", "face_mean") if flags else ():   # fd's defaults
        option = OPTIONS.option(name)
        _add_flag(show, option, option.default_for("fd"), _flag_help(option, False))
    if flags:
        _add_flag(show, OPTIONS.option("hard_constraints"), True,
                  "pinn: show the networks with every condition in the loss")
        for name in ("architecture", "weight_factorisation"):
            option = OPTIONS.option(name)
            _add_flag(show, option, option.default_for("pinn"), f"pinn: {option.help}")
    show.set_defaults(run=run_show)

    discover = commands.add_parser(
        "discover", help="a learned term (`net`) of a result back as a formula",
        description="Fit each learned function of a result by sparse regression (STLSQ) "
                    "over a library of candidate terms, choose the terms and refit their "
                    "coefficients by the data, and print the spec with the nets replaced "
                    "by the formulas found.")
    discover.add_argument("file", help="a result .npz of a spec with `net` lines")
    discover.add_argument("--spec", help="the .pde file (default: the one the result names)")
    discover.add_argument("--library", default="poly3",
                          help="candidate terms: poly1 ... poly5 (monomials of the net's "
                               "inputs to that degree), with trig (sin, cos) and exp of "
                               "each input, e.g. poly3,trig (default poly3)")
    discover.add_argument("--tolerance", type=float, default=0.05,
                          help="the sparsest formula whose relative RMS error is at most "
                               "this is kept (default 0.05)")
    discover.add_argument("--no-refit", dest="refit", action="store_false",
                          help="keep the formulas fitted to the net; by default (time-"
                               "dependent specs) the terms are chosen and their "
                               "coefficients refitted by the spec's data (BIC)")
    discover.add_argument("--misfit", choices=("scaled", "relative"),
                          help="how the refit weighs the observations (default: as the "
                               "result's fd fit did, else scaled)")
    discover.add_argument("--out", help="write the spec with the formulas to this .pde")
    discover.set_defaults(run=run_discover)
    return parser


NETWORK_METHODS = {"pinn", "fbpinn", "elm"}   # an option of these only: in its first's group
GROUPS = {                # help groups beyond one per method, by `Option.group`
    "shared": ("options of several methods", None),
    "inverse": ("inverse problems (`param k ~ guess`, `data` lines)", None),
    "devices": ("devices and hosts",
                "Several devices split the grid between them (steady fd and odil: for the "
                "residual and its Jacobian, whose sparse LU runs on the host); several "
                "processes (hosts) join one run through jax.distributed, each started with "
                "the same command but its own --process-id. Without the flags, "
                "JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and JAX_PROCESS_ID are read."),
}


def _option_groups(solve: argparse.ArgumentParser) -> dict[str, argparse._ArgumentGroup]:
    """A flag for every option of the table with one: in the group of its only method, of
    several methods, or its own (inverse problems, devices); the groups by name."""
    groups = {"shared": solve.add_argument_group(*GROUPS["shared"])}
    for method in OPTIONS.methods:
        groups[method.name] = solve.add_argument_group(f"options of {method.name}",
                                                       _method_text(method.name))
    for name in ("inverse", "devices"):
        groups[name] = solve.add_argument_group(*GROUPS[name])
    for option in OPTIONS.options:
        if not option.cli:
            continue
        shared = len(option.methods) > 1
        _add_flag(groups[_group(option)], option, None,
                  _flag_help(option, shared or option.group))
    return groups


def _group(option: Option) -> str:
    """The help group of an option: its own, its only method's, pinn's for an option of
    the network methods alone (fbpinn and elm share most of pinn's), else the shared one."""
    if option.group:
        return option.group
    if len(option.methods) == 1 or set(option.methods) <= NETWORK_METHODS:
        return option.methods[0]
    return "shared"


def _add_flag(parser, option: Option, default: object, text: str) -> None:
    """The flag of `option` (dest: the option's name): a switch setting `option.value`, or
    a value read by `option.parse` and checked against `option.allowed()`."""
    if option.is_switch:
        kind = {"action": "store_const", "const": option.value}
    else:
        kind = {"type": option.parse, "metavar": option.metavar,
                "choices": None if option.choices is None else _Choices(option)}
    parser.add_argument(option.cli_flag, dest=option.name, default=default, help=text,
                        **{k: v for k, v in kind.items() if v is not None})


class _Choices:
    """An option's allowed values, looked up when a flag is given or help is printed:
    reading them all while building the parser would import every solver (PINN training
    alone costs half a second of a `pdelang solve` that does not use it)."""

    def __init__(self, option: Option):
        self.option = option

    def __contains__(self, value: object) -> bool:
        return value in self.option.allowed()

    def __iter__(self):
        return iter(self.option.allowed())

    def __len__(self) -> int:
        return len(self.option.allowed())


def _method_text(method: str) -> str:
    """A method's line, the flags of other groups it takes, and its Python API options."""
    mine = OPTIONS.of(method)
    elsewhere = [o.cli_flag for o in mine if o.cli and _group(o) != method]
    api = [o.name for o in mine if not o.cli]
    text = f"{OPTIONS.method(method).help}. Also takes {', '.join(elsewhere)}"
    return text + (f"; in the Python API also {', '.join(api)}." if api else ".")


def _flag_help(option: Option, name_methods: bool) -> str:
    text = option.help
    if name_methods:
        text += f" [{', '.join(option.methods)}]"
    default = option.default_text()
    return f"{text} (default: {default})" if default else text


def _add_host_arguments(devices: argparse._ArgumentGroup) -> None:
    """The multi-host flags: how this process joins a run (not options of a method)."""
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


def run_discover(args: argparse.Namespace) -> int:
    from .output.files import write_atomically
    from .output.solution import Solution

    solution = Solution.load(args.file, args.spec)
    found, system = solution.discover(args.library, args.tolerance, args.refit, args.misfit)
    signatures = {f.name: f.args for f in solution.system.fields}
    for discovery in found:
        print(discovery.report(lambda e: pl.expression_to_pde(e, signatures, shorthand=True)))
    text = system.to_pde()
    print(f"\n# the spec with the learned terms replaced\n{text}", end="")
    if args.out:
        write_atomically(args.out, lambda f: f.write(text.encode("utf-8")))
        print(f"wrote {args.out}")
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
    import runtime

    options = _method_options(args, method)
    from .output.targets import check_targets

    check_targets(system, args.out, args.plot, args.animate)   # before the work, not after
    from .evaluate.probe import parse_probe

    for text in args.probe:
        parse_probe(text, system)                                # a typo fails before the solve
    from .observe.progress import Progress

    span = system.time.bounds if system.time is not None else None
    with Progress(enabled=not args.quiet and lead, span=span) as progress:
        solution = runtime.solve(system, method, observers=(progress,), **options)
    solution = solution.with_probes(args.probe) if args.probe and lead else solution
    if lead:
        print(solution.summary())
    status = EXIT_NOT_CONVERGED if solution.converged is False else EXIT_OK
    if not (lead or args.parts):
        return status
    for path, write in ((args.out, solution.save), (args.plot, solution.plot),
                        (args.animate, solution.animate)):
        if path:
            path = _part_path(path, process) if args.parts else path
            write(path)
            print(f"wrote {path}")
    return status


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


def _method_options(args: argparse.Namespace, method: str) -> dict:
    """The options that the command line set (the others keep the method's defaults); a
    flag of another method is an OptionError naming the methods that use it."""
    given = {o.name: getattr(args, o.name) for o in OPTIONS.options
             if o.cli and getattr(args, o.name) is not None}
    OPTIONS.check_given(method, given, flags=True)
    if "checkpoint" in (o.name for o in OPTIONS.of(method)):
        given.update(_checkpoint_options(args))
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
        return {k: v for k, v in dict(checkpoint=args.checkpoint,
                                      checkpoint_every=args.checkpoint_every,
                                      resume=args.resume).items() if v is not None}
    stem = os.path.splitext(args.out)[0] if args.out else "pdelang"
    return dict(checkpoint=f"{stem}.checkpoint", checkpoint_every=0)


def run_show(args: argparse.Namespace) -> int:
    from .errors import locate

    system = pl.load(args.file)
    try:
        stages = _stages(system, args)
    except pl.PdeError as error:              # name the file, as runtime.solve does
        located = locate(error, system)
        if located is error:
            raise
        raise located from error
    print(f"# {system.name or args.file}: {system.classification()}")
    for stage in stages:
        print(f"\n[{stage.name}]")
        for line in stage.lines():
            print(f"  {line}")
    return EXIT_OK


def _stages(system: pl.System, args: argparse.Namespace) -> tuple:
    if args.method == "fd":
        from compiler.fd import FDOptions, lower_fd

        stages = lower_fd(system, FDOptions(args.grid, args.accuracy, args.scheme,
                                            face_mean=args.face_mean)).stages
    elif args.method in ("pinn", "fbpinn", "elm"):
        from compiler.pinn import PINNOptions, lower_pinn
        from compiler.pinn.options import ELM_LAYERS, SUBDOMAIN_LAYERS

        decomposed = {} if args.method == "pinn" else {
            "subdomains": OPTIONS.option("subdomains").default_for(args.method),
            "layers": ELM_LAYERS if args.method == "elm" else SUBDOMAIN_LAYERS}
        options = PINNOptions(hard_constraints=args.hard_constraints,
                              architecture=args.architecture,
                              weight_factorisation=args.weight_factorisation, **decomposed)
        stages = lower_pinn(system, options).stages
    else:
        from compiler.fd import FDOptions
        from compiler.odil import odil_stages

        stages = odil_stages(system, FDOptions(args.grid, args.accuracy, "central",
                                               face_mean=args.face_mean))
    return tuple(stages)


CACHE_VARIABLE = "PDELANG_CACHE"     # a folder, or "off"


def _keep_compilations() -> None:
    """JAX's persistent compilation cache for the command line: a run of a problem solved
    before loads its executables instead of compiling them (about 2 s of a 513^2 Poisson
    solve by multigrid). In $PDELANG_CACHE, else $XDG_CACHE_HOME/pdelang/xla or
    ~/.cache/pdelang/xla; PDELANG_CACHE=off leaves it out. A folder that cannot be made
    is skipped silently: the cache only saves time."""
    chosen = os.environ.get(CACHE_VARIABLE, "")
    if chosen.lower() == "off":
        return
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = chosen or os.path.join(base, "pdelang", "xla")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return
    import jax

    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    from .errors import NotConvergedError
    from .observe.interrupt import Interrupted

    if argv is None:                  # a program of its own, not a call from Python
        _keep_compilations()
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(next((a for a in argv if not a.startswith("-")), None))
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    _show_warnings_plainly()
    try:
        return args.run(args)
    except NotConvergedError as exc:          # --strict: nothing written
        print(exc, file=sys.stderr)
        return EXIT_NOT_CONVERGED
    except pl.PdeError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INPUT
    except Interrupted as stop:
        print(f"{stop}\nto go on: {_resume_command(argv, stop.folder)}", file=sys.stderr)
        return stop.exit_status
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:          # the reader left (`pdelang show ... | head`): not a bug
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug of ours: say so, keep the traceback in a file
        return _internal_error(exc)


def _show_warnings_plainly() -> None:
    """Print pdelang's warnings (`PdeWarning`) as its errors are printed: where, what, hint;
    other warnings as Python prints them."""
    import warnings

    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
        if isinstance(message, pl.PdeWarning):
            print(message, file=sys.stderr)
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show


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
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
