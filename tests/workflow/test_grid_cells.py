"""Grid cells inside the whole tiny DAG: theory, training jobs, table and figures, with values."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

pytestmark = pytest.mark.workflow

FIGURES = ["theory", "rate_maps", "gridness", "sweep", "period"]


def test_grid_cell_outputs(finished_workflow):
    root = finished_workflow.root / "results/dynamics/grid_cells"
    for figure in FIGURES:
        assert (root / f"figures/{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure
    table = pd.read_csv(root / "summary.csv")
    assert list(table["activation"]) == ["relu", "tanh"]  # tiny: the base and the tanh control
    assert (table["decoding_error"] < table["chance_error"]).all()
    assert np.allclose(table["predicted_period"], 2 * np.pi / 8.0113, rtol=1e-3)
    numbers = json.loads((root / "headline.json").read_text())
    assert numbers["base_networks"] == 1
    assert numbers["theory_gridness"]["nonnegative"] > numbers["theory_gridness"]["unconstrained"]
    with xr.open_dataset(root / "maps/chunk0.nc", engine="h5netcdf") as maps:
        assert maps["rate_map"].shape[2:] == (12, 12)
        assert np.isfinite(maps["rate_map"]).mean() > 0.5  # 100 short trajectories visit most bins
    for log in ("train_chunk0.log", "theory.log", "figures.log"):
        assert (finished_workflow.root / "results/logs/dynamics/grid_cells" / log).stat().st_size


def test_grid_cell_claims_are_decided_by_intervals(finished_workflow):
    """tiny has one seed: every claim on the networks stays unresolved; the theory row has the
    theory's maps as replicates."""
    root = finished_workflow.root / "results/dynamics/grid_cells"
    claims = pd.read_csv(root / "claims.csv").set_index("claim")
    networks = claims[claims["replicates"].str.startswith("seeds")]
    assert (networks["verdict"] == "not resolved").all() and not networks["holds"].any()
    assert "relu grows more grid units than tanh" in claims.index
    theory = claims.loc["theory (simulated): nonnegativity makes hexagonal patterns"]
    with xr.open_dataset(root / "theory.nc", engine="h5netcdf") as ds:
        assert theory["n"] == ds.sizes["map"]
