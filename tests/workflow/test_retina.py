"""The retina branch's paper analyses on config/tiny.yaml: GLM, data efficiency, generalisation,
receptive fields; their outputs and reruns that are exactly right."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import edited, read, redrawn

from insilico.retina import plots

pytestmark = pytest.mark.workflow

EXPERIMENT = "sim01"
STIMULI = ["whitenoise", "naturalscene"]


def test_paper_figures_show_the_netcdf_they_were_drawn_from(finished_workflow, tmp_path, artists):
    root = finished_workflow.root / f"results/retina/{EXPERIMENT}"
    figures = root / "figures"
    performances = {s: read(root / f"{s}/performance.nc") for s in STIMULI}
    fig = redrawn(
        plots,
        lambda path: plots.model_comparison_classes(performances, path),
        figures / "model_comparison.png",
        tmp_path,
    )
    for ax, performance in zip(fig.axes, performances.values(), strict=True):
        bars = np.concatenate(artists.bars(ax))
        expected = performance["correlation"].mean("seed").mean("cell", skipna=True)
        np.testing.assert_allclose(bars, expected.values)

    efficiency = {s: read(root / f"{s}/data_efficiency.nc") for s in STIMULI}
    fig = redrawn(
        plots,
        lambda path: plots.data_efficiency(efficiency, path),
        figures / "data_efficiency.png",
        tmp_path,
    )
    for ax, dataset in zip(fig.axes[:2], efficiency.values(), strict=True):
        (line,) = artists.errorbars(ax)
        np.testing.assert_allclose(line.get_xdata(), dataset["train_minutes"])
        test = dataset["test_correlation"].sel(model="ln").mean("cell").mean("seed")
        np.testing.assert_allclose(line.get_ydata(), test)

    generalization = read(root / "generalization.nc")
    fig = redrawn(
        plots,
        lambda path: plots.generalization(generalization, path),
        figures / "generalization.png",
        tmp_path,
    )
    per_cell = generalization["correlation"].mean("seed").mean("cell")
    for ax, model in zip(fig.axes, generalization["model"].values, strict=False):
        expected = per_cell.sel(model=model).transpose("train_stimulus", "test_stimulus")
        np.testing.assert_allclose(ax.get_images()[0].get_array(), expected)

    fields = read(root / "receptive_fields.nc")
    fig = redrawn(
        plots,
        lambda path: plots.receptive_fields(fields, path),
        figures / "receptive_fields.png",
        tmp_path,
    )
    first = fields["cell"].values[0]
    data = fields["data_sta"].sel(cell=first).values
    lag = np.unravel_index(np.abs(data).argmax(), data.shape)[0]
    np.testing.assert_allclose(fig.axes[0].get_images()[0].get_array(), data[lag])


def test_glm_is_fitted_and_evaluated_like_the_other_models(finished_workflow):
    root = finished_workflow.root
    for stimulus in STIMULI:
        performance = read(root / f"results/retina/{EXPERIMENT}/{stimulus}/performance.nc")
        assert list(performance["model"].values) == ["ln", "glm", "cnn"]  # configured order
        evaluation = read(
            root / f"results/retina/{EXPERIMENT}/{stimulus}/models/glm/seed0/evaluation.nc"
        )
        assert evaluation.attrs["model_kind"] == "glm"
        assert (evaluation["prediction"] >= 0).all()
    summary = pd.read_csv(root / "results/retina/summary.csv")
    assert sorted(summary["model"].unique()) == ["cnn", "glm", "ln"]


def test_reported_numbers_come_from_the_heldout_movie_and_claims_from_intervals(finished_workflow):
    """Evaluations and ceilings read the second test movie; claims.csv is decided per cell."""
    from insilico.core.claims import decide

    root = finished_workflow.root / "results/retina"
    for stimulus in STIMULI:
        performance = read(root / f"{EXPERIMENT}/{stimulus}/performance.nc")
        assert performance.attrs["test_set"] == "heldout"
        evaluation = read(root / f"{EXPERIMENT}/{stimulus}/models/cnn/seed0/evaluation.nc")
        assert evaluation.attrs["test_set"] == "heldout"
        assert evaluation["truth_correlation"].notnull().all()
    claims = pd.read_csv(root / "claims.csv")
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
    for row in claims[claims["claim"] == "cnn beats ln"].itertuples():
        performance = read(root / f"{row.experiment}/{row.stimulus}/performance.nc")
        per_cell = performance["correlation"].mean("seed")
        expected = decide((per_cell.sel(model="cnn") - per_cell.sel(model="ln")).values, "greater")
        assert row.value == pytest.approx(expected["value"], abs=1e-4)
        assert row.verdict == expected["verdict"] and row.holds == expected["holds"]


def test_data_efficiency_runs_and_table(finished_workflow):
    root = finished_workflow.root
    models = root / f"results/retina/{EXPERIMENT}/whitenoise/models"
    # tiny: LN at fractions 0.5 and 1.0; 1.0 is the main fit, 0.5 a job of its own
    assert (models / "ln/fraction50/seed0/model.pt").exists()
    assert not (models / "ln/fraction100").exists()
    result = read(root / f"results/retina/{EXPERIMENT}/whitenoise/data_efficiency.nc")
    assert result["test_correlation"].dims == ("model", "fraction", "seed", "cell")
    assert list(result["model"].values) == ["ln"]
    assert list(result["fraction"].values) == [0.5, 1.0]
    minutes = result["train_minutes"].values
    assert 1.9 < minutes[1] / minutes[0] < 2.1  # half the training bins
    assert result["train_correlation"].notnull().all()


def test_data_trend_is_the_line_through_the_learning_curve(finished_workflow):
    """Two fractions in tiny: the trend is the line through both points of each curve."""
    root = finished_workflow.root
    table = pd.read_csv(root / "results/retina/data_trend.csv")
    assert sorted(table["stimulus"]) == sorted(STIMULI)
    for row in table.itertuples():
        efficiency = read(root / f"results/retina/{EXPERIMENT}/{row.stimulus}/data_efficiency.nc")
        ceiling = read(root / f"results/retina/{EXPERIMENT}/{row.stimulus}/ceiling.nc")
        test = efficiency["test_correlation"].sel(model=row.model).mean("seed")
        # one definition: the mean over cells of r / the exact ceiling on the same bins
        fraction = (test / ceiling["true_ceiling_same_bins"]).mean("cell").values
        minutes = efficiency["train_minutes"].values
        slope = (fraction[1] - fraction[0]) / np.log2(minutes[1] / minutes[0])
        assert row.ceiling == "exact"
        assert row.fraction_at_largest == pytest.approx(fraction[1], abs=1e-4)
        assert row.gain_per_doubling == pytest.approx(slope, abs=1e-4)
        if slope > 0 and np.isfinite(row.minutes_to_target):
            reached = fraction[1] + slope * np.log2(row.minutes_to_target / minutes[1])
            assert reached == pytest.approx(row.target, abs=1e-3)


def test_generalization_matrix(finished_workflow):
    result = read(finished_workflow.root / f"results/retina/{EXPERIMENT}/generalization.nc")
    assert result["correlation"].dims == (
        "model",
        "train_stimulus",
        "test_stimulus",
        "seed",
        "cell",
    )
    assert list(result["train_stimulus"].values) == STIMULI == list(result["test_stimulus"].values)
    assert list(result["model"].values) == ["ln", "glm", "cnn"]
    assert result["correlation"].notnull().all()
    # the diagonal is the within-class evaluation of the model comparison
    for stimulus in STIMULI:
        performance = read(
            finished_workflow.root / f"results/retina/{EXPERIMENT}/{stimulus}/performance.nc"
        )
        diagonal = result["correlation"].sel(train_stimulus=stimulus, test_stimulus=stimulus)
        xr.testing.assert_allclose(
            diagonal.drop_vars(["train_stimulus", "test_stimulus"]).transpose(
                "model", "seed", "cell"
            ),
            performance["correlation"],
        )


def test_receptive_fields_compare_model_and_data_stas(finished_workflow):
    result = read(finished_workflow.root / f"results/retina/{EXPERIMENT}/receptive_fields.nc")
    assert result["model_sta"].dims == ("model", "train_stimulus", "cell", "lag", "row", "col")
    assert result["data_sta"].shape == result["model_sta"].shape[2:]
    assert result["similarity"].notnull().all()


def test_editing_the_glm_reruns_exactly_what_uses_it(finished_workflow):
    with edited(finished_workflow.root / "src/insilico/retina/models/glm.py"):
        jobs = finished_workflow.planned_jobs()
    per_recording = {
        "train_retina": 1,
        "evaluate_retina": 1,
        "retina_performance": 1,
        "plot_retina_comparison": 1,
        "plot_retina_predictions": 1,
    }
    assert jobs == {rule: 2 * n for rule, n in per_recording.items()} | {
        "retina_summary": 1,
        "plot_retina_model_comparison": 1,
        "retina_generalization": 1,
        "plot_retina_generalization": 1,
        # not the receptive fields of LN and CNN: the STA estimator the GLM places its patch with
        # lives in core/sta.py, not in the GLM module
        "all": 1,
    }


def test_a_new_fraction_trains_only_its_own_runs(finished_workflow):
    changed = finished_workflow.root / "fractions.yaml"
    changed.write_text("retina:\n  data_efficiency:\n    fractions: [0.25, 0.5, 1.0]\n")
    jobs = finished_workflow.planned_jobs("--configfile", "config/tiny.yaml", str(changed))
    assert jobs == {
        "train_retina_fraction": 2,  # LN at 25 %, on both stimulus classes
        "retina_data_efficiency": 2,
        "retina_data_trend": 1,
        "plot_retina_data_efficiency": 1,
        "all": 1,
    }


def test_closed_loop_settings_rerun_only_glm_evaluations(finished_workflow):
    changed = finished_workflow.root / "closed_loop.yaml"
    changed.write_text("retina:\n  models:\n    glm:\n      closed_loop:\n        samples: 7\n")
    jobs = finished_workflow.planned_jobs("--configfile", "config/tiny.yaml", str(changed))
    assert jobs == {
        "evaluate_retina": 2,
        "retina_performance": 2,
        "plot_retina_comparison": 2,
        "plot_retina_predictions": 2,
        "retina_summary": 1,
        "plot_retina_model_comparison": 1,
        "retina_generalization": 1,
        "plot_retina_generalization": 1,
        "all": 1,
    }


def check_ablation(root, tmp_path) -> None:
    """The tiny ablation (white noise: baseline, data-2x, history-4; tests/workflow/test_retina.py
    calls it on the finished run): each variant is the CNN with its one factor changed, the
    longer recording is the same retina, and the table and figure show ablation.nc."""
    from insilico.core.io import load_torch
    from insilico.retina.recording import read_recording

    base = root / f"results/retina/{EXPERIMENT}/whitenoise"
    result = read(base / "ablation.nc")
    assert list(result["variant"].values) == ["baseline", "data-2x", "history-4"]
    runs = base / "ablation/cnn"
    meta = {v: load_torch(runs / v / "seed0/model.pt") for v in result["variant"].values}
    main = load_torch(base / "models/cnn/seed0/model.pt")
    # the baseline trains on as many windows as the main fit, data-2x on twice the bins
    assert meta["baseline"]["n_train_windows"] == main["n_train_windows"]
    history = main["history"]
    bins = {v: m["n_train_windows"] + m["history"] - 1 for v, m in meta.items()}
    assert bins["data-2x"] == 2 * bins["baseline"]
    assert meta["history-4"]["history"] == 4 and meta["baseline"]["history"] == history
    assert meta["history-4"]["model_params"] == meta["baseline"]["model_params"] | {"history": 4}
    # the longer recording is the same retina: same cells, test movie and noiseless test rate
    longer = read_recording(root / f"resources/retina/ablation/{EXPERIMENT}/whitenoise.h5")
    default = read_recording(root / f"resources/retina/{EXPERIMENT}/whitenoise.h5")
    assert longer.train_stimulus.shape[0] == 2 * default.train_stimulus.shape[0]
    np.testing.assert_array_equal(longer.test_stimulus, default.test_stimulus)
    np.testing.assert_allclose(longer.true_test_rate, default.true_test_rate)
    # test r of each variant as its own evaluation; fraction over the exact ceiling
    assert result.attrs["ceiling"] == "true_ceiling_same_bins"
    np.testing.assert_allclose(
        result["fraction_of_ceiling"], result["correlation"] / result["ceiling"]
    )
    assert result["correlation"].notnull().all() and (result["train_seconds"] > 0).all()
    table = pd.read_csv(root / "results/retina/ablation.csv").set_index("variant")
    fraction = result["fraction_of_ceiling"]
    for variant in result["variant"].values:
        values = fraction.sel(variant=variant).values
        row = table.loc[variant]
        assert row["fraction_of_ceiling"] == pytest.approx(values.mean(), abs=1e-4)
        assert row["fraction_of_ceiling_sem"] == pytest.approx(
            values.std(ddof=1) / np.sqrt(values.size), abs=1e-4
        )
        assert row["delta_fraction"] == pytest.approx(
            (values - fraction.sel(variant="baseline").values).mean(), abs=1e-4
        )
    fig = redrawn(
        plots,
        lambda path: plots.ablation({"whitenoise": result}, path),
        root / f"results/retina/{EXPERIMENT}/figures/ablation.png",
        tmp_path,
    )
    assert fig.axes[0].get_title().startswith("white noise")


def test_ablation_trains_one_factor_at_a_time_and_tables_it(finished_workflow, tmp_path):
    check_ablation(finished_workflow.root, tmp_path)


def test_longer_reference_runs_plan_4x_data_and_24_epochs_per_class(fresh_workflow):
    """config/reference_longer.yaml: only the 80-minute recordings and the longer fits."""
    presets = ("--configfile", "config/reference.yaml", "config/reference_longer.yaml")
    jobs = fresh_workflow.planned_jobs("results/retina/ablation.csv", *presets)
    assert jobs == {
        "simulate_retina_ablation": 2,  # 4x the reference's 20 minutes, per stimulus class
        "train_retina_ablation": 6,  # baseline, data 4x and 24 epochs, per class
        "retina_ablation": 2,
        "retina_ablation_table": 1,
    }
    plan = fresh_workflow.snakemake("--dry-run", "results/retina/ablation.csv", *presets).stdout
    assert set(re.findall(r"variant=([\w.-]+)", plan)) == {"baseline", "data-4x", "epochs-24"}
