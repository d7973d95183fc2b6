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


def trends(frame: pd.DataFrame) -> dict:
    """The README's questions, answered from the table (model rows only), per manifold kind
    (``object``, ``category``) as the suffix ``_<manifold>``:

    - ``rise_<model>``: Spearman rho of capacity against layer depth over the trained model's rows
      (every seed's layers pooled);
    - ``trained_minus_untrained_<model>``: mean over seeds and layers of trained minus untrained
      capacity, each layer paired with the same seed's untrained layer;
    - ``rho_capacity_it`` (and ``p_capacity_it``): Spearman rho of capacity against IT PLS r over
      all model rows.
    """
    models = frame[frame["model"] != "recording"]
    result = {}
    for manifold in ("object", "category"):
        column = f"capacity_{manifold}"
        for model, group in models.groupby("model"):
            trained = group[group["state"] == "trained"]
            if len(trained) > 2:
                rho = spearmanr(trained["depth"], trained[column])[0]
                result[f"rise_{model}_{manifold}"] = float(rho)
            paired = trained.merge(
                group[group["state"] == "untrained"], on=["seed", "layer"], suffixes=("", "_u")
            )
            if len(paired):
                difference = paired[column] - paired[f"{column}_u"]
                result[f"trained_minus_untrained_{model}_{manifold}"] = float(difference.mean())
        if "pls_r_IT" in models and len(models) > 2:
            rho, p = spearmanr(models[column], models["pls_r_IT"])
            result[f"rho_capacity_it_{manifold}"] = float(rho)
            result[f"p_capacity_it_{manifold}"] = float(p)
    return result
