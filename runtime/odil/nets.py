"""ODIL with learned functions (`net` lines, issue 19): the nets' weights join the
unknowns of the space-time loss, z = [fields, unknown parameters, weights].

A weight moves the residual at every node where its net is evaluated, so its column of the
Jacobian is dense: a few hundred of them in the sparse normal equations of
Levenberg-Marquardt would fill the factor. The weights' block is therefore never assembled.
Each Levenberg-Marquardt step (the damping, gain ratio and stopping tests of
`runtime.algebra.least_squares`) solves its damped normal equations by eliminating the
sparse block of the fields and parameters with a sparse LU as the fit without nets does, and
the weights' Schur complement by conjugate gradients, each product one jvp and one vjp of
the residual in the weights and one solve with that LU:

    (Bw^T Q Bw + mu I) yw = -Bw^T Q F,   Q = I - Bx (Bx^T Bx + mu I)^-1 Bx^T,
    yx = -(Bx^T Bx + mu I)^-1 Bx^T (F + Bw yw),

B = J D^-1: the sparse columns scaled by their norms (Marquardt's scaling, as without
nets), the weights all by one number, their largest column norm (estimated from random
probes: E[(J^T s)^2] over sign vectors s is the squared column norm). Scaling each weight
by its own norm let the weights of nearly idle units take huge steps (measured on the
Lotka-Volterra case below: weights of 4e9 and a stalled fit; damped at 1e-3, 1e-2, 1e-1 of
the largest norm: fits stuck at relative misfits 1.07, 0.06, 0.017; at the largest:
7.7e-5). CG stops at a relative residual `CG_RTOL` or after `CG_STEPS` products (an
inexact step that the gain ratio judges like any other).

Why not L-BFGS over all unknowns (Lotka-Volterra with B(u, v) learned, 61 time nodes,
width 8, depth 2, float64, both from the same start): L-BFGS reached a loss of 1.3e-7 and
B within 3.3% (relative L2 along the true trajectory) after 5000 iterations in 3.8 s and
stopped at 9.6e-8 (2.8%) after 6010; this reached 8.6e-9 and 1.2% in 100 steps, 1.8 s.
L-BFGS moves the fields by gradient steps along the stiff discrete derivatives, which the
sparse LU here solves exactly.

`--regularization LAMBDA` also decays each net's weights by LAMBDA times their mean
square, as in fd's fits (rows sqrt(LAMBDA / count) w).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse as sps
import scipy.sparse.linalg as spla
from jax.flatten_util import ravel_pytree

from compiler.common.nets import net_key
from compiler.common.observations import FieldObservations
from compiler.fd import FDProgram

from ..algebra.least_squares import _scaling, levenberg_marquardt
from ..algebra.newton import _check_finite
from ..errors import SolveError
from .fit import FitOutcome, FitSettings, _Loss, _theta_residual, forward_start, make_loss

CG_RTOL = 1e-4       # the relative residual at which CG stops
CG_STEPS = 200       # the most products of one CG solve
PROBES = 16          # random sign vectors that estimate the weights' column norms


@dataclass(frozen=True, eq=False)
class NetLoss:
    """The ODIL loss with the nets' weights: F(z) = [F_base(x; w), decay * w] with
    z = [x, w], x the unknowns of `base` (fields, unknown parameters)."""

    base: _Loss
    size: int                          # weights in all
    unravel: Callable[[np.ndarray], dict[str, jax.Array]]
    decay: np.ndarray                  # per weight: sqrt(regularization / the net's count)
    _jvp: Callable
    _vjp: Callable
    _probe: Callable
    products: list = field(default_factory=lambda: [0])   # CG products so far

    @property
    def start(self) -> int:
        """Where the weights begin in z."""
        return self.base.jac.size + self.base.pjac.size

    def parts(self, z: np.ndarray) -> tuple[np.ndarray, dict[str, jax.Array], np.ndarray]:
        x, w = z[:self.start], z[self.start:]
        return x, self.unravel(w), w

    def evaluate(self, z: np.ndarray) -> np.ndarray:
        x, nets, w = self.parts(z)
        return np.concatenate([self.base.evaluate(x, nets), self._decay_rows(w)])

    def linearize(self, z: np.ndarray) -> tuple[np.ndarray, NetJacobian]:
        x, nets, w = self.parts(z)
        F, A = self.base.linearize(x, nets)
        u, theta = self.base.split(x)
        point = (jnp.asarray(u, self.base.jac.dtype), dict(theta), jnp.asarray(w))
        return np.concatenate([F, self._decay_rows(w)]), NetJacobian(A, self, point)

    def _decay_rows(self, w: np.ndarray) -> np.ndarray:
        return self.decay * w if self.decay.any() else np.zeros(0)


@dataclass(frozen=True, eq=False)
class NetJacobian:
    """dF/dz at one point: the sparse block of x (`sparse`) and the weights' block as
    products (jvp: J_w dw; vjp: J_w^T r), residual rows first, the decay rows last."""

    sparse: sps.csr_matrix
    loss: NetLoss
    point: tuple

    @property
    def rows(self) -> int:
        return self.loss.base.jac.size       # the residual rows: the only ones w moves

    def weights_product(self, dw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(J_w dw on the rows of the sparse block, on the decay rows)."""
        top = np.zeros(self.sparse.shape[0])
        top[:self.rows] = np.asarray(self.loss._jvp(*self.point, jnp.asarray(dw)))
        return top, self.loss._decay_rows(dw)

    def weights_transpose(self, top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
        """J_w^T [top; bottom]."""
        g = np.asarray(self.loss._vjp(*self.point, jnp.asarray(top[:self.rows])))
        return g + self.loss.decay * bottom if bottom.size else g

    def weights_scale(self) -> float:
        """The largest column norm of the weights, estimated from PROBES random sign
        vectors (1 where they do not move the residual)."""
        rng = np.random.default_rng(0)
        signs = rng.choice([-1.0, 1.0], size=(PROBES, self.rows))
        squares = np.asarray(self.loss._probe(*self.point, jnp.asarray(signs)))
        largest = float(np.sqrt(np.max(squares + np.square(self.loss.decay), initial=0.0)))
        return largest if largest > 0 else 1.0

    def __matmul__(self, dz: np.ndarray) -> np.ndarray:
        start = self.loss.start
        top, bottom = self.weights_product(dz[start:])
        return np.concatenate([self.sparse @ dz[:start] + top, bottom])


def krylov_step_solver(J: NetJacobian, F: np.ndarray) -> Callable[[float], np.ndarray]:
    """mu -> dz minimising ||F + J dz||^2 + mu ||D dz||^2 (module docstring): one sparse LU
    of the fields' block per mu, CG on the weights' Schur complement."""
    d_x = _scaling(J.sparse)
    d_w = np.full(J.loss.size, J.weights_scale())
    B = (J.sparse @ sps.diags(1.0 / d_x)).tocsr()
    H = (B.T @ B).tocsr()
    rows = J.sparse.shape[0]
    F_top, F_bottom = F[:rows], F[rows:]
    identity = sps.identity(H.shape[0], format="csr")
    counter = J.loss.products

    def step(mu: float) -> np.ndarray:
        try:
            lu = spla.splu((H + mu * identity).tocsc(), permc_spec="MMD_AT_PLUS_A",
                           diag_pivot_thresh=0.0)
        except RuntimeError as err:
            raise SolveError(f"a Gauss-Newton step could not be factorised ({err})") from err

        def project(r: np.ndarray) -> np.ndarray:
            return r - B @ lu.solve(B.T @ r)

        def reduced(y: np.ndarray) -> np.ndarray:
            counter[0] += 1
            top, bottom = J.weights_product(y / d_w)
            return J.weights_transpose(project(top), bottom) / d_w + mu * y

        n = d_w.size
        rhs = -J.weights_transpose(project(F_top), F_bottom) / d_w
        operator = spla.LinearOperator((n, n), matvec=reduced, dtype=np.float64)
        y_w, _ = spla.cg(operator, rhs, rtol=CG_RTOL, maxiter=CG_STEPS)
        top, _ = J.weights_product(y_w / d_w)
        y_x = -lu.solve(B.T @ (F_top + top))
        return np.concatenate([y_x / d_x, y_w / d_w])

    return step


def make_net_loss(program: FDProgram, observations: Sequence[FieldObservations],
                  settings: FitSettings, start: Mapping[str, np.ndarray] | None = None
                  ) -> tuple[NetLoss, np.ndarray, object]:
    """The loss of `program` (whose system has nets) against `observations`, z0 and the
    fields' sparsity; the weights at `start`'s (a coarser fit) or their first values."""
    loss, x0, sparsity = make_loss(program, observations, settings, start)
    nets = program.system.nets
    weights = {net_key(n.name): jnp.asarray((start or {}).get(net_key(n.name),
                                                               program.params[net_key(n.name)]),
                                            program.dtype) for n in nets}
    w0, unravel_w = ravel_pytree(weights)
    decay = np.concatenate([np.full(np.size(weights[k]),
                                    np.sqrt(settings.regularization / np.size(weights[k])))
                            for k in sorted(weights)])
    residual = _theta_residual(program, loss.known)
    jac = loss.jac
    w_r = loss.weights[0]

    def rows(u: jax.Array, theta: dict, w: jax.Array) -> jax.Array:
        R = residual(jac.unravel(u), {**theta, **unravel_w(w)})
        return w_r * jnp.concatenate([jnp.ravel(R[name]) for name in jac.names])

    def jvp(u, theta, w, dw):
        return jax.jvp(lambda v: rows(u, theta, v), (w,), (dw,))[1]

    def vjp(u, theta, w, r):
        return jax.vjp(lambda v: rows(u, theta, v), w)[1](r)[0]

    def probe(u, theta, w, signs):
        _, back = jax.vjp(lambda v: rows(u, theta, v), w)
        return jnp.mean(jnp.square(jax.vmap(lambda s: back(s)[0])(signs)), axis=0)

    net_loss = NetLoss(loss, int(w0.size), lambda w: unravel_w(jnp.asarray(w, program.dtype)),
                       decay, jax.jit(jvp), jax.jit(vjp), jax.jit(probe))
    return net_loss, np.concatenate([x0, np.asarray(w0, np.float64)]), sparsity


def fit_odil_nets(program: FDProgram, observations: Sequence[FieldObservations],
                  settings: FitSettings, observers: Sequence[Callable] = (),
                  start: tuple[Mapping[str, np.ndarray], Mapping[str, np.ndarray]] | None = None
                  ) -> FitOutcome:
    """`fit_odil` for a system with nets: fields, unknown parameters and weights together
    (see the module docstring), from `start` (a coarser fit) or from the forward solution
    at the guesses and the nets' first weights."""
    loss, z0, sparsity = make_net_loss(program, observations, settings,
                                       start[1] if start else None)
    base, at = loss.base, loss.start
    if start is not None:
        z0[:base.jac.size] = np.asarray(base.jac.ravel(
            {k: jnp.asarray(v, program.dtype) for k, v in start[0].items()}))
        how = "the fit on the coarser grid, interpolated"
    x0, nets, _ = loss.parts(z0)
    u0, theta0 = base.split(x0)
    _check_finite(base.jac.residual(u0, {**theta0, **nets}), base.jac, "at the first guesses",
                  ())
    if start is None:       # the known part holds the nets' first weights: the forward solve's
        x0, how = forward_start(program, base, x0, sparsity, settings)
        z0[:at] = x0
    result = levenberg_marquardt(loss.evaluate, loss.linearize, z0,
                                 max_steps=settings.max_steps, tol=settings.tol,
                                 observers=observers, step_solver=krylov_step_solver)
    x, nets, _ = loss.parts(result.z)
    u, theta = base.split(x)
    r = base.jac.residual(u, {**theta, **nets})
    misfit = base.data.matrix @ u - base.data.values
    per_field = {str(name): float(np.sqrt(np.mean(np.square(misfit[base.data.field == name]))))
                 for name in dict.fromkeys(base.data.field)}
    U = {k: np.asarray(v) for k, v in base.jac.unravel(u).items()}
    params = {k: np.asarray(v) for k, v in {**theta, **nets}.items()}
    return FitOutcome(U, params, result, float(np.sqrt(np.mean(np.square(r)))), per_field, how,
                      {"krylov_products": loss.products[0]})
