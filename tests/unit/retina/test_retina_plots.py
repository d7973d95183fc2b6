"""Each retina figure writes a non-empty PNG from small synthetic inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import xarray as xr

from insilico.core.io import save_torch
from insilico.retina import plots as retina
from insilico.retina.evaluate import transfer_loss

PNG_MAGIC = b"\x89PNG"


def _is_png(path):
    return path.exists() and path.stat().st_size > 1000 and path.read_bytes()[:4] == PNG_MAGIC


@pytest.mark.parametrize("simulated", [True, False])
def test_model_comparison(tmp_path, simulated):
    rng = np.random.default_rng(0)
    cells = [f"cell{i:02d}" for i in range(1, 7)]
    performance = xr.Dataset(
        {
            "correlation": (("model", "seed", "cell"), rng.uniform(0.2, 0.8, size=(2, 2, 6))),
            "ceiling": ("cell", rng.uniform(0.7, 0.9, size=6)),
        },
        coords={"model": ["cnn", "ln"], "seed": [0, 1], "cell": cells},
    )
    performance["correlation"][1, 1, 2] = np.nan  # a missing seed must not break the means
    if simulated:
        performance["true_ceiling"] = performance["ceiling"] + 0.02
    path = tmp_path / "comparison.png"
    retina.model_comparison(performance, path)
    assert _is_png(path)


def test_example_predictions(tmp_path):
    rng = np.random.default_rng(1)
    cells = ["cell01", "cell02", "cell03"]
    target = rng.gamma(2.0, 10.0, size=(3, 1500))

    def evaluation(history, gain):
        time = (np.arange(1500 - history + 1) + history - 1) * 0.01
        aligned = target[:, history - 1 :]
        prediction = gain * aligned + rng.normal(size=aligned.shape)
        return xr.Dataset(
            {
                "prediction": (("cell", "time"), prediction),
                "target": (("cell", "time"), aligned),
                "correlation": ("cell", rng.uniform(0.3, 0.9, size=3)),
            },
            coords={"cell": cells, "time": time},
        )

    path = tmp_path / "examples.png"
    retina.example_predictions(
        {"cnn": evaluation(20, 1.0), "ln": evaluation(10, 0.5)}, path, n_cells=2, seconds=3
    )
    assert _is_png(path)


def test_rank1_filters_recover_separable_filter():
    temporal = np.sin(np.linspace(0, 3, 6))
    spatial = -np.outer(np.hanning(5), np.hanning(5))  # peak negative: the sign moves to time
    weight = (temporal[:, None, None] * spatial[None])[None]
    maps, profiles, fraction = retina.rank1_filters(weight)
    assert fraction == pytest.approx([1.0])
    assert maps[0].max() == pytest.approx(np.abs(maps[0]).max())
    assert np.allclose(profiles[0][:, None, None] * maps[0][None], weight[0])


def _cnn_checkpoint():
    """A tiny real RetinaCNN's state dict when insilico.retina.models exists, else a stand-in conv1."""
    try:
        from insilico.retina.models import build_model
    except ImportError:
        return {"kind": "cnn", "state_dict": {"conv1.weight": torch.randn(5, 6, 7, 7)}}
    model = build_model("cnn", history=6, size=12, n_cells=2, channels=[5, 4], kernels=[7, 3])
    return {"kind": "cnn", "state_dict": model.state_dict()}


def test_cnn_filters(tmp_path):
    torch.manual_seed(0)
    model_path = tmp_path / "cnn.pt"
    save_torch(_cnn_checkpoint(), model_path)
    path = tmp_path / "filters.png"
    retina.cnn_filters(model_path, path)
    assert _is_png(path)

    save_torch({"kind": "ln", "state_dict": {}}, tmp_path / "ln.pt")
    with pytest.raises(ValueError, match="needs a CNN"):
        retina.cnn_filters(tmp_path / "ln.pt", tmp_path / "ln.png")


MODELS = ["ln", "glm", "cnn"]
CELLS = [f"cell{i:02d}" for i in range(1, 5)]


def _performance(rng, n_seeds):
    return xr.Dataset(
        {
            "correlation": (
                ("model", "seed", "cell"),
                rng.uniform(0.2, 0.8, size=(3, n_seeds, len(CELLS))),
            ),
            "ceiling": ("cell", rng.uniform(0.7, 0.9, size=len(CELLS))),
        },
        coords={"model": MODELS, "seed": list(range(n_seeds)), "cell": CELLS},
    )


def test_model_comparison_classes(tmp_path):
    rng = np.random.default_rng(2)
    performances = {"whitenoise": _performance(rng, 2), "naturalscene": _performance(rng, 1)}
    path = tmp_path / "classes.png"
    retina.model_comparison_classes(performances, path)
    assert _is_png(path)


def test_data_efficiency_figure(tmp_path):
    rng = np.random.default_rng(3)
    shape = (2, 3, 2, len(CELLS))  # model x fraction x seed x cell
    dims = ("model", "fraction", "seed", "cell")
    dataset = xr.Dataset(
        {
            "test_correlation": (dims, rng.uniform(0.1, 0.7, size=shape)),
            "train_correlation": (dims, rng.uniform(0.4, 0.9, size=shape)),
            "val_correlation": (dims, rng.uniform(0.1, 0.5, size=shape)),
            "train_minutes": ("fraction", [0.5, 1.5, 5.0]),
        },
        coords={"model": ["ln", "cnn"], "fraction": [0.1, 0.3, 1.0], "seed": [0, 1], "cell": CELLS},
    )
    dataset["test_correlation"][0, 0, 1] = np.nan  # a missing run must not break the means
    path = tmp_path / "efficiency.png"
    retina.data_efficiency({"whitenoise": dataset, "naturalscene": dataset}, path)
    assert _is_png(path)


def test_generalization_figure(tmp_path):
    rng = np.random.default_rng(4)
    stimuli = ["whitenoise", "naturalscene"]
    dataset = xr.Dataset(
        {
            "correlation": (
                ("model", "train_stimulus", "test_stimulus", "seed", "cell"),
                rng.uniform(0.0, 0.8, size=(3, 2, 2, 2, len(CELLS))),
            ),
            "ceiling": (("test_stimulus", "cell"), rng.uniform(0.7, 0.9, size=(2, len(CELLS)))),
        },
        coords={
            "model": MODELS,
            "train_stimulus": stimuli,
            "test_stimulus": stimuli,
            "seed": [0, 1],
            "cell": CELLS,
        },
    )
    dataset["transfer_loss"] = transfer_loss(dataset["correlation"])
    path = tmp_path / "generalization.png"
    retina.generalization(dataset, path)
    assert _is_png(path)


def test_receptive_fields_figure(tmp_path):
    rng = np.random.default_rng(5)
    sta = rng.normal(size=(len(CELLS), 6, 8, 8))
    dataset = xr.Dataset(
        {
            "data_sta": (("cell", "lag", "row", "col"), sta),
            "model_sta": (
                ("model", "train_stimulus", "cell", "lag", "row", "col"),
                sta[None, None] + rng.normal(size=(2, 2, *sta.shape)),
            ),
            "similarity": (("model", "train_stimulus", "cell"), rng.uniform(size=(2, 2, 4))),
        },
        coords={
            "model": ["ln", "cnn"],
            "train_stimulus": ["whitenoise", "naturalscene"],
            "cell": CELLS,
            "lag": np.arange(5, -1, -1) * 0.01,
        },
    )
    path = tmp_path / "rf.png"
    retina.receptive_fields(dataset, path, n_cells=3)
    assert _is_png(path)
