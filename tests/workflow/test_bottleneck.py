"""The bottleneck branch inside the whole tiny DAG: its table, trends, fields and figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from insilico.bottleneck import analysis
from insilico.retina.simulator import SimulatedRetina

pytestmark = pytest.mark.workflow

FIGURES = ["receptive_fields", "indices", "linearity"]


def _open(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as dataset:
        return dataset.load()


def _tiny(root: Path) -> dict:
    """The tiny preset's values of the keys these tests read (over the default config)."""
    default = yaml.safe_load((root / "config.yaml").read_text())
    tiny = yaml.safe_load((root / "config/tiny.yaml").read_text())
    return {
        "sweep": {**default["bottleneck"]["sweep"], **tiny["bottleneck"]["sweep"]},
        "size": tiny["bottleneck"]["images"]["size"],
        "retina": {**default["data"]["simulated"]["retina"], **tiny["data"]["simulated"]["retina"]},
    }


def test_table_covers_the_sweep_with_values_from_the_probes(finished_workflow):
    root = finished_workflow.root
    tiny = _tiny(root)
    table = pd.read_csv(root / "results/bottleneck/summary.csv")
    networks = table[table["n_bn"].notna()]
    sweep = tiny["sweep"]
    expected = sum(1 + (d > 0) for d in sweep["d_vvs"]) * len(sweep["n_bn"])
    assert len(networks) == expected
    assert sorted(networks["n_bn"].unique()) == sorted(sweep["n_bn"])
    for name in ("orientedness_gradient", "centre_surround_gradient", "separability"):
        values = networks[name].dropna()
        assert ((values >= 0) & (values <= 1)).all(), name
    assert networks["test_accuracy"].between(0, 1).all()
    # a row is the mean over units of the indices of the probed fields
    probe = _open(root / f"results/bottleneck/probes/nbn{max(sweep['n_bn'])}.nc")
    fields = (
        probe["gradient_rf"]
        .sel(d_vvs=0, stage="bottleneck")
        .values.reshape(-1, tiny["size"], tiny["size"])
    )
    fields = fields[np.isfinite(fields).all(axis=(1, 2)) & (np.abs(fields).max(axis=(1, 2)) > 0)]
    row = networks[(networks["n_bn"] == max(sweep["n_bn"])) & (networks["d_vvs"] == 0)].iloc[0]
    if len(fields):
        assert row["orientedness_gradient"] == pytest.approx(
            analysis.orientedness(fields).mean(), rel=1e-4
        )
    assert json.loads((root / "results/bottleneck/trends.json").read_text())["narrow"][
        "n_bn"
    ] == min(sweep["n_bn"])


def test_simulated_retina_fields_sit_on_its_cells(finished_workflow):
    root = finished_workflow.root
    retina = _tiny(root)["retina"]
    fields = _open(root / "results/bottleneck/reference_indices.nc")
    circuit = SimulatedRetina(retina, retina["seed"])
    assert list(fields["cell_type"].values) == list(circuit.cell_types)
    linear = [i for i, kind in enumerate(circuit.cell_types) if kind != "on_off"]
    for cell in linear:
        centre = np.array(analysis.energy_centre(fields["rf"].values[cell]))
        assert np.hypot(*(centre - circuit.cell_centres[cell])) < 2.0
    table = pd.read_csv(root / "results/bottleneck/summary.csv").set_index("stage")
    assert table.loc["simulated_retina:all", "orientedness_sta"] == pytest.approx(
        float(fields["orientedness"].mean()), rel=1e-4
    )


def test_figures_and_logs(finished_workflow):
    root = finished_workflow.root / "results"
    for figure in FIGURES:
        png = root / f"bottleneck/figures/{figure}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure
    assert "test accuracy" in (root / "logs/bottleneck/train_nbn1.log").read_text()


def test_claims_are_decided_over_seeds(finished_workflow):
    """tiny has one seed per network: every claim is counted over seeds and stays unresolved."""
    root = finished_workflow.root
    claims = pd.read_csv(root / "results/bottleneck/claims.csv")
    seeds = _tiny(root)["sweep"]["seeds"]
    assert list(claims.columns[:8]) == [
        "claim",
        "model",
        "value",
        "ci_low",
        "ci_high",
        "n",
        "verdict",
        "holds",
    ]
    assert (claims["n"] <= len(seeds)).all() and (claims["replicates"] == "seeds").all()
    assert (claims["verdict"] == "not resolved").all() and not claims["holds"].any()
