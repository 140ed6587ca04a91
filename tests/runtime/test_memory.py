"""A grid too large for the memory is refused before anything is allocated."""

import time

import pytest

import pdelang as pl
from runtime.cli import main
from runtime.errors import OptionError
from runtime.observe.memory import check_fd_memory, fd_bytes


@pytest.mark.parametrize("example, says", [
    ("poisson2d.pde", "steady, float64), but "),
    ("reaction_diffusion2d.pde", "21 frames, float64), but "),
])
def test_an_absurd_grid_is_refused_at_once(examples_dir, capsys, example, says):
    started = time.perf_counter()
    assert main(["solve", f"{examples_dir}/{example}", "--grid", "200000", "--quiet"]) == 1
    assert time.perf_counter() - started < 5
    err = capsys.readouterr().err
    assert "TiB of memory (grid 200000 x 200000" in err
    assert says in err and "is available" in err and "use a smaller --grid" in err
    assert "Traceback" not in err


def test_the_estimate_grows_with_grid_and_frames(examples_dir):
    system = pl.load(f"{examples_dir}/heat1d.pde")
    small = fd_bytes(system, {"x": 101}, frames=21)
    assert fd_bytes(system, {"x": 201}, frames=21) > small
    assert fd_bytes(system, {"x": 101}, frames=41) > small
    assert fd_bytes(system, {"x": 101}, frames=21, dtype="float32") == small // 2
    with pytest.raises(OptionError, match="or fewer --frames"):
        check_fd_memory(system, {"x": 101}, dtype="float64", integrator="rk4", frames=21,
                        accuracy=2, available=small - 1)
    check_fd_memory(system, {"x": 101}, dtype="float64", integrator="rk4", frames=21,
                    accuracy=2, available=small)
