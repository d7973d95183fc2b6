"""Every measure of :mod:`insilico.objectives.analysis` for every trained network, as one Dataset
(dims run, seed, layer, region, epsilon, manifold, measure)."""

from __future__ import annotations

import logging

import numpy as np
import torch
import xarray as xr

from insilico.core.classification import standardise
from insilico.objectives import analysis

GEOMETRY = ("capacity", "radius", "dimension", "alignment")
MANIFOLDS = ("category", "translation")


def _inputs(task, stimuli_images: np.ndarray, settings: dict, mean: float, std: float) -> dict:
    def std_images(images):
        return standardise(images, mean, std, torch.device("cpu"))

    n_train, n_test = settings["probe"]["n_train"], settings["n_test"]
    test_x = std_images(task["test_images"].values[:n_test])
    translation = settings["translation"]
    return {
        "train_x": std_images(task["train_images"].values[:n_train]),
        "train_y": task["train_labels"].values[:n_train],
        "test_x": test_x,
        "test_y": task["test_labels"].values[:n_test],
        "shifted": analysis.shifted_copies(test_x[: translation["images"]], translation["shifts"]),
        "stimuli": std_images(stimuli_images),
    }


def measure_network(model, inputs: dict, neural, settings: dict, n_classes: int, seed: int):
    """One network's measures: per-layer arrays and the PGD curve."""
    train = analysis.layer_features(model, inputs["train_x"])
    test = analysis.layer_features(model, inputs["test_x"])
    shifted = analysis.layer_features(model, inputs["shifted"])
    n_images = settings["translation"]["images"]
    image_of = np.repeat(np.arange(n_images), len(inputs["shifted"]) // n_images)
    out = {"probe": [], "invariance": [], "geometry": []}
    for layer in model.layer_names:
        probe = analysis.fit_probe(
            train[layer], inputs["train_y"], n_classes, settings["probe"]["ridge"]
        )
        out["probe"].append(analysis.probe_accuracy(probe, test[layer], inputs["test_y"]))
        out["invariance"].append(analysis.invariance_index(shifted[layer], n_images))
        geometry = [
            analysis.manifold_geometry(test[layer], inputs["test_y"], settings["capacity"]),
            analysis.manifold_geometry(shifted[layer], image_of, settings["capacity"]),
        ]
        out["geometry"].append([[g[m] for m in GEOMETRY] for g in geometry])
    top = analysis.fit_probe(
        train["avgpool"], inputs["train_y"], n_classes, settings["probe"]["ridge"]
    )
    pgd = settings["pgd"]
    n_attack = pgd["n_images"]
    out["pgd"] = analysis.pgd_accuracy(
        model,
        top,
        inputs["test_x"][:n_attack],
        inputs["test_y"][:n_attack],
        pgd["epsilons"],
        settings["image_std"],
        pgd,
    )
    stimulus_features = analysis.layer_features(model, inputs["stimuli"])
    out["predictivity"], out["regions"] = analysis.predictivity(
        stimulus_features, neural, settings["predictivity"], seed
    )
    return out


def measure_all(payloads: list[dict], task, neural, stimuli_images, settings, log: logging.Logger):
    """Measures of every run and seed in the trainers' ``payloads`` (the image networks' first)."""
    images = payloads[0]
    settings = {**settings, "image_std": images["image_std"]}
    inputs = _inputs(task, stimuli_images, settings, images["image_mean"], images["image_std"])
    size, n_classes = inputs["test_x"].shape[-1], int(task.attrs["n_categories"])
    rows = {}
    for payload in payloads:
        for run, states in payload["runs"].items():
            for seed, state in states.items():
                model = analysis.load_network(
                    state, payload["out_dim"][run], size, settings["model"]
                )
                rows[run, seed] = measure_network(model, inputs, neural, settings, n_classes, seed)
                log.info(
                    "%s seed %d: probe %s, invariance %s, PGD %s",
                    run,
                    seed,
                    np.round(rows[run, seed]["probe"], 3),
                    np.round(rows[run, seed]["invariance"], 3),
                    np.round(rows[run, seed]["pgd"], 3),
                )
    return _dataset(rows, model.layer_names, settings, n_classes)


def _dataset(rows: dict, layers: list[str], settings: dict, n_classes: int) -> xr.Dataset:
    runs = list(dict.fromkeys(run for run, _ in rows))
    seeds = sorted({seed for _, seed in rows})
    regions = next(iter(rows.values()))["regions"]

    def stack(key):
        return np.stack([np.stack([np.asarray(rows[r, s][key]) for s in seeds]) for r in runs])

    return xr.Dataset(
        {
            "probe_accuracy": (("run", "seed", "layer"), stack("probe")),
            "invariance": (("run", "seed", "layer"), stack("invariance")),
            "geometry": (("run", "seed", "layer", "manifold", "measure"), stack("geometry")),
            "pgd_accuracy": (("run", "seed", "epsilon"), stack("pgd")),
            "predictivity": (("run", "seed", "layer", "region"), stack("predictivity")),
        },
        coords={
            "run": runs,
            "seed": seeds,
            "layer": layers,
            "region": regions,
            "epsilon": np.asarray(settings["pgd"]["epsilons"], float),
            "manifold": list(MANIFOLDS),
            "measure": list(GEOMETRY),
        },
        attrs={"chance": 1.0 / n_classes, "images": "simulated (the IT branch's renderer)"},
    )
