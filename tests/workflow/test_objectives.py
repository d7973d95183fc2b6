"""The objectives branch inside the whole tiny DAG: claims, measures, figures, the wave design
check and the claims' place in the run's summary."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from conftest import read

from insilico.core.claims import VERDICTS
from insilico.objectives import waves

pytestmark = pytest.mark.workflow
FIGURES = ["capacity_predictivity", "robustness", "wave_translation", "wave_strip"]
RUNS = ["untrained", "supervised", "simclr", "mmcr", "waves", "shuffled_waves"]


def _settings(root) -> dict:
    default = yaml.safe_load((root / "config.yaml").read_text())["objectives"]
    tiny = yaml.safe_load((root / "config/tiny.yaml").read_text())["objectives"]
    return {
        k: {**default[k], **tiny[k]}
        if isinstance(default[k], dict) and k in tiny
        else tiny.get(k, default[k])
        for k in default
    }


def test_claims_measures_and_figures(finished_workflow):
    root = finished_workflow.root
    results = root / "results/objectives"
    claims = pd.read_csv(results / "claims.csv")
    assert set(claims["verdict"]) <= set(VERDICTS)
    assert (claims["n"] == len(_settings(root)["seeds"])).all()
    assert claims["claim"].str.startswith("design check").sum() == 4
    measures = read(results / "measures.nc")
    assert list(measures["run"].values) == RUNS
    assert set(measures["region"].values) == {"V4", "IT"}
    accuracy = measures["probe_accuracy"]
    assert ((accuracy >= 0) & (accuracy <= 1)).all()
    pgd = measures["pgd_accuracy"]
    assert list(pgd["epsilon"].values) == _settings(root)["pgd"]["epsilons"]
    assert ((pgd >= 0) & (pgd <= 1)).all()
    table = pd.read_csv(results / "measures.csv")
    assert set(table["run"]) == set(RUNS)
    for figure in FIGURES:
        assert (results / f"figures/{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure
    summary = pd.read_csv(root / "results/claims.csv")
    assert (summary["branch"] == "objectives").sum() == len(claims)


def test_wave_movies_are_the_simulator_at_the_model_input(finished_workflow):
    root = finished_workflow.root
    settings = _settings(root)
    movies = read(root / "results/objectives/waves.nc")
    size = yaml.safe_load((root / "config/tiny.yaml").read_text())["it"]["image_size"]
    assert movies["movie"].shape == (
        len(settings["seeds"]),
        settings["waves"]["n_steps"],
        size,
        size,
    )
    assert movies.attrs["front_speed_um_s"] == pytest.approx(movies.attrs["analytic_speed_um_s"])
    params = waves.WaveParams.from_config(settings["waves"])
    active = waves.simulate(
        params, settings["waves"]["n_steps"], settings["seeds"][0], settings["waves"]["burn_in"]
    )
    expected = waves.render(
        active, size, settings["waves"]["decay_steps"], settings["waves"]["blur_cells"]
    )
    assert (movies["movie"].isel(seed=0).values == expected).all()
