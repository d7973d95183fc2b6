"""Cross-validated ridge predictivity, the metric the spectral theory speaks about, next to PLS.

Same protocol as the PLS score (the caller passes the stratified training masks of the IT
protocol): per split, fit on the training stimuli, Pearson r per neuroid on the held-out ones.
The ridge penalty is chosen per split on the training stimuli alone, by exact leave-one-out error
(generalised cross-validation in closed form from one SVD, as scikit-learn's ``RidgeCV`` does)
over a log grid scaled to the features' variance, so no held-out stimulus informs it.
"""

from __future__ import annotations

import numpy as np

from insilico.core.stats import pearson

#: penalties relative to the largest squared singular value of the centred training features
RELATIVE_ALPHAS = np.logspace(-6, 1, 15)


def leave_one_out_alpha(x: np.ndarray, y: np.ndarray, alphas: np.ndarray) -> float:
    """The penalty with the smallest exact leave-one-out squared error (x, y centred)."""
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    uy = u.T @ y
    best, best_error = alphas[0], np.inf
    for alpha in alphas:
        shrink = s**2 / (s**2 + alpha)
        hat_diagonal = np.sum(u**2 * shrink, axis=1) + 1.0 / len(x)  # + intercept
        residual = y - u @ (shrink[:, None] * uy)
        error = np.sum((residual / (1.0 - hat_diagonal)[:, None]) ** 2)
        if error < best_error:
            best, best_error = alpha, error
    return float(best)


def fit_predict(x_train, y_train, x_test, alphas=RELATIVE_ALPHAS) -> tuple[np.ndarray, float]:
    """Ridge with intercept, penalty by leave-one-out on the training set; predictions, penalty."""
    x_mean, y_mean = x_train.mean(axis=0), y_train.mean(axis=0)
    x, y = x_train - x_mean, y_train - y_mean
    scale = np.linalg.norm(x, ord=2) ** 2
    alpha = leave_one_out_alpha(x, y, alphas * scale)
    if x.shape[0] < x.shape[1]:  # kernel form: p x p system
        weights = x.T @ np.linalg.solve(x @ x.T + alpha * np.eye(len(x)), y)
    else:
        weights = np.linalg.solve(x.T @ x + alpha * np.eye(x.shape[1]), x.T @ y)
    return (x_test - x_mean) @ weights + y_mean, alpha


def cross_validated_r(features: np.ndarray, responses: np.ndarray, train_masks: np.ndarray):
    """Held-out Pearson r per split and neuroid (n_splits, K), and the chosen penalty per split."""
    scores, penalties = [], []
    for train in train_masks:
        prediction, alpha = fit_predict(features[train], responses[train], features[~train])
        # r per neuroid over the held-out stimuli; a constant prediction (nan) counts 0 here
        scores.append(np.nan_to_num(pearson(prediction, responses[~train], axis=0), nan=0.0))
        penalties.append(alpha)
    return np.array(scores), np.array(penalties)
