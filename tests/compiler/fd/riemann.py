"""The exact solution of the Riemann problem of the 1-D Euler equations for an ideal gas
(Toro, Riemann Solvers and Numerical Methods for Fluid Dynamics, 3rd ed., chapter 4):
Newton's method for the pressure p* between the two nonlinear waves, then the solution
sampled at x/t. A test helper, independent of the solver it checks."""

from __future__ import annotations

import numpy as np

State = tuple[float, float, float]          # density, velocity, pressure


def _wave(p: float, state: State, gamma: float) -> tuple[float, float]:
    """Toro's f_K(p) and its derivative: the velocity jump across a shock (p > p_K) or a
    rarefaction (p <= p_K) from `state` to pressure p."""
    rho, _, pk = state
    c = np.sqrt(gamma * pk / rho)
    if p > pk:
        a, b = 2 / ((gamma + 1) * rho), (gamma - 1) / (gamma + 1) * pk
        root = np.sqrt(a / (p + b))
        return (p - pk) * root, root * (1 - (p - pk) / (2 * (b + p)))
    ratio = p / pk
    value = 2 * c / (gamma - 1) * (ratio ** ((gamma - 1) / (2 * gamma)) - 1)
    return value, ratio ** (-(gamma + 1) / (2 * gamma)) / (rho * c)


def star_state(left: State, right: State, gamma: float) -> tuple[float, float]:
    """(p*, u*) by Newton's method from the two-rarefaction guess, to 1e-14."""
    cl, cr = (np.sqrt(gamma * s[2] / s[0]) for s in (left, right))
    z = (gamma - 1) / (2 * gamma)
    p = ((cl + cr - (gamma - 1) / 2 * (right[1] - left[1]))
         / (cl / left[2] ** z + cr / right[2] ** z)) ** (1 / z)
    for _ in range(100):
        fl, dl = _wave(p, left, gamma)
        fr, dr = _wave(p, right, gamma)
        step = (fl + fr + right[1] - left[1]) / (dl + dr)
        p_new = max(p - step, 1e-14)
        if abs(p_new - p) <= 1e-14 * (p_new + p):
            p = p_new
            break
        p = p_new
    fl, _ = _wave(p, left, gamma)
    fr, _ = _wave(p, right, gamma)
    return p, (left[1] + right[1]) / 2 + (fr - fl) / 2


def sample(left: State, right: State, gamma: float, s: np.ndarray) -> np.ndarray:
    """(density, velocity, pressure) at the speeds s = (x - x0) / t, shape (3, len(s))."""
    p_star, u_star = star_state(left, right, gamma)
    out = np.empty((3, len(s)))
    for i, speed in enumerate(s):
        out[:, i] = _sample_one(left, right, gamma, p_star, u_star, speed)
    return out


def _sample_one(left, right, gamma, p_star, u_star, speed):
    g = gamma
    if speed <= u_star:                     # left of the contact
        rho, u, p, sign = left[0], left[1], left[2], 1.0
    else:                                   # mirror the right side onto the left
        rho, u, p, sign = right[0], -right[1], right[2], -1.0
        speed, u_star = -speed, -u_star
    c = np.sqrt(g * p / rho)
    if p_star > p:                          # shock
        shock = u - c * np.sqrt((g + 1) / (2 * g) * p_star / p + (g - 1) / (2 * g))
        if speed <= shock:
            return rho, sign * u, p
        ratio = p_star / p
        return (rho * (ratio + (g - 1) / (g + 1)) / ((g - 1) / (g + 1) * ratio + 1),
                sign * u_star, p_star)
    c_star = c * (p_star / p) ** ((g - 1) / (2 * g))
    head, tail = u - c, u_star - c_star
    if speed <= head:
        return rho, sign * u, p
    if speed >= tail:
        return rho * (p_star / p) ** (1 / g), sign * u_star, p_star
    factor = 2 / (g + 1) + (g - 1) / ((g + 1) * c) * (u - speed)
    return (rho * factor ** (2 / (g - 1)),
            sign * 2 / (g + 1) * (c + (g - 1) / 2 * u + speed),
            p * factor ** (2 * g / (g - 1)))
