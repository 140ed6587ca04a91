"""Step-size limits of the explicit schemes from the spectrum of the Jacobian of rhs.

An explicit scheme is stable for `dU/dt = J U` while `dt * lambda` stays inside its
stability region for every eigenvalue `lambda` of J. We estimate the spectral radius
`rho = max |lambda|` by power iteration with Jacobian-vector products (no matrix is formed)
and, not knowing the direction of the dominant eigenvalues, take the smaller of the region's
extents along the negative real axis (diffusion) and the imaginary axis (advection).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from runtime.errors import OptionError, SolveError
from runtime.time.base import Rhs
from runtime.time.integrators import INTEGRATORS
from runtime.time.pytree import PyTree, norm, scale

# (real, imaginary) extents of the stability regions, |R(z)| <= 1 for z = -x and z = iy
# with x, y below them; computed from the tableaus (tests/runtime/time/test_stability.py checks).
# DOPRI5 is (marginally) stable on the imaginary axis only up to about 1.
EXTENTS: dict[str, tuple[float, float]] = {
    "rk4": (2.785, 2.828),
    "ssprk3": (2.512, 1.732),
    "dopri5": (3.306, 0.997),
    # velocity Verlet on u_tt = A u: stable while dt sqrt(|lambda_A|) <= 2, and the first-
    # order Jacobian's eigenvalues are +-sqrt(lambda_A) (imaginary for waves)
    "leapfrog": (2.0, 2.0),
}
UNCONDITIONAL = frozenset({"sdirk2", "rodas4"})  # A-stable: no step limit from stability
SAFETY = 0.9


def spectral_radius(rhs: Rhs, t: Any, U: PyTree, params: PyTree, key: jax.Array,
                    iterations: int = 40) -> float:
    """Estimate `max |lambda|` of the Jacobian d rhs / d U at (t, U).

    Power iteration from a random start drawn with `key`; the growth per iteration
    averaged geometrically over the second half of the iterations is returned, that is
    `(|J^m v| / |v|)^(1/m)`. Single ratios `|J v| / |v|` are no estimate: for the
    first-order form of a wave equation, J = [[0, I], [A, 0]], they alternate between
    about 1 and |A| = rho^2, while their geometric mean is rho; complex-conjugate pairs
    make them oscillate too. One jitted call; `rhs` is static, so one rhs compiles once.
    """
    flat, unravel = ravel_pytree(U)
    start = unravel(jax.random.normal(key, flat.shape, flat.dtype))
    return float(_power_iteration(rhs, iterations, t, U, params, start))


@partial(jax.jit, static_argnums=(0, 1))
def _power_iteration(rhs: Rhs, iterations: int, t: Any, U: PyTree, params: PyTree,
                     v: PyTree) -> jax.Array:
    _, jvp = jax.linearize(lambda V: rhs(t, V, params), U)
    v = scale(v, 1.0 / norm(v))

    def power_step(v, _):
        w = jvp(v)
        ratio = norm(w)
        return scale(w, 1.0 / jnp.where(ratio > 0, ratio, 1.0)), ratio

    _, ratios = jax.lax.scan(power_step, v, None, length=iterations)
    tail = ratios[iterations // 2:]
    if tail.size % 2:          # an even count, so alternating ratios pair up
        tail = tail[1:]
    return jnp.exp(jnp.mean(jnp.log(jnp.maximum(tail, jnp.finfo(tail.dtype).tiny))))


def has_limit(scheme: str) -> bool:
    """True for schemes whose step is limited by stability (the explicit ones)."""
    return scheme in EXTENTS


def _extent(scheme: str) -> float:
    if scheme in UNCONDITIONAL:
        return math.inf
    if scheme not in EXTENTS:
        raise OptionError(
            f"no stability limit is known for the time integrator {scheme!r}",
            hint="choose one of " + ", ".join(repr(name) for name in INTEGRATORS),
        )
    return min(EXTENTS[scheme])


def stable_dt(scheme: str, radius: float, safety: float = SAFETY) -> float:
    """The largest step `scheme` may take when the Jacobian's spectral radius is `radius`,
    times `safety` (inf for unconditionally stable schemes or a zero radius)."""
    extent = _extent(scheme)
    if math.isinf(extent) or radius <= 0.0:
        return math.inf
    return safety * extent / radius


def check_dt(scheme: str, dt: float, radius: float) -> None:
    """Raise SolveError when `dt` is beyond the stability limit of `scheme` (no safety
    factor here: a step the scheme can take is not refused)."""
    limit = stable_dt(scheme, radius, safety=1.0)
    if dt <= limit:
        return
    raise SolveError(
        f"dt = {dt:.4g} is beyond the stability limit dt <= {limit:.4g} of {scheme!r} "
        f"(spectral radius of the Jacobian about {radius:.4g}; the solution would blow up)",
        hint=f"use a smaller step, --dt {SAFETY * limit:.3g} or less (or leave dt out to "
        "have one chosen), or the implicit integrator --integrator sdirk2 "
        "(integrator=\"sdirk2\" in Python), which is stable at any dt",
    )
