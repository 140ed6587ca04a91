"""Universal differential equation: Lotka-Volterra with both interactions learned (issue 19).

    u' = 1.3 u - B(u, v),  v' = C(u, v) - 1.8 v,  (u, v)(0) = (0.44249, 4.6280)
    truth: B = 0.9 u v, C = 0.8 u v; data on t in [0, 3] every 0.1, 5% noise proportional
    to the value (examples/lotka_volterra_ude.pde, Rackauckas et al. 2020's case)

For each method (fd: through the integrator, `--misfit relative --hold-out 0.2`; odil:
the space-time
grid; pinn: with the field networks, 60 s), the wall time of `runtime.solve` (compilation
included) and of `Solution.discover()`, the data misfit, the coefficients of u v found
(by the net regression alone, and with the terms chosen and refitted by the data), the
largest other coefficient, and the relative L2 error on t in [0, 6] of the net model and
of the found equations, against SciPy at 1e-12.

Beside them, the tool a Python user would write this with instead: diffrax (Kidger's JAX
ODE library; DiffEqFlux's Python counterpart), the same two nets (zero output layer),
fixed-step RK4 at the same step, the same relative misfit, Adam (500 steps at 1e-3) then
SciPy's L-BFGS-B (300 iterations) on a jitted value-and-gradient: its training time is
what pdelang's fd fit is measured against (skipped when diffrax is not installed).

Memory: XLA's temp bytes of the compiled loss gradient of the fd fit, for 10^3 to 1.6 x
10^4 RK4 steps, and dopri5 with as many step attempts planned (`--integrator dopri5`),
checkpointed (`--adjoint checkpoint`) and storing every step (`full`).

Run: python benchmarks/ude_lotka_volterra.py [--methods fd,odil,pinn] [--no-memory]
         [--figure docs/images/ude_lotka_volterra.png]
Prints a table and one JSON line; --figure draws, for fd, the data, the trained model
and the discovered equations to t = 6 against the truth.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

import pdelang as pl
import runtime

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "lotka_volterra_ude.pde"
ALPHA, BETA, GAMMA, DELTA = 1.3, 0.9, 0.8, 1.8
U0 = (0.44249, 4.6280)
OPTIONS = {"fd": {"misfit": "relative", "hold_out": 0.2, "frames": 121},
           "odil": {"grid": {"t": 241}},
           "pinn": {"budget": 60, "optimizer": "lbfgs"}}


def truth(times: np.ndarray) -> np.ndarray:
    return solve_ivp(lambda t, y: [ALPHA * y[0] - BETA * y[0] * y[1],
                                   GAMMA * y[0] * y[1] - DELTA * y[1]],
                     (0, times[-1]), U0, t_eval=times, rtol=1e-12, atol=1e-12).y


def l2(solution, times: np.ndarray) -> float:
    model = np.stack([solution("u", t=times), solution("v", t=times)])
    exact = truth(times)
    return float(np.linalg.norm(model - exact) / np.linalg.norm(exact))


def coefficients(found) -> tuple[list[float], float]:
    """The u v coefficient of each net, and the largest other coefficient."""
    uv, other = [], 0.0
    for d in found:
        terms = {str(t): c for t, c in d.terms}
        uv.append(terms.pop("u(t)*v(t)", float("nan")))
        other = max([other, *map(abs, terms.values())])
    return uv, other


def draw(solution, ahead, path: Path) -> None:
    """Data (t <= 3), the trained nets' model, the found equations and the truth to t = 6."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (table,) = solution.system.data
    times = np.linspace(0, 6, 241)
    exact = truth(times)
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharex=True)
    for k, (name, ax) in enumerate(zip(("u", "v"), axes)):
        ax.plot(times, exact[k], "k--", lw=1.2, label="truth")
        trained = solution(name, t=times[times <= 4.5])
        ax.plot(times[times <= 4.5], trained, color="tab:orange", label="nets (trained on t <= 3)")
        ax.plot(times, ahead(name, t=times), color="tab:blue", label="discovered equations")
        ax.plot(table.column("t"), table.column(name), "o", ms=3, color="tab:red",
                label="data (5% noise)")
        ax.axvline(3.0, color="grey", lw=0.8)
        ax.set_xlabel("t")
        ax.set_title(name)
        ax.set_ylim(0, 1.3 * exact[k].max())
    axes[0].legend(fontsize=7, loc="upper left")
    figure.suptitle("Lotka-Volterra UDE: both interactions learned, then discovered")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    plt.close(figure)


def run(method: str, figure: Path | None = None) -> dict:
    system = pl.load(EXAMPLE)
    start = time.perf_counter()
    solution = runtime.solve(system, method, **OPTIONS[method])
    trained = time.perf_counter() - start
    start = time.perf_counter()
    found, replaced = solution.discover(misfit="relative")    # the data's noise is relative
    discovered = time.perf_counter() - start
    net_only, _ = solution.discover(refit=False)
    times = np.linspace(0, 6, 121)
    ahead = runtime.solve(replaced, "fd", frames=121)
    if figure is not None:
        draw(solution, ahead, figure)
    misfit = solution.meta.get("fit", {}).get("relative_misfit") or \
        solution.meta.get("relative_misfit") or {}
    uv, other = coefficients(found)
    uv_net, other_net = coefficients(net_only)
    return {"method": method, "train_s": trained, "discover_s": discovered,
            "misfit": {k: float(v) for k, v in misfit.items()},
            "net_model_l2_0_6": l2(solution, times), "found_model_l2_0_6": l2(ahead, times),
            "beta": uv[0], "gamma": uv[1], "largest_other": other,
            "beta_net_regression": uv_net[0], "gamma_net_regression": uv_net[1],
            "largest_other_net_regression": other_net, "options": OPTIONS[method]}


def diffrax_baseline(dt: float = 0.006) -> dict | None:
    """The same training written by hand with diffrax, timed like `runtime.solve`."""
    try:
        import diffrax
    except ImportError:
        return None
    import jax
    import jax.numpy as jnp
    import scipy.optimize

    from compiler.common.nets import apply_net, init_nets
    from runtime.algebra.adam import adam

    with jax.enable_x64(True):
        start = time.perf_counter()
        system = pl.load(EXAMPLE)
        (table,) = system.data
        t_data = np.asarray(table.column("t"))
        y_data = np.stack([table.column("u"), table.column("v")])
        weights = np.maximum(np.abs(y_data), 1e-2 * np.sqrt(np.mean(y_data**2, axis=1,
                                                                  keepdims=True)))
        weights = 1.0 / (weights * np.sqrt(y_data.shape[1]))
        b_net, c_net = system.net("B"), system.net("C")
        first = init_nets(system.nets)
        sizes = [first["net.B"].size, first["net.C"].size]
        theta0 = np.concatenate([first["net.B"], first["net.C"]])

        def field(t, y, theta):
            b = apply_net(b_net, theta[:sizes[0]], [y[0], y[1]])[0]
            c = apply_net(c_net, theta[sizes[0]:], [y[0], y[1]])[0]
            return jnp.stack([ALPHA * y[0] - b, c - DELTA * y[1]])

        class RK4(diffrax.AbstractERK):       # diffrax has no classic RK4: its tableau
            tableau = diffrax.ButcherTableau(
                c=np.array([0.5, 0.5, 1.0]), b_sol=np.array([1, 2, 2, 1]) / 6,
                b_error=np.zeros(4),
                a_lower=(np.array([0.5]), np.array([0.0, 0.5]), np.array([0.0, 0.0, 1.0])))
            interpolation_cls = diffrax.ThirdOrderHermitePolynomialInterpolation.from_k

            def order(self, terms):
                return 4

        def residuals(theta):
            solved = diffrax.diffeqsolve(
                diffrax.ODETerm(field), RK4(), 0.0, 3.0, dt, jnp.asarray(U0), theta,
                saveat=diffrax.SaveAt(ts=jnp.asarray(t_data)), max_steps=4096,
                adjoint=diffrax.RecursiveCheckpointAdjoint())
            return ((solved.ys.T - y_data) * weights).ravel()

        theta = adam(residuals, theta0, 500, 1e-3)
        value_and_grad = jax.jit(jax.value_and_grad(lambda th: jnp.sum(residuals(th) ** 2)))

        def evaluate(th):
            v, g = value_and_grad(jnp.asarray(th))
            return float(v), np.asarray(g, np.float64)

        result = scipy.optimize.minimize(evaluate, theta, jac=True, method="L-BFGS-B",
                                         options={"maxiter": 300, "ftol": 1e-12, "gtol": 0})
        seconds = time.perf_counter() - start      # Adam is optax's (runtime.algebra.adam)
        misfit = np.sqrt(result.fun)
    return {"method": "diffrax (hand-written)", "train_s": seconds,
            "loss": float(result.fun), "misfit_rms_both": float(misfit),
            "iterations": int(result.nit)}


def memory(steps_list=(1000, 4000, 16000)) -> list[dict]:
    """XLA temp bytes of the fd fit's loss gradient, checkpointed and full; RK4 with
    `steps` steps, and dopri5 with as many attempts planned."""
    import jax
    import jax.numpy as jnp

    from compiler.common.observations import field_observations
    from compiler.fd import FDOptions, lower_fd
    from runtime.fd.fit_model import FitModel
    from runtime.fd.simulate import AdaptiveSteps, FixedSteps, plan_attempts
    from runtime.time.base import Options
    from runtime.time.integrators import get_integrator

    rows = []
    with jax.enable_x64(True):
        system = pl.load(EXAMPLE)
        program = lower_fd(system, FDOptions(dtype="float64"))
        tableau = get_integrator("rk4").tableau
        for adjoint in ("checkpoint", "full"):
            model = FitModel(program, field_observations(system), 0.0, "relative", adjoint)
            theta = jnp.asarray(model.unknowns.theta0)
            for steps in steps_list:
                dt = 3.0 / steps

                def loss(th, dt=dt, model=model):
                    return jnp.sum(model.residuals(th, FixedSteps(dt, tableau)) ** 2)

                compiled = jax.jit(jax.grad(loss)).lower(theta).compile()
                rows.append({"adjoint": adjoint, "integrator": "rk4", "steps": steps,
                             "temp_bytes": int(compiled.memory_analysis().temp_size_in_bytes)})
            for steps in steps_list:
                plan = AdaptiveSteps(plan_attempts(model.times,
                                                   steps // (len(model.times) - 1)),
                                     Options(rtol=1e-6, atol=1e-9))

                def loss(th, plan=plan, model=model):
                    return jnp.sum(model.residuals(th, plan) ** 2)

                compiled = jax.jit(jax.grad(loss)).lower(theta).compile()
                rows.append({"adjoint": adjoint, "integrator": "dopri5", "steps": steps,
                             "temp_bytes": int(compiled.memory_analysis().temp_size_in_bytes)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="fd,odil,pinn")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--figure", type=Path, help="draw fd's run here (.png)")
    args = parser.parse_args()
    rows = [run(m, args.figure if m == "fd" else None) for m in args.methods.split(",")]
    baseline = diffrax_baseline() if "fd" in args.methods else None
    print("Lotka-Volterra UDE, 5% noise on t in [0, 3]; truth beta 0.9, gamma 0.8")
    print(f"{'method':<8}{'train s':>9}{'disc. s':>9}{'beta':>9}{'gamma':>9}{'other':>9}"
          f"{'net regr. b, g':>18}{'net L2 0-6':>12}{'found L2 0-6':>14}")
    for r in rows:
        print(f"{r['method']:<8}{r['train_s']:>9.1f}{r['discover_s']:>9.1f}{r['beta']:>9.4f}"
              f"{r['gamma']:>9.4f}{r['largest_other']:>9.1e}"
              f"{r['beta_net_regression']:>9.3f}{r['gamma_net_regression']:>9.3f}"
              f"{r['net_model_l2_0_6']:>12.3g}{r['found_model_l2_0_6']:>14.3g}")
    if baseline:
        print(f"diffrax, hand-written, same nets, steps and optimisers: train "
              f"{baseline['train_s']:.1f} s (loss {baseline['loss']:.3g})")
    memory_rows = [] if args.no_memory else memory()
    if memory_rows:
        print(f"{'adjoint':<12}{'stepping':>10}{'steps':>8}{'XLA temp MB':>13}")
        for m in memory_rows:
            print(f"{m['adjoint']:<12}{m['integrator']:>10}{m['steps']:>8}"
                  f"{m['temp_bytes'] / 1e6:>13.3f}")
    print(json.dumps({"benchmark": "ude_lotka_volterra", "rows": rows, "diffrax": baseline,
                      "memory": memory_rows}))


if __name__ == "__main__":
    main()
