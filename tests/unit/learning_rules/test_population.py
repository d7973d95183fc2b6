"""The population trainer and the variants on random images (every rule runs; files load)."""

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr
import yaml

from insilico.it.train import load_it_model
from insilico.learning_rules import train as lr_train
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
        checkpoints=tmp_path / "checkpoints",
    )
    assert list(curves["step"].values) == [2, 3]
    assert not list((tmp_path / "checkpoints").iterdir())  # each network's is removed when done
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


def test_the_sweep_figures_draw_from_sweep_curves(tmp_path):
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
            checkpoints=tmp_path,
        )
    depth = plots.accuracy_vs_depth(curves["depth"], curves["population"])
    assert any(list(line.get_xdata()) == [1, 2] for line in depth.axes[0].lines)
    grid = plots.grid_heatmaps(curves["grid"])
    assert len([ax for ax in grid.axes if ax.images]) == 2  # one panel per architecture


def test_a_killed_network_resumes_to_the_model_of_an_uninterrupted_one(tmp_path, monkeypatch):
    """Killed at its third evaluation (step 9 of 11, the checkpoint of step 6 the last), the
    network resumes from that checkpoint, B and the running loss included, to the same model."""
    variant = next(v for v in variants(SECTION) if v["rule"] == "kolen_pollack")
    variant = {**variant, "model": {**variant["model"], "channels": [2, 2, 4, 4]}}
    data = lr_train.TaskData(images(), torch.device("cpu"))
    train = {"steps": 11, "batch_size": 8, "learning_rate": 0.003, "eval_every": 3}

    def run(checkpoint):
        return lr_train.train_network(
            variant, 0, data, train, torch.device("cpu"), logging.getLogger("test"), checkpoint
        )

    reference = run(tmp_path / "reference.pt")
    real, calls = lr_train.accuracy, []

    def killed_at_the_third_evaluation(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(lr_train, "accuracy", killed_at_the_third_evaluation)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "killed.pt")
    assert (tmp_path / "killed.pt").exists()
    calls.clear()
    monkeypatch.setattr(lr_train, "accuracy", lambda *args: calls.append(1) or real(*args))
    resumed = run(tmp_path / "killed.pt")
    assert len(calls) == 2  # steps 9 and 11: it resumed from step 6, it did not start again
    assert resumed["curves"] == reference["curves"]
    assert reference["curves"]["step"] == [3, 6, 9, 11]
    for name, tensor in reference["model"].state_dict().items():
        assert torch.equal(resumed["model"].state_dict()[name], tensor), name
    assert not (tmp_path / "killed.pt").exists()
