"""Closed-form learning dynamics of deep linear networks and the random-matrix theory of a noisy
teacher: the two halves of the theory that the simulations are compared with.

Conventions (whitened inputs, Sigma11 = I, learning time t = steps * learning rate, tau = 1): a mode
of input-output singular value s, learnt by a network of ``depth`` weight layers from a balanced
("decoupled") start of strength s0, obeys ds/dt = depth * u^(2 - 2/depth) * (s - u). For depth 2
this is the logistic of Saxe et al. (2019): u(t) = s e^{2st} / (e^{2st} - 1 + s/s0).
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp


def mode_strength(t, s: float, s0: float, depth: int = 2) -> np.ndarray:
    """u(t) of one mode: closed form for depth 2, the exact scalar ODE (solved to 1e-10) deeper.

    A mode with s <= 0 is never learnt; its strength decays from s0 (the logistic then has no
    sigmoid), which the closed form also gives for depth 2.
    """
    t = np.asarray(t, float)
    if depth == 2:
        growth = np.exp(np.clip(2 * s * t, -700, 700))
        if s == 0:
            return s0 / (1 + 2 * s0 * t)
        return s * growth / (growth - 1 + s / s0)
    order = np.argsort(t)

    def rate(_, y):  # y = log u, so that the tiny early strengths keep their precision
        u = np.exp(y)
        return depth * u ** (1 - 2 / depth) * (s - u)

    sol = solve_ivp(rate, (0, t.max()), [np.log(s0)], t_eval=t[order], rtol=1e-10, atol=1e-12)
    out = np.empty_like(t)
    out[order] = np.exp(sol.y[0])
    return out


def strengths(t, s, s0, depth: int = 2) -> np.ndarray:
    """Strengths of several modes over time, shape (len(s), len(t)); s0 scalar or per mode."""
    s = np.atleast_1d(np.asarray(s, float))
    s0 = np.broadcast_to(np.asarray(s0, float), s.shape)
    return (
        np.stack([mode_strength(t, a, b, depth) for a, b in zip(s, s0, strict=True)])
        if len(s)
        else (np.zeros((0, np.size(t))))
    )


def half_time(s: float, s0: float) -> float:
    """Depth-2 time at which a mode reaches half its singular value: ln(s/s0 - 1) / (2 s)."""
    return float(np.log(s / s0 - 1) / (2 * s))


def random_start_s0(w1: np.ndarray, w2: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Effective initial strength of each mode from a small random start of a depth-2 network.

    Linearised, p = W1 v and q = W2^T u obey dp/dt = s q, dq/dt = s p: their sum grows as e^{st}
    and their difference dies, so u^T W2 W1 v follows the decoupled solution with
    s0 = |p0 + q0|^2 / 4. w1 (..., hidden, in), w2 (..., out, hidden), u (out, k), v (in, k);
    returns (..., k).
    """
    p = w1 @ v
    q = np.swapaxes(w2, -1, -2) @ u
    return ((p + q) ** 2).sum(axis=-2) / 4


# -- a noisy teacher: spiked rectangular random matrices (Benaych-Georges & Nadakuditi 2012) -----


def spiked_matrix(theta, c: float):
    """Top singular value and squared overlaps of theta u v^T + G, G (n x m) iid of variance 1/m,
    c = n / m <= 1: (value, overlap of the n-side vector, overlap of the m-side vector).

    Above the detection threshold theta > c^(1/4) the value is sqrt((1 + t^2)(c + t^2)) / t;
    below it the value sticks to the bulk edge 1 + sqrt(c) and the vectors carry no overlap.
    """
    theta = np.asarray(theta, float)
    t2 = np.maximum(theta, 1e-12) ** 2
    above = theta > c**0.25
    value = np.where(above, np.sqrt((1 + t2) * (c + t2) / t2), 1 + np.sqrt(c))
    small_side = np.where(above, 1 - c * (1 + t2) / (t2 * (t2 + c)), 0.0)
    large_side = np.where(above, 1 - (c + t2) / (t2 * (t2 + 1)), 0.0)
    return value, small_side, large_side


def noisy_spectrum(teacher_values, n: int, m: int, noise_var: float):
    """Singular values and squared overlaps (output side, input side) of teacher + noise, for an
    n (outputs) x m (inputs) matrix with iid noise of variance ``noise_var`` per entry.

    For n = m and noise_var = sigma^2 / n this is Lampinen & Ganguli's (sigma^2 + s^2) / s above
    s > sigma and the Marchenko-Pastur edge 2 sigma below.
    """
    big, small = max(n, m), min(n, m)
    scale = np.sqrt(noise_var * big)
    value, small_side, large_side = spiked_matrix(np.asarray(teacher_values) / scale, small / big)
    out_side, in_side = (small_side, large_side) if n <= m else (large_side, small_side)
    return scale * value, out_side, in_side


def marchenko_pastur_values(n: int, m: int, noise_var: float, count: int) -> np.ndarray:
    """``count`` singular values spread over the bulk of an n x m noise matrix (quantile mid-points
    of the Marchenko-Pastur law), largest first: the noise modes the network also learns."""
    if count <= 0:
        return np.zeros(0)
    big, small = max(n, m), min(n, m)
    c = small / big
    lo, hi = (1 - np.sqrt(c)) ** 2, (1 + np.sqrt(c)) ** 2
    lam = np.linspace(lo, hi, 4001)
    density = np.sqrt(np.clip((hi - lam) * (lam - lo), 0, None)) / (2 * np.pi * c * lam.clip(1e-12))
    cdf = np.concatenate([[0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(lam))])
    cdf /= cdf[-1]
    quantiles = (np.arange(count)[::-1] + 0.5) / count
    return np.sqrt(noise_var * big * np.interp(quantiles, cdf, lam))


def marchenko_pastur_density(x, n: int, m: int, noise_var: float) -> np.ndarray:
    """Density of the bulk's singular values x (the law of ``marchenko_pastur_values``)."""
    big, small = max(n, m), min(n, m)
    c, scale2 = small / big, noise_var * big
    lam = np.asarray(x, float) ** 2 / scale2
    lo, hi = (1 - np.sqrt(c)) ** 2, (1 + np.sqrt(c)) ** 2
    rho = np.sqrt(np.clip((hi - lam) * (lam - lo), 0, None)) / (2 * np.pi * c * lam.clip(1e-12))
    return rho * 2 * np.asarray(x, float) / scale2


def learning_curves(teacher, target, out_frac, n, m, noise_var, s0, times, unlearnable=0.0):
    """Lampinen & Ganguli's test error of a target readout and the training error over time.

    ``teacher`` is the teacher in small orthonormal coordinates (k_out x k_in), each output
    coordinate wholly inside (``target`` True) or outside the target head; the network sees
    teacher + noise (n x m, iid noise of variance ``noise_var``). Each teacher mode above
    threshold is learnt at its noisy singular value with its overlaps, the others and the bulk
    (Marchenko-Pastur) as noise modes, each along the depth-2 s(t) from s0. ``out_frac`` is the
    target head's share of the n outputs (where noise modes point); ``unlearnable`` the teacher's
    squared norm outside the data's span. Returns (test error, excess training error) over time.
    """
    u, sv, vt = np.linalg.svd(np.asarray(teacher, float), full_matrices=False)
    value, ou, ov = noisy_spectrum(sv, n, m, noise_var)
    found = ou > 0
    bulk = marchenko_pastur_values(n, m, noise_var, min(n, m) - int(found.sum()))
    # Sum rule: |teacher + noise|_F^2 = |teacher|^2 + n m noise_var, so the bulk left beside the
    # outliers holds what they do not (each outlier takes 2 + 1/theta^2 bulk units, not one).
    energy = sv @ sv + n * m * noise_var - value[found] @ value[found]
    if len(bulk) and bulk @ bulk > 0:
        bulk = bulk * np.sqrt(max(energy, 0.0) / (bulk @ bulk))
    learnt = strengths(times, value[found], s0)
    noise = strengths(times, bulk, s0)
    head = np.asarray(teacher, float)[target]
    along = np.einsum("ok,ok->k", u[target], head @ vt.T)[found]
    in_head = (u[target] ** 2).sum(axis=0)[found]
    amp = np.sqrt(ou[found] * ov[found])
    test = (
        unlearnable
        + (head**2).sum()
        - 2 * (learnt * (amp * along)[:, None]).sum(0)
        + (learnt**2 * (ou[found] * in_head + (1 - ou[found]) * out_frac)[:, None]).sum(0)
        + out_frac * (noise**2).sum(0)
    )
    train = ((value[found, None] - learnt) ** 2).sum(0) + ((bulk[:, None] - noise) ** 2).sum(0)
    return test, train
