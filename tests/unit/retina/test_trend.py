"""The learning-curve trend recovers the data a target needs on curves whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from insilico.retina.trend import data_trend, minutes_to_reach, trend

MINUTES = np.array([1.0, 2.0, 4.0, 8.0])


def _curve(intercept, slope, n_cells=6, noise=0.0, seed=0):
    """(amounts, cells) correlations on an exact log-linear curve (ceiling 1 for every cell)."""
    rng = np.random.default_rng(seed)
    mean = intercept + slope * np.log2(MINUTES)
    return mean[:, None] + noise * rng.standard_normal((len(MINUTES), n_cells))


def test_an_exact_log_linear_curve_gives_the_known_amount():
    # 0.3 at 1 minute, +0.1 per doubling: 0.7 at 2**4 = 16 minutes.
    row = trend(_curve(0.3, 0.1), np.ones(6), MINUTES, target=0.7, n_points=3)
    assert row["gain_per_doubling"] == pytest.approx(0.1)
    assert row["minutes_to_target"] == pytest.approx(16.0)
    assert row["minutes_to_target_low"] == pytest.approx(16.0)
    assert row["fraction_at_largest"] == pytest.approx(0.6)
    assert row["gain_per_doubling_sem"] == pytest.approx(0.0, abs=1e-12)


def test_the_ceiling_scales_the_fraction():
    # Correlations half of an exact curve, ceiling 0.5: the same trend as ceiling 1.
    row = trend(0.5 * _curve(0.3, 0.1), np.full(6, 0.5), MINUTES, target=0.7, n_points=4)
    assert row["minutes_to_target"] == pytest.approx(16.0)


def test_cell_noise_widens_the_interval_around_the_amount():
    row = trend(_curve(0.3, 0.1, n_cells=12, noise=0.05), np.ones(12), MINUTES, 0.7, 4)
    assert row["minutes_to_target_low"] < row["minutes_to_target"] < row["minutes_to_target_high"]
    assert 8 < row["minutes_to_target"] < 32
    assert row["gain_per_doubling_sem"] > 0


def test_a_flat_or_falling_curve_never_reaches_the_target():
    assert minutes_to_reach(0.9, 0.0, 0.5) == float("inf")
    assert minutes_to_reach(0.9, 1e-9, 0.5) == float("inf")  # too far for a float
    row = trend(_curve(0.5, -0.01), np.ones(6), MINUTES, target=0.9, n_points=3)
    assert row["minutes_to_target"] == float("inf")


def test_only_the_largest_amounts_set_the_trend():
    # A curve that rises fast at first and then by 0.05 per doubling: the last three points.
    curve = _curve(0.3, 0.05)
    curve[0] -= 0.3
    row = trend(curve, np.ones(6), MINUTES, target=0.5, n_points=3)
    assert row["gain_per_doubling"] == pytest.approx(0.05)


def test_data_trend_uses_the_exact_ceiling_and_skips_classes_without_a_target():
    cells = [f"cell{i:02d}" for i in range(1, 7)]
    correlation = np.stack([_curve(0.3, 0.1), _curve(0.2, 0.1)])[:, :, None, :]
    efficiency = xr.Dataset(
        {
            "test_correlation": (("model", "fraction", "seed", "cell"), correlation),
            "train_minutes": ("fraction", MINUTES),
        },
        coords={"model": ["ln", "cnn"], "fraction": MINUTES / 8, "seed": [0], "cell": cells},
    )
    ceiling = xr.Dataset(
        {"ceiling": ("cell", np.full(6, 0.5)), "true_ceiling": ("cell", np.ones(6))},
        coords={"cell": cells},
    )
    table = data_trend(
        {("sim01", "whitenoise"): efficiency, ("sim01", "naturalscene"): efficiency},
        {("sim01", "whitenoise"): ceiling, ("sim01", "naturalscene"): ceiling},
        {"whitenoise": 0.7},
        n_points=4,
    )
    assert list(table["stimulus"]) == ["whitenoise", "whitenoise"]
    assert list(table["ceiling"]) == ["exact", "exact"]
    assert table.set_index("model")["minutes_to_target"].to_dict() == pytest.approx(
        {"ln": 16.0, "cnn": 32.0}
    )


def test_a_single_amount_is_an_error():
    with pytest.raises(ValueError, match="at least two amounts"):
        trend(_curve(0.3, 0.1)[:1], np.ones(6), MINUTES[:1], 0.7, 3)


def test_the_fraction_is_the_mean_of_per_cell_ratios_not_a_ratio_of_means():
    # Two cells, ceilings 0.5 and 1, r 0.5 and 0.5: per-cell ratios 1 and 0.5, mean 0.75
    # (a ratio of means would say 0.5 / 0.75 = 0.667).
    correlation = np.full((2, 2), 0.5)
    row = trend(correlation, np.array([0.5, 1.0]), MINUTES[:2], target=0.9, n_points=2)
    assert row["fraction_at_largest"] == pytest.approx(0.75)
