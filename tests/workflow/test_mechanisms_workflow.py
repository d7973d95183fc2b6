"""The mechanisms branch in the tiny DAG: outputs, tables, and reruns that are exactly right."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml
from conftest import edited, read, redrawn

from insilico.mechanisms import plots

pytestmark = pytest.mark.workflow

RUN = "results/mechanisms/sim01/naturalscene/seed0"
# Five dissected models in config/tiny.yaml: the natural-scene CNN, the circuit control, the dense
# control at the fitted CNN's level, the untrained CNN and the trained control; figures for the
# first two.
DOWNSTREAM_OF_REDUCTION = {
    "mechanism_reduction": 5,
    "mechanism_groundtruth": 5,
    "plot_mechanism_phenomena": 2,
    "plot_mechanism_dissection": 2,
    "mechanisms_summary": 1,
    "all": 1,
}


def phenomena(root: Path) -> list[str]:
    return yaml.safe_load((root / "config" / "tiny.yaml").read_text())["mechanisms"]["phenomena"]


def test_figures_show_the_netcdf_they_were_drawn_from(finished_workflow, tmp_path):
    root = finished_workflow.root / RUN
    label = "(sim01, CNN trained on naturalscene, seed 0)"
    for name in phenomena(finished_workflow.root):
        responses = read(root / f"responses/{name}.nc")
        reduction = read(root / f"reduction/{name}.nc")
        fig = redrawn(
            plots,
            lambda path, r=responses, d=reduction: plots.phenomenon_figure(r, d, path, label),
            root / f"figures/{name}.png",
            tmp_path,
        )
        assert fig.get_suptitle() == f"{plots.TITLES[name]} {label}"
        cell = plots.example_cell(responses)
        first = fig.axes[0].get_lines()[0]  # the CNN's first trace of the example cell
        shown = plots._shown_conditions(responses, cell)[0]
        rate = responses["rate"].sel(source="cnn", cell=cell).values[shown]
        np.testing.assert_allclose(first.get_ydata(), rate)
    for name in ("attribution", "reduction", "groundtruth"):  # unit-tested figure by figure
        path = root / "figures" / f"{name}.png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path


def test_tables_exist(finished_workflow):
    root = finished_workflow.root
    for table in ("phenomena", "attribution", "reduction", "groundtruth"):
        assert len(pd.read_csv(root / f"results/mechanisms/{table}.csv")) > 0, table


def test_tables_cover_every_phenomenon(finished_workflow):
    root = finished_workflow.root
    names = set(phenomena(root))
    truth = pd.read_csv(root / "results/mechanisms/groundtruth.csv")
    assert set(truth["phenomenon"]) == names and set(truth["layer"]) == {1, 2}
    assert truth["recovered"].dtype == bool
    attribution = pd.read_csv(root / "results/mechanisms/attribution.csv")
    assert set(attribution["phenomenon"]) == names
    assert (attribution["relative_completeness_error"].between(0, 1)).all()
    reduction = pd.read_csv(root / "results/mechanisms/reduction.csv")
    assert (reduction["layer1_kept_max"] <= reduction["layer1_channels"]).all()
    assert (reduction["explained_variance_min"] >= 1 - reduction["tolerance"] - 1e-6).all()
    table = pd.read_csv(root / "results/mechanisms/phenomena.csv")
    assert set(table["phenomenon"]) == names
    assert {"cnn", "truth", "reduced_cnn", "null", "testable", "cnn_pass"} <= set(table.columns)
    fitted = table[table["model"] == "cnn"]
    assert fitted["null"].notna().any()  # the LN model's numbers, the baseline
    # the second null: the circuit control without its element (flash: the amacrine surround)
    flash = table[table["phenomenon"] == "flash"]
    assert (flash["element"] == "amacrine").all() and flash["element_null"].notna().any()
    assert table.loc[table["phenomenon"] == "anticipation", "element"].isna().all()
    distance = (fitted["null"] - fitted["truth"]).abs()
    assert (fitted["testable"] == (distance > fitted["tolerance"])).all()
    margin = (fitted["cnn"] - fitted["truth"]).abs() - distance / 2  # agreement_margin 0.5
    clear = ~margin.abs().le(1e-3)  # the csv keeps 4 digits: skip exact ties
    assert (fitted["cnn_pass"] == (fitted["testable"] & (margin <= 0)))[clear].all()


def test_stimuli_have_the_model_geometry_and_attributions_are_labelled(finished_workflow):
    root = finished_workflow.root
    config = yaml.safe_load((root / "config" / "tiny.yaml").read_text())
    with xr.open_dataset(root / RUN / "responses/flash.nc", engine="h5netcdf") as responses:
        assert responses["movie"].shape[2:] == (config["data"]["simulated"]["retina"]["size"],) * 2
        assert responses.attrs["history"] == config["retina"]["history"]
        assert list(responses["source"].values) == ["cnn", "truth"]
    with xr.open_dataset(root / RUN / "attribution/flash.nc", engine="h5netcdf") as attribution:
        assert attribution["attribution"].dims == ("condition", "cell", "channel", "time")
        assert attribution.attrs["steps"] == config["mechanisms"]["attribution"]["steps"]


def test_every_mechanisms_job_has_log_and_benchmark(finished_workflow):
    root = finished_workflow.root
    logs = sorted(
        p.relative_to(root / "results/logs")
        for p in (root / "results/logs/mechanisms").rglob("*.log")
    )
    benchmarks = list((root / "results/benchmarks/mechanisms").rglob("*.tsv"))
    # per dissected model (CNN, four controls) responses, attribution, reduction, ground truth;
    # two plot jobs for the CNN and the circuit control; three written control model files, one
    # trained control; one summary
    assert len(logs) == len(benchmarks) == 29, logs


def test_editing_the_reduction_reruns_exactly_its_dependents(finished_workflow):
    with edited(finished_workflow.root / "src/insilico/mechanisms/reduction.py"):
        jobs = finished_workflow.planned_jobs()
    assert jobs == DOWNSTREAM_OF_REDUCTION


def test_editing_the_stimuli_reruns_the_whole_branch_and_nothing_else(finished_workflow):
    with edited(finished_workflow.root / "src/insilico/mechanisms/stimuli.py"):
        jobs = finished_workflow.planned_jobs()
    assert jobs == DOWNSTREAM_OF_REDUCTION | {"mechanism_responses": 5, "mechanism_attribution": 5}


def test_editing_the_plots_reruns_only_figures(finished_workflow):
    """The summary draws the power curve: it reruns too, nothing upstream does."""
    with edited(finished_workflow.root / "src/insilico/mechanisms/plots.py"):
        jobs = finished_workflow.planned_jobs()
    assert jobs == {
        "plot_mechanism_phenomena": 2,
        "plot_mechanism_dissection": 2,
        "mechanisms_summary": 1,
        "all": 1,
    }


def test_changing_the_tolerance_reruns_the_reduction_onwards(finished_workflow):
    changed = finished_workflow.root / "tolerance.yaml"
    changed.write_text("mechanisms:\n  reduction:\n    tolerance: 0.3\n")
    jobs = finished_workflow.planned_jobs("--configfile", "config/tiny.yaml", str(changed))
    assert jobs == DOWNSTREAM_OF_REDUCTION


def test_a_cnn_that_is_not_trained_is_a_config_error(finished_workflow):
    changed = finished_workflow.root / "seeds.yaml"
    changed.write_text("mechanisms:\n  cnns:\n    seeds: [7]\n")
    result = finished_workflow.snakemake(
        "--dry-run", "--configfile", "config/tiny.yaml", str(changed), check=False
    )
    assert result.returncode != 0
    assert "config key 'mechanisms.cnns.seeds': [7] not among the trained ones" in (
        result.stdout + result.stderr
    )


def test_the_controls_are_dissected_next_to_the_cnn(finished_workflow):
    """The controls go through the same stages; recovery.csv counts the ground-truth table and
    gives each model its intervals; the power curve is drawn."""
    root = finished_workflow.root
    groundtruth = pd.read_csv(root / "results/mechanisms/groundtruth.csv")
    recovery = pd.read_csv(root / "results/mechanisms/recovery.csv")
    runs = recovery[recovery["seed"].astype(str) != "all"].set_index("model")
    assert sorted(runs.index) == ["cnn", "control", "dense_control", "trained_control", "untrained"]
    assert runs.loc["dense_control", "strength"] == 1.0 and runs.loc["control", "strength"] == 0
    for model, cases in groundtruth.groupby("model"):
        row = runs.loc[model]
        assert row["cases"] == len(cases) == 2 * len(phenomena(root))  # two layers each
        assert row["recovered"] == cases["recovered"].sum()
        assert row["testable"] == cases["testable"].sum()
    assert runs["shuffles"].eq(100).all() and runs["shuffled_rate"].between(0, 1).all()
    assert set(runs["verdict"]) <= {"reproduced", "not reproduced", "not resolved"}
    pooled = recovery[recovery["seed"].astype(str) == "all"]
    assert list(pooled["stimulus"]) == ["naturalscene", "trained"] and pooled["seeds"].eq(1).all()
    trained = runs.loc["trained_control"]
    assert trained["excess_precision_ci_low"] <= trained["excess_precision_ci_high"]
    assert (root / "results/mechanisms/power_curve.png").read_bytes()[:4] == b"\x89PNG"
    control = read(root / "results/mechanisms/sim01/control/seed0/groundtruth/flash.nc")
    # layer 1: the 3 bipolar types and one unused channel (the tiny CNN has 4); layer 2: the bipolar
    # types + the 3 amacrine types (off, on, polyaxonal: the tiny retina has an OMS cell)
    assert control["channel_layer"].size == 4 + 6
    assert control.sizes["shuffle"] == 100


def test_the_mechanisms_stages_rerun_to_the_same_bits(finished_copy):
    """A rerun of one CNN's attribution, reduction and ground-truth jobs (one core this time)
    gives the same ground-truth files and the same recovery table: the stages are
    deterministic, so counts that differ between runs come from their inputs (issue 23)."""
    root = finished_copy.root
    before = {path: read(path) for path in sorted((root / RUN / "groundtruth").glob("*.nc"))}
    recovery = (root / "results/mechanisms/recovery.csv").read_text()
    # the job and everything downstream of it on the way to the table
    finished_copy.snakemake(
        "--cores",
        "1",
        "results/mechanisms/recovery.csv",
        "--forcerun",
        f"{RUN}/attribution/flash.nc",
    )
    assert (root / "results/mechanisms/recovery.csv").read_text() == recovery
    for path, dataset in before.items():
        assert read(path).identical(dataset), path
