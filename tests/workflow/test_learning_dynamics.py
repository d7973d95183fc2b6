"""The learning-dynamics branch on the tiny preset: its three jobs, claims, figures and the
numbers behind them. It reads nothing from other branches, so it runs its own target only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import copy_workflow, edited

from insilico.core.claims import VERDICTS
from insilico.learning_dynamics import claims as cl

pytestmark = pytest.mark.workflow

FIGURES = [
    "mode_trajectories",
    "hierarchy",
    "relu",
    "random_tree",
    "teacher_curves",
    "spectra",
    "width",
    "transfer",
]
CLAIMS = {
    "decoupled_s(t)_depth2",
    "decoupled_s(t)_depth3",
    "random_start_s(t)",
    "progressive_differentiation",
    "hidden_similarity_over_time",
    "illusory_correlation",
    "relu_stage_order",
    "relu_departs_from_linear_s(t)",
    "random_tree_s(t)",
    "typicality",
    "test_error_curves",
    "training_error_curves",
    "noisy_singular_value_above_threshold",
    "noisy_singular_value_below_threshold",
    "early_stopped_error_flat_in_width",
    "transfer_grows_with_alignment",
}


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    workflow = copy_workflow(tmp_path_factory.mktemp("learning_dynamics"))
    workflow.snakemake("learning_dynamics", "--cores", "2")
    return workflow


def _open(path):
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def test_claims_table_has_every_claim_decided_over_seeds(learned):
    root = learned.root / "results/learning_dynamics"
    table = pd.read_csv(root / "claims.csv")
    assert set(table["claim"]) == CLAIMS
    assert (table["n"] >= 3).all()
    assert table["verdict"].isin(VERDICTS).all()
    assert (table["holds"] == (table["verdict"] == "reproduced")).all()
    assert (table["ci_low"] <= table["value"]).all() and (table["value"] <= table["ci_high"]).all()
    assert table["deviation"].notna().all()
    for name in FIGURES:
        assert (root / f"figures/{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    for job in ("semantic", "teacher", "report"):
        assert (learned.root / f"results/logs/learning_dynamics/{job}.log").stat().st_size > 0
        assert (learned.root / f"results/benchmarks/learning_dynamics/{job}.tsv").exists()


def test_claim_values_are_recomputed_from_the_simulations(learned):
    root = learned.root / "results/learning_dynamics"
    table = pd.read_csv(root / "claims.csv").set_index("claim")
    dec = _open(root / "decoupled.nc")
    err = cl.trajectory_error(
        dec.simulation.sel(depth=2), dec.theory.sel(depth=2), dec.singular_value, ("frac", "mode")
    )
    assert table.loc["decoupled_s(t)_depth2", "value"] == pytest.approx(err.mean())
    # the exact solution holds from a decoupled start even at the tiny scale
    assert table.loc["decoupled_s(t)_depth2", "verdict"] == "reproduced"
    assert table.loc["decoupled_s(t)_depth3", "verdict"] == "reproduced"
    hier = _open(root / "hierarchy.nc")
    assert hier.sizes["item"] == 4  # tiny: a tree of 2 levels
    final = hier.strength.isel(time=-1) / hier.value
    np.testing.assert_allclose(final, 1, atol=0.05)  # every mode learnt by the end
    spectra = _open(root / "spectra.nc")
    assert set(spectra.snr.values) == {0.5, 2.0}
    assert (spectra.top.sel(snr=2.0) > spectra.top.sel(snr=0.5)).all()


def test_editing_the_plots_reruns_only_the_report(learned):
    with edited(learned.root / "src/insilico/learning_dynamics/plots.py"):
        assert learned.planned_jobs("learning_dynamics") == {
            "learning_dynamics_report": 1,
            "learning_dynamics": 1,
        }
    with edited(learned.root / "src/insilico/learning_dynamics/theory.py"):
        jobs = learned.planned_jobs("learning_dynamics")
    assert jobs == {
        "learning_dynamics_semantic": 1,
        "learning_dynamics_teacher": 1,
        "learning_dynamics_report": 1,
        "learning_dynamics": 1,
    }
