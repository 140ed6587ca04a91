"""THE table: every method of `runtime.solve` and every option, declared once.

Each method's options class (`FDSolveOptions`, `PINNSolveOptions`, `ODILSolveOptions`),
the check of `runtime.solve(**options)`, the `pdelang solve` flags, their choices, the
defaults `--help` shows and the mapping from flags to options are derived from it.

Choices are looked up where the things are implemented, when first needed (so that reading
the table imports no solver)."""

from __future__ import annotations

from collections.abc import Sequence

from compiler.pinn.options import PINNOptions

from .core import Method, Option, Table, per_method
from .parse import (
    grid_option,
    layers_option,
    mesh_option,
    nonnegative_int,
    positive_float,
    positive_int,
    subdomains_option,
    sweep_option,
    switch_option,
)

AUTO_ONLY_IN_PINN = ("None (a weight on the equations' scale) is the pinn method's default; "
                     "fd and odil take numbers")   # the hint where fd or odil is given None

METHODS = (
    Method("fd", "finite differences: method of lines in time, Newton for steady systems",
           "runtime.fd", "FDSolveOptions", "solve_fd"),
    Method("pinn", "physics-informed networks trained on the residuals (Adam, then L-BFGS)",
           "runtime.pinn", "PINNSolveOptions", "solve_pinn"),
    Method("odil", "the discrete residual of the whole space-time grid solved at once",
           "runtime.odil", "ODILSolveOptions", "solve_odil"),
    Method("fbpinn", "finite-basis PINNs: a small network per overlapping subdomain, glued by "
           "windows, trained as pinn is", "runtime.pinn.fbpinn", "FBPINNSolveOptions",
           "solve_fbpinn"),
    Method("elm", "extreme-learning-machine FBPINNs: random frozen subdomain networks, output "
           "weights by sparse least squares (Gauss-Newton when nonlinear)", "runtime.pinn.elm",
           "ELMSolveOptions", "solve_elm"),
)
FD, PINN, ODIL, FBPINN, ELM = "fd", "pinn", "odil", "fbpinn", "elm"
PINNS = (PINN, FBPINN)               # the network methods: every pinn option is theirs
ALL = (FD, *PINNS, ODIL)
SAMPLED = (*PINNS, ELM)              # the methods on drawn points and networks


def _schemes() -> Sequence[str]:
    from compiler.fd.options import SCHEMES

    return SCHEMES


def _accuracies() -> Sequence[int]:
    from compiler.fd.options import ACCURACIES

    return ACCURACIES


def _face_means() -> Sequence[str]:
    from compiler.fd.options import FACE_MEANS

    return FACE_MEANS


def _integrators() -> Sequence[str]:
    from ..time.integrators import HOST_INTEGRATORS, INTEGRATORS

    return ("auto", *INTEGRATORS, *HOST_INTEGRATORS)


def _dtypes() -> Sequence[str]:
    from ..parallel.devices import DTYPES

    return DTYPES


def _activations() -> Sequence[str]:
    from compiler.pinn.networks.mlp import ACTIVATIONS

    return tuple(ACTIVATIONS)


def _architectures() -> Sequence[str]:
    from compiler.pinn.networks.architectures import ARCHITECTURES

    return tuple(ARCHITECTURES)


def _initialisers() -> Sequence[str]:
    from compiler.pinn.networks.mlp import INITIALISERS

    return INITIALISERS


def _samplers() -> Sequence[str]:
    from ..pinn.sampling import SAMPLERS

    return SAMPLERS


def _balancers() -> Sequence[str]:
    from ..pinn.balancing import BALANCERS

    return ("none", *BALANCERS)


def _optimizers() -> Sequence[str]:
    from ..algebra import OPTIMIZERS

    return OPTIMIZERS


NET = PINNOptions      # the network's defaults are the pinn compiler's

OPTIONS = Table(METHODS, (
    # -- shared by several methods -------------------------------------------------------
    Option("grid", "int | dict[str, int] | None", None,
           "points per space coordinate: N, or x=N,y=M (odil: time too; pinn: the output "
           "grid)", (*ALL, ELM), parse=grid_option, shown_default="by the number of dimensions"),
    Option("frames", "int | Sequence[float]", 21,
           "output times of time-dependent problems (fd: or a list of times, API only)",
           (FD, *PINNS, ELM), parse=positive_int),
    Option("seed", "int", 0, "random seed", (FD, *PINNS, ELM), parse=int),
    Option("dtype", "str | None",
           per_method(fd=None, pinn="float32", fbpinn="float32", odil=None,
                      elm="float64"),
           "floating-point type", (*ALL, ELM), choices=_dtypes,
           shown_default="float64 for fd and odil on the CPU, float32 for pinn and on GPUs"),
    Option("accuracy", "int", 2, "order of the stencils", (FD, ODIL), choices=_accuracies,
           parse=int),
    Option("face_mean", "str", "harmonic", "a diffusion coefficient k at a cell face in flux "
           "form d(k*d(u, x), x): harmonic (layered media) or arithmetic mean of its two sides",
           (FD, ODIL), choices=_face_means),
    Option("tol", "float", 1e-10, "Newton's tolerance (steady solves; odil: also the fit's "
           "relative loss decrease)", (FD, ODIL, ELM), cli=False),
    Option("max_iter", "int", 50, "most Newton iterations", (FD, ODIL), cli=False),
    Option("strict", "bool", False,
           "a run that does not converge by its method's criterion is an error (exit status "
           "4, no result files written) instead of a WARNING (exit status 4, files written)",
           (*ALL, ELM), value=True),
    Option("checkpoint", "str | None", None,
           "save the training (pinn) or integration (fd) state in this folder as it goes, to "
           "--resume after an interruption (SIGINT or SIGTERM also save it, there or in a "
           "default folder)", (FD, *PINNS), metavar="DIR"),
    Option("checkpoint_every", "int", 1,
           "save every N chunks (pinn: 250 steps each; fd: output intervals)", (FD, *PINNS),
           parse=positive_int, metavar="N"),
    Option("resume", "bool", False,
           "go on from the state saved in --checkpoint DIR (same options)", (FD, *PINNS),
           value=True),
    # -- fd --------------------------------------------------------------------------------
    Option("scheme", "str | None", None, "first derivatives in transport terms", (FD,),
           choices=_schemes,
           shown_default="upwind2 for first-order hyperbolic equations, weno5 for the fluxes of "
           "nonlinear conservation laws, else central"),
    Option("integrator", "str", "auto", "time integrator (auto: ssprk3 for the fluxes of a "
           "shock-capturing scheme, leapfrog for undamped waves with second-order stencils, "
           "rodas4 for ODE systems, bdf for differential-algebraic ones (or kencarp4), else "
           "rk4, or "
           "sdirk2 when stiff)",
           (FD,), choices=_integrators),
    Option("dt", "float | None", None, "time step", (FD,), parse=positive_float,
           shown_default="from the stability limit"),
    Option("linear_solver", "str", "auto",
           "steady linear problems: sparse LU (direct) or geometric multigrid generated from "
           "the spec (grids of 2^k m + 1 points, no point or mean conditions); auto: "
           "multigrid from 20,000 unknowns where it applies, LU otherwise or if it stalls",
           (FD,), choices=("auto", "direct", "multigrid")),
    Option("sweep", "Mapping[str, Sequence[float]] | None", None,
           "solve for many values of known constants in one compiled, vmapped program: "
           "NAME=START:STOP:COUNT, several comma separated with equal counts (the API also "
           "takes {name: values}); results stacked on a new first axis", (FD,),
           parse=sweep_option, metavar="NAME=START:STOP:COUNT"),
    Option("rtol", "float", 1e-6, "relative tolerance of adaptive integrators", (FD,),
           cli=False),
    Option("atol", "float", 1e-9, "absolute tolerance of adaptive integrators", (FD,),
           cli=False),
    # -- pinn: the network -----------------------------------------------------------------
    Option("layers", "tuple[int, ...] | None", None, "hidden layer widths, e.g. 64,64,64",
           SAMPLED, parse=layers_option,
           shown_default="20,20,20 when the finish is Levenberg-Marquardt, else 64,64,64"),
    Option("activation", "str", NET.activation, "activation function", SAMPLED,
           choices=_activations),
    Option("architecture", "str", NET.architecture,
           "hidden layers: mlp; modified (gated by two encoders of the input); pirate "
           "(PirateNet: first width the gates, one residual block per further width)",
           PINNS, choices=_architectures),
    Option("weight_factorisation", "bool", NET.weight_factorisation,
           "random weight factorisation: every kernel W = V*exp(s), s ~ N(1, 0.1) per "
           "column", PINNS, value=True),
    Option("initialiser", "str", NET.initialiser, "initial weights", SAMPLED,
           choices=_initialisers, cli=False),
    Option("fourier_features", "int", NET.fourier_features,
           "random Fourier features of the inputs (0: none)", PINNS, parse=nonnegative_int),
    Option("fourier_scale", "float", NET.fourier_scale,
           "standard deviation of the Fourier features' frequencies", PINNS, cli=False),
    Option("harmonics", "int", NET.harmonics,
           "sin/cos pairs for each periodic coordinate", PINNS, cli=False),
    Option("hard_constraints", "bool", NET.hard_constraints,
           "penalise every condition in the loss instead of building Dirichlet and initial "
           "values into the network (u = A + D*N, the default)", SAMPLED,
           flag="--soft-constraints", value=False),
    Option("data_scaling", "bool", NET.data_scaling,
           "observed fields' outputs times the RMS of their data", PINNS, cli=False),
    # -- fbpinn: the decomposition ---------------------------------------------------------
    Option("subdomains", "int | dict[str, int]", 4,
           "subdomains of the box on a regular grid: N along every coordinate (time too), or "
           "x=N,t=M per coordinate (those not named: 1)", (FBPINN, ELM), parse=subdomains_option,
           metavar="N|x=N,t=M"),
    Option("overlap", "float", 0.5,
           "how far neighbouring subdomains overlap, as a fraction of a subdomain's width, "
           "in (0, 1]", (FBPINN, ELM), parse=positive_float),
    Option("levels", "int", 1,
           "multilevel windows: this many levels, the finest of --subdomains, each coarser "
           "one halving the count per coordinate (to 1), their networks' outputs summed",
           (FBPINN,), parse=positive_int),
    Option("time_sweep", "bool", False,
           "time-marching subdomains: train the subdomains' time slabs in turn, earliest "
           "first, each stage on points within its slab's reach with the earlier slabs fixed "
           "and the later ones switched off", (FBPINN,), flag="--time-sweep", value=True),
    # -- pinn: training --------------------------------------------------------------------
    Option("budget", "str | float", "default",
           "time for training: quick (60 s), default (480 s), long (1800 s) or seconds; "
           "without step counts each optimiser runs for its share of it, and training stops "
           "at the budget or the target loss, whichever comes first", PINNS,
           metavar="quick|default|long|SECONDS"),
    Option("steps", "int | None", None, "Adam steps", PINNS, parse=nonnegative_int,
           shown_default="by time: a share of the budget (0.15, at most 2000 steps, "
                         "before lm; 0.4 before lbfgs); 4000 when another count is given"),
    Option("lbfgs_steps", "int | None", None, "L-BFGS steps after Adam (optimizer lbfgs)",
           PINNS, parse=nonnegative_int,
           shown_default="by time, the rest of the budget; 2000 when another count is given"),
    Option("lm_steps", "int | None", None,
           "Levenberg-Marquardt steps after Adam (optimizer lm)", PINNS,
           parse=nonnegative_int,
           shown_default="by time, the rest of the budget; 1000 when another count is given"),
    Option("finish_dtype", "str", "float64",
           "precision of the optimiser after Adam (Adam trains in --dtype): float64 gets "
           "past float32's plateau of the loss", PINNS, choices=("float32", "float64")),
    Option("target_loss", "float", 1e-10, "stop training once the loss is this low (0: "
           "never)", PINNS, parse=float),
    Option("causal", "bool | None", None,
           "causal training: the equations' residual weighted by time slab, later times "
           "opened once earlier ones are fitted (Wang, Sankaran and Perdikaris 2022)",
           PINNS, parse=switch_option, metavar="on|off",
           shown_default="on for time-dependent problems"),
    Option("time_windows", "int | None", None,
           "time marching: cut the time interval into this many windows, one network each, "
           "trained in turn from the previous window's end (1: one network for all times)",
           PINNS, parse=positive_int,
           shown_default="from the spec: 2 per crossing of the domain by its fastest "
                         "transport, when more than one"),
    Option("learning_rate", "float", 2e-3, "Adam's initial learning rate", PINNS,
           parse=positive_float, flag="--lr"),
    Option("decay_rate", "float", 0.5, "learning rate factor every decay_steps", PINNS,
           cli=False),
    Option("decay_steps", "int", 1000, "Adam steps between learning rate decays", PINNS,
           cli=False),
    Option("points", "int | None", None, "interior collocation points", SAMPLED,
           parse=positive_int, shown_default="1024; with lm, 4 per trainable if more"),
    Option("boundary_points", "int", 256, "points on the faces, all together", SAMPLED,
           parse=positive_int),
    Option("initial_points", "int", 256, "points at the initial time", SAMPLED, cli=False),
    Option("sampler", "str", "sobol", "how points are drawn", SAMPLED, choices=_samplers),
    Option("resample_every", "int | None", None, "draw new points every this many steps "
           "of Adam or Levenberg-Marquardt (0: never)", PINNS, parse=nonnegative_int,
           shown_default="for time-dependent problems 1000 Adam, 100 lm steps; else never"),
    Option("adaptive_sampling", "bool | None", None,
           "resample by residual (RAR-D)", PINNS, parse=switch_option, metavar="on|off",
           shown_default="on for time-dependent problems"),
    Option("weights", "Mapping[str, float] | str | None", None,
           "balance the loss terms by learning-rate annealing (weights=\"adaptive\", the "
           "same as --balance annealing; the API also takes an initial weight per term "
           "name)", PINNS, flag="--adaptive-weights",
           value="adaptive"),
    Option("balance", "str", "none",
           "balance the loss terms' weights every balance_every Adam steps: learning-rate "
           "annealing (as --adaptive-weights), gradient norms (gradnorm) or NTK traces (ntk); "
           "regularization terms keep theirs", PINNS, choices=_balancers),
    Option("balance_every", "int | None", None,
           "Adam steps between balancings of the loss weights, a multiple of chunk", PINNS,
           cli=False, shown_default="every chunk"),
    Option("chunk", "int", 250, "Adam steps per compiled chunk (and checkpoint)", PINNS,
           cli=False),
    # -- inverse problems --------------------------------------------------------------------
    Option("fit_steps", "int | None", per_method(fd=None, odil=50, elm=20),
           "most iterations of the fit (elm: Gauss-Newton steps)", (FD, ODIL, ELM),
           parse=positive_int, group="inverse",
           shown_default="fd 100 with lm, 300 with lbfgs; odil 50; elm 20"),
    Option("adjoint", "str", "checkpoint",
           "fd fitting in time, how reverse mode gets through the steps: checkpoint (two "
           "levels of rematerialisation, memory ~ intervals + 2 sqrt(steps) states, two extra "
           "forward passes) or full (every step's state kept)", (FD,),
           choices=("checkpoint", "full"), group="inverse"),
    Option("initial_state", "str", "auto",
           "fd fitting in time, where each run starts: given (the spec's initial condition; "
           "with a `run` column, each run's observations at the initial time), or fitted "
           "(those values are the first guess of unknowns: noisy observations at the start "
           "no longer bias the fit); auto: fitted for runs of systems without space, given "
           "otherwise", (FD,), choices=("auto", "given", "fitted"), group="inverse"),
    Option("windows", "int", 1,
           "fd fitting in time, multiple shooting: the observation times split into this many "
           "windows integrated side by side, each after the first from fitted states held "
           "close to the previous window's end by a penalty (a long series' fit then does "
           "not have to get through the whole span at once); the fit then finishes by "
           "single shooting from its result", (FD,), parse=positive_int, group="inverse"),
    Option("batch_windows", "int | None", None,
           "fd fitting with --windows: the Adam steps (--adam-steps) each integrate a random "
           "mini-batch of this many windows (of all runs' windows), then L-BFGS or "
           "Levenberg-Marquardt takes them all", (FD,), parse=positive_int, group="inverse",
           shown_default="every window"),
    Option("hold_out", "float", 0.0,
           "fd fitting of learned functions: the fraction of the observation times held out "
           "(evenly spread) for early stopping: L-BFGS stops when their misfit has not "
           "improved for 50 iterations and returns its best iterate; for noisy data, where "
           "a longer fit learns the noise", (FD,), parse=float, group="inverse",
           metavar="FRACTION"),
    Option("adam_steps", "int", 500,
           "fd fitting of learned functions (`net` lines) or mini-batches of windows "
           "(--batch-windows): Adam steps (rate 1e-3) before the "
           "optimizer, each at most about the rate per weight (L-BFGS's first step from the "
           "untrained net blew a learned flux's simulation up)", (FD,),
           parse=nonnegative_int, group="inverse"),
    Option("optimizer", "str", "auto",
           "fd fitting: Levenberg-Marquardt (lm) or L-BFGS; auto: lm for a few unknown "
           "constants, lbfgs for unknown fields. pinn: the optimiser after Adam; auto: lm "
           "for networks of up to 4000 trainables when training by time, else lbfgs",
           (FD, *PINNS), choices=_optimizers),
    Option("data_weight", "float | None", per_method(pinn=None, fbpinn=None, odil=1.0),
           "weight of the data misfit against the equations' residual", (*PINNS, ODIL),
           parse=positive_float, group="inverse",
           shown_default="odil 1; pinn: the equations' mean square on the initial state over "
           "the data's (inverse problems in time with an unknown coefficient field; else 1)"),
    Option("misfit", "str", "scaled",
           "how fd fitting weighs each observation: scaled (each field's misfit over the root "
           "mean square of its data: for noise of a fixed size) or relative (each point's "
           "over its own value, floored at 0.01 of the field's RMS: for noise proportional to "
           "the value)", (FD,), choices=("scaled", "relative"), group="inverse"),
    Option("regularization", "float | None",
           per_method(fd=0.0, pinn=None, fbpinn=None, odil=0.0),
           "smoothness penalty on unknown coefficient fields: LAMBDA times the mean squared "
           "gradient; fd: also weight decay on learned functions, LAMBDA times the mean "
           "squared weight", ALL, parse=float, group="inverse", metavar="LAMBDA",
           shown_default="fd, odil 0; pinn: 1e-4 of the equations' mean square on the "
           "initial state, per change of the field by its guess across the domain (inverse "
           "problems in time; else 0)"),
    # -- devices ---------------------------------------------------------------------------
    Option("devices", "int | None", None,
           "devices to split the grid over, pinn: its points", ALL, parse=positive_int,
           group="devices", metavar="N", shown_default="all of the run's"),
    Option("mesh", "dict[str, int] | None", None,
           "devices along each space coordinate (odil: time too), e.g. x=2,y=2", (FD, ODIL),
           parse=mesh_option, group="devices",
           shown_default="slabs along the first coordinate"),
    Option("parts", "bool", False,
           "fd in time: each process writes its own block of the grid, to --out with .partK "
           "before the suffix, instead of process 0 gathering and writing the whole", (FD,),
           value=True, group="devices"),
))
