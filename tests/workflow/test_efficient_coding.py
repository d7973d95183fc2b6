"""The efficient-coding branch on the tiny preset: claims, types table, figures, logs.

Runs only this branch's target (``snakemake efficient_coding``) in a private copy of the workflow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import copy_workflow, read

from insilico.core.claims import VERDICTS
from insilico.efficient_coding import spectrum, waterfill

pytestmark = pytest.mark.workflow
FIGURES = ["spectrum", "error_budget", "filters", "type_ratio"]


@pytest.fixture(scope="module")
def branch_run(tmp_path_factory):
    workflow = copy_workflow(tmp_path_factory.mktemp("efficient_coding"))
    workflow.snakemake("--cores", "2", "efficient_coding")
    return workflow.root


def _settings(root) -> dict:
    """The efficient_coding section as the run saw it (tiny preset over the default)."""
    default = yaml.safe_load((root / "config.yaml").read_text())["efficient_coding"]
    tiny = yaml.safe_load((root / "config/tiny.yaml").read_text())["efficient_coding"]
    return {
        k: {**default[k], **tiny[k]}
        if isinstance(default[k], dict) and k in tiny
        else tiny.get(k, default[k])
        for k in default
    }


def test_theory_is_the_water_filling_of_the_measured_patch_spectrum(branch_run):
    settings = _settings(branch_run)
    theory = read(branch_run / "results/efficient_coding/theory.nc")
    assert list(theory["seed"].values) == settings["seeds"]
    power = theory["patch_power"].isel(seed=0).values
    assert power.shape == (settings["movie"]["size"], settings["patch_frames"])
    noise = waterfill.Noise(settings["noise"]["input"], settings["noise"]["output"])
    stride = int(theory["one_stride"].isel(seed=0, budget=0))
    expected = waterfill.one_type_error(power, noise, stride, [settings["budgets"][0]])[0]
    assert float(theory["one_error"].isel(seed=0, budget=0)) == pytest.approx(expected, rel=1e-9)
    assert (theory["two_error"] <= theory["one_error"] + 1e-12).all()
    # errors fall with the budget and the fit's exponents are positive (a falling spectrum)
    assert (theory["one_error"].diff("budget") < 0).all()
    assert (theory["fit_a"] > 0).all() and (theory["fit_b"] > 0).all()
    # the movie renders the same from its seed: the patch spectrum is the movie's
    movie = spectrum.render(
        settings["movie"]["n_frames"], settings["movie"]["size"], settings["seeds"][0], 100, 0.5
    )
    patches = spectrum.row_patches(movie, settings["patch_frames"], movie.std())
    np.testing.assert_allclose(spectrum.patch_spectrum(patches), power, rtol=1e-4)


def test_claims_table_and_trained_errors(branch_run):
    table = pd.read_csv(branch_run / "results/efficient_coding/claims.csv")
    assert list(table.columns[:7]) == [
        "claim",
        "value",
        "ci_low",
        "ci_high",
        "n",
        "verdict",
        "holds",
    ]
    assert set(table["verdict"]) <= set(VERDICTS)
    assert (table["holds"] == (table["verdict"] == "reproduced")).all()
    trained = read(branch_run / "results/efficient_coding/trained.nc")
    error = trained["error"]
    assert ((error > 0) & (error < 1.5)).all()
    gap = (error.sel(kind="one") / trained["theory_one"] - 1).values.ravel()
    row = table[
        table["claim"].str.startswith("trained linear encoder within 5 % of water-filling (one")
    ].iloc[0]
    assert row["value"] == pytest.approx(gap.mean(), rel=1e-6)
    # a trained encoder cannot beat the optimum by more than its sampling noise
    assert (gap > -0.05).all()


def test_types_table_figures_and_logs(branch_run):
    types = pd.read_csv(branch_run / "results/efficient_coding/types.csv")
    assert types["type"].iloc[0] == "learned coarse" and types["type"].iloc[1] == "learned fine"
    assert types["type"].str.startswith("simulated").sum() == 5
    assert (types["size_px"] > 0).all()
    for figure in FIGURES:
        png = branch_run / f"results/efficient_coding/figures/{figure}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure
    assert "mean loss" in (branch_run / "results/logs/efficient_coding/train.log").read_text()
