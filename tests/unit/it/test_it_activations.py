"""Activation extraction: content keys, PCA reduction, per-step ConvRNN features, stale caches."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import torch

from insilico.it.activations import (
    StaleActivationsError,
    extract_activations,
    pca_basis,
    read_activations,
    window_steps,
)
from insilico.it.cache_keys import cache_key, preprocessing_key
from insilico.it.train import load_it_model, train_classifier

pytestmark = pytest.mark.usefixtures("one_torch_thread")


PREP = {
    "image_size": 16,
    "reduction": "pca",
    "max_features": 10,
    "n_fit": 30,
    "n_steps": 12,
    "image_on_steps": 5,
    "pca_window_ms": [30, 80],
}
LOG = logging.getLogger("test")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """An untrained CNN and ConvRNN written like the pipeline writes them (0 training steps)."""
    folder = tmp_path_factory.mktemp("models")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(40, 16, 16), dtype=np.uint8)
    labels = rng.integers(0, 3, size=40)
    params = {
        "steps": 0,
        "batch_size": 1,
        "learning_rate": 0.0,
        "weight_decay": 0.0,
        "eval_every": 1,
        "checkpoint_every": 1,
        "seed": 0,
    }
    paths = {}
    for kind, hparams in (
        ("cnn", {"channels": [3, 4]}),
        (
            "convrnn",
            {"channels": [3, 4], "train_steps": 3, "image_on_steps": 2, "recurrent_layers": [2]},
        ),
    ):
        paths[kind] = folder / f"{kind}.pt"
        train_classifier(
            kind=kind,
            model_params={**hparams, "kernels": [3, 3]},
            train_params=params,
            train_images=images,
            train_labels=labels,
            test_images=images[:10],
            test_labels=labels[:10],
            n_classes=3,
            model_out=paths[kind],
            history_out=folder / f"{kind}.nc",
            checkpoint_path=folder / f"{kind}.ckpt",
            log=LOG,
        )
    return paths, images


def stimuli_table(n):
    return pd.DataFrame(
        {
            "stimulus_id": [f"s{i}" for i in range(n)],
            "object_name": ["o"] * n,
            "category_name": ["c"] * n,
        }
    )


def test_preprocessing_and_input_changes_give_new_keys():
    other_size = PREP | {"image_size": 32}
    assert preprocessing_key(PREP) != preprocessing_key(other_size)
    assert preprocessing_key(PREP).startswith("px16_")
    assert preprocessing_key(PREP) == preprocessing_key(dict(PREP))
    inputs = {"model": "a", "stimuli_zip": "b"}
    key = cache_key(inputs, "conv1", PREP)
    assert key != cache_key(inputs | {"model": "new checkpoint"}, "conv1", PREP)
    assert key != cache_key(inputs, "conv2", PREP)
    assert key != cache_key(inputs, "conv1", PREP | {"max_features": 20})


def test_pca_basis_is_orthonormal_and_ordered():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(50, 200)) @ np.diag(np.linspace(3, 0.1, 200))
    mean, components, explained = pca_basis(features, 20)
    assert components.shape == (200, 20)
    np.testing.assert_allclose(components.T @ components, np.eye(20), atol=1e-8)
    assert np.all(np.diff(explained) <= 1e-12) and explained.sum() <= 1
    projected = (features - mean) @ components
    np.testing.assert_allclose(
        projected.var(axis=0, ddof=0)[:3] * 50 / projected.var(axis=0).sum() / 50,
        explained[:3] / explained.sum(),
        rtol=0.2,
    )


def test_extract_cnn_and_convrnn_activations(models, tmp_path):
    paths, images = models
    for kind in ("cnn", "convrnn"):
        model, _ = load_it_model(paths[kind])
        layers = model.layer_names
        outs = [tmp_path / f"{kind}_{layer}.nc" for layer in layers]
        extract_activations(
            model_path=paths[kind],
            stimuli=stimuli_table(20),
            images=images[:20],
            fit_images=images,
            layers=layers,
            out_paths=outs,
            preprocessing=PREP,
            inputs={"model": kind},
            device=torch.device("cpu"),
            batch_size=7,
            log=LOG,
        )
        for layer, out in zip(layers, outs, strict=True):
            acts = read_activations(out, expected_key=cache_key({"model": kind}, layer, PREP))
            values = acts["activations"]
            assert values.dims == ("stimulus", "time_step", "feature")
            assert values.sizes["stimulus"] == 20
            assert values.sizes["time_step"] == (12 if kind == "convrnn" else 1)
            assert values.sizes["feature"] <= PREP["max_features"]
            assert bool(acts.attrs["temporal"]) == (kind == "convrnn")
        # batching must not change the result: redo one layer with another batch size
        again = tmp_path / "again.nc"
        extract_activations(
            model_path=paths[kind],
            stimuli=stimuli_table(20),
            images=images[:20],
            fit_images=images,
            layers=[layers[0]],
            out_paths=[again],
            preprocessing=PREP,
            inputs={"model": kind},
            device=torch.device("cpu"),
            batch_size=20,
            log=LOG,
        )
        np.testing.assert_allclose(
            read_activations(again)["activations"].values,
            read_activations(outs[0])["activations"].values,
            rtol=1e-4,
            atol=1e-5,
        )


def test_stale_activation_file_is_refused(models, tmp_path):
    paths, images = models
    out = tmp_path / "conv1.nc"
    extract_activations(
        model_path=paths["cnn"],
        stimuli=stimuli_table(20),
        images=images[:20],
        fit_images=images,
        layers=["conv1"],
        out_paths=[out],
        preprocessing=PREP,
        inputs={"model": "old"},
        device=torch.device("cpu"),
        batch_size=8,
        log=LOG,
    )
    with pytest.raises(StaleActivationsError, match="computed from other inputs"):
        read_activations(out, expected_key=cache_key({"model": "new"}, "conv1", PREP))
    with pytest.raises(ValueError, match="no layer"):
        extract_activations(
            model_path=paths["cnn"],
            stimuli=stimuli_table(20),
            images=images[:20],
            fit_images=images,
            layers=["conv9"],
            out_paths=[out],
            preprocessing=PREP,
            inputs={},
            device=torch.device("cpu"),
            batch_size=8,
            log=LOG,
        )


def test_window_steps_map_10ms_steps_to_bins():
    assert window_steps([70, 170], 26).tolist() == list(range(7, 17))
    with pytest.raises(ValueError, match="holds no model step"):
        window_steps([300, 310], 26)
