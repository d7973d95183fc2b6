"""Metrics and the split-half ceiling, checked against closed forms and simulated known reliability."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import numpy as np
import pytest

from insilico.core.stats import (
    fraction_explained_variance,
    pearson,
    pearson_torch,
    split_half_ceiling,
    split_half_reliability,
)

SRC = Path(__file__).resolve().parents[3] / "src" / "insilico"


def degenerate_series(dtype=np.float64):
    """Rows: a constant, a constant with round-off in its mean, one with a nan, three ordinary."""
    rng = np.random.default_rng(1)
    target = rng.normal(size=(6, 40)).astype(dtype)
    pred = rng.normal(size=(6, 40)).astype(dtype)
    pred[0] = 0.0
    pred[1] = 0.1
    pred[2, 5] = np.nan
    pred[5] = 3.0 * target[5] + 1.0  # r = 1 exactly, up to round-off
    return pred, target


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_numpy_and_torch_forms_agree_including_the_constant_prediction(dtype):
    torch = pytest.importorskip("torch")
    pred, target = degenerate_series(dtype)
    r_torch = pearson_torch(torch.from_numpy(pred), torch.from_numpy(target)).numpy()
    r_numpy = pearson(pred.astype(np.float64), target.astype(np.float64))
    assert np.isnan(r_torch[:3]).all() and np.isnan(r_numpy[:3]).all()  # one value: nan
    assert np.isfinite(r_torch[3:]).all() and abs(r_torch[3:]).max() <= 1.0
    # the same formula; only the order of the sums differs (round-off of the dtype)
    assert np.allclose(
        r_torch[3:], r_numpy[3:], rtol=0, atol=1e-13 if dtype == np.float64 else 1e-6
    )
    # the torch form works along any dim, like the NumPy one along any axis
    along = pearson_torch(torch.from_numpy(pred.T.copy()), torch.from_numpy(target.T.copy()), 0)
    assert np.allclose(along.numpy(), r_torch, rtol=0, atol=1e-6, equal_nan=True)


def _calls_the_shared_pearson(function: ast.FunctionDef) -> bool:
    """A wrapper (e.g. the trainer's mean over cells) that computes r with core.stats itself."""
    return any(
        isinstance(node, ast.Name) and node.id in ("pearson", "pearson_torch")
        for node in ast.walk(function)
    )


def test_no_other_pearson_is_defined_in_the_package():
    """Every caller uses insilico.core.stats; the one correlation computed otherwise
    (mechanisms.groundtruth._sampled_pearson, from sums over a series that is never built) is
    documented there and gives the same nan for a constant channel."""
    others = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "stats.py" and path.parent.name == "core":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            named = (
                isinstance(node, ast.FunctionDef)
                and "pearson" in node.name
                and not _calls_the_shared_pearson(node)
            )
            corrcoef = isinstance(node, ast.Attribute) and node.attr == "corrcoef"
            if named or corrcoef:
                others.append(f"{path.relative_to(SRC)}:{getattr(node, 'name', 'corrcoef')}")
    assert others == ["mechanisms/groundtruth.py:_sampled_pearson"]


def test_the_sampled_pearson_gives_nan_for_a_constant_channel():
    from insilico.mechanisms.groundtruth import _sampled_pearson

    rng = np.random.default_rng(2)
    matrix = np.full((3, 4), 0.25)  # every unit reads the mean of 4 grid cells
    signal = rng.normal(size=(20, 4))
    assert np.isnan(_sampled_pearson(np.full((20, 3), 2.0), signal, matrix))
    sampled = signal @ matrix.T
    channel = 2.0 * sampled + rng.normal(scale=0.1, size=sampled.shape)
    expected = pearson(channel.ravel(), sampled.ravel())
    assert _sampled_pearson(channel, signal, matrix) == pytest.approx(expected)


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
