"""Bayesian approximate message passing for low-rank tensors of any order and shape.

After Kadmon & Ganguli 2018 (NeurIPS), written from the paper's equations in the convention of
:mod:`insilico.factorisation.planted`. Modes are updated in turn; for mode k

    B^k = s * Y contracted with x_hat^j (j != k)  -  x_hat^k * Onsager^k,
    A^k = s^2 * Hadamard product over j != k of (x_hat^j)^T x_hat^j,

where s = sqrt(snr) / N^((p-1)/2) and the Onsager term removes the feedback of mode k's own
previous estimate through the other modes' posterior variances. The prior acts through its scalar
denoiser, component by component: the off-diagonal part of A (coupling components) is folded into
each component's field as a naive mean-field shift, which is exact for rank 1 and vanishes at
large N for independently drawn components. Everything is batched over a leading trial axis.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np

from insilico.factorisation.planted import signal_scale
from insilico.factorisation.priors import Prior


@dataclass
class AMPResult:
    """Posterior means and variances per mode, each (trials, N_k, r), and convergence info."""

    means: list
    variances: list
    iterations: int
    converged: np.ndarray  # (trials,) bool
    history: np.ndarray  # (iterations,) mean relative change per iteration


def _contract(y, factors, k):
    """s-free field: Y contracted with every mode's factor except mode k, per rank component."""
    p = len(factors)
    letters = string.ascii_lowercase[:p]
    operands = [y]
    spec = [f"z{letters}"]
    for j in range(p):
        if j != k:
            operands.append(factors[j])
            spec.append(f"z{letters[j]}r")
    return np.einsum(",".join(spec) + f"->z{letters[k]}r", *operands, optimize=True)


def _hadamard_except(mats, skip):
    """Elementwise product of the (trials, r, r) matrices whose index is not in ``skip``."""
    out = np.ones_like(mats[0])
    for j, m in enumerate(mats):
        if j not in skip:
            out = out * m
    return out


def initialise(rng, sizes, rank, prior: Prior, trials, scale=1.0):
    """Uninformative start: the prior mean plus small random noise to break the symmetry."""
    means = [prior.mean + scale * rng.standard_normal((trials, nk, rank)) for nk in sizes]
    variances = [np.ones((trials, nk, rank)) for nk in sizes]
    return means, variances


def amp(
    y,
    snr,
    n,
    prior: Prior,
    rank,
    init,
    max_iter=200,
    damping=0.0,
    tol=1e-6,
):
    """Run AMP on tensors ``y`` (trials, N_1, ..., N_p) from ``init`` = (means, variances).

    Stops when every trial's relative change of its estimates falls below ``tol`` or after
    ``max_iter`` iterations; ``damping`` in [0, 1) mixes that fraction of the old estimate in.
    """
    p = y.ndim - 1
    s = signal_scale(snr, n, p)
    means = [m.copy() for m in init[0]]
    variances = [v.copy() for v in init[1]]
    history = []
    converged = np.zeros(y.shape[0], dtype=bool)
    for _ in range(max_iter):
        old = [m.copy() for m in means]
        for k in range(p):
            means[k], variances[k] = _update_mode(y, s, prior, means, variances, k, damping)
        change = sum(((m - o) ** 2).sum(axis=(1, 2)) for m, o in zip(means, old, strict=True))
        size = sum((m**2).sum(axis=(1, 2)) for m in means)
        rel = change / np.maximum(size, 1e-300)
        history.append(float(rel.mean()))
        converged = rel < tol
        if converged.all():
            break
    return AMPResult(means, variances, len(history), converged, np.asarray(history))


def _update_mode(y, s, prior, means, variances, k, damping):
    """One AMP update of mode k from the other modes' latest estimates.

    Modes are updated in turn (not in parallel: for order 2 parallel updates split into two
    independent chains that can settle on opposite signs). In this sweep order every other mode's
    latest estimate was computed from mode k's current one, so that is the estimate the Onsager
    term subtracts.
    """
    p = len(means)
    rank = means[0].shape[-1]
    grams = [np.einsum("zir,zis->zrs", m, m) for m in means]
    var_sums = [np.einsum("zir->zr", v) for v in variances]
    onsager = np.zeros(var_sums[0].shape)
    for j in range(p):
        if j != k:
            other = np.diagonal(_hadamard_except(grams, {j, k}), axis1=1, axis2=2)
            onsager = onsager + var_sums[j] * other
    a = s**2 * _hadamard_except(grams, {k})
    coupling = np.where(np.eye(rank, dtype=bool), 0.0, a)
    field = (
        s * _contract(y, means, k)
        - s**2 * means[k] * onsager[:, None, :]
        - np.einsum("zis,zrs->zir", means[k], coupling)
    )
    a_diag = np.broadcast_to(np.diagonal(a, axis1=1, axis2=2)[:, None, :], field.shape)
    mk, vk = prior.denoise(field, a_diag)
    return (1 - damping) * mk + damping * means[k], (1 - damping) * vk + damping * variances[k]
