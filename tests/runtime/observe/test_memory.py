"""A grid too large for the memory is refused before anything is allocated."""

import pytest

import pdelang as pl
from runtime.cli import main
from runtime.errors import OptionError
from runtime.fd import forward
from runtime.observe.memory import check_fd_memory, fd_bytes


@pytest.mark.parametrize("example, says", [
    ("poisson2d.pde", "steady, float64), but "),
    ("reaction_diffusion2d.pde", "21 frames, float64), but "),
])
def test_an_absurd_grid_is_refused_before_anything_is_allocated(examples_dir, capsys,
                                                                monkeypatch, example, says):
    def lower_fd(*args, **kwargs):      # lowering allocates the grid: it must not be reached
        pytest.fail("the grid was lowered before the memory check refused it")

    monkeypatch.setattr(forward, "lower_fd", lower_fd)
    assert main(["solve", f"{examples_dir}/{example}", "--grid", "200000", "--quiet"]) == 1
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


def test_a_frame_counts_its_values_and_their_two_rates(examples_dir):
    """Each frame holds u, u_t and u_tt (Solution.rates), on the device and on the host; a
    solve that keeps no rates (a DAE) counts the values only."""
    system = pl.load(f"{examples_dir}/heat1d.pde")
    state = 101 * 8

    def frame(**given):
        return (fd_bytes(system, {"x": 101}, frames=2, **given)
                - fd_bytes(system, {"x": 101}, frames=1, **given))

    assert frame() == 2 * 3 * state
    assert frame(rates=False) == 2 * state
