"""V4/IT predictivity of the population, with the IT branch's protocol unchanged.

Each trained network is an IT-branch ``cnn`` checkpoint, so its layer activations are extracted by
:func:`insilico.it.activations.extract_activations` (PCA fitted on task images) and scored by
:func:`insilico.it.protocol.score.score_model` (PLS, stratified splits, median r over neuroids).
A network's score per region is its best layer's, the layer chosen on held-out splits
(:func:`insilico.it.protocol.score.select_layer_held_out`): no split picks the layer it is scored
with. Training seed ``s`` draws its splits with ``score.seed + s``, as the IT branch does.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import xarray as xr

from insilico.it.activations import extract_activations
from insilico.it.cache_keys import file_sha256
from insilico.it.protocol.score import score_model, select_layer_held_out


def score_network(
    *,
    model_path: str,
    neural: xr.Dataset,
    stimuli,
    fit_images: np.ndarray,
    layers: list[str],
    preprocessing: dict,
    score: dict,
    seed: int,
    workdir: Path,
    inputs: dict[str, str],
    device,
    log: logging.Logger,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Best-layer score per region (mean over splits), the per-split layer choices, the regions.

    Only the time-averaged window (70-170 ms) is scored: a feedforward CNN has one step, and the
    per-bin fits would cost most of the time."""
    paths = [workdir / f"{layer}.nc" for layer in layers]
    extract_activations(
        model_path=model_path,
        stimuli=stimuli.metadata,
        images=stimuli.images,
        fit_images=fit_images,
        layers=layers,
        out_paths=paths,
        preprocessing=preprocessing,
        inputs={**inputs, "model": file_sha256(model_path)},
        device=device,
        batch_size=256,
        log=log,
    )
    scores = score_model(
        neural.isel(time_bin=slice(0, 0)),  # the time-averaged window only: no per-bin fits
        dict(zip(layers, map(str, paths), strict=True)),
        n_splits=score["n_splits"],
        train_fraction=score["train_fraction"],
        seed=score["seed"] + seed,
        n_components=score["n_components"],
        device=score["device"],
        temporal_layers=score["temporal_layers"],
        split_source=score["split_source"],
        latency_grid_ms=score["latency_grid_ms"],
        latency="onset",
    )
    window = scores["score_window"].transpose("layer", "split", "region").values
    best, chosen = [], []
    for r in range(window.shape[2]):
        layer_of_split, held_out = select_layer_held_out(window[:, :, r])
        best.append(float(np.mean(held_out)))
        chosen.append(layer_of_split)
    return np.asarray(best), np.asarray(chosen), list(scores["region"].values.astype(str))
