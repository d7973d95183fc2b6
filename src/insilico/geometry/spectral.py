"""Spectral theory of neural prediction (Canatar, Feather, Wakhloo & Chung, NeurIPS 2023).

Ridge regression from model features x to neural responses y, fitted on p stimuli drawn from a
stimulus distribution (here: uniform over the stimulus set), has a generalisation error that the
theory of kernel regression (Bordelon, Canatar & Pehlevan 2020; Canatar et al. 2021) predicts from
two things only: the eigenvalues lambda_i of the feature kernel over the distribution
(eigenvalues of X X' / n for n stimuli) and the power a_i^2 of the responses along each
eigenvector (summed over neurons). With ridge parameter lambda (loss sum_mu (w.x_mu - y_mu)^2 +
lambda ||w||^2) and kappa the positive solution of the self-consistent equation

    kappa = lambda + kappa sum_i lambda_i / (p lambda_i + kappa),
    gamma = sum_i p lambda_i^2 / (p lambda_i + kappa)^2,

the expected error over the distribution is E_g(p) = sum_i W_i(p), with error modes

    W_i(p) = kappa^2 a_i^2 / ((1 - gamma) (p lambda_i + kappa)^2).

Response power outside the features' span (lambda_i = 0) is unlearnable and enters with
W_i = a_i^2 / (1 - gamma), the theory's effective noise. Canatar et al. summarise the error modes
by their geometry: radius R_em = ||W||_2 and dimension D_em = ||W||_1^2 / ||W||_2^2 (a
participation ratio), so that E_g = R_em sqrt(D_em). Errors here are normalised by the total
response power sum_i a_i^2 (1 at p = 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq


@dataclass(frozen=True)
class Spectrum:
    """Kernel eigenvalues over the stimulus set and the responses' power along each eigenvector."""

    eigenvalues: np.ndarray  # (n,), descending, >= 0
    target_power: np.ndarray  # (n,), a_i^2 summed over neurons; sums to the total power

    @property
    def total_power(self) -> float:
        return float(self.target_power.sum())


def centred(values: np.ndarray) -> np.ndarray:
    """Subtract the mean over stimuli (axis 0): the theory has no intercept."""
    return values - values.mean(axis=0, keepdims=True)


def spectrum(features: np.ndarray, responses: np.ndarray) -> Spectrum:
    """Eigen-decompose the feature kernel over the stimuli and project the responses on it.

    ``features`` (n, F) and ``responses`` (n, K), both centred over stimuli here. The eigenvectors
    u_i of X X' / n are orthonormal over stimuli; a_i^2 = sum_k (u_i . y_k)^2 / n is the mean
    squared response along mode i, so sum_i a_i^2 = mean over stimuli of ||y||^2.
    """
    x, y = centred(features), centred(responses)
    n = len(x)
    eigenvalues, eigenvectors = np.linalg.eigh(x @ x.T / n)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues = np.clip(eigenvalues[order], 0.0, None)
    projections = eigenvectors[:, order].T @ y
    return Spectrum(eigenvalues, np.sum(projections**2, axis=1) / n)


def solve_kappa(eigenvalues: np.ndarray, p: int, ridge: float) -> float:
    """The positive root of kappa = ridge + kappa sum_i lambda_i / (p lambda_i + kappa)."""
    positive = eigenvalues[eigenvalues > 0]
    if ridge <= 0 and p >= len(positive):
        return 0.0  # interpolation of a learnable target: no error left in the span

    def residual(kappa: float) -> float:
        return 1.0 - ridge / kappa - np.sum(positive / (p * positive + kappa))

    upper = ridge + positive.sum() + 1e-300
    lower = upper * 1e-16
    while residual(lower) > 0:
        lower *= 1e-4
    return float(brentq(residual, lower, upper, xtol=1e-14 * upper, rtol=1e-12, maxiter=500))


def error_modes(spec: Spectrum, p: int, ridge: float) -> np.ndarray:
    """W_i(p), normalised by the total response power; E_g(p) = their sum."""
    lam = spec.eigenvalues
    if p == 0:
        return spec.target_power / spec.total_power
    kappa = solve_kappa(lam, p, ridge)
    gamma = np.sum(p * lam**2 / (p * lam + kappa) ** 2) if kappa > 0 else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        shrink = np.where(lam > 0, kappa / (p * lam + kappa), 1.0)
    return shrink**2 * spec.target_power / ((1.0 - gamma) * spec.total_power)


def theory_error(spec: Spectrum, sizes, ridge: float) -> np.ndarray:
    """Predicted normalised generalisation error at each training size p."""
    return np.array([error_modes(spec, int(p), ridge).sum() for p in sizes])


def error_mode_geometry(modes: np.ndarray) -> tuple[float, float]:
    """Radius ||W||_2 and dimension ||W||_1^2 / ||W||_2^2 of the error modes."""
    radius = float(np.linalg.norm(modes))
    return radius, float(modes.sum() ** 2 / radius**2) if radius > 0 else 0.0


def spectral_decay(eigenvalues: np.ndarray, n_modes: int) -> float:
    """Power-law exponent of the top ``n_modes`` eigenvalues (slope of log lambda on log rank)."""
    top = eigenvalues[: min(n_modes, int(np.sum(eigenvalues > 1e-10 * eigenvalues[0])))]
    ranks = np.arange(1, len(top) + 1)
    return float(-np.polyfit(np.log(ranks), np.log(top), 1)[0])


def alignment(spec: Spectrum) -> float:
    """Area under the cumulative response power against the fraction of modes (1 = first mode).

    0.5 when the responses spread evenly over the modes, near 1 when they lie along the
    features' top eigenvectors: the task-model alignment the theory says lowers the error.
    """
    cumulative = np.cumsum(spec.target_power) / spec.total_power
    return float(np.mean(cumulative))


def empirical_error(
    features: np.ndarray, responses: np.ndarray, sizes, ridge: float, n_reps: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Ridge error over the whole stimulus set after fitting on p random stimuli: mean, sem.

    The same estimator and normalisation as the theory (centred data, no intercept, loss with
    ``ridge`` on the sum of squares, error over the distribution, i.e. all n stimuli, training
    ones included), so theory and simulation are compared like for like. The error on held-out
    stimuli only is larger by about 1 / (1 - p / n) (measured: 11 % at p / n = 0.1), which is why
    it is not the quantity the theory predicts. Fitted in the kernel form (p x p systems).
    """
    x, y = centred(features), centred(responses)
    n = len(x)
    total = np.sum(y**2) / n
    rng = np.random.default_rng(seed)
    means, sems = [], []
    for p in sizes:
        errors = []
        for _ in range(n_reps):
            train = rng.choice(n, size=int(p), replace=False)
            kernel = x[train] @ x[train].T
            coefficients = np.linalg.solve(kernel + ridge * np.eye(len(train)), y[train])
            prediction = x @ (x[train].T @ coefficients)
            errors.append(np.sum((prediction - y) ** 2) / n / total)
        means.append(np.mean(errors))
        sems.append(np.std(errors, ddof=1) / np.sqrt(n_reps))
    return np.array(means), np.array(sems)
