"""The SymPy front end: `pl.PDESystem(...)` gives the same IR as the `.pde` text."""

import runpy

import numpy as np
import pytest
import sympy as sp

import pdelang as pl

from .helpers import EXAMPLES, expect_api_error, parse, steady_arguments, t, u, v, x, y

pi, sin, cos, exp = sp.pi, sp.sin, sp.cos, sp.exp


def laplace(f):
    return f.diff(x, 2) + f.diff(y, 2)


# -- every example, written with SymPy ----------------------------------------------------


def advection1d():
    a = sp.Symbol("a")
    return pl.PDESystem(
        equations=[sp.Eq(u(t, x).diff(t) + a * u(t, x).diff(x), 0)],
        conditions=[pl.Periodic(x), sp.Eq(u(0, x), sin(2 * pi * x))],
        domain={x: (0, 1), t: (0, 1)},
        params={a: 1},
        exact={u: sin(2 * pi * (x - a * t))},
        name="advection 1d",
    )


def advection_fast():
    beta = sp.Symbol("beta")
    return pl.PDESystem(
        equations=[sp.Eq(u(t, x).diff(t) + beta * u(t, x).diff(x), 0)],
        conditions=[pl.Periodic(x), sp.Eq(u(0, x), sin(x))],
        domain={x: (0, 2 * pi), t: (0, 1)},
        params={beta: 50},
        exact={u: sin(x - beta * t)},
        name="advection fast",
    )


def burgers_shock():
    nu = sp.Symbol("nu")
    return pl.PDESystem(
        equations=[sp.Eq(u(t, x).diff(t) + u(t, x) * u(t, x).diff(x), nu * u(t, x).diff(x, 2))],
        conditions=[sp.Eq(u(t, -1), 0), sp.Eq(u(t, 1), 0), sp.Eq(u(0, x), -sin(pi * x))],
        domain={x: (-1, 1), t: (0, 0.99)},
        params={nu: sp.Float(0.01) / pi},
        name="burgers shock",
    )


def burgers1d():
    nu, A = sp.symbols("nu A")
    phi = A + exp(-pi**2 * nu * t) * cos(pi * x)
    return pl.PDESystem(
        equations=[sp.Eq(u(t, x).diff(t) + u(t, x) * u(t, x).diff(x), nu * u(t, x).diff(x, 2))],
        conditions=[sp.Eq(u(t, 0), 0), sp.Eq(u(t, 1), 0),
                    sp.Eq(u(0, x), 2 * nu * pi * sin(pi * x) / (A + cos(pi * x)))],
        domain={x: (0, 1), t: (0, 1)},
        params={nu: 0.05, A: 2},
        exact={u: 2 * nu * pi * exp(-pi**2 * nu * t) * sin(pi * x) / phi},
        name="burgers 1d",
    )


def heat1d():
    alpha = sp.Symbol("alpha")
    return pl.PDESystem(
        equations=[sp.Eq(sp.Derivative(u(t, x), t), alpha * u(t, x).diff(x, 2))],
        conditions=[pl.At(sp.Eq(u(t, x).diff(x), 0), x, 0),              # At(...)
                    sp.Eq(u(t, x).diff(x).subs(x, 1), 0),                  # .subs: a Subs
                    sp.Eq(u(0, x), cos(pi * x))],
        domain={x: (0, 1), t: (0, 0.5)},
        params={alpha: 0.1},
        exact={u(t, x): cos(pi * x) * exp(-alpha * pi**2 * t)},
        name="heat 1d",
    )


def poisson2d():
    return pl.PDESystem(
        equations=[sp.Eq(u(x, y).diff(x, 2) + u(x, y).diff(y, 2), -sin(pi * x) * sin(pi * y))],
        conditions=[sp.Eq(u(0, y), 0), sp.Eq(u(1, y), 0), sp.Eq(u(x, 0), 0), sp.Eq(u(x, 1), 0)],
        domain={x: (0, 1), y: (0, 1)},
        exact={u: sin(pi * x) * sin(pi * y) / (2 * pi**2)},
        name="poisson 2d",
    )


def poisson3d():
    z = sp.Symbol("z")
    w = sp.Function("u")(x, y, z)
    return pl.PDESystem(
        equations=[sp.Eq(w.diff(x, 2) + w.diff(y, 2) + w.diff(z, 2),
                         -3 * pi**2 * sin(pi * x) * sin(pi * y) * sin(pi * z))],
        conditions=[pl.At(sp.Eq(w, 0), x, 0), pl.At(sp.Eq(w, y * z), x, 1),
                    pl.At(sp.Eq(w, 0), y, 0), pl.At(sp.Eq(w, x * z), y, 1),
                    pl.At(sp.Eq(w, 0), z, 0), pl.At(sp.Eq(w, x * y), z, 1)],
        domain={x: (0, 1), y: (0, 1), z: (0, 1)},
        exact={w: sin(pi * x) * sin(pi * y) * sin(pi * z) + x * y * z},
        name="poisson 3d",
    )


def reaction_diffusion2d():
    D, k = sp.symbols("D k")
    U, V = u(t, x, y), v(t, x, y)
    faces = [(x, 0), (x, 1), (y, 0), (y, 1)]
    s = sin(pi * x) * sin(pi * y)
    return pl.PDESystem(
        equations=[sp.Eq(U.diff(t), D * laplace(U) - k * U + k * V),
                   sp.Eq(V.diff(t), D * laplace(V) + k * U - k * V)],
        conditions=[pl.At(sp.Eq(U, 0), c, value) for c, value in faces]
        + [pl.At(sp.Eq(V, 0), c, value) for c, value in faces]
        + [pl.At(sp.Eq(U, s), t, 0), pl.At(sp.Eq(V, 0), t, 0)],
        domain={x: (0, 1), y: (0, 1), t: (0, 0.5)},
        params={D: 0.1, k: 1},
        exact={u: exp(-2 * D * pi**2 * t) * (1 + exp(-2 * k * t)) / 2 * s,
               v: exp(-2 * D * pi**2 * t) * (1 - exp(-2 * k * t)) / 2 * s},
        name="reaction-diffusion 2d",
    )


def wave1d():
    c = sp.Symbol("c")
    Dt, Dx = pl.Differential(t), pl.Differential(x)
    return pl.PDESystem(
        equations=[sp.Eq((Dt**2)(u(t, x)), c**2 * (Dx * Dx)(u(t, x)))],
        conditions=[sp.Eq(u(t, 0), 0), sp.Eq(u(t, 1), 0), sp.Eq(u(0, x), sin(pi * x)),
                    sp.Eq(Dt(u(t, x)).subs(t, 0), 0)],
        domain={x: (0, 1), t: (0, 1)},
        params={c: 1},
        exact={u: sin(pi * x) * cos(c * pi * t)},
        name="wave 1d",
    )


def wave2d_acoustic():
    f0, t0, sigma = sp.symbols("f0 t0 sigma")
    p, cc = sp.Function("p"), sp.Function("c")
    P = p(t, x, y)
    # written in the text's order: SymPy distributes 1e6 over the bracket right after it
    source = (1e6 * (1 - 2 * (pi * f0 * (t - t0))**2) * exp(-(pi * f0 * (t - t0))**2)
              * exp(-((x - 500)**2 + (y - 500)**2) / (2 * sigma**2)))
    return pl.PDESystem(
        equations=[sp.Eq(P.diff(t, 2), cc(x, y)**2 * laplace(P) + source)],
        conditions=[sp.Eq(p(t, 0, y), 0), sp.Eq(p(t, 1000, y), 0), sp.Eq(p(t, x, 0), 0),
                    sp.Eq(p(t, x, 1000), 0), sp.Eq(p(0, x, y), 0),
                    pl.At(sp.Eq(P.diff(t), 0), t, 0)],
        domain={x: (0, 1000), y: (0, 1000), t: (0, 0.3)},
        params={f0: 20, t0: 1.2 / 20, sigma: 10, cc(x, y): pl.Sampled("data/velocity.npy")},
        name="acoustic wave 2d",
        base=EXAMPLES,
    )


def allen_cahn1d():
    eps = sp.Symbol("eps")
    U = u(t, x)
    return pl.PDESystem(
        equations=[sp.Eq(U.diff(t), eps**2 * U.diff(x, 2) + U - U**3)],
        conditions=[sp.Eq(u(t, -1), sp.tanh(-1 / (sp.sqrt(2) * eps))),
                    sp.Eq(u(t, 1), sp.tanh(1 / (sp.sqrt(2) * eps))),
                    sp.Eq(u(0, x), sp.tanh(x / (sp.sqrt(2) * eps)))],
        domain={x: (-1, 1), t: (0, 2)},
        params={eps: 0.05},
        exact={u: sp.tanh(x / (sp.sqrt(2) * eps))},
        name="allen-cahn 1d",
    )


def allen_cahn_periodic():
    eps2, k = sp.symbols("eps2 k")
    U = u(t, x)
    return pl.PDESystem(
        equations=[sp.Eq(U.diff(t), eps2 * U.diff(x, 2) + k * (U - U**3))],
        conditions=[pl.Periodic(x), sp.Eq(u(0, x), x**2 * cos(pi * x))],
        domain={x: (-1, 1), t: (0, 1)},
        params={eps2: 1e-4, k: 5},
        name="allen-cahn periodic",
    )


def brusselator2d():
    A, B, alpha = sp.symbols("A B alpha")
    U, V = u(t, x, y), v(t, x, y)
    inside = (x - 0.3) ** 2 + (y - 0.6) ** 2 <= 0.01
    forcing = sp.Piecewise((sp.Piecewise((5, inside), (0, True)), t >= 1.1), (0, True))
    return pl.PDESystem(
        equations=[sp.Eq(U.diff(t), B + U**2 * V - (A + 1) * U + alpha * laplace(U) + forcing),
                   sp.Eq(V.diff(t), A * U - U**2 * V + alpha * laplace(V))],
        conditions=[pl.Periodic(x), pl.Periodic(y),
                    sp.Eq(u(0, x, y), 22 * y * (1 - y) ** 1.5),
                    sp.Eq(v(0, x, y), 27 * x * (1 - x) ** 1.5)],
        domain={x: (0, 1), y: (0, 1), t: (0, 11.5)},
        params={A: 3.4, B: 1, alpha: 10},
        name="brusselator 2d",
    )


def gray_scott2d():
    Du, Dv, F, k = sp.symbols("Du Dv F k")
    U, V = u(t, x, y), v(t, x, y)

    def square(inside, outside):       # where(|x-0.5| < 0.1, where(|y-0.5| < 0.1, in, out), out)
        return sp.Piecewise((sp.Piecewise((inside, abs(y - 0.5) < 0.1), (outside, True)),
                             abs(x - 0.5) < 0.1), (outside, True))

    return pl.PDESystem(
        equations=[sp.Eq(U.diff(t), Du * laplace(U) - U * V**2 + F * (1 - U)),
                   sp.Eq(V.diff(t), Dv * laplace(V) + U * V**2 - (F + k) * V)],
        conditions=[pl.Periodic(x), pl.Periodic(y),
                    sp.Eq(u(0, x, y), square(0.5, 1)),
                    sp.Eq(v(0, x, y), square(0.25 + 0.01 * sin(40 * x), 0))],
        domain={x: (0, 1), y: (0, 1), t: (0, 2000)},
        params={Du: 2e-5, Dv: 1e-5, F: 0.04, k: 0.06},
        name="gray-scott 2d",
    )


def heat1d_dirichlet():
    alpha = sp.Symbol("alpha")
    return pl.PDESystem(
        equations=[sp.Eq(u(t, x).diff(t), alpha * u(t, x).diff(x, 2))],
        conditions=[sp.Eq(u(t, 0), 0), sp.Eq(u(t, 1), exp(-alpha * t) * sin(1)),
                    sp.Eq(u(0, x), sin(pi * x) + sin(x))],
        domain={x: (0, 1), t: (0, 1)},
        params={alpha: 0.5},
        exact={u: exp(-alpha * pi**2 * t) * sin(pi * x) + exp(-alpha * t) * sin(x)},
        name="heat 1d dirichlet",
    )


def heat2d_periodic():
    alpha = sp.Symbol("alpha")
    U = u(t, x, y)
    return pl.PDESystem(
        equations=[sp.Eq(U.diff(t), alpha * laplace(U))],
        conditions=[pl.Periodic(x), pl.Periodic(y),
                    sp.Eq(u(0, x, y), sin(2 * pi * x) * cos(4 * pi * y))],
        domain={x: (0, 1), y: (0, 1), t: (0, 1)},
        params={alpha: 0.01},
        exact={u: exp(-20 * alpha * pi**2 * t) * sin(2 * pi * x) * cos(4 * pi * y)},
        name="heat 2d periodic",
    )


def helmholtz2d():
    k = sp.Symbol("k")
    U = u(x, y)
    return pl.PDESystem(
        equations=[sp.Eq(-laplace(U) - k**2 * U,
                         (5 * pi**2 - k**2) * sin(2 * pi * x) * sin(pi * y) - k**2 * x * y)],
        conditions=[sp.Eq(u(0, y), 0), sp.Eq(u(1, y), y), sp.Eq(u(x, 0), 0), sp.Eq(u(x, 1), x)],
        domain={x: (0, 1), y: (0, 1)},
        params={k: 5},
        exact={u: sin(2 * pi * x) * sin(pi * y) + x * y},
        name="helmholtz 2d",
    )


def kuramoto_sivashinsky1d():
    U = u(t, x)
    return pl.PDESystem(
        equations=[sp.Eq(U.diff(t) + U * U.diff(x) + U.diff(x, 2) + U.diff(x, 4), 0)],
        conditions=[pl.Periodic(x), sp.Eq(u(0, x), cos(x / 16) * (1 + sin(x / 16)))],
        domain={x: (0, 32 * pi), t: (0, 40)},
        name="kuramoto-sivashinsky 1d",
    )


def lotka_volterra():
    alpha, beta, delta, gamma = sp.symbols("alpha beta delta gamma")
    prey, pred = sp.Function("prey"), sp.Function("pred")
    X, Y = prey(t), pred(t)
    return pl.PDESystem(
        equations=[sp.Eq(X.diff(t), alpha * X - beta * X * Y),
                   sp.Eq(Y.diff(t), delta * X * Y - gamma * Y)],
        conditions=[sp.Eq(prey(0), 10), sp.Eq(pred(0), 10)],
        domain={t: (0, 30)},
        params={alpha: 1.1, beta: 0.4, delta: 0.1, gamma: 0.4},
        name="lotka-volterra",
    )


def robertson():
    k1, k2, k3 = sp.symbols("k1 k2 k3")
    a, b, c = sp.Function("a"), sp.Function("b"), sp.Function("c")
    A, B, C = a(t), b(t), c(t)
    return pl.PDESystem(
        equations=[sp.Eq(A.diff(t), -k1 * A + k3 * B * C),
                   sp.Eq(B.diff(t), k1 * A - k3 * B * C - k2 * B**2),
                   sp.Eq(C.diff(t), k2 * B**2)],
        conditions=[sp.Eq(a(0), 1), sp.Eq(b(0), 0), sp.Eq(c(0), 0)],
        domain={t: (0, 1e5)},
        params={k1: 0.04, k2: 3e7, k3: 1e4},
        name="robertson kinetics",
    )


def taylor_green_dae():
    nu = sp.Symbol("nu")
    w, psi = sp.Function("w"), sp.Function("psi")
    W, P = w(t, x, y), psi(t, x, y)
    return pl.PDESystem(
        equations=[sp.Eq(W.diff(t) + P.diff(y) * W.diff(x) - P.diff(x) * W.diff(y),
                         nu * laplace(W)),
                   sp.Eq(laplace(P), -W)],
        conditions=[pl.Periodic(x), pl.Periodic(y), sp.Eq(pl.Mean(P), 0),
                    sp.Eq(w(0, x, y), 2 * sin(x) * sin(y))],
        domain={x: (0, 2 * pi), y: (0, 2 * pi), t: (0, 1)},
        unknowns=[W, P],
        params={nu: 0.1},
        exact={w: 2 * sin(x) * sin(y) * exp(-2 * nu * t),
               psi: sin(x) * sin(y) * exp(-2 * nu * t)},
        name="taylor-green vortex as a DAE",
    )


def schrodinger1d():
    k, V = sp.symbols("k V")
    a, b = sp.Function("a"), sp.Function("b")
    A, B = a(t, x), b(t, x)
    return pl.PDESystem(
        equations=[sp.Eq(A.diff(t), -B.diff(x, 2) / 2 + V * B),
                   sp.Eq(B.diff(t), A.diff(x, 2) / 2 - V * A)],
        conditions=[pl.Periodic(x), sp.Eq(a(0, x), cos(k * x)), sp.Eq(b(0, x), sin(k * x))],
        domain={x: (0, 2 * pi), t: (0, 2)},
        params={k: 2, V: 0},
        exact={a: cos(k * x - k**2 * t / 2), b: sin(k * x - k**2 * t / 2)},
        name="schrodinger 1d",
    )


def lorenz_inverse():
    sigma, rho, beta = sp.symbols("sigma rho beta")
    fx, fy, fz = sp.Function("x"), sp.Function("y"), sp.Function("z")
    X, Y, Z = fx(t), fy(t), fz(t)
    return pl.PDESystem(
        equations=[sp.Eq(X.diff(t), sigma * (Y - X)), sp.Eq(Y.diff(t), X * (rho - Z) - Y),
                   sp.Eq(Z.diff(t), X * Y - beta * Z)],
        conditions=[sp.Eq(fx(0), -8), sp.Eq(fy(0), 7), sp.Eq(fz(0), 27)],
        domain={t: (0, 3)},
        params={sigma: pl.Unknown(1), rho: pl.Unknown(1), beta: pl.Unknown(1)},
        data="data/lorenz.csv",
        name="Lorenz parameters from a trajectory",
        base=EXAMPLES,
    )


def heat_inverse():
    k = sp.Symbol("k")
    U = u(t, x)
    return pl.PDESystem(
        equations=[sp.Eq(U.diff(t), k * U.diff(x, 2))],
        conditions=[sp.Eq(u(t, 0), 0), sp.Eq(u(t, 1), 0),
                    sp.Eq(u(0, x), sin(pi * x) + 0.5 * sin(3 * pi * x))],
        domain={x: (0, 1), t: (0, 0.5)},
        params={k: pl.Unknown(0.5)},
        data="data/heat_snapshots.csv",
        exact={u: sin(pi * x) * exp(-k * pi**2 * t)
               + 0.5 * sin(3 * pi * x) * exp(-9 * k * pi**2 * t)},
        name="heat coefficient from noisy snapshots",
        base=EXAMPLES,
    )


def wave2d_velocity_inverse():
    cc = sp.Function("c")
    U = u(t, x, y)
    return pl.PDESystem(
        equations=[sp.Eq(U.diff(t, 2), cc(x, y)**2 * laplace(U))],
        conditions=[sp.Eq(u(t, 0, y), 0), sp.Eq(u(t, 1, y), 0), sp.Eq(u(t, x, 0), 0),
                    sp.Eq(u(t, x, 1), 0),
                    sp.Eq(u(0, x, y), exp(-((x - 0.5)**2 + (y - 0.5)**2) / 0.01)),
                    pl.At(sp.Eq(U.diff(t), 0), t, 0)],
        domain={x: (0, 1), y: (0, 1), t: (0, 0.6)},
        params={cc(x, y): pl.Unknown(1)},
        data="data/wave_records.csv",
        name="wave speed from recorded wavefields",
        base=EXAMPLES,
    )


def clamped_plate():
    U = u(x, y)
    f = 4 * pi**4 * (4 * cos(2 * pi * x) * cos(2 * pi * y) - cos(2 * pi * x) - cos(2 * pi * y))
    faces = [(x, 0), (x, 1), (y, 0), (y, 1)]
    return pl.PDESystem(
        equations=[sp.Eq(laplace(laplace(U)), f)],
        conditions=[c for axis, value in faces
                    for c in (pl.At(sp.Eq(U, 0), axis, value),
                              pl.At(sp.Eq(U.diff(axis), 0), axis, value))],
        domain={x: (0, 1), y: (0, 1)},
        exact={u: sin(pi * x)**2 * sin(pi * y)**2},
        name="clamped plate",
    )


def lid_driven_cavity():
    Re = sp.Symbol("Re")
    psi, w = sp.Function("psi")(x, y), sp.Function("w")(x, y)
    lid = {(y, 1): 1}
    faces = [(x, 0), (x, 1), (y, 0), (y, 1)]
    return pl.PDESystem(
        equations=[sp.Eq(w, -laplace(psi)),
                   sp.Eq(psi.diff(y) * w.diff(x) - psi.diff(x) * w.diff(y), laplace(w) / Re)],
        conditions=[c for axis, value in faces
                    for c in (pl.At(sp.Eq(psi, 0), axis, value),
                              pl.At(sp.Eq(psi.diff(axis), lid.get((axis, value), 0)), axis,
                                    value))],
        domain={x: (0, 1), y: (0, 1)},
        unknowns=[psi, w],
        params={Re: 100},
        name="lid-driven cavity",
    )


def layered_medium():
    k = sp.Function("k")
    return pl.PDESystem(
        # an unevaluated Derivative of an expression is a flux, as d(k*d(u, x), x) is
        equations=[sp.Eq(sp.Derivative(k(x) * u(x).diff(x), x), 0)],
        conditions=[sp.Eq(u(0), 0), sp.Eq(u(1), 1)],
        domain={x: (0, 1)},
        params={k(x): sp.Piecewise((1, x < 0.5), (10, True))},
        exact={u: sp.Piecewise((20 * x / 11, x < 0.5), ((2 * x + 9) / 11, True))},
        name="layered medium",
    )


def sod_shock_tube():
    gamma = sp.Symbol("gamma")
    rho, m, e = (sp.Function(n)(t, x) for n in ("rho", "m", "E"))
    p = (gamma - 1) * (e - m**2 / (2 * rho))
    left = lambda a, b: sp.Piecewise((a, x < 0.5), (b, True))      # noqa: E731
    return pl.PDESystem(
        equations=[sp.Eq(rho.diff(t) + m.diff(x), 0),
                   sp.Eq(m.diff(t) + sp.Derivative(m**2 / rho + p, x), 0),
                   sp.Eq(e.diff(t) + sp.Derivative((e + p) * m / rho, x), 0)],
        conditions=[sp.Eq(rho.subs(t, 0), left(1, 0.125)), sp.Eq(m.subs(t, 0), 0),
                    sp.Eq(e.subs(t, 0), left(1, 0.1) / (gamma - 1)),
                    *(pl.At(sp.Eq(f.diff(x), 0), x, end) for f in (rho, m, e)
                      for end in (0, 1))],
        unknowns=[rho, m, e],
        domain={x: (0, 1), t: (0, 0.2)},
        params={gamma: 1.4},
        name="sod shock tube",
    )


SYMPY_FORMS = {f.__name__: f for f in (
    advection1d, advection_fast, allen_cahn1d, allen_cahn_periodic, brusselator2d, burgers1d,
    burgers_shock,
    clamped_plate, gray_scott2d, heat1d, heat1d_dirichlet, heat2d_periodic, helmholtz2d,
    heat_inverse, kuramoto_sivashinsky1d, layered_medium,
    lid_driven_cavity, lorenz_inverse, lotka_volterra, poisson2d, poisson3d, robertson,
    sod_shock_tube, taylor_green_dae,
    reaction_diffusion2d, schrodinger1d, wave1d, wave2d_acoustic, wave2d_velocity_inverse)}


def poisson_disk():
    return pl.PDESystem(
        equations=[sp.Eq(-(u(x, y).diff(x, 2) + u(x, y).diff(y, 2)), 1)],
        conditions=[pl.OnBoundary(sp.Eq(u(x, y), 0))],
        domain={x: (-1, 1), y: (-1, 1)}, region=pl.disk(0, 0, 1),
        exact={u: (1 - x**2 - y**2) / 4})


def annulus_neumann():
    w = u(x, y)
    slope = -(x * (exp(x) * sin(2 * y) + y) + y * (2 * exp(x) * cos(2 * y) + x)) / sp.Float(0.4)
    return pl.PDESystem(
        equations=[sp.Eq(-(w.diff(x, 2) + w.diff(y, 2)), 3 * exp(x) * sin(2 * y))],
        conditions=[pl.OnBoundary(sp.Eq(w, exp(x) * sin(2 * y) + x * y),
                                  where=x**2 + y**2 > sp.Float(0.5)),
                    pl.OnBoundary(sp.Eq(pl.NormalDerivative(w), slope))],
        domain={x: (-1, 1), y: (-1, 1)}, region=pl.disk(0, 0, 1) - pl.disk(0, 0, 0.4),
        exact={u: exp(x) * sin(2 * y) + x * y})


def lshape():
    return pl.PDESystem(
        equations=[sp.Eq(-(u(x, y).diff(x, 2) + u(x, y).diff(y, 2)), 1)],
        conditions=[pl.OnBoundary(sp.Eq(u(x, y), 0))],
        domain={x: (-1, 1), y: (-1, 1)}, region=pl.rect(-1, -1, 1, 1) - pl.rect(0, 0, 1, 1))


def heat_disk():
    U = u(t, x, y)
    half = sp.Float(0.5)
    return pl.PDESystem(
        equations=[sp.Eq(U.diff(t), half * (U.diff(x, 2) + U.diff(y, 2))
                         + half * exp(-t) * exp(x) * sin(2 * y) + x)],
        conditions=[pl.OnBoundary(sp.Eq(U, exp(-t) * exp(x) * sin(2 * y) + t * x)),
                    sp.Eq(u(0, x, y), exp(x) * sin(2 * y))],
        domain={t: (0, 0.5), x: (-1, 1), y: (-1, 1)},
        region=pl.disk(0, 0, 1) - pl.disk(0.3, 0.2, 0.3),
        exact={u: exp(-t) * exp(x) * sin(2 * y) + t * x})


def wave_obstacle():
    c = sp.Symbol("c")
    U = u(t, x, y)
    return pl.PDESystem(
        equations=[sp.Eq(U.diff(t, 2), c**2 * (U.diff(x, 2) + U.diff(y, 2)))],
        conditions=[pl.OnBoundary(sp.Eq(U, 0)),
                    sp.Eq(u(0, x, y), exp(-((x + sp.Float(0.5))**2 + y**2) / sp.Float(0.01))),
                    sp.Eq(U.diff(t).subs(t, 0), 0)],
        domain={t: (0, 1.6), x: (-1, 1), y: (-1, 1)}, params={c: 1},
        region=pl.rect(-1, -1, 1, 1) - pl.disk(0.3, 0, 0.25))


def poisson_ball():
    z = sp.Symbol("z")
    w = u(x, y, z)
    return pl.PDESystem(
        equations=[sp.Eq(w.diff(x, 2) + w.diff(y, 2) + w.diff(z, 2), 0)],
        conditions=[pl.OnBoundary(sp.Eq(w, x * y * z + exp(x + y) * sin(sp.sqrt(2) * z)))],
        domain={x: (-1, 1), y: (-1, 1), z: (-1, 1)}, region=pl.ball(0, 0, 0, 0.9),
        exact={u: x * y * z + exp(x + y) * sin(sp.sqrt(2) * z)})


def sine_frequency():
    w = sp.Symbol("w")
    return pl.PDESystem(
        equations=[sp.Eq(u(x).diff(x), cos(w * x))],
        conditions=[sp.Eq(u(-2 * pi), 0)],
        domain={x: (-2 * pi, 2 * pi)}, params={w: 15}, exact={u: sin(w * x) / w})


def damped_oscillator():
    mu, k = sp.symbols("mu k")
    omega = sp.sqrt(k - mu**2 / 4)
    U = u(t)
    return pl.PDESystem(
        equations=[sp.Eq(U.diff(t, 2) + mu * U.diff(t) + k * U, 0)],
        conditions=[sp.Eq(u(0), 1), sp.Eq(U.diff(t).subs(t, 0), 0)],
        domain={t: (0, 1)}, params={mu: 4, k: 400},
        exact={u: exp(-mu / 2 * t) * (cos(omega * t) + mu / 2 / omega * sin(omega * t))})


def poisson_multiscale():
    U = u(x, y)
    modes = [sin(2**j * pi * x) * sin(2**j * pi * y) for j in range(4)]
    return pl.PDESystem(
        equations=[sp.Eq(-(U.diff(x, 2) + U.diff(y, 2)),
                         2 * pi**2 * sum(4**j * m for j, m in enumerate(modes)))],
        conditions=[sp.Eq(u(0, y), 0), sp.Eq(u(1, y), 0), sp.Eq(u(x, 0), 0),
                    sp.Eq(u(x, 1), 0)],
        domain={x: (0, 1), y: (0, 1)}, exact={u: sum(modes)})


def _lotka_volterra_nets(end: int, data: str, name: str):
    """Lotka-Volterra with both interactions learned (nets B and C), as the examples."""
    alpha, delta = sp.symbols("alpha delta")
    U, V = u(t), v(t)
    B = pl.Net("B", inputs=(U, V), width=5, depth=2)
    C = pl.Net("C", inputs=(U, V), width=5, depth=2)
    return pl.PDESystem(
        equations=[sp.Eq(U.diff(t), alpha * U - B(U, V)), sp.Eq(V.diff(t), C(U, V) - delta * V)],
        conditions=[sp.Eq(u(0), sp.Float("0.44249")), sp.Eq(v(0), sp.Float("4.6280"))],
        domain={t: (0, end)}, params={alpha: sp.Float("1.3"), delta: sp.Float("1.8")},
        nets=[B, C], data=data, name=name, base=EXAMPLES)


def lotka_volterra_ude():
    return _lotka_volterra_nets(6, "data/lotka_volterra_noisy.csv", "lotka-volterra-ude")


def lotka_volterra_runs_ude():
    return _lotka_volterra_nets(3, "data/lotka_volterra_runs.csv", "lotka-volterra-runs-ude")


def fisher_kpp_ude():
    D = sp.Symbol("D")
    U = u(t, x)
    R = pl.Net("R", inputs=(U,), width=8, depth=1)
    return pl.PDESystem(
        equations=[sp.Eq(U.diff(t), D * U.diff(x, 2) + R(U))],
        conditions=[sp.Eq(u(0, x), exp(-((x - sp.Float("0.3")) / sp.Float("0.08")) ** 2)),
                    sp.Eq(U.diff(x).subs(x, 0), 0), sp.Eq(U.diff(x).subs(x, 1), 0)],
        domain={t: (0, 1), x: (0, 1)}, params={D: sp.Float("0.01")}, nets=[R],
        data="data/fisher_kpp_snapshots.csv", name="fisher-kpp-ude", base=EXAMPLES)


def column_flux_ude():
    K, z = sp.Symbol("K"), sp.Symbol("z", real=True)
    T = sp.Function("T")(t, z)
    q = pl.Net("q", inputs=(T, T.diff(z)), width=8, depth=1)
    return pl.PDESystem(
        equations=[sp.Eq(T.diff(t), -sp.Derivative(q(T, T.diff(z)) - K * T.diff(z), z))],
        conditions=[sp.Eq(T.subs(t, 0), 1 - z + sp.Float("0.3") * sin(2 * pi * z)),
                    sp.Eq(T.subs(z, 0), 1), sp.Eq(T.subs(z, 1), 0)],
        domain={t: (0, 2), z: (0, 1)}, params={K: sp.Float("0.005")}, nets=[q],
        data="data/column_flux_snapshots.csv", name="column-flux-ude", base=EXAMPLES)


SYMPY_FORMS.update({f.__name__: f for f in (sine_frequency, damped_oscillator,
                                            poisson_multiscale, lotka_volterra_ude,
                                            lotka_volterra_runs_ude, fisher_kpp_ude,
                                            column_flux_ude)})
SHAPED_FORMS = {f.__name__: f for f in (poisson_disk, annulus_neumann, lshape, heat_disk,
                                        wave_obstacle, poisson_ball)}
SYMPY_FORMS.update(SHAPED_FORMS)


def test_every_example_has_a_sympy_form():
    names = {path.stem for path in EXAMPLES.glob("*.pde")}
    assert names == set(SYMPY_FORMS), "write the SymPy form of each new example here"


@pytest.mark.parametrize("name", sorted(SYMPY_FORMS))
def test_sympy_form_equals_the_text(name):
    path = EXAMPLES / f"{name}.pde"
    if not path.exists():
        pytest.skip(f"{path.name} is not in this checkout")
    from_text = pl.load(path)
    from_sympy = SYMPY_FORMS[name]()
    assert from_sympy == from_text
    assert hash(from_sympy) == hash(from_text)
    assert from_sympy.classification() == from_text.classification()


def test_the_example_script_builds_the_same_system():
    namespace = runpy.run_path(str(EXAMPLES / "poisson2d.py"))
    assert namespace["system"] == pl.load(EXAMPLES / "poisson2d.pde")


def test_loading_twice_gives_equal_systems_with_equal_hashes():
    first, second = pl.load(EXAMPLES / "heat1d.pde"), pl.load(EXAMPLES / "heat1d.pde")
    assert first == second and hash(first) == hash(second)
    assert first != pl.load(EXAMPLES / "wave1d.pde")
    assert len({first, second}) == 1


# -- the pieces of the API ----------------------------------------------------------------


def _steady(**overrides):
    arguments = steady_arguments()
    arguments.update(overrides)
    return pl.PDESystem(**arguments)


def test_the_ir_of_a_sympy_system():
    system = _steady()
    assert isinstance(system, pl.System)
    assert system.coordinates == (pl.Coordinate("x", sp.Integer(0), sp.Integer(1)),)
    assert system.fields == (pl.Field("u", ("x",)),)
    assert system.equations[0].residual == u(x).diff(x, 2) - 1
    assert [(c.kind, c.side, c.residual) for c in system.conditions] == [
        ("boundary", "lower", u(x)), ("boundary", "upper", u(x))]


def test_residuals_without_eq_and_conditions_at_a_face():
    system = _steady(equations=[u(x).diff(x, 2) - 1],
                     conditions=[pl.At(u(x), x, 0), pl.At(u(x).diff(x) + u(x) - 1, x, 1)])
    assert system.conditions[1].residual == u(x).diff(x) + u(x) - 1


def test_positional_and_subs_conditions():
    system = pl.PDESystem(
        equations=[sp.Eq(u(x, y).diff(x, 2) + u(x, y).diff(y, 2), 0)],
        conditions=[sp.Eq(u(0, y), 0), sp.Eq(u(x, y).diff(x).subs(x, 1), 0),
                    sp.Eq(sp.Subs(u(x, y).diff(y), y, 0), 1), sp.Eq(u(x, 1), 0)],
        domain={x: (0, 1), y: (0, 1)})
    assert [(c.coordinate, c.side, c.residual) for c in system.conditions] == [
        ("x", "lower", u(x, y)), ("x", "upper", u(x, y).diff(x)),
        ("y", "lower", u(x, y).diff(y) - 1), ("y", "upper", u(x, y))]


def test_periodic_conditions():
    system = pl.PDESystem(
        equations=[sp.Eq(u(x, y).diff(x, 2) + u(x, y).diff(y, 2) - u(x, y), 0)],
        conditions=[pl.Periodic(x), pl.Periodic(y)], domain={x: (0, 1), y: (0, 1)})
    assert system.periodic == ("x", "y")
    assert system == parse("""
        space x in [0, 1], y in [0, 1]
        field u(x, y)
        pde laplace(u) - u = 0
        bc periodic x, y
        """)


def test_time_given_by_name_or_argument():
    s = sp.Symbol("s")
    by_name = pl.PDESystem([sp.Eq(u(t, x).diff(t), u(t, x).diff(x, 2))],
                           [sp.Eq(u(t, 0), 0), sp.Eq(u(t, 1), 0), sp.Eq(u(0, x), 0)],
                           {x: (0, 1), t: (0, 1)})
    assert by_name.time.name == "t"
    by_argument = pl.PDESystem([sp.Eq(u(s, x).diff(s), u(s, x).diff(x, 2))],
                               [sp.Eq(u(s, 0), 0), sp.Eq(u(s, 1), 0), sp.Eq(u(0, x), 0)],
                               {x: (0, 1), s: (0, 1)}, time=s)
    assert by_argument.time.name == "s"
    assert [c.kind for c in by_argument.conditions] == ["boundary", "boundary", "initial"]


def test_domain_as_sympy_interval_and_list():
    assert _steady(domain={x: sp.Interval(0, 1)}) == _steady(domain={x: [0, 1]}) == _steady()


def test_symbols_with_assumptions_match_plain_ones():
    xr = sp.Symbol("x", real=True)
    ur = sp.Function("u", real=True)
    system = pl.PDESystem([sp.Eq(ur(xr).diff(xr, 2), 1)], [sp.Eq(ur(0), 0), sp.Eq(ur(1), 0)],
                          {xr: (0, 1)})
    assert system == _steady()


def test_unknowns_given_explicitly():
    assert _steady(unknowns=[u(x)]) == _steady(unknowns=[u]) == _steady()


def test_params_known_unknown_and_coefficient_fields(tmp_path):
    k, g = sp.symbols("k g")
    cf, w = sp.Function("cf"), sp.Function("w")
    np.save(tmp_path / "cf.npy", np.arange(4.0))
    (tmp_path / "obs.csv").write_text("x,u\n0.5,0.1\n")
    system = _steady(
        equations=[sp.Eq(u(x).diff(x, 2), k * g * cf(x) + w(x))],
        params={k: pl.Unknown(0.5), g: 9.81, cf(x): pl.Sampled("cf.npy"), w(x): 1 + x},
        data={"x": [0.5], "u": [0.1]}, base=tmp_path)
    assert system.param("k").guess == sp.Float(0.5)
    assert system.param("g").value == sp.Float(9.81)
    np.testing.assert_array_equal(system.param("cf").samples.array, np.arange(4.0))
    assert system.param("w").value == 1 + x
    text = parse("""
        param k ~ 0.5
        param g = 9.81
        param cf(x) = load("cf.npy")
        param w(x) = 1 + x
        space x in [0, 1]
        field u(x)
        pde d(u, x, 2) = k*g*cf + w
        bc u = 0 at x = 0
        bc u = 0 at x = 1
        data "obs.csv"
        """, base=tmp_path)
    assert system == text


def test_sampled_array_equals_sampled_file(tmp_path):
    cf = sp.Function("cf")
    array = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    np.save(tmp_path / "cf.npy", array)

    def build(source):
        return pl.PDESystem([sp.Eq(u(x, y).diff(x, 2) + u(x, y).diff(y, 2), cf(x, y))],
                            [pl.Periodic(x), pl.Periodic(y), sp.Eq(pl.Mean(u(x, y)), 0)],
                            {x: (0, 1), y: (0, 1)},
                            params={cf(x, y): pl.Sampled(source)}, base=tmp_path)

    assert build(array) == build("cf.npy") == build(tmp_path / "cf.npy")
    assert build(array) != build(array + 1)


def test_exact_and_data_arguments(tmp_path):
    (tmp_path / "obs.csv").write_text("x,u\n0.5,-0.125\n")
    system = _steady(exact={u: x * (x - 1) / 2}, data="obs.csv", base=tmp_path)
    assert system.exact_solution("u") == x * (x - 1) / 2
    assert system.data[0].columns == ("x", "u")
    from_mapping = _steady(exact={u: x * (x - 1) / 2}, data=[{"x": [0.5], "u": [-0.125]}])
    assert from_mapping == system       # observations compare by content, not path


def test_differential_operators():
    Dx, Dy = pl.Differential(x), pl.Differential(y)
    f = u(x, y)
    assert Dx(f) == f.diff(x)
    assert (Dx**2)(f) == f.diff(x, 2)
    assert (Dx * Dy)(f) == f.diff(x, y)
    assert (Dx @ Dy)(f) == f.diff(x, y)
    assert (Dx * Dx * Dy)(f) == f.diff(x, 2, y)
    assert repr(Dx * Dy) == "Differential(x, y)"
    with pytest.raises(ValueError):
        Dx**0
    with pytest.raises(ValueError):
        Dx**1.5


def test_name_and_equality_ignore_spans_but_not_names():
    assert _steady(name="a") != _steady(name="b")
    assert _steady(name="a").conditions == _steady(name="b").conditions


# -- errors of the SymPy front end ------------------------------------------------------


def test_text_is_never_evaluated():
    expect_api_error(pl.PdeSemanticError, "text is never evaluated", equations=["u(x) - 1"])
    expect_api_error(pl.PdeSemanticError, "text is never evaluated",
                     params={sp.Symbol("k"): "__import__('os')"})


def test_unknown_name_in_an_equation():
    err = expect_api_error(pl.PdeSemanticError, "unknown name `alpah`", "did you mean `alpha`",
                           equations=[sp.Eq(u(x).diff(x, 2), sp.Symbol("alpah"))],
                           params={sp.Symbol("alpha"): 1})
    assert err.span.label == "equation 1"
    assert str(err).startswith("equation 1: error:")


def test_condition_not_on_a_face():
    expect_api_error(pl.PdeSemanticError, "not on a face", "x = 1/2",
                     conditions=[sp.Eq(u(sp.Rational(1, 2)), 0), sp.Eq(u(1), 0)])
    expect_api_error(pl.PdeSemanticError, "not on a face",
                     conditions=[pl.At(sp.Eq(u(x), 0), x, 2), sp.Eq(u(1), 0)])


def test_wrong_domain():
    expect_api_error(pl.PdeSemanticError, "end is not above its start", domain={x: (1, 0)})
    expect_api_error(pl.PdeSemanticError, "not a finite real number", domain={x: (0, sp.oo)})
    expect_api_error(pl.PdeSemanticError, "give (start, end)", domain={x: (0, 1, 2)})
    expect_api_error(pl.PdeSemanticError, "not a SymPy symbol", domain={"x": (0, 1)})
    expect_api_error(pl.PdeSemanticError, "must map each coordinate", domain={})
    expect_api_error(pl.PdeSemanticError, "is not a coordinate", time=t)


def test_wrong_equations_and_conditions():
    expect_api_error(pl.PdeSemanticError, "evaluates to True",
                     equations=[sp.Eq(u(x), u(x))])
    expect_api_error(pl.PdeSemanticError, "must be a list", equations=sp.Eq(u(x), 1))
    expect_api_error(pl.PdeSemanticError, "must be a list", conditions=5)
    expect_api_error(pl.PdeSemanticError, "does not say where",
                     conditions=[sp.Eq(u(x), 0), sp.Eq(u(1), 0)])
    expect_api_error(pl.PdeSemanticError, "not supported", "besselj",
                     equations=[sp.Eq(u(x).diff(x, 2), sp.besselj(0, x))])
    expect_api_error(pl.PdeSemanticError, "not a finite real",
                     equations=[sp.Eq(u(x).diff(x, 2), sp.I)])


def test_wrong_params_data_and_exact():
    k = sp.Symbol("k")
    expect_api_error(pl.PdeSemanticError, "no observations", params={k: pl.Unknown(1)},
                     equations=[sp.Eq(u(x).diff(x, 2), k)])
    expect_api_error(pl.PdeSemanticError, "needs 1 axes",
                     equations=[sp.Eq(u(x).diff(x, 2), sp.Function("cf")(x))],
                     params={sp.Function("cf")(x): pl.Sampled(np.ones((2, 2)))})
    expect_api_error(pl.PdeSemanticError, "coefficient field", params={k: pl.Sampled([1, 2])})
    expect_api_error(pl.PdeSemanticError, "neither a symbol nor a function",
                     params={x + 1: 2})
    expect_api_error(pl.PdeDataError, "'w'", "no coordinate or field",
                     data={"x": [0.5], "w": [1.0]})
    expect_api_error(pl.PdeSemanticError, "different lengths", data={"x": [0.5], "u": [1, 2]})
    expect_api_error(pl.PdeSemanticError, "`data` is int", data=3)
    expect_api_error(pl.PdeSemanticError, "not a field", exact={"u": x})
    expect_api_error(pl.PdeSemanticError, "cannot depend on the field", exact={u: u(x)})
