"""Collect per-run geometry, the recordings' geometry and the IT scores into one table.

The summary joins, per model x state x seed x layer, the window-step capacity, radius and dimension
of object and category manifolds with the IT branch's PLS predictivity of V4 and IT (raw median r,
``results/it/scores.nc``) and the ridge predictivity and error-mode geometry computed here. The
recordings' own geometry comes as rows with model "recording" and state = region. The trends the
README reports (capacity along trained layers, trained against untrained, capacity against IT
predictivity) are computed here once, with their uncertainty where it exists.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import spearmanr

from insilico.geometry.layers import WINDOW_STEP


def collect(runs: dict[tuple[str, str, int], xr.Dataset]) -> xr.Dataset:
    """Stack the per-run datasets along model, state and seed (layers and steps outer-joined)."""
    stacked = [
        ds.expand_dims(model=[model], state=[state], seed=[seed])
        for (model, state, seed), ds in runs.items()
    ]
    return xr.merge(stacked, join="outer", compat="no_conflicts", combine_attrs="drop_conflicts")


def table(geometry: xr.Dataset, neural: xr.Dataset, scores: xr.Dataset) -> pd.DataFrame:
    """One row per model x state x seed x layer (window step), plus one per recorded region."""
    rows = []
    window = geometry.sel(step=WINDOW_STEP)
    for model in window["model"].values:
        for state in window["state"].values:
            for seed in window["seed"].values:
                for layer in window["layer"].values:
                    run = window.sel(model=model, state=state, seed=seed, layer=layer)
                    if np.isnan(run["capacity"]).all():
                        continue  # this model has no such layer
                    row = {"model": model, "state": state, "seed": int(seed), "layer": layer}
                    row["depth"] = int(run["depth"])
                    row.update(_geometry_columns(run))
                    for region in run["region"].values:
                        pls = scores["score"].sel(
                            model=model, state=state, seed=seed, layer=layer, region=region
                        )
                        row[f"pls_r_{region}"] = float(pls)
                        for name in ("ridge_r", "error_mode_radius", "error_mode_dimension"):
                            row[f"{name}_{region}"] = float(run[name].sel(region=region))
                    rows.append(row)
    for region in neural["region"].values:
        row = {"model": "recording", "state": str(region), "seed": -1, "layer": "", "depth": -1}
        row.update(_geometry_columns(neural.sel(region=region)))
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["model", "state", "seed", "depth"], kind="stable")


def _geometry_columns(ds: xr.Dataset) -> dict:
    return {
        f"{name}_{kind}": float(ds[name].sel(manifold=kind))
        for kind in ds["manifold"].values
        for name in ("capacity", "radius", "dimension", "centre_correlation")
    }


def trends(frame: pd.DataFrame, manifold: str = "object") -> dict:
    """The README's questions, answered from the table (model rows only).

    - ``rise_<model>``: Spearman rho of capacity against layer depth along the trained model;
    - ``trained_minus_untrained_<model>``: mean over layers of the capacity difference;
    - ``rho_capacity_it``: Spearman rho (and p) of capacity against IT PLS r over all model rows.
    """
    models = frame[frame["model"] != "recording"]
    column = f"capacity_{manifold}"
    result = {}
    for model, group in models.groupby("model"):
        trained = group[group["state"] == "trained"]
        untrained = group[group["state"] == "untrained"]
        if len(trained) > 2:
            result[f"rise_{model}"] = float(spearmanr(np.arange(len(trained)), trained[column])[0])
        if len(untrained) == len(trained) and len(trained):
            difference = trained[column].to_numpy() - untrained[column].to_numpy()
            result[f"trained_minus_untrained_{model}"] = float(np.mean(difference))
    if "pls_r_IT" in models and len(models) > 2:
        rho, p = spearmanr(models[column], models["pls_r_IT"])
        result["rho_capacity_it"], result["p_capacity_it"] = float(rho), float(p)
    return result
