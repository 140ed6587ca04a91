"""The differentiable fixed-step integration: accuracy, derivatives, memory."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from runtime.fd.simulate import plan_steps, trajectory
from runtime.time import tableaus


def decay(t, U, params):
    return {"u": -params["lam"] * U["u"] + jnp.cos(t)}


def exact(t, lam, u0=1.0):
    """Solution of u' = -lam u + cos t, u(0) = u0."""
    particular = (lam * np.cos(t) + np.sin(t)) / (lam**2 + 1)
    return (u0 - lam / (lam**2 + 1)) * np.exp(-lam * t) + particular


UNEVEN = np.array([0.0, 0.013, 0.2, 0.21, 0.9, 1.0])


def test_plan_lands_on_every_output_time_with_steps_no_longer_than_asked():
    plan = plan_steps(UNEVEN, 0.05)
    assert np.all(plan.dt <= 0.05 + 1e-15)
    np.testing.assert_allclose(plan.times[:-1] + plan.steps * plan.dt, UNEVEN[1:], rtol=1e-14)
    assert plan.chunks * plan.chunk_steps >= plan.steps.max()


# uneven, but every interval a whole number of 0.0125 steps: halving dt_max from 0.0125
# halves every step (with UNEVEN the steps round up per interval and do not halve: an
# interval of 0.69 takes 35 steps at dt_max 0.02 and 69 at 0.01)
COMMENSURATE = np.array([0.0, 0.0125, 0.2, 0.2125, 0.9, 1.0])


def test_uneven_output_times_match_the_exact_solution_with_fourth_order():
    errors = []
    for dt in (0.0125, 0.00625, 0.003125):
        plan = plan_steps(COMMENSURATE, dt)
        np.testing.assert_allclose(plan.dt, dt, rtol=1e-12)
        states = trajectory(decay, {"u": jnp.ones(())}, {"lam": 2.0}, plan, tableaus.RK4)
        errors.append(np.max(np.abs(np.asarray(states["u"]) - exact(COMMENSURATE, 2.0))))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert errors[-1] < 1e-10
    assert np.all(np.abs(orders - 4) < 0.2), (errors, orders)


def test_first_state_is_the_initial_one():
    states = trajectory(decay, {"u": jnp.asarray(3.0)}, {"lam": 1.0}, plan_steps(UNEVEN, 0.1),
                        tableaus.RK4)
    assert float(states["u"][0]) == 3.0


@pytest.mark.parametrize("remat", [True, False])
def test_forward_and_reverse_derivatives_agree_with_the_exact_sensitivity(remat):
    plan = plan_steps(UNEVEN, 0.005)

    def final(lam):
        return trajectory(decay, {"u": jnp.ones(())}, {"lam": lam}, plan, tableaus.RK4,
                          remat=remat)["u"][-1]

    h = 1e-6
    sensitivity = (exact(1.0, 2.0 + h) - exact(1.0, 2.0 - h)) / (2 * h)
    assert abs(float(jax.grad(final)(2.0)) - sensitivity) < 1e-8
    assert abs(float(jax.jacfwd(final)(2.0)) - sensitivity) < 1e-8


def _heat_gradient_memory(steps: int, remat: bool, n: int = 256) -> tuple[int, float]:
    def rhs(t, U, params):
        u = U["u"]
        return {"u": params["k"] * jnp.zeros_like(u).at[1:-1].set(
            (u[2:] - 2 * u[1:-1] + u[:-2]) * (n - 1) ** 2)}

    U0 = {"u": jnp.sin(np.pi * np.linspace(0.0, 1.0, n))}
    plan = plan_steps(np.array([0.0, 0.05]), 0.05 / steps)

    def loss(k):
        return jnp.sum(trajectory(rhs, U0, {"k": k}, plan, tableaus.RK4, remat=remat)["u"][-1] ** 2)

    compiled = jax.jit(jax.grad(loss)).lower(0.1).compile()
    return compiled.memory_analysis().temp_size_in_bytes, float(compiled(0.1))


def test_memory_through_ten_thousand_steps_stays_far_below_storing_every_step():
    state_bytes = 256 * 8
    every_step = 10_000 * state_bytes                      # 20.5 MB: one state per step
    with_remat, gradient = _heat_gradient_memory(10_000, remat=True)
    without, reference = _heat_gradient_memory(10_000, remat=False)
    assert without >= every_step                           # the measure sees the tape
    assert with_remat < every_step / 10                    # measured: 1.05 MB vs 82.8 MB
    assert gradient == pytest.approx(reference, rel=1e-12)
