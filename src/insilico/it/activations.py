"""Layer activations of the IT-branch models, reduced and cached by content.

One netCDF per (model checkpoint, layer, preprocessing) with ``activations`` of dims
``stimulus x time_step x feature`` (a feedforward model has one time step, ``time_step = -1``,
``temporal = 0``; a ConvRNN one per 10 ms step). The file's attribute ``cache_key`` is the sha256 of
everything its content depends on: the checkpoint bytes, the stimulus set bytes (csv and zip), the
PCA fit images, the layer, and the preprocessing (image size, standardisation, reduction,
number of steps, image-on steps). The path carries a short hash of the preprocessing
(:func:`preprocessing_key`), so a different image size or preprocessing is a different file and
switching back finds the old one; a new checkpoint reruns the rule through the DAG, and
:func:`read_activations` refuses a file whose key does not match what the caller expects.

Memory stays bounded for large layers, and only one model is ever in memory: the network runs
over the images in batches, one forward pass per batch for all layers. Pass 1 collects each layer's
features on ``n_fit`` task images (disjoint from the neural stimuli, as Brain-Score fits its PCA on
ImageNet images) and fits a PCA basis per layer (``max_features`` components, Gram-matrix trick);
pass 2 projects every stimulus batch on the device before it is kept, so what accumulates is
``stimuli x steps x max_features`` per layer, never the raw layers. Peak memory is about
``n_fit x (sum of the layers' raw sizes)`` floats in pass 1. For a ConvRNN the basis is fitted on
the mean over the steps of the averaging window (70-170 ms by default) and applied at every step.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr

from insilico.core.io import DataFileError, read_netcdf, rebuild_advice, write_netcdf
from insilico.core.units import IT_BIN_MS
from insilico.it.cache_keys import PREPROCESSING_KEYS, cache_key
from insilico.it.train import load_it_model, standardise


class StaleActivationsError(DataFileError):
    """An activation file that was computed from other inputs than the caller expects."""


def window_steps(window_ms, n_steps: int) -> np.ndarray:
    """Model steps (10 ms each, step t covers [10 t, 10 t + 10) ms) inside ``window_ms``."""
    lo, hi = window_ms
    steps = np.arange(n_steps)
    inside = steps[(steps * IT_BIN_MS >= lo) & ((steps + 1) * IT_BIN_MS <= hi)]
    if inside.size == 0:
        raise ValueError(
            f"window {list(window_ms)} ms holds no model step of {IT_BIN_MS} ms (n_steps={n_steps})"
        )
    return inside


def _flat(out: torch.Tensor, temporal: bool) -> torch.Tensor:
    """Layer output -> ``(time_steps, batch, features)``."""
    return out.flatten(2) if temporal else out.flatten(1)[None]


def pca_basis(features: np.ndarray, max_features: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean ``(F,)``, components ``(F, k)`` and explained-variance ratios ``(k,)`` of ``features``.

    Gram-matrix form (``n x n`` eigenproblem) because layers have far more features than fit
    images; ``k = min(max_features, rank)``.
    """
    features = np.asarray(features, np.float64)
    mean = features.mean(axis=0)
    centered = features - mean
    gram = centered @ centered.T
    eigenvalues, eigenvectors = np.linalg.eigh(gram)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues, eigenvectors = eigenvalues[order], eigenvectors[:, order]
    keep = eigenvalues > eigenvalues[0] * 1e-10
    k = int(min(max_features, keep.sum()))
    components = centered.T @ eigenvectors[:, :k] / np.sqrt(eigenvalues[:k])
    return mean, components, eigenvalues[:k] / eigenvalues[keep].sum()


def extract_activations(
    *,
    model_path: str | os.PathLike,
    stimuli: pd.DataFrame,
    images: np.ndarray,
    fit_images: np.ndarray,
    layers: list[str],
    out_paths: list[str | os.PathLike],
    preprocessing: dict,
    inputs: dict[str, str],
    device: torch.device,
    batch_size: int,
    log: logging.Logger,
) -> None:
    """Write one activation file per layer (see the module docstring).

    ``images`` are the stimuli already resized to ``preprocessing['image_size']``; ``fit_images``
    the PCA fit set; ``inputs`` the digests of every input file (part of the cache key).
    """
    model, meta = load_it_model(model_path)
    model.to(device)
    size = preprocessing["image_size"]
    if meta["size"] != size or images.shape[-1] != size:
        raise ValueError(
            f"model {model_path} takes {meta['size']} px images; stimuli are {images.shape[-1]} px "
            f"and it.preprocessing says {size}"
        )
    unknown = sorted(set(layers) - set(model.layer_names))
    if unknown:
        raise ValueError(
            f"model {model_path} has no layer(s) {unknown}; it has {model.layer_names}"
        )
    n_steps, image_on = preprocessing["n_steps"], preprocessing["image_on_steps"]
    temporal = bool(model.temporal)
    fit_steps = window_steps(preprocessing["pca_window_ms"], n_steps) if temporal else None
    x = standardise(images, meta["image_mean"], meta["image_std"], device)
    x_fit = standardise(
        fit_images[: preprocessing["n_fit"]], meta["image_mean"], meta["image_std"], device
    )
    keys = {layer: cache_key(inputs, layer, preprocessing) for layer in layers}

    with torch.no_grad():
        # Pass 1, fit images: every layer's features (window mean for a ConvRNN), then its basis.
        fit: dict[str, list[torch.Tensor]] = {layer: [] for layer in layers}
        for batch in x_fit.split(batch_size):
            out = model.features(batch, n_steps, image_on)
            for layer in layers:
                features = _flat(out[layer], temporal)
                features = features[fit_steps].mean(0) if temporal else features[0]
                fit[layer].append(features.float().cpu())
        bases, explained, n_raw = {}, {}, {}
        for layer in layers:
            features = torch.cat(fit.pop(layer)).numpy()
            n_raw[layer] = features.shape[1]
            if preprocessing["reduction"] == "pca" and n_raw[layer] > preprocessing["max_features"]:
                mean, components, ratios = pca_basis(features, preprocessing["max_features"])
                bases[layer] = (
                    torch.from_numpy(mean).to(device, torch.float32),
                    torch.from_numpy(components).to(device, torch.float32),
                )
                explained[layer] = float(ratios.sum())
            else:
                bases[layer], explained[layer] = None, 1.0
        # Pass 2, stimuli: every batch is projected on the device before it is kept.
        kept: dict[str, list[torch.Tensor]] = {layer: [] for layer in layers}
        for batch in x.split(batch_size):
            out = model.features(batch, n_steps, image_on)
            for layer in layers:
                features = _flat(out[layer], temporal)
                if bases[layer] is not None:
                    mean_t, components_t = bases[layer]
                    features = (features - mean_t) @ components_t
                kept[layer].append(features.float().cpu())

    steps = np.arange(n_steps) if temporal else np.array([-1])
    for layer, out_path in zip(layers, out_paths, strict=True):
        values = torch.cat(kept.pop(layer), dim=1).numpy()  # (time_steps, stimuli, features)
        activations = xr.DataArray(
            values.transpose(1, 0, 2),
            dims=("stimulus", "time_step", "feature"),
            coords={
                "stimulus_id": ("stimulus", stimuli["stimulus_id"].to_numpy().astype(str)),
                "object_name": ("stimulus", stimuli["object_name"].to_numpy().astype(str)),
                "category_name": ("stimulus", stimuli["category_name"].to_numpy().astype(str)),
                "time_step": steps,
                "step_start_ms": ("time_step", np.where(steps >= 0, steps * IT_BIN_MS, -1)),
                "step_end_ms": ("time_step", np.where(steps >= 0, (steps + 1) * IT_BIN_MS, -1)),
            },
            name="activations",
        )
        dataset = activations.to_dataset()
        dataset.attrs = {
            "layer": layer,
            "kind": meta["kind"],
            "temporal": int(temporal),
            "n_raw_features": n_raw[layer],
            "pca_explained_variance": explained[layer],
            "test_accuracy": float(meta["test_accuracy"]),
            "steps_trained": int(meta["steps"]),
            "cache_key": keys[layer],
            "inputs": json.dumps(inputs, sort_keys=True),
            "preprocessing": json.dumps(
                {k: preprocessing[k] for k in PREPROCESSING_KEYS}, sort_keys=True
            ),
        }
        write_netcdf(dataset, out_path)
        log.info(
            "%s: %d raw features -> %d (%.1f%% of fit-set variance), %d step(s), key %s",
            layer,
            n_raw[layer],
            values.shape[-1],
            100 * explained[layer],
            values.shape[0],
            keys[layer][:12],
        )


def read_activations(path: str | os.PathLike, expected_key: str | None = None) -> xr.Dataset:
    """An activation file; ``expected_key`` (if given) must equal its ``cache_key``."""
    dataset = read_netcdf(path)
    if "activations" not in dataset or "cache_key" not in dataset.attrs:
        raise StaleActivationsError(f"{Path(path)} is not an activation file of this pipeline")
    if expected_key is not None and dataset.attrs["cache_key"] != expected_key:
        raise StaleActivationsError(
            f"{Path(path)} was computed from other inputs (cache key {dataset.attrs['cache_key'][:12]}, "
            f"expected {expected_key[:12]}); {rebuild_advice(path)}"
        )
    return dataset
