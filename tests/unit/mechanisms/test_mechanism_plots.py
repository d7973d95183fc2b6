"""Every mechanisms figure and table, from a miniature run of the whole analysis (all phenomena)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from insilico.core import io
from insilico.core.config import load_schema, validate_config
from insilico.mechanisms import (
    attribution,
    experiments,
    groundtruth,
    plots,
    reduction,
    stimuli,
    summary,
)
from insilico.retina.models import build_model
from insilico.retina.simulator import SimulatedRetina

REPO = Path(__file__).parents[3]
SIZE, HISTORY = 12, 6
PNG_MAGIC = b"\x89PNG"
DEVICE = torch.device("cpu")
RUN = ("sim01", "naturalscene", 0)
CHECKED = ["flash", "anticipation", "reversing_grating"]  # ground truth and dissection figures


@pytest.fixture(autouse=True)
def low_resolution(monkeypatch):
    """Render at a low resolution: the tests check that figures are made, not how they look."""
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: io.save_figure(fig, path, dpi=30))


def _is_png(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 1000 and path.read_bytes()[:4] == PNG_MAGIC


@pytest.fixture(scope="module")
def analysis():
    """Responses, attributions, reductions and ground truth of a random CNN for every phenomenon."""
    schema = load_schema(REPO / "schemas" / "config.schema.yaml")
    tiny = yaml.safe_load((REPO / "config" / "tiny.yaml").read_text())["mechanisms"]["stimuli"]
    params = validate_config({"mechanisms": {"stimuli": tiny}}, schema)["mechanisms"]["stimuli"]
    torch.manual_seed(0)
    model = build_model(
        "cnn", history=HISTORY, size=SIZE, n_cells=4, channels=[3, 3], kernels=[5, 3]
    )
    with torch.no_grad():
        model.init_output_bias(torch.full((4,), 5.0))
    model.eval()
    meta = {
        "history": HISTORY,
        "size": SIZE,
        "cell_names": ["cell01", "cell02", "cell03", "cell04"],
        "stimulus_mean": 127.0,
        "stimulus_std": 90.0,
    }
    retina = SimulatedRetina(
        {
            "size": SIZE,
            "cell_types": ["off_fast", "off_slow", "on", "on_off"],
            "cells_per_type": 1,
            "subunit_spacing": 2,
            "max_rate": 60,
            "saccade_seconds": 1.0,
            "jitter_px": 0.5,
        },
        seed=1,
    )
    offsets = groundtruth.receptive_field_offsets(model, meta)
    out = {"responses": {}, "attribution": {}, "reduction": {}, "groundtruth": {}}
    for phenomenon in stimuli.PHENOMENA:
        stimulus = stimuli.render(phenomenon, params[phenomenon], SIZE, HISTORY)
        responses = experiments.run_experiment(
            stimulus, model=model, meta=meta, retina=retina, min_response=0.05
        )
        attributed = attribution.attribute(
            model, meta, stimulus, steps=2, batch_size=4096, device=DEVICE
        )
        reduced = reduction.reduce(
            model,
            meta,
            stimulus,
            attributed,
            tolerance=0.2,
            min_response=0.05,
            batch_size=4096,
            device=DEVICE,
        )
        rate = reduced["reduced_rate"].expand_dims(source=["reduced"])
        rest = responses["rest_rate"].sel(source=["cnn"]).assign_coords(source=["reduced"])
        reduced = reduced.merge(
            experiments.summarise(rate, rest, responses, 0.05), compat="override"
        )
        out["responses"][phenomenon] = responses
        out["attribution"][phenomenon] = attributed
        out["reduction"][phenomenon] = reduced
        if phenomenon not in CHECKED:
            continue
        out["groundtruth"][phenomenon] = groundtruth.check(
            model,
            meta,
            responses,
            attributed,
            reduced,
            retina,
            offsets=offsets,
            permutations=20,
            alpha=0.05,
            seed=0,
            batch_size=4096,
            device=DEVICE,
        )
    return out


@pytest.mark.parametrize("phenomenon", sorted(stimuli.PHENOMENA))
def test_phenomenon_figure(analysis, tmp_path, phenomenon):
    path = tmp_path / f"{phenomenon}.png"
    plots.phenomenon_figure(
        analysis["responses"][phenomenon], analysis["reduction"][phenomenon], path, "(test)"
    )
    assert _is_png(path)


def test_phenomenon_figure_without_ground_truth(analysis, tmp_path):
    responses = analysis["responses"]["latency"].sel(source=["cnn"])
    path = tmp_path / "latency.png"
    plots.phenomenon_figure(responses, None, path)
    assert _is_png(path)


def test_dissection_figures(analysis, tmp_path):
    def checked(kind):
        return {p: analysis[kind][p] for p in CHECKED}

    plots.attribution_figure(
        checked("attribution"), analysis["responses"], tmp_path / "attribution.png"
    )
    plots.reduction_figure(checked("reduction"), analysis["responses"], tmp_path / "reduction.png")
    plots.groundtruth_figure(analysis["groundtruth"], tmp_path / "groundtruth.png")
    for name in ("attribution", "reduction", "groundtruth"):
        assert _is_png(tmp_path / f"{name}.png"), name


def test_tables(analysis):
    runs = {kind: {RUN: per_phenomenon} for kind, per_phenomenon in analysis.items()}
    phenomena = summary.phenomena_table(runs["responses"], runs["reduction"])
    assert set(phenomena["phenomenon"]) == set(stimuli.PHENOMENA)
    assert {"quantity", "cnn", "truth", "reduced_cnn"} <= set(phenomena.columns)
    table = summary.attribution_table(runs["attribution"])
    assert len(table) == len(stimuli.PHENOMENA)
    assert (table["relative_completeness_error"] >= 0).all()
    assert table["top_layer1"].str.startswith("L1C").all()
    reduced = summary.reduction_table(runs["reduction"])
    assert (reduced["layer1_kept_median"] <= reduced["layer1_channels"]).all()
    truth = summary.groundtruth_table(runs["groundtruth"])
    assert len(truth) == 2 * len(CHECKED)
    assert truth["recovered"].dtype == bool
    assert np.isfinite(truth["chance"]).any()
