"""Rate maps and grid statistics of trained networks' units (numpy only: no torch here)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from insilico.dynamics.gridcells.gridness import gridness, period_orientation


def rate_maps(
    position: np.ndarray, activity: np.ndarray, box: float, resolution: int
) -> np.ndarray:
    """Mean activity per spatial bin: ``position (S, 2)``, ``activity (..., S, H)`` ->
    ``(..., H, resolution, resolution)``, NaN in unvisited bins."""
    index = np.clip(((position / box + 0.5) * resolution).astype(int), 0, resolution - 1)
    flat = index[:, 0] * resolution + index[:, 1]
    bins = resolution * resolution
    counts = np.bincount(flat, minlength=bins).astype(float)
    lead = activity.shape[:-2]
    units = activity.reshape(-1, activity.shape[-2], activity.shape[-1])
    sums = np.stack([np.stack([np.bincount(flat, u, bins) for u in net.T]) for net in units])
    with np.errstate(invalid="ignore", divide="ignore"):
        maps = np.where(counts > 0, sums / counts, np.nan)
    return maps.reshape(*lead, activity.shape[-1], resolution, resolution)


def unit_scores(maps: np.ndarray, box: float) -> dict[str, np.ndarray]:
    """Gridness, period (m) and orientation (degrees mod 60) of every map ``(..., n, n)``.

    Silent or constant units (no spatial variance) get NaN.
    """
    flat = maps.reshape(-1, *maps.shape[-2:])
    scores = np.full((3, len(flat)), np.nan)
    for i, m in enumerate(flat):
        if np.nanstd(m) > 1e-8:
            scores[0, i] = gridness(m)
            scores[1:, i] = period_orientation(m, box)
    shape = maps.shape[:-2]
    return {
        "gridness": scores[0].reshape(shape),
        "period": scores[1].reshape(shape),
        "orientation": scores[2].reshape(shape),
    }


def grid_summary(scores: xr.Dataset, threshold: float) -> xr.Dataset:
    """Per network: fraction of units above the gridness threshold, their median period and
    the best unit's gridness (fractions over all units, silent ones counted as not grid)."""
    is_grid = scores["gridness"] > threshold
    period = scores["period"].where(is_grid)
    return xr.Dataset(
        {
            "grid_fraction": is_grid.mean("unit"),
            "n_grid": is_grid.sum("unit"),
            "max_gridness": scores["gridness"].max("unit"),
            "median_gridness": scores["gridness"].median("unit"),
            "grid_period": period.median("unit"),
        },
        attrs={"gridness_threshold": threshold},
    )
