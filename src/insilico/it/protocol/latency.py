"""The latency that maps a recurrent model's steps onto the recordings' time bins.

A ConvRNN's step ``t`` (10 ms each from image onset) stands for the bin starting at
``latency + 10 t`` ms: the recorded neurons respond 90-110 ms after onset, the model at once, so
without a latency its image-off decay would be scored against bins where the neurons are still
driven. Before the latency a model has no state yet: those bins get constant (silent) features,
which the protocol scores 0.

Two ways to set it. ``onset`` (the default, no fitting): per region, the start of the first bin
where the split-half ceiling reaches half its peak (:func:`onset_latency`), the recordings' own
response onset, the same for every model, layer and split. ``fit``: a choice made on training
stimuli only: for every outer split of the protocol, each latency of a small grid is scored by an inner k-fold ridge regression on that
split's training stimuli (features at the mapped step -> responses in the bin, Pearson r on the
inner held-out stimuli, median over neuroids, mean over bins), and the best one is used for that
split's held-out score. numpy only.
"""

from __future__ import annotations

import numpy as np

from insilico.core.units import IT_BIN_MS


def onset_latency(ceiling_t: np.ndarray, bin_starts_ms) -> int:
    """Start (ms) of the first bin whose ceiling reaches half its peak: ``ceiling_t`` ``(bins,)``."""
    ceiling_t = np.nan_to_num(np.asarray(ceiling_t, float), nan=-np.inf)
    first = np.flatnonzero(ceiling_t >= ceiling_t.max() / 2)[0]
    return int(np.asarray(bin_starts_ms)[first])


def step_of_bins(bin_starts_ms, latency_ms: int, n_steps: int) -> np.ndarray:
    """Model step of each bin for ``latency_ms``: ``(start - latency) / 10``, -1 where the bin
    starts before the latency (no model state yet), the last step where it lies past the unroll."""
    steps = (np.asarray(bin_starts_ms, int) - int(latency_ms)) // IT_BIN_MS
    return np.where(steps < 0, -1, np.minimum(steps, n_steps - 1))


def features_at(values: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """``(len(steps), N, k)`` features of ``values`` ``(N, n_steps, k)`` at ``steps``; a step of
    -1 gives zeros (silent, scored 0)."""
    out = np.zeros((len(steps), values.shape[0], values.shape[2]))
    valid = steps >= 0
    out[valid] = np.moveaxis(values[:, steps[valid]], 1, 0)
    return out


def _fold_of(labels: np.ndarray, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    folds = np.empty(len(labels), int)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        folds[members] = np.arange(len(members)) % n_folds
    return folds


def _held_out_r(values, targets, test) -> np.ndarray:
    """``(n_steps, bins, q)``: Pearson r on the ``test`` stimuli of a ridge regression from the
    features at every step to the responses in every bin, fitted on the others (penalty: the mean
    eigenvalue of the training Gram matrix); a constant prediction scores 0."""
    train = ~test
    y = targets[:, train] - targets[:, train].mean(1, keepdims=True)  # (bins, n, q)
    bins, n, q = y.shape
    y_flat = np.moveaxis(y, 0, 1).reshape(n, bins * q)
    truth = targets[:, test] - targets[:, test].mean(1, keepdims=True)  # (bins, m, q)
    out = np.zeros((values.shape[1], bins, q))
    for step in range(values.shape[1]):
        x = values[train, step]
        mean = x.mean(0)
        a, b = x - mean, values[test, step] - mean
        gram = a.T @ a
        penalty = np.trace(gram) / max(len(gram), 1) + 1e-12
        weights = np.linalg.solve(gram + penalty * np.eye(len(gram)), a.T @ y_flat)
        pred = np.moveaxis((b @ weights).reshape(len(b), bins, q), 1, 0)  # (bins, m, q)
        pred = pred - pred.mean(1, keepdims=True)
        denominator = np.sqrt((pred**2).sum(1) * (truth**2).sum(1))
        safe = np.where(denominator > 0, denominator, 1)
        out[step] = np.where(denominator > 0, (pred * truth).sum(1) / safe, 0)
    return out


def latency_curve(
    values: np.ndarray,
    targets: np.ndarray,
    bin_starts_ms,
    grid_ms,
    labels: np.ndarray,
    groups: np.ndarray | None = None,
    *,
    n_folds: int = 3,
    seed: int = 0,
) -> np.ndarray:
    """Inner cross-validated score of every latency in ``grid_ms`` (see the module docstring):
    ``(grid,)``, or ``(grid, n_groups)`` with ``groups`` (a label per neuroid, e.g. its region;
    the median over neuroids is then taken per group, in ``np.unique(groups)`` order).

    ``values`` ``(N, n_steps, k)`` model features of the training stimuli, ``targets``
    ``(bins, N, q)`` their responses, ``labels`` the stratification (object) per stimulus.
    """
    folds = _fold_of(np.asarray(labels), n_folds, np.random.default_rng(seed))
    by_group = groups is not None
    groups = np.asarray(groups) if by_group else np.zeros(targets.shape[-1], int)
    names = np.unique(groups)
    n_steps, n_bins = values.shape[1], len(bin_starts_ms)
    r = np.mean([_held_out_r(values, targets, folds == fold) for fold in range(n_folds)], 0)
    medians = np.stack([np.median(r[..., groups == name], -1) for name in names], -1)
    scores = np.zeros((len(grid_ms), len(names)))  # silent bins (before the latency) add 0
    for g, latency in enumerate(grid_ms):
        steps = step_of_bins(bin_starts_ms, latency, n_steps)
        mapped = steps >= 0
        scores[g] = medians[steps[mapped], np.flatnonzero(mapped)].sum(0) / n_bins
    return scores if by_group else scores[:, 0]


def fit_latency(values, targets, bin_starts_ms, grid_ms, labels, groups=None, **kwargs):
    """The latency of ``grid_ms`` with the best inner cross-validated score (the first on ties);
    with ``groups``, one per group (``np.unique(groups)`` order)."""
    curve = latency_curve(values, targets, bin_starts_ms, grid_ms, labels, groups, **kwargs)
    best = np.asarray(grid_ms)[np.argmax(curve, axis=0)]
    return best.astype(int) if groups is not None else int(best)
