"""Evaluate trained retina models on the held-out repeated test movie, against the repeat ceiling.

Callers write the returned Datasets with :func:`insilico.io.write_netcdf`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from insilico.analysis.metrics import (
    fraction_explained_variance,
    pearson,
    split_half_ceiling,
    split_half_reliability,
)
from insilico.io import read_netcdf

BIN_SECONDS = 0.01

CEILING_ESTIMATOR = (
    "split-half: per random split of the repeats into two halves (one left-over repeat dropped "
    "at random when the count is odd), Pearson r between the half-means, Spearman-Brown corrected "
    "to all n repeats (r_SB = k r / (1 + (k - 1) r), k = n / half size; 2r / (1 + r) for even n), "
    "averaged over splits; ceiling = sqrt(r_SB)"
)


def evaluate(model_path, recording_path, cells: Sequence[int] | None) -> xr.Dataset:
    """Correlation and FEV per cell of a model's prediction with the trial-averaged test rate.

    The model sees ``history`` frames, so its predictions cover bins ``history - 1 .. T - 1`` of the
    test movie; the target is the repeat average over exactly those bins.
    """
    from insilico.data.retina_h5 import read_recording
    from insilico.training import load_model, predict

    recording = read_recording(recording_path, cells=None if cells is None else list(cells))
    model, meta = load_model(model_path)
    model_cells = tuple(meta.get("cell_names", recording.cell_names))
    if model_cells != recording.cell_names:
        raise ValueError(
            f"{model_path}: model was trained on cells {model_cells}, "
            f"but {recording_path} with cells={cells} gives {recording.cell_names}"
        )
    history = int(meta["history"])
    prediction = np.asarray(predict(model, meta, recording.test_stimulus), dtype=float)
    target = recording.test_rate[:, history - 1 :]
    if prediction.shape != target.shape:
        raise ValueError(
            f"{model_path}: prediction has shape {prediction.shape}, expected {target.shape} "
            f"(n_cells, T_test - history + 1) for {recording_path}"
        )
    time = (np.arange(target.shape[1]) + history - 1) * BIN_SECONDS
    coords = {"cell": list(recording.cell_names), "time": ("time", time, {"units": "s"})}
    return xr.Dataset(
        {
            "correlation": ("cell", pearson(prediction, target)),
            "fev": ("cell", fraction_explained_variance(prediction, target)),
            "prediction": (("cell", "time"), prediction, {"units": "Hz"}),
            "target": (
                ("cell", "time"),
                target,
                {"units": "Hz", "long_name": "trial-averaged rate"},
            ),
        },
        coords=coords,
        attrs={
            "model_kind": str(meta.get("kind", "unknown")),
            "history": history,
            "model_path": os.fspath(model_path),
            "recording_path": os.fspath(recording_path),
            "n_repeats": int(recording.test_repeats.shape[1]),
            "description": "Pearson r and fraction of explained variance per cell between the "
            "model prediction and the trial-averaged rate on the held-out repeated test movie",
        },
    )


def reliability(
    recording_path, cells: Sequence[int] | None, n_splits: int, seed: int
) -> xr.Dataset:
    """Split-half reliability ceiling per cell, and the exact ceiling where the truth is known.

    For simulated files ``true_ceiling`` = Pearson r between the noiseless rate and the repeat
    average: the correlation a perfect model would reach, against which the estimate is checked.
    All test bins are used (the model evaluation skips the first ``history - 1``).
    """
    from insilico.data.retina_h5 import read_recording

    recording = read_recording(recording_path, cells=None if cells is None else list(cells))
    repeats = recording.test_repeats
    data = {
        "ceiling": ("cell", split_half_ceiling(repeats, n_splits, seed)),
        "split_half_reliability": ("cell", split_half_reliability(repeats, n_splits, seed)),
    }
    if recording.true_test_rate is not None:
        data["true_ceiling"] = ("cell", pearson(recording.true_test_rate, recording.test_rate))
    return xr.Dataset(
        data,
        coords={"cell": list(recording.cell_names)},
        attrs={
            "estimator": CEILING_ESTIMATOR,
            "n_splits": int(n_splits),
            "seed": int(seed),
            "n_repeats": int(repeats.shape[1]),
            "recording_path": os.fspath(recording_path),
        },
    )


def collect(eval_paths: Mapping[tuple[str, int], os.PathLike | str], ceiling_path) -> xr.Dataset:
    """Stack per-(model, seed) evaluations into correlation/fev(model, seed, cell) with the ceiling.

    Missing (model, seed) combinations are ``nan``. Every evaluation must cover the ceiling's cells.
    """
    if not eval_paths:
        raise ValueError("collect needs at least one evaluation file")
    ceiling = read_netcdf(ceiling_path)
    cells = list(ceiling["cell"].values)
    models = sorted({model for model, _ in eval_paths})
    seeds = sorted({int(seed) for _, seed in eval_paths})
    shape = (len(models), len(seeds), len(cells))
    stacked = {"correlation": np.full(shape, np.nan), "fev": np.full(shape, np.nan)}
    kinds = {}
    for (model, seed), path in eval_paths.items():
        evaluation = read_netcdf(path)
        if list(evaluation["cell"].values) != cells:
            raise ValueError(
                f"{path}: cells {list(evaluation['cell'].values)} differ from the ceiling's "
                f"cells {cells} in {ceiling_path}"
            )
        index = (models.index(model), seeds.index(int(seed)))
        for name, values in stacked.items():
            values[index] = evaluation[name].values
        kinds[model] = evaluation.attrs.get("model_kind", "unknown")
    dims = ("model", "seed", "cell")
    data = {name: (dims, values) for name, values in stacked.items()}
    for name in ("ceiling", "split_half_reliability", "true_ceiling"):
        if name in ceiling:
            data[name] = ("cell", ceiling[name].values)
    return xr.Dataset(
        data,
        coords={"model": models, "seed": seeds, "cell": cells},
        attrs={
            **{
                key: ceiling.attrs[key]
                for key in ("estimator", "n_splits", "n_repeats")
                if key in ceiling.attrs
            },
            "model_kinds": ", ".join(f"{model}={kinds[model]}" for model in models),
        },
    )


def summarize(performances: Mapping[tuple[str, str], xr.Dataset]) -> pd.DataFrame:
    """One row per (experiment, stimulus, model): mean test correlation and the ceilings.

    Correlations are averaged over seeds per cell first, then over cells; ``sem`` is the standard
    error over cells, so it measures how much cells differ, not how much seeds differ.
    """
    rows = []
    for (experiment, stimulus), performance in performances.items():
        per_cell = performance["correlation"].mean("seed")
        n_cells = performance.sizes["cell"]
        for model in performance["model"].values:
            correlation = per_cell.sel(model=model)
            rows.append(
                {
                    "experiment": experiment,
                    "stimulus": stimulus,
                    "model": str(model),
                    "n_cells": n_cells,
                    "n_seeds": performance.sizes["seed"],
                    "correlation": float(correlation.mean()),
                    "sem": float(correlation.std(ddof=1) / np.sqrt(n_cells)) if n_cells > 1 else np.nan,
                    "fev": float(performance["fev"].mean("seed").sel(model=model).mean()),
                    "ceiling": float(performance["ceiling"].mean()),
                    "true_ceiling": float(performance["true_ceiling"].mean())
                    if "true_ceiling" in performance
                    else np.nan,
                }
            )
    return pd.DataFrame(rows)
