"""The population's tables (numpy/pandas/xarray only): one row per rule x seed, and the claims."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from insilico.learning_rules.claims import hessian_claims, population_claims


def population_table(curves: xr.Dataset, predictivity: xr.Dataset | None) -> pd.DataFrame:
    """rule, seed, final test accuracy, mean final B-W angle, best-layer V4/IT predictivity."""
    final = curves.isel(step=-1)
    rows = []
    for variant in final["variant"].values:
        for seed in final["seed"].values:
            point = final.sel(variant=variant, seed=seed)
            rows.append(
                {
                    "rule": str(point["rule"].values),
                    "seed": int(seed),
                    "test_accuracy": float(point["test_accuracy"]),
                    "angle_degrees": float(np.nanmean(point["angle"].values)),
                }
            )
    table = pd.DataFrame(rows)
    if predictivity is not None:
        scores = pd.DataFrame(
            {
                "rule": predictivity["rule"].values.astype(str),
                "seed": predictivity["seed"].values.astype(int),
                **{
                    f"predictivity_{region}": predictivity["predictivity"].sel(region=region).values
                    for region in predictivity["region"].values.astype(str)
                },
            }
        )
        table = table.merge(scores, on=["rule", "seed"], how="left")
    return table


def hessian_table(hessian: xr.Dataset) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rule": hessian["rule"].values.astype(str),
            "seed": hessian["seed"].values.astype(int),
            "state": hessian["state"].values.astype(str),
            "outliers": hessian["outliers"].values.astype(int),
            "gradient_share": hessian["gradient_share"].values.astype(float),
            "top_eigenvalue": hessian["eigenvalue"].isel(rank=0).values,
        }
    )


COLUMNS = [
    "claim",
    "model",
    "quantity",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "direction",
    "threshold",
    "verdict",
    "holds",
]


def claims_table(
    population: pd.DataFrame, hessian: xr.Dataset, margin: float, confidence: float
) -> pd.DataFrame:
    rows = population_claims(population, margin, confidence)
    rows += hessian_claims(hessian_table(hessian), int(hessian.attrs["n_classes"]), confidence)
    return pd.DataFrame(rows)[COLUMNS]


def rule_means(population: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95 % t interval per rule of every numeric column (the summary table)."""
    from insilico.core.claims import t_interval

    rows = []
    for rule, group in population.groupby("rule", sort=False):
        row = {"rule": rule, "n_seeds": len(group)}
        for column in group.columns.drop(["rule", "seed"]):
            mean, low, high, _ = t_interval(group[column].to_numpy())
            row |= {column: mean, f"{column}_ci_low": low, f"{column}_ci_high": high}
        rows.append(row)
    return pd.DataFrame(rows)
