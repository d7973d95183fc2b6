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

from insilico.retina.evaluate import reference_ceiling

BOOTSTRAP_SAMPLES = 2000
BOOTSTRAP_SEED = 0
INTERVAL = (5.0, 95.0)  # percentiles of the bootstrap interval


def log_linear_fit(minutes: np.ndarray, fraction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares ``fraction = intercept + slope * log2(minutes)``: (slope, intercept).

    ``fraction`` is ``(amounts,)`` or ``(amounts, curves)``: one fit per column.
    """
    slope, intercept = np.polyfit(np.log2(minutes), fraction, 1)
    return slope, intercept


def minutes_to_reach(target: float, slope, intercept) -> np.ndarray:
    """Training minutes at which the log-linear trend reaches ``target`` (inf if it never does)."""
    slope, intercept = np.asarray(slope, dtype=float), np.asarray(intercept, dtype=float)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # flat trend: inf minutes
        minutes = np.exp2((target - intercept) / slope)
    return np.where(slope > 0, minutes, np.inf)


def _fraction_of_ceiling(correlation: np.ndarray, ceiling: np.ndarray) -> np.ndarray:
    """Mean over cells of the per-cell r / ceiling (cells on the last axis), as everywhere else.

    ``correlation`` is ``(amounts, [samples,] cells)``, ``ceiling`` ``([samples,] cells)``.
    """
    return np.nanmean(correlation / ceiling, axis=-1)


def trend(
    correlation: np.ndarray,
    ceiling: np.ndarray,
    minutes: np.ndarray,
    target: float,
    n_points: int,
) -> dict[str, float]:
    """Trend of one model's learning curve from per-cell correlations ``(amounts, cells)``.

    Fits the largest ``n_points`` amounts; the interval resamples cells with replacement, all
    bootstrap samples at once.
    """
    order = np.argsort(minutes)[-n_points:]
    if len(order) < 2:
        raise ValueError(f"a trend needs at least two amounts of data, got {len(minutes)}")
    correlation, minutes = correlation[order], minutes[order]
    observed = _fraction_of_ceiling(correlation, ceiling)
    slope, intercept = log_linear_fit(minutes, observed)
    n_cells = correlation.shape[-1]
    cells = np.random.default_rng(BOOTSTRAP_SEED).integers(0, n_cells, (BOOTSTRAP_SAMPLES, n_cells))
    boot_slope, boot_intercept = log_linear_fit(
        minutes, _fraction_of_ceiling(correlation[:, cells], ceiling[cells])
    )
    boot_minutes = minutes_to_reach(target, boot_slope, boot_intercept)
    low, high = np.percentile(boot_minutes, INTERVAL, method="nearest")  # inf stays inf
    return {
        "largest_minutes": float(minutes[-1]),
        "fraction_at_largest": float(observed[-1]),
        "gain_per_doubling": float(slope),
        "gain_per_doubling_sem": float(np.std(boot_slope, ddof=1)),
        "target": float(target),
        "minutes_to_target": float(minutes_to_reach(target, slope, intercept)),
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
        used, ceiling = reference_ceiling(ceilings[(experiment, stimulus)])
        kind = "exact" if used.startswith("true_") else "split-half"
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
