"""Device choice, mesh shapes, multi-host settings and the padded layout, in-process.

This process has one CPU device; the runs over several devices and processes are in
test_sharded_fd.py and test_distributed.py (subprocesses).
"""

from __future__ import annotations

import jax
import pytest

from runtime.cli import _part_path, main, mesh_option
from runtime.errors import OptionError
from runtime.parallel.devices import distributed_settings, mesh_shape, select_devices
from runtime.parallel.sharding import _layout

# -- multi-host settings ----------------------------------------------------------------


def test_no_flags_and_no_environment_is_a_one_process_run():
    assert distributed_settings(environ={}) is None


def test_flags_win_over_the_environment_which_fills_the_rest():
    environ = {"JAX_COORDINATOR_ADDRESS": "10.0.0.1:99", "JAX_NUM_PROCESSES": "4",
               "JAX_PROCESS_ID": "3"}
    s = distributed_settings("127.0.0.1:1234", None, 1, environ=environ)
    assert (s.coordinator, s.num_processes, s.process_id) == ("127.0.0.1:1234", 4, 1)


@pytest.mark.parametrize("args, environ, message", [
    (("localhost", 2, 0), {}, "'localhost' is not HOST:PORT"),
    (("h:1", 2, 2), {}, "process id 2 is not in 0..1"),
    ((None, None, None), {"JAX_NUM_PROCESSES": "two"}, "JAX_NUM_PROCESSES='two' is not a"),
])
def test_wrong_settings_say_what_to_give(args, environ, message):
    with pytest.raises(OptionError, match=message):
        distributed_settings(*args, environ=environ)


# -- devices and meshes -----------------------------------------------------------------


def test_all_devices_by_default_and_a_clear_error_beyond_them():
    assert select_devices() == jax.devices()
    assert select_devices(1) == jax.devices()[:1]
    with pytest.raises(OptionError, match="8 devices asked for, but this run has 1") as e:
        select_devices(8)
    assert "xla_force_host_platform_device_count" in e.value.hint


@pytest.mark.parametrize("nodes, count, expected", [
    ({"x": 129}, 4, {"x": 4}),
    ({"x": 64, "y": 64}, 4, {"x": 4}),                # slabs along the leading axis
    ({"x": 16, "y": 256}, 4, {"y": 4}),               # too thin: the least cut
    ({"x": 24, "y": 24}, 4, {"x": 2, "y": 2}),        # too thin: least cut, 2 x 2
    ({"x": 12, "y": 4}, 4, {"x": 4}),                 # nothing roomy: the least cut
    ({"x": 64, "y": 64}, 1, {}),
    ({}, 4, {}),                                      # an ODE system is not split
])
def test_the_automatic_mesh_prefers_slabs_then_the_least_cut(nodes, count, expected):
    assert mesh_shape(nodes, count) == expected


@pytest.mark.parametrize("requested, message", [
    ({"x": 2}, "the mesh x=2 uses 2 devices, but the solve has 4"),
    ({"z": 4}, "the mesh names z, which is not a grid coordinate"),
    ({"x": 4, "y": 1}, None),
])
def test_a_requested_mesh_is_checked(requested, message):
    if message is None:
        assert mesh_shape({"x": 8, "y": 8}, 4, requested) == {"x": 4}
        return
    with pytest.raises(OptionError, match=message):
        mesh_shape({"x": 8, "y": 8}, 4, requested)


def test_more_devices_than_nodes_along_a_coordinate_is_refused():
    with pytest.raises(OptionError, match="8 devices along x is more than its 5 grid nodes"):
        mesh_shape({"x": 5}, 8, {"x": 8})
    with pytest.raises(OptionError, match="16 devices cannot split a grid of 5 x 3 nodes"):
        mesh_shape({"x": 5, "y": 3}, 16)


def test_uneven_axes_are_stored_padded_to_equal_blocks():
    a = _layout("u", ("x", "y"), (129, 33), {"x": 4})
    assert a.padded == (132, 33) and a.spec == ("x", None)
    assert _layout("u", ("x",), (128,), {"x": 4}).padded == (128,)


# -- command line -----------------------------------------------------------------------


def test_mesh_option_and_part_file_names():
    assert mesh_option("x=2, y=2") == {"x": 2, "y": 2}
    assert _part_path("out/result.npz", 1) == "out/result.part1.npz"
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match="is not a mesh"):
        mesh_option("x=0")


def test_device_flags_reach_fd_and_are_refused_elsewhere(examples_dir, capsys):
    heat = f"{examples_dir}/heat1d.pde"
    assert main(["solve", heat, "--grid", "9", "--frames", "2", "--devices", "1",
                 "--quiet"]) == 0
    assert main(["solve", heat, "--grid", "9", "--devices", "3", "--quiet"]) == 1
    assert "3 devices asked for, but this run has 1" in capsys.readouterr().err
    assert main(["solve", heat, "--method", "pinn", "--mesh", "x=1", "--quiet"]) == 1
    assert "--mesh is not an option of --method pinn" in capsys.readouterr().err


def test_device_flags_reach_odil_but_not_parts(examples_dir, capsys):
    heat = f"{examples_dir}/heat1d.pde"
    assert main(["solve", heat, "--method", "odil", "--grid", "9", "--devices", "1",
                 "--mesh", "t=1", "--quiet"]) == 0
    assert main(["solve", heat, "--method", "odil", "--grid", "9", "--mesh", "y=1",
                 "--quiet"]) == 1
    assert "the mesh names y, which is not a grid coordinate (the grid's coordinates: t, x)" \
        in capsys.readouterr().err
    assert main(["solve", heat, "--method", "odil", "--grid", "9", "--parts",
                 "--quiet"]) == 1
    assert "--parts is not an option of --method odil" in capsys.readouterr().err


def test_default_dtype_is_float64_for_fd_and_odil_on_the_cpu_and_float32_on_gpus(monkeypatch):
    from runtime.parallel.devices import default_dtype

    assert [default_dtype(m) for m in ("fd", "odil", "pinn")] == ["float64", "float64",
                                                                  "float32"]
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    assert [default_dtype(m) for m in ("fd", "odil", "pinn")] == ["float32"] * 3


def test_parts_are_refused_for_a_steady_fd_solve(examples_dir, capsys):
    from runtime.cli import main

    assert main(["solve", f"{examples_dir}/poisson2d.pde", "--grid", "9", "--parts",
                 "--quiet"]) == 1
    assert "applies to time-dependent fd solves" in capsys.readouterr().err
