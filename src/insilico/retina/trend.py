"""How much training data would a model need to reach a target fraction of its ceiling?

The data-efficiency runs give test correlation against the amount of training data. Over the
largest amounts the learning curve is close to linear in the logarithm of the amount, so the
trend is summarised as the gain per doubling of the data and extrapolated to the amount at which
the mean correlation reaches ``target`` times the mean ceiling (the exact ceiling of simulated
data, else the split-half one). Learning curves flatten as they approach the ceiling, so the
extrapolated amount is a lower bound: the data the trend says a target needs at least. The
uncertainty comes from resampling cells (a percentile bootstrap), since cells differ far more than
seeds.

Pure numpy/xarray (no torch): the trend job only reads the data-efficiency tables.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

BOOTSTRAP_SAMPLES = 2000
BOOTSTRAP_SEED = 0
INTERVAL = (5.0, 95.0)  # percentiles of the bootstrap interval


def log_linear_fit(minutes: np.ndarray, fraction: np.ndarray) -> tuple[float, float]:
    """Least-squares ``fraction = intercept + slope * log2(minutes)``: (slope, intercept)."""
    slope, intercept = np.polyfit(np.log2(minutes), fraction, 1)
    return float(slope), float(intercept)


def minutes_to_reach(target: float, slope: float, intercept: float) -> float:
    """Training minutes at which the log-linear trend reaches ``target`` (inf if it never does)."""
    if not slope > 0:
        return float("inf")
    with np.errstate(over="ignore"):  # a nearly flat trend: inf minutes, not an overflow error
        return float(np.exp2((target - intercept) / slope))


def _fraction_of_ceiling(correlation: np.ndarray, ceiling: np.ndarray) -> np.ndarray:
    """(amounts,) mean correlation over cells / mean ceiling over the same cells."""
    return np.nanmean(correlation, axis=-1) / np.nanmean(ceiling)


def trend(
    correlation: np.ndarray,
    ceiling: np.ndarray,
    minutes: np.ndarray,
    target: float,
    n_points: int,
) -> dict[str, float]:
    """Trend of one model's learning curve from per-cell correlations ``(amounts, cells)``.

    Fits the largest ``n_points`` amounts; the interval resamples cells with replacement.
    """
    order = np.argsort(minutes)[-n_points:]
    if len(order) < 2:
        raise ValueError(f"a trend needs at least two amounts of data, got {len(minutes)}")
    correlation, minutes = correlation[order], minutes[order]
    observed = _fraction_of_ceiling(correlation, ceiling)
    slope, intercept = log_linear_fit(minutes, observed)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    n_cells = correlation.shape[-1]
    boot_slope, boot_minutes = [], []
    for _ in range(BOOTSTRAP_SAMPLES):
        cells = rng.integers(0, n_cells, n_cells)
        s, i = log_linear_fit(minutes, _fraction_of_ceiling(correlation[:, cells], ceiling[cells]))
        boot_slope.append(s)
        boot_minutes.append(minutes_to_reach(target, s, i))
    low, high = np.percentile(boot_minutes, INTERVAL, method="nearest")  # inf stays inf
    return {
        "largest_minutes": float(minutes[-1]),
        "fraction_at_largest": float(observed[-1]),
        "gain_per_doubling": slope,
        "gain_per_doubling_sem": float(np.std(boot_slope, ddof=1)),
        "target": float(target),
        "minutes_to_target": minutes_to_reach(target, slope, intercept),
        "minutes_to_target_low": float(low),
        "minutes_to_target_high": float(high),
    }


def data_trend(
    efficiencies: Mapping[tuple[str, str], xr.Dataset],
    ceilings: Mapping[tuple[str, str], xr.Dataset],
    targets: Mapping[str, float],
    n_points: int,
) -> pd.DataFrame:
    """One row per (experiment, stimulus, model) with the trend of its learning curve.

    ``efficiencies`` and ``ceilings`` are the data-efficiency and ceiling datasets per
    (experiment, stimulus); ``targets`` the fraction of the ceiling wanted per stimulus class
    (classes without one are left out).
    """
    rows = []
    for (experiment, stimulus), efficiency in efficiencies.items():
        if stimulus not in targets:
            continue
        ceiling_ds = ceilings[(experiment, stimulus)]
        kind = "exact" if "true_ceiling" in ceiling_ds else "split-half"
        ceiling = ceiling_ds["true_ceiling" if kind == "exact" else "ceiling"]
        ceiling = ceiling.sel(cell=efficiency["cell"]).values
        minutes = efficiency["train_minutes"].values
        for model in efficiency["model"].values:
            correlation = efficiency["test_correlation"].sel(model=model).mean("seed").values
            rows.append(
                {
                    "experiment": experiment,
                    "stimulus": stimulus,
                    "model": str(model),
                    "ceiling": kind,
                    "n_points": min(n_points, len(minutes)),
                    **trend(correlation, ceiling, minutes, targets[stimulus], n_points),
                }
            )
    return pd.DataFrame(rows)
