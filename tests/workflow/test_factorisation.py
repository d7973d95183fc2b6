"""The factorisation branch inside the whole tiny DAG: its files, figures and summary values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

pytestmark = pytest.mark.workflow

FIGURES = ["overlap_order2", "overlap_order3", "phase_diagram", "amp_vs_als", "cnmf_loss_time"]


def _open(path):
    with xr.open_dataset(path, engine="h5netcdf") as dataset:
        return dataset.load()


def test_figures_logs_and_benchmarks(finished_workflow):
    root = finished_workflow.root / "results/factorisation"
    for figure in FIGURES:
        assert (root / f"figures/{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure
    logs = finished_workflow.root / "results/logs/factorisation"
    assert (logs / "overlap_order2.log").stat().st_size > 0
    assert (finished_workflow.root / "results/benchmarks/factorisation/cnmf_benchmark.tsv").exists()


def test_theory_and_simulation_values(finished_workflow):
    root = finished_workflow.root / "results/factorisation"
    order2 = _open(root / "overlap_order2.nc")
    # shape (1, 2): the order-2 transition is at 1/sqrt(2), to one step of the theory grid
    assert order2.attrs["threshold_information"] == pytest.approx(1 / np.sqrt(2), rel=0.1)
    assert order2.attrs["continuous"] == 1
    order3 = _open(root / "overlap_order3.nc")
    assert order3.attrs["continuous"] == 0
    assert order3.attrs["threshold_spinodal"] < order3.attrs["threshold_information"]
    random_start = order3["amp_overlap"].sel(start="uninformative")
    assert float(random_start.max()) < 0.3  # the hard phase: AMP from a random start fails
    informed = order3["amp_overlap"].sel(start="informed").isel(snr=-1)
    assert float(informed.mean()) > 0.8


def test_summary_table(finished_workflow):
    table = pd.read_csv(finished_workflow.root / "results/factorisation/summary.csv")
    values = dict(zip(table["quantity"], table["measured"], strict=True))
    assert values["cp_control_selected_rank"] == 2
    assert values["cnmf_mu_speedup_vs_mu"] == pytest.approx(1.0)
    gaps = table[table["quantity"].str.startswith("mse_als_minus_amp")]["measured"]
    assert len(gaps) == 3 and gaps.iloc[0] > 0  # AMP beats ALS at the lowest snr
    for name in (
        "cp_retina_label_decoding",
        "cp_it_label_decoding",
        "cnmf_retina_motif_type_purity",
    ):
        assert 0 <= values[name] <= 1
