"""The controls as model files, and the recovery table that sets them next to the CNNs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import xarray as xr

from insilico.core.io import save_torch
from insilico.mechanisms import control
from insilico.mechanisms.summary import recovery_table
from insilico.retina.inference import load_model, predict
from insilico.retina.simulator import SimulatedRetina, white_noise_movie

PARAMS = {
    "size": 12,
    "cell_types": ["off_fast", "on"],
    "cells_per_type": 1,
    "subunit_spacing": 2,
    "max_rate": 60,
    "saccade_seconds": 1.0,
    "jitter_px": 0.5,
}


def test_the_control_model_file_loads_as_the_same_cnn(tmp_path):
    retina = SimulatedRetina(PARAMS, seed=0)
    path = tmp_path / "model.pt"
    save_torch(control.payload(*control.circuit_cnn(retina, 8, [1])), path)
    model, meta = load_model(path)
    reference, reference_meta = control.circuit_cnn(retina, 8, [1])
    assert meta["cell_names"] == ["cell02"] and meta["control"] == "circuit"
    movie = white_noise_movie(60, retina.size, np.random.default_rng(1))
    np.testing.assert_allclose(
        predict(model, meta, movie), predict(reference, reference_meta, movie), rtol=1e-6
    )
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules())


def test_dense_distractors_reach_the_requested_level_and_strength_zero_is_the_circuit():
    retina = SimulatedRetina(PARAMS, seed=0)
    circuit, meta = control.circuit_cnn(retina, 8)
    windows = control.probe_windows(retina, meta)
    wired = control.channel_contributions(circuit, windows) > 0
    levels = (np.array([0.5]), np.array([-1.0]))  # every distractor at half the strongest
    movie = white_noise_movie(60, retina.size, np.random.default_rng(2))
    same, _ = control.dense_control(retina, 8, levels, 0.0, seed=0)
    np.testing.assert_allclose(predict(same, meta, movie), predict(circuit, meta, movie), rtol=1e-5)
    dense, dense_meta = control.dense_control(retina, 8, levels, 1.0, seed=0)
    part = control.channel_contributions(dense, windows)
    relative = part / part.max(1, keepdims=True)
    assert (~wired).any() and dense_meta["strength"] == 1.0
    np.testing.assert_allclose(relative[~wired], 0.5, rtol=1e-3)
    assert not np.allclose(predict(dense, meta, movie), predict(circuit, meta, movie))


def test_the_untrained_cnn_responds_and_differs_per_seed():
    retina = SimulatedRetina(PARAMS, seed=0)
    fitted_meta = {
        "history": 8,
        "size": 12,
        "n_cells": 2,
        "cell_names": ["cell01", "cell02"],
        "stimulus_mean": 128.0,
        "stimulus_std": 60.0,
        "kind": "cnn",
        "model_params": {"history": 8, "channels": [4, 4], "kernels": [5, 3], "batchnorm": True},
    }
    movie = white_noise_movie(400, retina.size, np.random.default_rng(3))
    rates = [predict(*control.untrained_cnn(retina, fitted_meta, seed), movie) for seed in (0, 1)]
    assert (rates[0].max(1) > 20).all() and not np.allclose(rates[0], rates[1])


def _groundtruth(recovered, testable, shuffled_rate, excess, rng):
    """A ground-truth Dataset of one phenomenon: two layers, five cells, 100 shuffles."""
    chance = np.full((5, 2), 0.3)
    return xr.Dataset(
        {
            "recovered": ("layer", np.array(recovered)),
            "testable": ("layer", np.array(testable)),
            "shuffled_recovered": (("layer", "shuffle"), rng.random((2, 100)) < shuffled_rate),
            "precision": (("cell", "layer"), chance + excess + rng.normal(0, 0.05, (5, 2))),
            "chance": (("cell", "layer"), chance),
        }
    )


def test_recovery_counts_cases_and_gives_intervals_over_cells_shuffles_and_seeds():
    rng = np.random.default_rng(0)
    runs = {
        ("sim01", "naturalscene", seed): {
            f"p{i}": _groundtruth([i == 0, False], [True, True], 0.05, 0.0, rng) for i in range(2)
        }
        for seed in (0, 1, 2)
    }
    runs[("sim01", "control", 0)] = {
        f"p{i}": _groundtruth([True, True], [True, False], 0.05, 0.5, rng) for i in range(2)
    }
    controls = {"control": {"model": "control", "strength": 0.0}}
    table = recovery_table(runs, controls)
    circuit = table.set_index("model").loc["control"]
    assert circuit["recovered"] == 4 and circuit["testable"] == 2
    assert circuit["fraction_testable"] == 1.0
    assert circuit["excess_precision_ci_low"] > 0.3 and circuit["verdict"] == "reproduced"
    assert circuit["shuffled_rate_ci_low"] < 0.05 < circuit["shuffled_rate_ci_high"]
    cnn = table[(table["model"] == "cnn") & (table["seed"].astype(str) == "0")].iloc[0]
    assert cnn["recovered"] == 1 and cnn["fraction"] == 0.25
    assert cnn["verdict"] == "not resolved"  # precision at chance: the interval holds zero
    pooled = table[table["seed"].astype(str) == "all"].iloc[0]
    assert pooled["recovered"] == 1 and pooled["seeds"] == 3
    assert pooled["recovered_ci_low"] == pytest.approx(1.0)


def test_the_trained_control_gets_rows_per_seed_and_one_over_seeds():
    """The trained control is dissected per training seed like the fitted CNNs: a row per seed
    with its intervals over cells and shuffles, and a pooled row with the count's interval."""
    rng = np.random.default_rng(1)
    runs = {
        ("sim01", "trained", seed): {
            f"p{i}": _groundtruth([True, seed == 0], [True, True], 0.05, 0.2, rng) for i in range(2)
        }
        for seed in (0, 1, 2)
    }
    controls = {"trained": {"model": "trained_control", "strength": None}}
    table = recovery_table(runs, controls)
    per_seed = table[table["seed"].astype(str) != "all"]
    assert list(per_seed["model"]) == ["trained_control"] * 3
    assert list(per_seed["recovered"]) == [4, 2, 2]
    assert per_seed["excess_precision_ci_low"].notna().all()
    assert (per_seed["excess_precision_ci_low"] < per_seed["excess_precision_ci_high"]).all()
    (pooled,) = table[table["seed"].astype(str) == "all"].itertuples()
    assert pooled.model == "trained_control" and pooled.seeds == 3
    assert pooled.recovered == pytest.approx(8 / 3)
    assert pooled.recovered_ci_low < pooled.recovered < pooled.recovered_ci_high
