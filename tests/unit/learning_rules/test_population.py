"""The population trainer and the variants on random images (every rule runs; files load)."""

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr
import yaml

from insilico.it.train import load_it_model
from insilico.learning_rules.rules import RULES
from insilico.learning_rules.train import train_group
from insilico.learning_rules.variants import variants

SECTION = yaml.safe_load((Path(__file__).resolve().parents[3] / "config.yaml").read_text())[
    "learning_rules"
]


def images(n_train=40, n_test=16, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return xr.Dataset(
        {
            "train_images": (
                ("i", "h", "w"),
                rng.integers(0, 255, (n_train, size, size), np.uint8),
            ),
            "train_labels": ("i", rng.integers(0, 3, n_train)),
            "test_images": (("j", "h", "w"), rng.integers(0, 255, (n_test, size, size), np.uint8)),
            "test_labels": ("j", rng.integers(0, 3, n_test)),
        },
        attrs={"n_categories": 3},
    )


def test_every_rule_trains_and_saves_an_it_cnn(tmp_path):
    population = variants({**SECTION, "model": {**SECTION["model"], "channels": [2, 2, 4, 4]}})
    assert [v["name"] for v in population] == list(SECTION["rules"])
    assert set(SECTION["rules"]) == set(RULES)
    paths = {(v["name"], 0): tmp_path / f"{v['name']}.pt" for v in population}
    train = {"steps": 3, "batch_size": 8, "learning_rate": 0.003, "eval_every": 2}
    curves = train_group(
        variants=population,
        seeds=[0],
        images=images(),
        train=train,
        model_paths=paths,
        device=torch.device("cpu"),
        log=logging.getLogger("test"),
    )
    assert list(curves["step"].values) == [2, 3]
    assert np.isfinite(curves["train_loss"].values).all()
    angles = curves["angle"].isel(step=-1, seed=0)
    assert float(abs(angles.sel(variant="backprop")).max()) < 1e-3
    assert float(angles.sel(variant="feedback_alignment").min()) > 10
    model, meta = load_it_model(paths["symmetric_alignment", 0])
    assert meta["learning_rule"] == "symmetric_alignment" and meta["kind"] == "cnn"


def test_the_sweeps_name_every_variant_once():
    section = {
        **SECTION,
        "sweeps": {
            "depth": {"block_convs": [3], "rules": ["backprop", "feedback_alignment"]},
            "grid": {
                "block_convs": [1, 3],
                "rules": ["weight_mirror"],
                "alpha": [0.1, 1.0],
                "beta": [1.0],
            },
            "noise": {"levels": [0.1], "rules": ["kolen_pollack"]},
        },
    }
    names = [v["name"] for v in variants(section)]
    assert "backprop@depth3" in names and "kolen_pollack@noise0.1" in names
    assert "weight_mirror@a0.1_b1" in names and "weight_mirror@a0.1_b1@depth3" in names
    grid = [v for v in variants(section) if v["group"] == "grid"]
    assert len(grid) == 4 and {v["settings"]["alpha"] for v in grid} == {0.1, 1.0}
    with pytest.raises(ValueError, match="twice"):
        variants({**section, "rules": ["backprop", "backprop"]})


def test_the_sweep_figures_draw_from_sweep_curves():
    from insilico.learning_rules import plots

    section = {
        **SECTION,
        "rules": ["backprop"],
        "model": {**SECTION["model"], "channels": [2, 2, 4, 4]},
        "sweeps": {
            "depth": {"block_convs": [2], "rules": ["backprop"]},
            "grid": {
                "block_convs": [1, 2],
                "rules": ["weight_mirror"],
                "alpha": [0.1, 1.0],
                "beta": [1.0],
            },
            "noise": {"levels": [], "rules": []},
        },
    }
    train = {"steps": 1, "batch_size": 4, "learning_rate": 0.003, "eval_every": 1}
    curves = {}
    for group in ("population", "depth", "grid"):
        curves[group] = train_group(
            variants=[v for v in variants(section) if v["group"] == group],
            seeds=[0, 1],
            images=images(n_train=8, n_test=4),
            train=train,
            model_paths=None,
            device=torch.device("cpu"),
            log=logging.getLogger("test"),
        )
    depth = plots.accuracy_vs_depth(curves["depth"], curves["population"])
    assert any(list(line.get_xdata()) == [1, 2] for line in depth.axes[0].lines)
    grid = plots.grid_heatmaps(curves["grid"])
    assert len([ax for ax in grid.axes if ax.images]) == 2  # one panel per architecture
