"""Object solution times (Kar et al. 2019) on responses whose answer is known by construction."""

from __future__ import annotations

import numpy as np

from insilico.it.solution_times import early_late, image_performance, solution_times


def test_solution_times_recover_when_category_information_appears():
    """Category patterns switch on at 80 ms for half the images and at 150 ms for the others."""
    rng = np.random.default_rng(0)
    n_categories, per_category, n_neuroids = 4, 20, 30
    labels = np.repeat(np.arange(n_categories), per_category)
    onset = np.where(rng.random(len(labels)) < 0.5, 80.0, 150.0)
    starts = np.arange(0, 250, 10)
    centres = starts + 5.0
    patterns = rng.normal(size=(n_categories, n_neuroids))
    on = (centres[None, :] >= onset[:, None]).astype(float)  # (images, bins)
    rates = patterns[labels][:, :, None] * 3 * on[:, None, :]
    rates = rates + rng.normal(0, 0.5, size=rates.shape)
    performance = image_performance(rates, labels, seed=0)
    assert performance[:, centres < 80].mean() < 0.7  # chance is 0.5
    assert performance[:, centres > 160].mean() > 0.95
    times = solution_times(performance, centres, criterion=0.9)
    assert np.isfinite(times).mean() > 0.95
    error = np.abs(times - onset)
    assert np.nanmedian(error) <= 10
    groups = early_late(times)
    assert (groups[onset == 80] == "early").mean() > 0.9
    assert (groups[onset == 150] == "late").mean() > 0.9


def test_solution_time_interpolates_and_marks_unsolved_images():
    performance = np.array([[0.5, 0.7, 0.9, 1.0], [0.9, 0.5, 0.6, 0.6], [0.95, 1, 1, 1]])
    times = solution_times(performance, np.array([75.0, 85.0, 95.0, 105.0]), criterion=0.8, hold=2)
    np.testing.assert_allclose(times[[0, 2]], [90.0, 75.0])
    assert np.isnan(times[1])
    assert list(early_late(times)) == ["late", "unsolved", "early"]


def test_solution_times_run_on_a_recording_without_image_kinds():
    """A stand-in for MajajHong2015's temporal assembly (as neural_targets reads it): category
    names, V4 and IT sites, no image_kind; the analysis and the decoding claim still run."""
    import xarray as xr

    from insilico.it.claims import recording_claims
    from insilico.it.solution_times import solution_time_dataset

    rng = np.random.default_rng(1)
    n, starts = 64, np.arange(70, 260, 10)
    labels = np.repeat(["car", "face", "chair", "boat"], n // 4)
    patterns = rng.normal(size=(4, 12))
    ramp = np.clip((starts - 90) / 60, 0, 1)  # information grows from 90 to 150 ms
    it = patterns[np.unique(labels, return_inverse=True)[1]][:, :, None] * 3 * ramp
    rates = np.concatenate([rng.normal(size=(n, 5, len(starts))), it], axis=1)
    rates = rates + rng.normal(0, 0.5, size=rates.shape)
    neural = xr.Dataset(
        {"rates": (("stimulus", "neuroid", "time_bin"), rates)},
        coords={
            "stimulus_id": ("stimulus", [f"img{i}" for i in range(n)]),
            "object_name": ("stimulus", labels),
            "category_name": ("stimulus", labels),
            "region": ("neuroid", ["V4"] * 5 + ["IT"] * 12),
            "time_bin_start": ("time_bin", starts),
            "time_bin_end": ("time_bin", starts + 10),
        },
    )
    times = solution_time_dataset(
        neural, region="IT", criterion=0.9, n_folds=4, n_repeats=2, ridge=0.1, seed=0
    )
    assert "image_kind" not in times.coords and times.sizes["stimulus"] == n
    solved = times["solution_time_ms"].values
    assert np.isfinite(solved).mean() > 0.9
    assert 95 <= np.nanmedian(solved) <= 150
    rows = recording_claims(times, late_start_ms=170)
    assert list(rows["claim"]) == ["decoding_rises"]
    # information saturates at 150 ms: late bins hold the post-onset peak, they do not rise above it
    assert rows["onset_ms"].item() <= 130 and not rows["holds"].item()
