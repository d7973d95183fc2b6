"""The learning-rules branch on the tiny preset, read from the shared finished tiny run: the
population's curves and models, predictivity, Hessian, claims table and figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import read

from insilico.core.claims import VERDICTS
from insilico.it.train import load_it_model

pytestmark = pytest.mark.workflow
FIGURES = ["accuracy", "predictivity", "hessian"]


@pytest.fixture(scope="module")
def root(finished_workflow):
    return finished_workflow.root / "results/learning_rules"


def test_population_models_are_it_cnns_with_the_recorded_accuracy(root):
    curves = read(root / "train/population.nc")
    assert list(curves["seed"].values) == [0, 1, 2]
    assert "backprop" in curves["rule"].values and "feedback_alignment" in curves["rule"].values
    backprop = curves["angle"].sel(variant="backprop")
    assert float(abs(backprop).max()) < 1e-3  # backprop's backward kernel is W itself
    fa = curves["angle"].sel(variant="feedback_alignment").isel(step=-1)
    assert float(fa.min()) > 1.0
    model, meta = load_it_model(root / "models/backprop/seed0/model.pt")
    assert meta["learning_rule"] == "backprop"
    accuracy = float(curves["test_accuracy"].sel(variant="backprop", seed=0).isel(step=-1))
    assert meta["test_accuracy"] == pytest.approx(accuracy)
    assert model(torch.zeros(1, 1, meta["size"], meta["size"])).shape == (1, meta["n_classes"])


def test_predictivity_hessian_and_claims(root):
    predictivity = read(root / "predictivity.nc")
    assert set(predictivity["region"].values) == {"V4", "IT"}
    assert np.isfinite(predictivity["predictivity"].values).all()
    hessian = read(root / "hessian.nc")
    assert set(hessian["state"].values) == {"initial", "trained"}
    top = hessian["eigenvalue"].isel(rank=0).values
    assert (top > 0).all()
    assert ((hessian["gradient_share"] >= 0) & (hessian["gradient_share"] <= 1 + 1e-9)).all()
    claims = pd.read_csv(root / "claims.csv")
    assert set(claims["verdict"]) <= set(VERDICTS)
    assert (claims["holds"] == (claims["verdict"] == "reproduced")).all()
    population = pd.read_csv(root / "population.csv")
    wide = population.pivot(index="seed", columns="rule", values="test_accuracy")
    row = claims[claims["model"] == "feedback_alignment"].iloc[0]
    expected = (wide["feedback_alignment"] - wide["backprop"]).mean()
    assert row["value"] == pytest.approx(expected)
    for figure in FIGURES:
        png = root / f"figures/{figure}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure
