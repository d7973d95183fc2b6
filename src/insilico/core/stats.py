"""Prediction metrics and the repeat-reliability ceiling, shared by every branch.

All functions are vectorised over leading axes and never warn on degenerate input. One Pearson
correlation serves the whole package, in a NumPy form (:func:`pearson`) and a torch form
(:func:`pearson_torch`, for tensors on a GPU) with one formula and one rule for degenerate series:

- a series with zero variance (a silent cell, a constant prediction) gives ``nan``, because its
  correlation is undefined, not zero; a series counts as constant when the product of the centred
  norms is below ``max(1e-12, 100 eps)`` of the product of the raw norms (``eps`` of the dtype:
  round-off leaves a tiny spread in a constant series);
- any ``nan`` in the input series also gives ``nan`` for that series;
- r is clipped to [-1, 1] (round-off can exceed it by an ulp).

A caller that must turn the undefined value into a number says so where it does (the retina
trainer's early stopping counts a constant prediction as 0: a collapsed cell must lower the score,
not drop out of the mean).
"""

from __future__ import annotations

import numpy as np


def _constant_tolerance(eps: float) -> float:
    """Relative spread below which a series counts as constant (see the module docstring)."""
    return max(1e-12, 100 * eps)


def pearson(pred, target, axis: int = -1) -> np.ndarray:
    """Pearson correlation between ``pred`` and ``target`` along ``axis`` (broadcast elsewhere)."""
    pred, target = np.broadcast_arrays(np.asarray(pred, float), np.asarray(target, float))
    pred_c = pred - pred.mean(axis=axis, keepdims=True)
    target_c = target - target.mean(axis=axis, keepdims=True)
    covariance = (pred_c * target_c).sum(axis=axis)
    norm = np.sqrt((pred_c**2).sum(axis=axis) * (target_c**2).sum(axis=axis))
    scale = np.sqrt((pred**2).sum(axis=axis) * (target**2).sum(axis=axis))
    tolerance = _constant_tolerance(float(np.finfo(pred.dtype).eps))
    defined = np.isfinite(norm) & (norm > tolerance * scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(defined, covariance / np.where(defined, norm, 1.0), np.nan)
    return np.clip(r, -1.0, 1.0)


def pearson_torch(pred, target, dim: int = -1):
    """:func:`pearson` for torch tensors (same formula, same rules), along ``dim``."""
    import torch  # lazily: most users of this module need no torch

    pred, target = torch.broadcast_tensors(pred, target)
    pred_c = pred - pred.mean(dim, keepdim=True)
    target_c = target - target.mean(dim, keepdim=True)
    covariance = (pred_c * target_c).sum(dim)
    norm = ((pred_c**2).sum(dim) * (target_c**2).sum(dim)).sqrt()
    scale = ((pred**2).sum(dim) * (target**2).sum(dim)).sqrt()
    tolerance = _constant_tolerance(torch.finfo(pred.dtype).eps)
    defined = torch.isfinite(norm) & (norm > tolerance * scale)
    r = torch.where(defined, covariance / torch.where(defined, norm, 1.0), torch.nan)
    return r.clamp(-1.0, 1.0)


def fraction_explained_variance(pred, target, axis: int = -1) -> np.ndarray:
    """FEV = 1 - mean((target - pred)^2) / var(target): 1 is perfect, 0 is no better than the mean.

    Unlike the correlation it penalises wrong gain and offset, and it can be negative.
    """
    pred, target = np.broadcast_arrays(np.asarray(pred, float), np.asarray(target, float))
    mse = ((target - pred) ** 2).mean(axis=axis)
    variance = target.var(axis=axis)
    scale = (target**2).mean(axis=axis)
    defined = np.isfinite(variance) & np.isfinite(mse) & (variance > 1e-24 * scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(defined, 1.0 - mse / np.where(defined, variance, 1.0), np.nan)


def split_half_reliability(repeats, n_splits: int, seed: int) -> np.ndarray:
    """Spearman-Brown corrected split-half reliability of the n-repeat average, per cell.

    ``repeats`` is (n_cells, n_repeats, T). For each of ``n_splits`` random splits (one
    permutation of the repeats drawn from ``np.random.default_rng(seed)``, shared by all cells),
    the repeats are divided into two disjoint halves of ``h = n_repeats // 2`` repeats; with an
    odd count the one repeat left over is dropped, a different one at random per split. Let
    ``r`` be the Pearson correlation over time between the two half-means. The Spearman-Brown
    formula with length factor ``k = n_repeats / h`` turns it into the reliability of the
    average of all ``n_repeats``: ``r_SB = k r / (1 + (k - 1) r)``, which is ``2r / (1 + r)``
    for an even count (and also corrects for the repeat dropped with an odd count). The result is
    the mean of ``r_SB`` over the splits whose ``r`` is defined; ``nan`` if none is.
    """
    repeats = np.asarray(repeats, float)
    if repeats.ndim != 3:
        raise ValueError(f"repeats must be (n_cells, n_repeats, T), got shape {repeats.shape}")
    n_repeats = repeats.shape[1]
    if n_repeats < 2:
        raise ValueError(f"split-half reliability needs at least 2 repeats, got {n_repeats}")
    if n_splits < 1:
        raise ValueError(f"n_splits must be >= 1, got {n_splits}")
    half = n_repeats // 2
    k = n_repeats / half
    rng = np.random.default_rng(seed)
    total = np.zeros(repeats.shape[0])
    count = np.zeros(repeats.shape[0])
    for _ in range(n_splits):
        order = rng.permutation(n_repeats)
        mean_a = repeats[:, order[:half]].mean(axis=1)
        mean_b = repeats[:, order[half : 2 * half]].mean(axis=1)
        r = pearson(mean_a, mean_b)
        with np.errstate(divide="ignore", invalid="ignore"):
            r_sb = k * r / (1.0 + (k - 1.0) * r)
        valid = np.isfinite(r_sb)
        total[valid] += r_sb[valid]
        count[valid] += 1
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def split_half_ceiling(repeats, n_splits: int, seed: int) -> np.ndarray:
    """Ceiling on a model's Pearson r with the n-repeat average, per cell: ``sqrt(r_SB)``.

    ``r_SB`` is :func:`split_half_reliability` (random balanced split-halves of the repeats,
    half-mean correlation, Spearman-Brown corrected to all n repeats, averaged over
    ``n_splits`` splits). If responses are a fixed signal plus independent noise, ``r_SB``
    estimates var(signal) / var(n-repeat average), and the best possible correlation of any
    prediction with the n-repeat average, reached by the noiseless signal itself, is its square
    root. A negative ``r_SB`` (no reliable signal) gives a ceiling of 0.
    """
    reliability = split_half_reliability(repeats, n_splits, seed)
    return np.sqrt(np.clip(reliability, 0.0, None))
