"""The latency that maps a recurrent model's steps onto the recordings' time bins.

A ConvRNN's step ``t`` (10 ms each from image onset) stands for the bin starting at
``latency + 10 t`` ms: the recorded neurons respond 90-110 ms after onset, the model at once, so
without a latency its image-off decay would be scored against bins where the neurons are still
driven. Before the latency a model has no state yet: those bins get constant (silent) features,
which the protocol scores 0.

The latency is a choice and is made on training stimuli only: for every outer split of the
protocol, each latency of a small grid is scored by an inner k-fold ridge regression on that
split's training stimuli (features at the mapped step -> responses in the bin, Pearson r on the
inner held-out stimuli, median over neuroids, mean over bins), and the best one is used for that
split's held-out score. numpy only.
"""

from __future__ import annotations

import numpy as np

from insilico.core.units import IT_BIN_MS


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


def _ridge_hat(x_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    """Test-by-train matrix of a ridge regression (penalty: the mean eigenvalue) on centred data."""
    mean = x_train.mean(0)
    a, b = x_train - mean, x_test - mean
    gram = a.T @ a
    penalty = np.trace(gram) / max(gram.shape[0], 1) + 1e-12
    return b @ np.linalg.solve(gram + penalty * np.eye(len(gram)), a.T)


def _pearson_median(pred: np.ndarray, target: np.ndarray) -> float:
    pred, target = pred - pred.mean(0), target - target.mean(0)
    denominator = np.sqrt((pred**2).sum(0) * (target**2).sum(0))
    r = np.where(
        denominator > 0, (pred * target).sum(0) / np.where(denominator > 0, denominator, 1), 0
    )
    return float(np.median(r))


def latency_curve(
    values: np.ndarray,
    targets: np.ndarray,
    bin_starts_ms,
    grid_ms,
    labels: np.ndarray,
    *,
    n_folds: int = 3,
    seed: int = 0,
) -> np.ndarray:
    """Inner cross-validated score of every latency in ``grid_ms`` (see the module docstring).

    ``values`` ``(N, n_steps, k)`` model features of the training stimuli, ``targets``
    ``(bins, N, q)`` their responses, ``labels`` the stratification (object) per stimulus.
    """
    folds = _fold_of(np.asarray(labels), n_folds, np.random.default_rng(seed))
    n_steps = values.shape[1]
    scores = np.zeros(len(grid_ms))
    for fold in range(n_folds):
        test = folds == fold
        centred = targets[:, ~test] - targets[:, ~test].mean(1, keepdims=True)
        hats = {}
        for g, latency in enumerate(grid_ms):
            steps = step_of_bins(bin_starts_ms, latency, n_steps)
            for b, step in enumerate(steps):
                if step < 0:
                    continue  # silent: r = 0
                if step not in hats:
                    hats[step] = _ridge_hat(values[~test, step], values[test, step])
                pred = hats[step] @ centred[b]
                scores[g] += _pearson_median(pred, targets[b, test])
    return scores / (n_folds * len(bin_starts_ms))


def fit_latency(values, targets, bin_starts_ms, grid_ms, labels, **kwargs) -> int:
    """The latency of ``grid_ms`` with the best inner cross-validated score (the first on ties)."""
    curve = latency_curve(values, targets, bin_starts_ms, grid_ms, labels, **kwargs)
    return int(np.asarray(grid_ms)[int(np.argmax(curve))])
