"""The latency that maps model steps onto time bins: recovered on synthetic responses, and used by
the scoring; Brain-Score's own splits."""

from __future__ import annotations

import numpy as np
import pytest

from insilico.core.splits import training_masks
from insilico.it.protocol.latency import (
    fit_latency,
    latency_curve,
    onset_latency,
    step_of_bins,
)

BINS = np.arange(70, 260, 10)
GRID = np.arange(0, 130, 10)


def synthetic(shift_ms: int, n_stimuli=200, n_steps=26, k=12, q=15, noise=0.5, seed=0):
    """Model features that drift from step to step (AR(1), correlation 0.7 between neighbouring
    steps, as a recurrent state does), and responses that read the step ``(bin - shift) / 10``
    (nothing before the shift), with noise."""
    rng = np.random.default_rng(seed)
    innovations = rng.standard_normal((n_stimuli, n_steps, k))
    values = innovations.copy()
    for step in range(1, n_steps):
        values[:, step] = 0.7 * values[:, step - 1] + np.sqrt(1 - 0.49) * innovations[:, step]
    weights = rng.standard_normal((k, q))
    targets = rng.standard_normal((len(BINS), n_stimuli, q)) * noise
    for b, step in enumerate(step_of_bins(BINS, shift_ms, n_steps)):
        if step >= 0:
            targets[b] += values[:, step] @ weights
    labels = np.repeat(np.arange(20), n_stimuli // 20)
    return values, targets, labels


@pytest.mark.parametrize("shift", [0, 40, 90, 120])
def test_latency_fit_recovers_a_known_shift(shift):
    values, targets, labels = synthetic(shift)
    assert fit_latency(values, targets, BINS, GRID, labels) == shift


def test_latency_fit_on_responses_unrelated_to_the_model_has_no_clear_peak():
    values, _, labels = synthetic(40)
    noise = np.random.default_rng(5).standard_normal((len(BINS), 200, 15))
    curve = latency_curve(values, noise, BINS, GRID, labels)
    assert np.abs(curve).max() < 0.15  # the known-answer case scores far higher
    values, targets, labels = synthetic(40)
    assert latency_curve(values, targets, BINS, GRID, labels).max() > 0.5


def test_step_of_bins_is_silent_before_the_latency_and_clipped_after_the_unroll():
    np.testing.assert_array_equal(step_of_bins([70, 100, 250], 90, 10), [-1, 1, 9])


def test_brainscore_splits_are_scikit_learns_stratified_draw():
    from sklearn.model_selection import StratifiedShuffleSplit

    labels = np.repeat([f"object{i}" for i in range(16)], 10)
    masks = training_masks(labels, 10, 0.9, 1, "brainscore")
    assert masks.shape == (10, 160) and (masks.sum(1) == 144).all()
    splitter = StratifiedShuffleSplit(n_splits=10, train_size=0.9, random_state=1)
    first_train, _ = next(splitter.split(np.zeros(160), labels))
    np.testing.assert_array_equal(np.flatnonzero(masks[0]), np.sort(first_train))
    for mask in masks:  # one held-out image per object
        np.testing.assert_array_equal(np.unique(labels[~mask], return_counts=True)[1], 1)
    assert not np.array_equal(masks, training_masks(labels, 10, 0.9, 1, "project"))
    with pytest.raises(ValueError, match="unknown split source"):
        training_masks(labels, 10, 0.9, 1, "other")


def test_score_model_scores_each_bin_at_the_fitted_latency(tmp_path):
    """A temporal 'model' whose step t carries what the neurons show 40 ms later: the scoring
    fits 40 ms on every split's training stimuli, and the per-bin scores are high there but not
    with the latency fixed at 0."""
    import xarray as xr

    from insilico.core.io import write_netcdf
    from insilico.it.protocol.score import score_model

    rng = np.random.default_rng(3)
    n, steps, bins = 120, 26, np.arange(70, 170, 10)
    latent = rng.standard_normal((n, steps, 6))
    weights = rng.standard_normal((6, 8))
    rates = np.stack([latent[:, (b - 40) // 10] @ weights for b in bins], -1)
    rates = rates + 0.3 * rng.standard_normal(rates.shape)
    neural = xr.Dataset(
        {
            "rates": (("stimulus", "neuroid", "time_bin"), rates),
            "rates_window": (("stimulus", "neuroid"), rates.mean(-1)),
            # the split-half ceiling reaches half its peak at 110 ms (the onset option's latency)
            "consistency": (
                ("split", "neuroid", "time_bin"),
                np.broadcast_to(np.where(bins >= 110, 0.8, 0.05), (3, 8, len(bins))),
            ),
            "consistency_window": (("split", "neuroid"), np.full((3, 8), 0.8)),
        },
        coords={
            "stimulus_id": ("stimulus", [f"s{i}" for i in range(n)]),
            "object_name": ("stimulus", [f"o{i % 12}" for i in range(n)]),
            "neuroid_id": ("neuroid", [f"n{i}" for i in range(8)]),
            "region": ("neuroid", ["V4"] * 4 + ["IT"] * 4),
            "time_bin_start": ("time_bin", bins),
            "time_bin_end": ("time_bin", bins + 10),
        },
        attrs={"window_start_ms": 70, "window_end_ms": 170},
    )
    path = tmp_path / "layer.nc"
    write_netcdf(
        xr.Dataset(
            {"activations": (("stimulus", "time_step", "feature"), latent)},
            coords={
                "stimulus_id": ("stimulus", neural["stimulus_id"].values),
                "time_step": np.arange(steps),
            },
            attrs={
                "cache_key": "k",
                "temporal": 1,
                "kind": "convrnn",
                "test_accuracy": 0.5,
                "steps_trained": 1,
            },
        ),
        path,
    )
    kwargs = {"n_splits": 3, "train_fraction": 0.9, "seed": 1, "n_components": 5}
    fitted = score_model(neural, {"conv1": str(path)}, latency_grid_ms=GRID, **kwargs)
    assert (fitted["latency_ms"] == 40).all()
    assert float(fitted["score"].mean()) > 0.8
    fixed = score_model(neural, {"conv1": str(path)}, latency_grid_ms=[0], **kwargs)
    assert (fixed["latency_ms"] == 0).all() and float(fixed["score"].mean()) < 0.3
    onset = score_model(neural, {"conv1": str(path)}, latency="onset", **kwargs)
    assert (onset["latency_ms"] == 110).all() and onset.attrs["latency"] == "onset"


def test_onset_latency_is_the_first_bin_at_half_the_peak_ceiling():
    ceiling = np.where(BINS >= 100, 0.9, 0.05) + 0.02 * np.random.default_rng(0).random(len(BINS))
    ceiling[BINS == 90] = 0.3  # rising, below half the peak
    assert onset_latency(ceiling, BINS) == 100
    assert onset_latency(np.r_[np.nan, ceiling[1:]], BINS) == 100
