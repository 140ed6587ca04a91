"""PINN lowering of inverse problems: unknown constants as trainables that the residuals
read, unknown coefficient fields as networks added to their guess (derivatives and the
regularization gradient against reverse-mode derivatives), data terms against the networks at
the observation points, and what `pdelang show` lists."""

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

import pdelang as pl
from compiler.pinn import CONSTANTS, PINNOptions, lower_pinn

t, x = sp.symbols("t x")
u, c = sp.Function("u"), sp.Function("c")
SMALL = PINNOptions(layers=(12, 12))


def coefficient_system(**conditions):
    """-(c u')' + u = 1 on [0, 1] with c unknown (guess 1 + x), u(0) = 0, u'(1) = 0,
    observations of u at five points."""
    xs = np.linspace(0.1, 0.9, 5)
    return pl.PDESystem([sp.Eq(-(c(x) * u(x).diff(x)).diff(x) + u(x), 1)],
                        conditions.get("conditions", [sp.Eq(u(0), 0),
                                                      sp.Eq(u(x).diff(x).subs(x, 1), 0)]),
                        {x: (0, 1)}, params={c(x): pl.Unknown(1 + x)},
                        data={"x": xs, "u": xs * (2 - xs)})


def test_unknown_constants_are_trainables_at_their_guess(examples_dir):
    with jax.enable_x64(True):
        program = lower_pinn(pl.load(f"{examples_dir}/heat_inverse.pde"), SMALL)
        nets = program.init(jax.random.PRNGKey(0), jnp.float64)
        assert float(nets[CONSTANTS]["k"]) == 0.5
        assert [t.name for t in program.terms] == ["pde", "data u"]
        points = jax.random.uniform(jax.random.PRNGKey(1), (7, 2), jnp.float64)
        pde = jax.jit(program.terms[0].residual)

        def at(k):
            return np.asarray(pde({**nets, CONSTANTS: {"k": jnp.asarray(k)}},
                                  program.physical, points))

        # u_t - k u_xx is affine in k: the residual must follow the trained value
        np.testing.assert_allclose(at(0.5), (at(0.0) + at(1.0)) / 2, rtol=1e-12, atol=1e-12)
        assert np.max(np.abs(at(0.0) - at(1.0))) > 1e-3


def test_a_data_term_is_the_network_minus_the_observations(examples_dir):
    system = pl.load(f"{examples_dir}/heat_inverse.pde")
    with jax.enable_x64(True):
        program = lower_pinn(system, SMALL)
        nets = program.init(jax.random.PRNGKey(0), jnp.float64)
        data = program.terms[1]
        assert data.kind == "data" and data.points.shape == (205, 2)
        table = system.data[0]
        np.testing.assert_array_equal(data.points, np.stack([table.column("t"),
                                                             table.column("x")], axis=1))
        got = jax.jit(data.residual)(nets, program.physical, jnp.asarray(data.points))
        predicted = jax.jit(program.evaluate)(nets, jnp.asarray(data.points))["u"]
        np.testing.assert_allclose(got, predicted - table.column("u"), rtol=0, atol=1e-14)


def test_an_unknown_coefficient_field_starts_at_its_guess_and_has_derivatives():
    with jax.enable_x64(True):
        program = lower_pinn(coefficient_system(), SMALL)
        assert [t.name for t in program.terms] == ["pde", "bc x=1", "data u",
                                                   "regularization c"]
        nets = program.init(jax.random.PRNGKey(0), jnp.float64)
        points = jnp.linspace(0.05, 0.95, 6)[:, None]
        np.testing.assert_allclose(jax.jit(program.evaluate)(nets, points)["c"], 1 + points[:, 0],
                                   rtol=0, atol=1e-15)
        # perturb the coefficient's network, then compare the PDE residual with one built
        # by reverse-mode derivatives of the networks (independent of the jvp chains)
        w, b = nets["c"]["layers"][-1]
        nets["c"]["layers"][-1] = (w + 0.3, b - 0.2)
        group = {g.key: g for g in program.groups}

        def value(name):
            return lambda z: program.evaluate(nets, z[None])[name][0]

        @jax.jit
        def reference(z):
            cx, ux = jax.grad(value("c"))(z)[0], jax.grad(value("u"))(z)[0]
            uxx = jax.hessian(value("u"))(z)[0, 0]
            return -(cx * ux + value("c")(z) * uxx) + value("u")(z) - 1, cx

        expected, cx = jax.vmap(reference)(points)
        residual = jax.jit(program.terms[0].residual)(nets, program.physical, points)
        np.testing.assert_allclose(residual, expected, rtol=1e-12, atol=1e-12)
        assert np.max(np.abs(cx - 1)) > 1e-2          # c moved off its guess 1 + x
        gradient = jax.jit(program.terms[3].residual)(nets, program.physical, points)[:, 0]
        np.testing.assert_allclose(gradient, cx, rtol=1e-12, atol=1e-12)
        assert group["c"].spec.hidden == (20, 20)


def test_a_condition_on_an_unknown_coefficient_stays_soft():
    system = coefficient_system(conditions=[pl.At(sp.Eq(u(x), c(x)), x, 0), sp.Eq(u(1), 1)])
    program = lower_pinn(system, SMALL)
    assert "bc x=0" in [t.name for t in program.terms]          # u = c at x = 0: soft
    assert any("soft" in line for line in program.stages[0][1])


def test_show_lists_the_unknowns_and_the_data_terms(examples_dir):
    system = pl.load(f"{examples_dir}/lorenz_inverse.pde")
    stages = dict(lower_pinn(system).stages)
    assert stages["unknowns"] == tuple(f"{n}: unknown constant, trained with the networks from "
                                       "its guess 1" for n in ("beta", "rho", "sigma"))
    data = [line for line in stages["residuals"] if line.startswith("data")]
    assert data == [f"data {n}: {n}(t) - observed   at 25 observation points of "
                    f"{system.data[0].path}" for n in "xyz"]
    assert system.data[0].path.endswith("lorenz.csv")
    field_stage = dict(lower_pinn(coefficient_system()).stages)["unknowns"]
    assert field_stage == ("c(x): unknown coefficient field = x + 1 + MLP 1-20-20-1, tanh "
                           "(output layer starts at zero), trained with the networks",)


def test_observed_fields_work_at_the_scale_of_their_data(examples_dir):
    system = pl.load(f"{examples_dir}/lorenz_inverse.pde")
    table = system.data[0]
    rms = {n: np.sqrt(np.mean(table.column(n) ** 2)) for n in "xyz"}
    with jax.enable_x64(True):
        scaled, plain = (lower_pinn(system, PINNOptions(layers=(8,), hard_constraints=False,
                                                        data_scaling=on)) for on in (True, False))
        assert scaled.groups[0].scale == tuple(rms[n] for n in "xyz")
        assert plain.groups[0].scale is None
        nets = plain.init(jax.random.PRNGKey(0), jnp.float64)
        points = jnp.linspace(0, 3, 5)[:, None]
        a, b = scaled.evaluate(nets, points), plain.evaluate(nets, points)
        for n in "xyz":
            np.testing.assert_allclose(a[n], rms[n] * b[n], rtol=1e-14)
    assert "outputs times the RMS of their observations: x 5.82, y 6.265, z 16.05" in \
        scaled.stages[0][1][0]


def test_the_regularization_of_a_2d_field_is_its_gradient():
    y = sp.Symbol("y")
    grid = np.stack(np.meshgrid(np.linspace(0, 1, 4), np.linspace(0, 1, 4)), -1).reshape(-1, 2)
    system = pl.PDESystem([sp.Eq(-(u(x, y).diff(x, 2) + u(x, y).diff(y, 2))
                                 + c(x, y) * u(x, y), 1)],
                          [sp.Eq(u(0, y), 0), sp.Eq(u(1, y), 0), sp.Eq(u(x, 0), 0),
                           sp.Eq(u(x, 1), 0)], {x: (0, 1), y: (0, 1)},
                          params={c(x, y): pl.Unknown(2.0)},
                          data={"x": grid[:, 0], "y": grid[:, 1], "u": np.zeros(16)})
    with jax.enable_x64(True):
        program = lower_pinn(system, SMALL)
        nets = program.init(jax.random.PRNGKey(0), jnp.float64)
        nets["c"]["layers"][-1] = tuple(a + 0.1 for a in nets["c"]["layers"][-1])
        points = jax.random.uniform(jax.random.PRNGKey(1), (5, 2), jnp.float64)
        term = program.terms[-1]
        assert term.name == "regularization c" and term.kind == "regularization"
        got = jax.jit(term.residual)(nets, program.physical, points)
        expected = jax.vmap(jax.grad(lambda z: program.evaluate(nets, z[None])["c"][0]))(points)
        assert got.shape == (5, 2)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def test_a_positive_number_guess_makes_a_positive_field():
    """guess 2: c = 2 exp(MLP), checked against the MLP applied on its own; a guess that is
    an expression (1 + x) stays additive, c = 1 + x + MLP."""
    from compiler.pinn.networks.mlp import apply_mlp, with_output_layer

    def system_with(guess):
        xs = np.linspace(0.1, 0.9, 5)
        return pl.PDESystem([sp.Eq(-(c(x) * u(x).diff(x)).diff(x) + u(x), 1)],
                            [sp.Eq(u(0), 0), sp.Eq(u(x).diff(x).subs(x, 1), 0)], {x: (0, 1)},
                            params={c(x): pl.Unknown(guess)}, data={"x": xs, "u": xs})

    with jax.enable_x64(True):
        points = jnp.linspace(0, 1, 7)[:, None]
        for guess, positive in ((2, True), (1 + x, False)):
            program = lower_pinn(system_with(guess), SMALL)
            group = next(g for g in program.groups if g.key == "c")
            assert group.positive is positive
            nets = program.init(jax.random.PRNGKey(1), jnp.float64)
            w, b = nets["c"]["layers"][-1][-2:]
            nets["c"] = with_output_layer(nets["c"], w - 3.0, b - 5.0)   # a large negative MLP
            mlp = jax.vmap(lambda z, g=group, n=nets["c"]: apply_mlp(g.spec, n, z))(points)[:, 0]
            found = program.evaluate(nets, points)["c"]
            base = 2.0 if positive else 1.0 + points[:, 0]
            expected = base * jnp.exp(mlp) if positive else base + mlp
            np.testing.assert_allclose(found, expected, rtol=1e-12)
            assert bool(jnp.all(found > 0)) is positive
            line = dict(program.stages)["unknowns"][0]
            assert ("* exp(MLP" in line) is positive
