"""The geometry branch inside the whole tiny DAG: its files, values and figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

pytestmark = pytest.mark.workflow

FIGURES = ["layers", "capacity_vs_predictivity", "learning_curves", "error_modes", "simulation"]


def _open(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as dataset:
        return dataset.load()


def test_summary_joins_geometry_and_it_scores(finished_workflow):
    root = finished_workflow.root / "results"
    table = pd.read_csv(root / "geometry/summary.csv")
    models = table[table["model"] != "recording"]
    assert len(models) == 2 * 2 * 5  # cnn, convrnn x trained, untrained x 5 layers (tiny: seed 0)
    assert sorted(table.loc[table["model"] == "recording", "state"]) == ["IT", "V4"]
    assert (models["capacity_object"] > 0).all() and (models["capacity_category"] > 0).all()
    scores = _open(root / "it/scores.nc")["score"]
    row = models[(models["model"] == "cnn") & (models["state"] == "trained")].iloc[1]
    expected = scores.sel(model="cnn", state="trained", seed=0, layer=row["layer"], region="IT")
    assert row["pls_r_IT"] == pytest.approx(float(expected), abs=1e-4)
    for figure in FIGURES:
        png = root / f"geometry/figures/{figure}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure
    assert (root / "logs/geometry/summary.log").stat().st_size > 0


def test_convrnn_steps_and_theory_against_simulation(finished_workflow):
    root = finished_workflow.root / "results/geometry"
    convrnn = _open(root / "layers/convrnn/trained/seed0.nc")
    assert -1 in convrnn["step"].values and convrnn.sizes["step"] > 1
    window = convrnn["capacity"].sel(step=-1)
    assert np.isfinite(window).all()
    comparison = _open(root / "simulation.nc")
    synthetic = comparison.sel(case="synthetic spheres")
    assert float(synthetic["relative_difference"]) < 0.3  # tiny sizes: a loose positive control
    learning = convrnn["theory_error"]
    assert np.isfinite(learning).all() and (learning > 0).all()
