"""Alternating least squares CP baseline through tensorly's ``parafac`` (pinned, 0.10).

ALS is the maximum-likelihood point estimate under Gaussian noise with flat priors; Kadmon &
Ganguli's claim is that in noise Bayesian AMP beats it. Here the same planted tensors and the
same number of random initialisations go to both; each keeps the start with the smallest
reconstruction residual.
"""

from __future__ import annotations

import numpy as np
import tensorly as tl
from tensorly.decomposition import parafac

from insilico.factorisation.planted import signal_scale


def parafac_once(y, rank, seed, n_iter_max=200, tol=1e-8):
    """One tensorly ALS fit from a random start; returns (weights, factors)."""
    cp = parafac(
        tl.tensor(y),
        rank=rank,
        init="random",
        random_state=int(seed),
        n_iter_max=n_iter_max,
        tol=tol,
        normalize_factors=False,
    )
    return np.asarray(cp.weights), [np.asarray(f) for f in cp.factors]


def _residual(y, factors):
    letters = "abcdefgh"[: y.ndim]
    spec = ",".join(f"{c}r" for c in letters) + f"->{letters}"
    return float(np.sum((y - np.einsum(spec, *factors)) ** 2))


def als(y, snr, n, rank, n_init, seed, n_iter_max=200, tol=1e-8):
    """Best-of-``n_init`` ALS fit of each trial of ``y`` (trials, N_1, ..., N_p).

    Returns factors per mode, (trials, N_k, r), rescaled to estimate the planted x's: the fitted
    CP tensor divided by the model's signal scale s, its norm shared equally among the modes.
    """
    p = y.ndim - 1
    s = signal_scale(snr, n, p)
    out = [[] for _ in range(p)]
    for z, yz in enumerate(y):
        best = None
        for i in range(n_init):
            weights, factors = parafac_once(yz, rank, seed + 1000 * z + i, n_iter_max, tol)
            factors = [factors[0] * weights] + factors[1:]
            res = _residual(yz, factors)
            if best is None or res < best[0]:
                best = (res, factors)
        norms = np.stack([np.linalg.norm(f, axis=0) for f in best[1]])  # (p, r)
        geo = np.prod(norms, axis=0) ** (1 / p) / s ** (1 / p)
        for k, f in enumerate(best[1]):
            out[k].append(f / np.maximum(norms[k], 1e-300) * geo)
    return [np.stack(f) for f in out]
