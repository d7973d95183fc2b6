"""Planted low-rank tensors in Gaussian noise, and how close an estimate is to the plant.

Convention (used by AMP, state evolution and ALS alike): mode sizes N_k = alpha_k N and

    Y = sqrt(snr) / N^((p-1)/2) * sum_rho x^1_rho (x) ... (x) x^p_rho + W,   W_{i...} ~ N(0, 1),

with factor entries drawn i.i.d. from a unit-second-moment prior. With this scaling the
order-2 transition sits at snr = 1 / sqrt(alpha_1 alpha_2) and the state evolution of a mode
depends only on snr and the products of the other modes' alpha_j m_j.
"""

from __future__ import annotations

import string

import numpy as np
from scipy.optimize import linear_sum_assignment

from insilico.factorisation.priors import Prior


def mode_sizes(n: int, alphas) -> list[int]:
    """N_k = round(alpha_k N), at least 1."""
    return [max(1, int(round(a * n))) for a in alphas]


def signal_scale(snr: float, n: int, order: int) -> float:
    """The factor sqrt(snr) / N^((p-1)/2) in front of the planted tensor."""
    return float(np.sqrt(snr) / n ** ((order - 1) / 2))


def cp_tensor(factors) -> np.ndarray:
    """Dense sum over rank of outer products; factors[k] has shape (trials, N_k, r)."""
    letters = string.ascii_lowercase[: len(factors)]
    spec = ",".join(f"z{c}r" for c in letters) + f"->z{letters}"
    return np.einsum(spec, *factors)


def planted_tensor(rng, n, alphas, rank, snr, prior: Prior, trials=1):
    """Draw ``trials`` independent planted tensors; returns (Y, factors)."""
    sizes = mode_sizes(n, alphas)
    factors = [prior.sample(rng, (trials, nk, rank)) for nk in sizes]
    y = signal_scale(snr, n, len(sizes)) * cp_tensor(factors)
    y += rng.standard_normal(y.shape)
    return y, factors


def _grams(a, b):
    """Per-mode (trials, r, r) inner-product matrices a_k^T b_k."""
    return [np.einsum("zir,zis->zrs", ak, bk) for ak, bk in zip(a, b, strict=True)]


def tensor_mse(estimate, truth) -> np.ndarray:
    """Relative squared error ||T_hat - T||^2 / ||T||^2 of the signal tensor, per trial.

    Computed from the factors' Gram matrices (no dense tensor), so it is scale- and
    permutation-free and compares AMP's posterior means with ALS's fitted factors fairly.
    """

    def prod_sum(grams):
        return np.prod(np.stack(grams), axis=0).sum(axis=(1, 2))

    ee = prod_sum(_grams(estimate, estimate))
    et = prod_sum(_grams(estimate, truth))
    tt = prod_sum(_grams(truth, truth))
    return (ee - 2 * et + tt) / tt


def matched_overlaps(estimate, truth):
    """Per-mode overlaps after matching estimated to planted components.

    Returns (m, cosine), each (trials, modes, r): m = |x_hat . x| / |x|^2 (the state evolution's
    order parameter E[x x_hat] / E[x^2], normalised by the plant's realised norm rather than by
    N_k, which removes the large finite-N fluctuation of |x|^2 under sparse priors) and cosine = |x_hat . x| / (|x_hat| |x|). Components are matched per trial
    by the Hungarian algorithm on the product over modes of |cosine|; signs are dropped because
    they are not identifiable for zero-mean priors.
    """
    cross = _grams(estimate, truth)
    norms_e = [np.sqrt(np.einsum("zir,zir->zr", e, e)) for e in estimate]
    norms_t = [np.sqrt(np.einsum("zir,zir->zr", t, t)) for t in truth]
    cos = [
        np.abs(c) / np.maximum(ne[:, :, None] * nt[:, None, :], 1e-300)
        for c, ne, nt in zip(cross, norms_e, norms_t, strict=True)
    ]
    score = np.prod(np.stack(cos), axis=0)
    trials, rank = score.shape[0], score.shape[1]
    m = np.zeros((trials, len(truth), rank))
    cosine = np.zeros_like(m)
    for z in range(trials):
        rows, cols = linear_sum_assignment(-score[z])
        for k in range(len(truth)):
            m[z, k, cols] = np.abs(cross[k][z, rows, cols]) / norms_t[k][z, cols] ** 2
            cosine[z, k, cols] = cos[k][z, rows, cols]
    return m, cosine
