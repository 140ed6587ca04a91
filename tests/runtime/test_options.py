"""The one table of methods and options (`runtime.options`): the options classes, the checks
of `runtime.solve` and the `pdelang solve` flags derived from it."""

from __future__ import annotations

import dataclasses

import pytest

import pdelang as pl
import runtime
from runtime.cli import build_parser, main
from runtime.errors import OptionError
from runtime.options import METHOD_NAMES, OPTIONS, defaults, describe

# The defaults before the table, written out from the hand-made dataclasses it replaced
# (face_mean added with flux form, issue 14; with issue 15: architecture,
# weight_factorisation, balance, balance_every, budget, lm_steps, finish_dtype, target_loss,
# causal and optimizer for pinn; layers, points, steps, lbfgs_steps, resample_every and
# adaptive_sampling became None, settled from the budget and the spec; issue 19: misfit,
# adjoint, adam_steps and hold_out for fd fits; initial_state, windows and batch_windows
# for several runs and multiple shooting).
OLD_DEFAULTS = {
    "fd": dict(grid=None, accuracy=2, face_mean="harmonic", scheme=None, dtype=None,
               integrator="auto", dt=None, sweep=None, linear_solver="auto",
               frames=21, rtol=1e-6, atol=1e-9, tol=1e-10, max_iter=50, seed=0,
               checkpoint=None, checkpoint_every=1, resume=False, fit_steps=None,
               optimizer="auto", regularization=0.0, devices=None, mesh=None, parts=False,
               strict=False, misfit="scaled", adjoint="checkpoint", adam_steps=500,
               hold_out=0.0, initial_state="auto", windows=1, batch_windows=None),
    "pinn": dict(layers=None, activation="tanh", initialiser="glorot",
                 fourier_features=0, fourier_scale=1.0, harmonics=1, hard_constraints=True,
                 data_scaling=True, steps=None, lbfgs_steps=None, learning_rate=2e-3,
                 decay_rate=0.5, decay_steps=1000, points=None, boundary_points=256,
                 initial_points=256, sampler="sobol", resample_every=None,
                 adaptive_sampling=None, weights=None, budget="default", lm_steps=None,
                 finish_dtype="float64", target_loss=1e-10, causal=None, optimizer="auto",
                 time_windows=None,
                 balance="none", balance_every=None,
                 chunk=250, seed=0, grid=None,
                 frames=21, dtype="float32", checkpoint=None, checkpoint_every=1,
                 resume=False, data_weight=None, regularization=None, devices=None,
                 strict=False, architecture="mlp", weight_factorisation=False),
    "odil": dict(grid=None, accuracy=2, face_mean="harmonic", tol=1e-10, max_iter=50,
                 dtype=None, fit_steps=50, data_weight=1.0, regularization=0.0, devices=None,
                 mesh=None, strict=False),
    "elm": dict(grid=None, frames=21, seed=0, dtype="float64", tol=1e-10, strict=False,
                layers=None, activation="tanh", initialiser="glorot", hard_constraints=True,
                subdomains=4, overlap=0.5, points=None, boundary_points=256,
                initial_points=256, sampler="sobol", fit_steps=20),
}
# issue 18: fbpinn takes every option of pinn, and the decomposition's
OLD_DEFAULTS["fbpinn"] = dict(OLD_DEFAULTS["pinn"], subdomains=4, overlap=0.5, levels=1,
                              time_sweep=False)


def _options_class(method: str) -> type:
    return OPTIONS.method(method).load()[0]


@pytest.fixture
def heat(examples_dir):
    return pl.load(f"{examples_dir}/heat1d.pde")


def _solve_help() -> str:
    solve = next(a for a in build_parser()._subparsers._group_actions[0].choices.items()
                 if a[0] == "solve")[1]
    return solve.format_help()


# -- the table ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_the_derived_classes_keep_the_old_defaults(method):
    kind = _options_class(method)
    assert {f.name: f.default for f in dataclasses.fields(kind)} == OLD_DEFAULTS[method]
    assert defaults(method) == OLD_DEFAULTS[method]
    assert dataclasses.is_dataclass(kind) and kind.__dataclass_params__.frozen
    with pytest.raises(dataclasses.FrozenInstanceError):
        kind().grid = 3


def test_the_classes_stay_importable_where_they_were():
    from runtime.fd import FDSolveOptions
    from runtime.odil.solve import ODILSolveOptions
    from runtime.pinn.solve import PINNSolveOptions

    assert [FDSolveOptions, PINNSolveOptions, ODILSolveOptions] == \
        [_options_class(m) for m in ("fd", "pinn", "odil")]
    assert FDSolveOptions.__module__ == "runtime.fd.options"
    assert PINNSolveOptions().network().layers == (20, 20, 20)        # by time: lm finishes
    assert PINNSolveOptions(steps=10).network().layers == (64, 64, 64)  # counted: L-BFGS
    assert PINNSolveOptions(steps=7).training().steps == 7


@pytest.mark.parametrize("option", OPTIONS.options, ids=lambda o: o.name)
def test_every_option_has_help_a_default_and_a_flag_or_an_api_only_mark(option):
    assert option.help and "\n" not in option.help
    assert option.methods and set(option.methods) <= set(METHOD_NAMES)
    for method in option.methods:
        option.default_for(method)                   # a default for each of its methods
    if option.cli:
        assert option.is_switch or option.parse or option.allowed() or \
            option.type.startswith("str")
        assert f"{option.cli_flag} " in _solve_help() or f"{option.cli_flag}\n" in \
            _solve_help()
    else:
        assert "[API only]" in describe(option.methods[0])


def test_choices_come_from_where_the_things_are_implemented():
    from compiler.fd.options import SCHEMES
    from compiler.pinn.networks.architectures import ARCHITECTURES
    from compiler.pinn.networks.mlp import ACTIVATIONS
    from runtime.fd.fit import OPTIMIZERS
    from runtime.pinn.sampling import SAMPLERS
    from runtime.time.integrators import HOST_INTEGRATORS, INTEGRATORS

    assert OPTIONS.option("integrator").allowed() == ("auto", *INTEGRATORS, *HOST_INTEGRATORS)
    assert OPTIONS.option("scheme").allowed() == tuple(SCHEMES)
    assert OPTIONS.option("activation").allowed() == tuple(ACTIVATIONS)
    assert OPTIONS.option("architecture").allowed() == ("mlp", "modified", "pirate") == \
        tuple(ARCHITECTURES)
    assert OPTIONS.option("sampler").allowed() == tuple(SAMPLERS)
    assert OPTIONS.option("optimizer").allowed() == tuple(OPTIMIZERS)


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_describe_lists_every_option_of_a_method(method):
    text = describe(method)
    assert text.startswith(f"{method}: ")
    for option in OPTIONS.of(method):
        assert f"  {option.name} = " in text


# -- runtime.solve ------------------------------------------------------------------------


@pytest.mark.parametrize("name, method, users", [
    (o.name, m, o.methods) for o in OPTIONS.options for m in METHOD_NAMES
    if m not in o.methods])
def test_an_option_of_another_method_names_the_methods_that_use_it(heat, name, method, users):
    value = OPTIONS.option(name).default_for(users[0])
    with pytest.raises(OptionError) as e:
        runtime.solve(heat, method, **{name: value})
    assert f"option {name!r} is not used by method {method!r}; it is an option of " \
        f"{', '.join(users)}" in str(e.value)


def test_odil_refuses_seed_and_frames(heat):
    for name in ("seed", "frames"):
        with pytest.raises(OptionError, match="it is an option of fd, pinn"):
            runtime.solve(heat, "odil", grid=9, **{name: 1})


def test_an_option_of_no_method_gets_a_guess_and_the_methods_options(heat):
    with pytest.raises(OptionError) as e:
        runtime.solve(heat, "pinn", lerning_rate=1e-3)
    text = str(e.value)
    assert "'lerning_rate' is not an option of any method (did you mean 'learning_rate'?)" \
        in text
    assert "pinn options: grid, frames, seed" in text


def test_an_unknown_method_lists_the_methods(heat):
    with pytest.raises(OptionError, match="unknown method 'fem'; choose one of fd, pinn, odil"):
        runtime.solve(heat, "fem")


def test_a_choice_outside_the_table_is_refused(heat):
    with pytest.raises(OptionError, match="activation 'relu6' is not available; choose one "
                                          "of tanh"):
        runtime.solve(heat, "pinn", activation="relu6")


def test_an_architecture_outside_the_table_or_unfit_for_the_layers_is_refused(heat):
    from compiler.errors import LoweringError

    with pytest.raises(OptionError, match="architecture 'resnet' is not available; choose "
                                          "one of mlp, modified, pirate"):
        runtime.solve(heat, "pinn", architecture="resnet")
    with pytest.raises(LoweringError, match=r"the modified architecture needs all hidden "
                                            r"widths equal, not \(16, 8\)"):
        runtime.solve(heat, "pinn", architecture="modified", layers=(16, 8))
    with pytest.raises(LoweringError, match="pirate architecture needs at least 2 hidden"):
        runtime.solve(heat, "pinn", architecture="pirate", layers=(16,))


def test_the_network_options_reach_the_compiler():
    options = _options_class("pinn")(architecture="pirate", weight_factorisation=True,
                                     layers=(8, 8))
    network = options.network()
    assert (network.architecture, network.weight_factorisation, network.layers) == \
        ("pirate", True, (8, 8))


def test_every_solver_finishes_with_meta_timing_and_error(heat):
    solution = runtime.solve(heat, "fd", grid=9, frames=3)
    assert solution.meta["method"] == "fd" and solution.meta["wall_time_s"] > 0
    assert solution.meta["options"]["accuracy"] == 2
    assert solution.meta["relative_l2_error"]["u"] < 1e-2
    odil = runtime.solve(heat, "odil", grid=9)
    assert odil.meta["method"] == "odil" and "relative_l2_error" in odil.meta


# -- the command line ---------------------------------------------------------------------


def test_solve_help_has_a_group_per_method_and_the_shared_ones():
    text = _solve_help()
    for title in ("options of several methods:", "options of fd:", "options of pinn:",
                  "options of odil:", "inverse problems", "devices and hosts:"):
        assert title in text
    fd = text[text.index("options of fd:"):text.index("options of pinn:")]
    assert "--integrator" in fd and "--layers" not in fd
    assert "--lr LEARNING_RATE" in text and "0.002)" in text
    pinn = text[text.index("options of pinn:"):text.index("options of odil:")]
    assert "--lr" in pinn and "--subdomains" not in pinn      # pinn's, shared by its kin
    assert "--subdomains" in text[text.index("options of fbpinn:"):]


@pytest.mark.parametrize("flags, method, users", [
    (["--layers", "8,8"], "fd", "pinn"),
    (["--integrator", "rk4"], "pinn", "fd"),
    (["--seed", "1"], "odil", "fd, pinn"),
    (["--frames", "3"], "odil", "fd, pinn"),
    (["--checkpoint", "somewhere"], "odil", "fd, pinn"),
    (["--soft-constraints"], "odil", "pinn"),
    (["--lr", "0.1"], "fd", "pinn"),
    (["--optimizer", "lm"], "odil", "fd, pinn"),
    (["--data-weight", "2"], "fd", "pinn, fbpinn, odil"),
    (["--parts"], "pinn", "fd"),
])
def test_a_flag_of_another_method_exits_1_naming_its_methods(examples_dir, capsys, flags,
                                                             method, users):
    argv = ["solve", f"{examples_dir}/heat1d.pde", "--method", method, *flags, "--quiet"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"{flags[0]} is not an option of --method {method}; it is an option of {users}" \
        in err
    assert "Traceback" not in err


def test_odil_from_the_command_line_passes_only_its_options(examples_dir, capsys):
    assert main(["solve", f"{examples_dir}/poisson2d.pde", "--method", "odil", "--grid", "9",
                 "--quiet"]) == 0
    assert "by odil" in capsys.readouterr().out


def test_the_architecture_flags_reach_solve(examples_dir, monkeypatch, capsys):
    given = {}

    def solve(system, method, observers=(), **options):
        given.update(options, method=method)
        raise OptionError("stopped before solving")

    monkeypatch.setattr(runtime, "solve", solve)
    assert main(["solve", f"{examples_dir}/heat1d.pde", "--method", "pinn", "--architecture",
                 "pirate", "--weight-factorisation", "--quiet"]) == 1
    assert "stopped before solving" in capsys.readouterr().err
    assert given["architecture"] == "pirate" and given["weight_factorisation"] is True
    assert "--architecture {mlp,modified,pirate}" in _solve_help()


def test_a_wrong_architecture_flag_is_a_usage_error(examples_dir, capsys):
    with pytest.raises(SystemExit) as e:
        main(["solve", f"{examples_dir}/heat1d.pde", "--method", "pinn", "--architecture",
              "resnet"])
    assert e.value.code == 2
    assert "argument --architecture: invalid choice: 'resnet' (choose from 'mlp', " \
        "'modified', 'pirate')" in capsys.readouterr().err
    argv = ["solve", f"{examples_dir}/heat1d.pde", "--method", "pinn", "--architecture",
            "modified", "--layers", "16,8", "--quiet"]
    assert main(argv) == 1
    assert "needs all hidden widths equal, not (16, 8)" in capsys.readouterr().err


def test_show_prints_the_architecture(examples_dir, capsys):
    assert main(["show", f"{examples_dir}/poisson2d.pde", "--method", "pinn",
                 "--architecture", "modified", "--weight-factorisation"]) == 0
    out = capsys.readouterr().out
    assert "u(x, y): modified MLP 2-64-64-64-1 (encoders U, V gate every layer after the " \
        "first), random weight factorisation, tanh" in out


@pytest.mark.parametrize("method, name", [("fd", "regularization"), ("odil", "regularization"),
                                          ("odil", "data_weight")])
def test_none_is_the_pinn_methods_automatic_weight_only(heat, method, name):
    with pytest.raises(OptionError, match=f"{name} must be a number") as caught:
        runtime.solve(heat, method, **{name: None})
    assert "pinn" in caught.value.hint
