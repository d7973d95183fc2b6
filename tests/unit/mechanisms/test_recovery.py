"""The positive control as a model file, and the recovery table that sets it next to the CNNs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from insilico.core.io import save_torch
from insilico.mechanisms.control import circuit_cnn, control_payload
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
    save_torch(control_payload(retina, 8, [1]), path)
    model, meta = load_model(path)
    reference, reference_meta = circuit_cnn(retina, 8, [1])
    assert meta["cell_names"] == ["cell02"] and meta["control"] == "circuit"
    movie = white_noise_movie(60, retina.size, np.random.default_rng(1))
    np.testing.assert_allclose(
        predict(model, meta, movie), predict(reference, reference_meta, movie), rtol=1e-6
    )
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules())


def test_recovery_counts_cases_per_dissected_model():
    rows = []
    for model, stimulus, recovered, testable in [
        ("cnn", "naturalscene", [False, True, False, False], [True, True, True, False]),
        ("control", "control", [True, True, True, False], [True, True, True, False]),
    ]:
        for i, (rec, test) in enumerate(zip(recovered, testable, strict=True)):
            rows.append(
                {
                    "experiment": "sim01",
                    "model": model,
                    "stimulus": stimulus,
                    "seed": 0,
                    "phenomenon": f"p{i // 2}",
                    "layer": i % 2 + 1,
                    "precision": 1.0 if rec else 0.5,
                    "recovered": rec,
                    "testable": test,
                }
            )
    table = recovery_table(pd.DataFrame(rows)).set_index("model")
    assert table.loc["control", "recovered"] == 3 and table.loc["control", "testable"] == 3
    assert table.loc["control", "fraction_testable"] == 1.0
    assert table.loc["cnn", "recovered"] == 1
    assert table.loc["cnn", "fraction_testable"] == pytest.approx(1 / 3)
    assert table.loc["cnn", "fraction"] == 0.25
    assert table.loc["cnn", "mean_precision"] == pytest.approx(0.625)
