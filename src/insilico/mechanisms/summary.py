"""Tables over all dissected CNNs: phenomena, attribution, reduction and ground-truth scores.

Each function takes ``{(experiment, stimulus, seed): {phenomenon: Dataset}}`` as read from the
per-phenomenon netCDF files and returns one pandas DataFrame, one row per CNN and phenomenon (and
quantity or layer).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from insilico.mechanisms.experiments import IDENTIFICATION_SCORES, key_numbers

Runs = Mapping[tuple[str, str, int], Mapping[str, xr.Dataset]]


def _key(run: tuple[str, str, int], phenomenon: str) -> dict:
    experiment, stimulus, seed = run
    return {"experiment": experiment, "stimulus": stimulus, "seed": seed, "phenomenon": phenomenon}


def phenomena_table(
    responses: Runs, reductions: Runs, tolerances: Mapping[str, Mapping[str, float]]
) -> pd.DataFrame:
    """Headline numbers per phenomenon for the CNN, the simulated retina and the reduced CNN.

    With a simulated retina, each model agrees with it on a quantity when the difference is at
    most ``tolerances[phenomenon][quantity]`` (absolute, in the quantity's units); a value that
    is NaN (no responsive cell) fails. Without one (recorded data) the pass columns are empty.
    """
    rows = []
    for run, per_phenomenon in responses.items():
        for phenomenon, data in per_phenomenon.items():
            numbers = json.loads(data.attrs["key_numbers"])
            reduced = key_numbers(reductions[run][phenomenon], data, "reduced")
            for quantity, value in numbers["cnn"].items():
                truth = numbers.get("truth", {}).get(quantity, np.nan)
                tolerance = _tolerance(tolerances, phenomenon, quantity)
                rows.append(
                    {
                        **_key(run, phenomenon),
                        "quantity": quantity,
                        "truth": truth,
                        "cnn": value,
                        "reduced_cnn": reduced[quantity],
                        "tolerance": tolerance,
                        "cnn_pass": _agrees(value, truth, tolerance, "truth" in numbers),
                        "reduced_pass": _agrees(
                            reduced[quantity], truth, tolerance, "truth" in numbers
                        ),
                    }
                )
    return pd.DataFrame(rows)


def _tolerance(tolerances: Mapping[str, Mapping[str, float]], phenomenon: str, quantity: str):
    try:
        return float(tolerances[phenomenon][quantity])
    except KeyError:
        raise ValueError(
            f"no agreement tolerance for {phenomenon}.{quantity}: add it under "
            "mechanisms.agreement in the config"
        ) from None


def _agrees(value: float, truth: float, tolerance: float, has_truth: bool) -> bool | None:
    """Within tolerance of the truth (False when either is NaN); None without a truth."""
    if not has_truth:
        return None
    return bool(abs(value - truth) <= tolerance)  # NaN compares False


def _ranking(attribution: xr.Dataset, layer: int, top: int = 3) -> str:
    """The layer's most attributed channels over all cells, most important first."""
    importance = attribution["importance"].sum("cell")
    importance = importance.where(attribution["channel_layer"] == layer, drop=True)
    order = np.argsort(-importance.values, kind="stable")[:top]
    return " > ".join(str(c) for c in importance["channel"].values[order])


def attribution_table(attributions: Runs) -> pd.DataFrame:
    """Completeness of the integrated gradients and the top channels per phenomenon."""
    rows = []
    for run, per_phenomenon in attributions.items():
        for phenomenon, data in per_phenomenon.items():
            rows.append(
                {
                    **_key(run, phenomenon),
                    "steps": data.attrs["steps"],
                    "max_completeness_error_hz": data.attrs["max_completeness_error"],
                    "relative_completeness_error": data.attrs["relative_completeness_error"],
                    "top_layer1": _ranking(data, 1),
                    "top_layer2": _ranking(data, 2),
                    "path_points_per_s": data.attrs["samples_per_second"],
                }
            )
    return pd.DataFrame(rows)


def reduction_table(reductions: Runs) -> pd.DataFrame:
    """How few channels suffice: channels kept per layer (median and range over cells)."""
    rows = []
    for run, per_phenomenon in reductions.items():
        for phenomenon, data in per_phenomenon.items():
            row = {**_key(run, phenomenon), "tolerance": data.attrs["tolerance"]}
            for layer in data["layer"].values:
                kept = data["n_kept"].sel(layer=layer).values
                row[f"layer{layer}_channels"] = int((data["channel_layer"] == layer).sum())
                row[f"layer{layer}_kept_median"] = float(np.median(kept))
                row[f"layer{layer}_kept_max"] = int(kept.max())
            row["explained_variance_min"] = float(data["explained_variance"].min())
            rows.append(row)
    return pd.DataFrame(rows)


def groundtruth_table(groundtruths: Runs) -> pd.DataFrame:
    """Ground-truth scores per phenomenon and layer (means over responsive cells)."""
    rows = []
    for run, per_phenomenon in groundtruths.items():
        for phenomenon, data in per_phenomenon.items():
            for layer in data["layer"].values:
                d = data.sel(layer=layer)
                channels = data["channel_layer"] == layer
                rows.append(
                    {
                        **_key(run, phenomenon),
                        "layer": int(layer),
                        "responsive_cells": data.attrs["n_responsive_cells"],
                        "identity_r": float(data["identity_r"].where(channels).mean()),
                        **{name: float(d[f"mean_{name}"]) for name in IDENTIFICATION_SCORES},
                        "p_precision": float(d["p_precision"]),
                        "p_overlap": float(d["p_overlap"]),
                        "recovered": bool(d["recovered"]),
                        "testable": bool(d["testable"]),
                    }
                )
    return pd.DataFrame(rows)
