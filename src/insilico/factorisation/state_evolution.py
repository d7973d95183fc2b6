"""State evolution of tensor AMP and the replica-symmetric free energy (Kadmon & Ganguli 2018).

At large N, Bayes-optimal AMP on the planted model of :mod:`insilico.factorisation.planted`
behaves as a scalar Gaussian channel per mode k with precision

    A_k = snr * prod_{j != k} alpha_j m_j,     m_k <- E_{x,z}[ x * f(A_k x + sqrt(A_k) z, A_k) ],

where m_k = x_hat . x / N_k is the overlap and f the prior's posterior mean (Nishimori: the
estimate's self-overlap equals m_k, so one order parameter per mode suffices). Independently drawn
rank components decouple at large N, so the rank-1 equations hold per component.

Fixed points are stationary points of the replica-symmetric potential

    Phi(m) = sum_k alpha_k psi(A_k) - (p - 1)/2 * snr * prod_k alpha_k m_k,
    psi(A) = E_{x,z} log Z(A x + sqrt(A) z, A),

(d psi / dA = m(A)/2 makes its stationarity condition the state evolution). The Bayes-optimal
estimate is the fixed point of largest Phi; AMP from an uninformative start reaches the fixed
point nearest that start. Their disagreement is the hard phase.
"""

from __future__ import annotations

import numpy as np

from insilico.factorisation.priors import Prior, gauss_hermite


def _channel_grid(prior: Prior, a):
    """Fields B = A x + sqrt(A) z on the (A, x, z) quadrature grid, with the grid's weights."""
    x, wx = prior.quadrature()
    z, wz = gauss_hermite()
    a = np.asarray(a, float)[..., None, None]
    b = a * x[:, None] + np.sqrt(a) * z[None, :]
    return b, a, x[:, None], wx[:, None] * wz[None, :]


def overlap_map(prior: Prior, a) -> np.ndarray:
    """m(A) = E[x f(B, A)] for precision(s) A (any shape)."""
    b, aa, x, w = _channel_grid(prior, a)
    mean, _ = prior.denoise(b, np.broadcast_to(aa, b.shape))
    return (w * x * mean).sum(axis=(-2, -1))


def scalar_free_entropy(prior: Prior, a) -> np.ndarray:
    """psi(A) = E log Z(B, A) for precision(s) A (any shape)."""
    b, aa, _, w = _channel_grid(prior, a)
    return (w * prior.log_partition(b, np.broadcast_to(aa, b.shape))).sum(axis=(-2, -1))


def precisions(snr, alphas, m) -> np.ndarray:
    """A_k = snr * prod_{j != k} alpha_j m_j; m has shape (..., p)."""
    am = np.asarray(alphas) * np.maximum(m, 0.0)  # quadrature error can dip just below 0
    return np.stack(
        [np.asarray(snr) * np.prod(np.delete(am, k, axis=-1), axis=-1) for k in range(m.shape[-1])],
        axis=-1,
    )


def uninformative_start(prior: Prior, order: int, eps: float = 1e-4) -> np.ndarray:
    """Overlap of the prior-mean estimate (plus eps, the seed a random start gives at finite N)."""
    return np.full(order, prior.mean**2 + eps)


def evolve(snr, alphas, prior: Prior, m0, max_iter=5000, tol=1e-9):
    """Iterate state evolution from overlaps m0 (modes in turn, as AMP) to a fixed point.

    ``snr`` may be an array; each entry stops on its own once no overlap moves by more than
    ``tol`` in a sweep (entries near a threshold slow down critically and keep iterating).
    Returns the final overlaps, shape snr.shape + (p,).
    """
    snr = np.asarray(snr, float)
    p = len(alphas)
    m = np.broadcast_to(np.asarray(m0, float), snr.shape + (p,)).reshape(-1, p).copy()
    flat = snr.reshape(-1)
    active = np.arange(flat.size)
    for _ in range(max_iter):
        sub = m[active]
        old = sub.copy()
        for k in range(p):
            sub[:, k] = overlap_map(prior, precisions(flat[active], alphas, sub)[:, k])
        m[active] = sub
        active = active[np.max(np.abs(sub - old), axis=1) >= tol]
        if active.size == 0:
            break
    return m.reshape(snr.shape + (p,))


def trajectory(snr, alphas, prior: Prior, m0, n_iter):
    """The overlaps after each of ``n_iter`` sweeps (for comparing with AMP iteration by iteration)."""
    m = np.asarray(m0, float).copy()
    out = [m.copy()]
    for _ in range(n_iter):
        for k in range(len(alphas)):
            m[k] = overlap_map(prior, precisions(snr, alphas, m)[k])
        out.append(m.copy())
    return np.stack(out)


def potential(snr, alphas, prior: Prior, m) -> np.ndarray:
    """Replica-symmetric free entropy Phi(m) (per N); larger is more probable."""
    alphas = np.asarray(alphas, float)
    a = precisions(snr, alphas, m)
    p = len(alphas)
    return (alphas * scalar_free_entropy(prior, a)).sum(axis=-1) - (p - 1) / 2 * np.asarray(
        snr
    ) * np.prod(alphas * m, axis=-1)


def fixed_points(snr, alphas, prior: Prior, eps=1e-4):
    """Fixed points from the uninformative and the informed (m = 1) start, with Phi of each.

    Returns a dict of arrays over snr: m_uninformed, m_informed (..., p), phi_uninformed,
    phi_informed, and m_bayes, the fixed point of larger Phi (the information-theoretic answer).
    """
    p = len(alphas)
    m_u = evolve(snr, alphas, prior, uninformative_start(prior, p, eps))
    m_i = evolve(snr, alphas, prior, np.ones(p))
    phi_u = potential(snr, alphas, prior, m_u)
    phi_i = potential(snr, alphas, prior, m_i)
    bayes = np.where((phi_i > phi_u + 1e-9)[..., None], m_i, m_u)
    return {
        "m_uninformed": m_u,
        "m_informed": m_i,
        "phi_uninformed": phi_u,
        "phi_informed": phi_i,
        "m_bayes": bayes,
    }


def thresholds(alphas, prior: Prior, snr_grid, gap=1e-3, eps=1e-4) -> dict:
    """Spinodal, information-theoretic and algorithmic thresholds on an snr grid.

    Where the uninformative and informed fixed points coexist (first-order transition), the
    spinodal is where the informed branch appears, the information-theoretic threshold where its
    Phi overtakes the uninformative one, and the algorithmic threshold where the uninformative
    branch disappears (AMP from an uninformative start jumps). Without coexistence (continuous
    transition) all three are the snr where the overlap leaves its uninformative value. A threshold
    the grid does not reach is inf; a transition that does not exist (nonzero-mean order 2) is nan.
    Resolution: one grid step.
    """
    snr_grid = np.asarray(snr_grid, float)
    fp = fixed_points(snr_grid, alphas, prior, eps)
    coexist = np.max(np.abs(fp["m_uninformed"] - fp["m_informed"]), axis=-1) > gap
    if coexist.any():
        idx = np.flatnonzero(coexist)
        better = coexist & (fp["phi_informed"] > fp["phi_uninformed"])
        spin = snr_grid[idx[0]]
        it = snr_grid[np.flatnonzero(better)[0]] if better.any() else np.inf
        alg = snr_grid[idx[-1] + 1] if idx[-1] + 1 < snr_grid.size else np.inf
        return {"spinodal": spin, "information": it, "algorithmic": alg, "continuous": False}
    if prior.mean != 0:
        nan = float("nan")
        return {"spinodal": nan, "information": nan, "algorithmic": nan, "continuous": True}
    left = np.max(fp["m_uninformed"], axis=-1) > gap
    c = snr_grid[np.flatnonzero(left)[0]] if left.any() else np.inf
    return {"spinodal": c, "information": c, "algorithmic": c, "continuous": True}


def phase_labels(snr, th: dict) -> np.ndarray:
    """0 impossible (below the information-theoretic threshold), 1 hard, 2 easy."""
    snr = np.asarray(snr, float)
    return np.where(snr >= th["algorithmic"], 2, np.where(snr >= th["information"], 1, 0))
