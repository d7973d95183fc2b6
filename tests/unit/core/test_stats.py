"""Metrics and the split-half ceiling, checked against closed forms and simulated known reliability."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from insilico.core.stats import (
    fraction_explained_variance,
    pearson,
    split_half_ceiling,
    split_half_reliability,
)


def test_pearson_matches_corrcoef_and_is_vectorised():
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=(2, 3, 4, 50))
    r = pearson(pred, target)
    assert r.shape == (3, 4)
    assert r[1, 2] == pytest.approx(np.corrcoef(pred[1, 2], target[1, 2])[0, 1])
    assert pearson(pred, target, axis=0).shape == (4, 50)
    # Broadcasting one target against many predictions.
    assert np.allclose(pearson(pred[0], target[0, 0]), [pearson(p, target[0, 0]) for p in pred[0]])


def test_pearson_degenerate_series_give_nan_silently():
    rng = np.random.default_rng(1)
    target = rng.normal(size=(4, 30))
    pred = rng.normal(size=(4, 30))
    pred[0] = 0.0
    pred[1] = 0.1  # constant with round-off in its mean
    pred[2, 5] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = pearson(pred, target)
    assert np.isnan(r[:3]).all()
    assert np.isfinite(r[3])
    assert pearson(target, 3 * target + 2) == pytest.approx(np.ones(4))


def test_fraction_explained_variance():
    rng = np.random.default_rng(2)
    target = rng.normal(size=(3, 100))
    assert fraction_explained_variance(target, target) == pytest.approx(np.ones(3))
    mean_prediction = np.broadcast_to(target.mean(axis=1, keepdims=True), target.shape)
    assert fraction_explained_variance(mean_prediction, target) == pytest.approx(
        np.zeros(3), abs=1e-12
    )
    assert (fraction_explained_variance(2 * target, target) < 1).all()  # wrong gain is penalised
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fev = fraction_explained_variance(target, np.ones((3, 100)))
    assert np.isnan(fev).all()


def _signal_plus_noise(n_cells, n_repeats, n_bins, noise_std, seed):
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=(n_cells, 1, n_bins))
    repeats = signal + noise_std * rng.normal(size=(n_cells, n_repeats, n_bins))
    return signal[:, 0], repeats


@pytest.mark.parametrize("n_repeats", [2, 4, 5, 6])
def test_ceiling_recovers_known_reliability(n_repeats):
    """Unit-variance signal + noise of variance 4: ceiling = sqrt(1 / (1 + 4 / n))."""
    noise_var = 4.0
    signal, repeats = _signal_plus_noise(20, n_repeats, 20_000, np.sqrt(noise_var), seed=n_repeats)
    analytic = np.sqrt(1.0 / (1.0 + noise_var / n_repeats))
    empirical = pearson(signal, repeats.mean(axis=1))  # what a perfect model reaches
    ceiling = split_half_ceiling(repeats, n_splits=10, seed=0)
    assert ceiling.shape == (20,)
    assert ceiling.mean() == pytest.approx(analytic, abs=0.006)
    assert np.abs(ceiling - empirical).max() < 0.03
    reliability = split_half_reliability(repeats, n_splits=10, seed=0)
    assert np.allclose(np.sqrt(reliability), ceiling)


def test_odd_repeat_count_is_corrected_to_all_repeats():
    """With 5 repeats the estimate matches the 5-repeat ceiling, not the 4-repeat one."""
    _, repeats = _signal_plus_noise(30, 5, 20_000, 2.0, seed=7)
    ceiling = split_half_ceiling(repeats, n_splits=20, seed=1).mean()
    five, four = np.sqrt(1 / (1 + 4 / 5)), np.sqrt(1 / (1 + 4 / 4))
    assert abs(ceiling - five) < abs(ceiling - four) / 4


def test_ceiling_is_deterministic_and_handles_degenerate_cells():
    _, repeats = _signal_plus_noise(3, 5, 200, 1.0, seed=3)
    repeats[1] = 0.0  # silent cell
    repeats[2] = np.random.default_rng(0).normal(size=(5, 200))  # pure noise
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = split_half_ceiling(repeats, n_splits=8, seed=4)
    assert np.array_equal(first, split_half_ceiling(repeats, n_splits=8, seed=4), equal_nan=True)
    assert np.isfinite(first[0]) and 0 < first[0] < 1
    assert np.isnan(first[1])
    assert 0 <= first[2] < 0.5


def test_ceiling_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 2 repeats"):
        split_half_ceiling(np.zeros((2, 1, 10)), n_splits=3, seed=0)
    with pytest.raises(ValueError, match="n_cells, n_repeats, T"):
        split_half_ceiling(np.zeros((2, 10)), n_splits=3, seed=0)
    with pytest.raises(ValueError, match="n_splits"):
        split_half_ceiling(np.zeros((2, 4, 10)), n_splits=0, seed=0)
