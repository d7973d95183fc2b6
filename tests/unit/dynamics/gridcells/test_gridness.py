import numpy as np
import pytest
from scipy import ndimage

from insilico.dynamics.gridcells import analysis
from insilico.dynamics.gridcells.gridness import (
    autocorrelogram,
    gridness,
    period_orientation,
    spatial_coherence,
)

BOX, N = 2.2, 40
AXIS = (np.arange(N) + 0.5) / N * BOX
X, Y = np.meshgrid(AXIS, AXIS, indexing="ij")


def plane_waves(period: float, angles) -> np.ndarray:
    k = 2 * np.pi / period
    return sum(np.cos(k * (np.cos(a) * X + np.sin(a) * Y)) for a in angles)


def hexagonal(period=0.7, orientation=0.2):
    return plane_waves(period, orientation + np.array([0, np.pi / 3, 2 * np.pi / 3]))


def test_autocorrelogram_is_one_at_zero_lag_and_symmetric():
    m = hexagonal()
    m[3, 5] = np.nan  # an unvisited bin is left out, not treated as zero
    ac = autocorrelogram(m)
    assert ac.shape == (2 * N - 1, 2 * N - 1)
    assert ac[N - 1, N - 1] == pytest.approx(1.0)
    np.testing.assert_allclose(ac, ac[::-1, ::-1], atol=1e-9, equal_nan=True)


def test_gridness_separates_hexagonal_square_and_random_maps():
    assert gridness(hexagonal()) > 1.0
    assert gridness(np.maximum(hexagonal(0.9, 1.0), 0)) > 0.8  # rectified, other scale and angle
    assert gridness(plane_waves(0.7, [0.3, 0.3 + np.pi / 2])) < -0.5  # square lattice
    rng = np.random.default_rng(0)
    random = [gridness(ndimage.gaussian_filter(rng.normal(size=(N, N)), 1)) for _ in range(20)]
    assert abs(np.nanmean(random)) < 0.15
    assert np.nanmax(random) < 0.5


def test_period_and_orientation_of_a_hexagonal_map():
    period, orientation = period_orientation(hexagonal(0.7, np.radians(12)), BOX)
    assert period == pytest.approx(0.7, rel=0.05)
    assert orientation == pytest.approx(12, abs=3)


def test_rate_maps_average_activity_per_bin():
    rng = np.random.default_rng(0)
    position = rng.uniform(-BOX / 2, BOX / 2, size=(20000, 2))
    field = np.cos(2 * np.pi * position[:, 0] / 0.7)
    activity = np.stack([field, np.ones_like(field)], axis=-1)[None]  # (1 network, S, 2 units)
    maps = analysis.rate_maps(position, activity, BOX, 10)
    assert maps.shape == (1, 2, 10, 10)
    np.testing.assert_allclose(maps[0, 1], 1.0)
    centres = (np.arange(10) + 0.5) / 10 * BOX - BOX / 2
    expected = np.cos(2 * np.pi * centres / 0.7)
    np.testing.assert_allclose(maps[0, 0].mean(1), expected, atol=0.25)


def test_unit_scores_and_summary_count_grid_units():
    import xarray as xr

    maps = np.stack([hexagonal(), plane_waves(0.7, [0.0]), np.zeros((N, N))])[None]
    scores = analysis.unit_scores(maps, BOX)
    assert scores["gridness"][0, 0] > 1 and scores["gridness"][0, 1] < 0.5
    assert np.isnan(scores["gridness"][0, 2])  # a silent unit has no score
    assert scores["period"][0, 0] == pytest.approx(0.7, rel=0.05)
    ds = xr.Dataset({k: (("network", "unit"), v) for k, v in scores.items()})
    summary = analysis.grid_summary(ds, threshold=0.3, coherence=0.8)
    assert int(summary["n_grid"][0]) == 1
    assert float(summary["grid_fraction"][0]) == pytest.approx(1 / 3)
    assert float(summary["grid_period"][0]) == pytest.approx(0.7, rel=0.05)


def test_spatial_coherence_tells_fields_from_noise():
    rng = np.random.default_rng(1)
    assert spatial_coherence(hexagonal()) > 0.9
    noise = [spatial_coherence(rng.normal(size=(N, N))) for _ in range(10)]
    assert abs(np.mean(noise)) < 0.1
    noisy_grid = hexagonal() + 3 * rng.normal(size=(N, N))
    assert (
        spatial_coherence(noisy_grid)
        < 0.5
        < spatial_coherence(hexagonal() + 0.3 * rng.normal(size=(N, N)))
    )


def test_grid_units_need_gridness_and_coherence():
    import xarray as xr

    ds = xr.Dataset(
        {
            "gridness": (("network", "unit"), [[1.0, 1.0, 0.1]]),
            "coherence": (("network", "unit"), [[0.95, 0.3, 0.95]]),
            "period": (("network", "unit"), [[0.7, 0.5, 0.9]]),
        }
    )
    summary = analysis.grid_summary(ds, threshold=0.3, coherence=0.8)
    assert float(summary["grid_fraction"][0]) == pytest.approx(1 / 3)
    assert float(summary["gridness_only_fraction"][0]) == pytest.approx(2 / 3)
    assert float(summary["grid_period"][0]) == pytest.approx(0.7)


@pytest.mark.parametrize("period", [0.78, 0.98])
def test_period_estimate_is_unbiased_on_the_default_rate_map_grid(period):
    """24 bins over 2.2 m (the default): rectified hexagonal maps of several orientations."""
    n, box = 24, 2.2
    axis = (np.arange(n) + 0.5) / n * box
    x, y = np.meshgrid(axis, axis, indexing="ij")
    k = 2 * np.pi / period
    estimates = []
    for theta in np.linspace(0, np.pi / 3, 6, endpoint=False):
        angles = theta + np.array([0, np.pi / 3, 2 * np.pi / 3])
        m = sum(np.cos(k * (np.cos(a) * x + np.sin(a) * y)) for a in angles)
        estimates.append(period_orientation(np.maximum(m, 0), box)[0])
    assert np.median(estimates) == pytest.approx(period, rel=0.04)
