"""IT branch on config/tiny.yaml: outputs, exact reruns, and the remote/local acquisition paths.

The remote run downloads the simulated experiment's four files from a loopback HTTP server with
sha1 verification (no test reaches the internet); the local run links them from a folder. Both must
give the neural targets the simulated run computed from the same files.
"""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml
from conftest import edited, read, redrawn
from matplotlib.container import ErrorbarContainer

from insilico.it import plots
from insilico.it.assembly import read_stimulus_set

pytestmark = pytest.mark.workflow

IT_FILES = ["assembly.nc", "assembly_temporal.nc", "stimuli.csv", "stimuli.zip"]
LAYERS = ["conv1", "conv2", "conv3", "conv4", "avgpool"]
CONVRNN_DOWNSTREAM = {
    "train_it": 2,
    "it_activations_convrnn": 2,
    "it_predictivity": 2,
    "it_summary": 1,
    "plot_it": 1,
    # The geometry branch reads every model's activations (its simulation reads the CNN's).
    "geometry_layers": 2,
    "geometry_summary": 1,
    "plot_geometry": 1,
    "all": 1,
}


def test_it_outputs_exist_with_provenance(finished_workflow):
    root = finished_workflow.root
    for name in IT_FILES:
        assert (root / "resources/it" / name).stat().st_size > 0
        assert (root / "resources/it" / f"{name}.provenance.json").exists()
    activations = sorted((root / "results/it/activations").glob("px16_*/*/*/seed0/*.nc"))
    assert len(activations) == 2 * 2 * len(LAYERS)  # models x states x layers


def test_figures_show_the_scores_they_were_drawn_from(finished_workflow, tmp_path, artists):
    root = finished_workflow.root
    scores = read(root / "results/it/scores.nc")
    figures = root / "results/it/figures"
    fig = redrawn(
        plots,
        lambda path: plots.predictivity_by_layer(scores, path),
        figures / "predictivity_by_layer.png",
        tmp_path,
    )
    for ax, model in zip(fig.axes, scores["model"].values, strict=True):
        assert artists.ticks(ax) == LAYERS
        drawn = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert len(drawn) == 2 * 2  # regions x states
        for container in drawn:
            region, state = container.get_label().split(", ")
            expected = scores["score"].sel(model=model, state=state, region=region).mean("seed")
            np.testing.assert_allclose(np.asarray(container.lines[0].get_ydata(), float), expected)
    for name, draw in (
        ("performance_vs_predictivity", plots.performance_vs_predictivity),
        ("temporal_predictivity", plots.temporal_predictivity),
    ):
        fig = redrawn(
            plots, lambda path, draw=draw: draw(scores, path), figures / f"{name}.png", tmp_path
        )
        assert {ax.get_title().split(":")[0] for ax in fig.axes if ax.get_title()} >= {"V4", "IT"}
    solution_times = read(root / "results/it/solution_times.nc")
    redrawn(
        plots,
        lambda path: plots.late_solved(solution_times, scores, path),
        figures / "late_solved.png",
        tmp_path,
    )
    fig = redrawn(
        plots,
        lambda path: plots.late_predictivity(scores, 170, path),
        figures / "late_predictivity.png",
        tmp_path,
    )
    window = scores["best_score"].sel(state="trained", region="IT", model="convrnn").mean("seed")
    heights = [patch.get_height() for patch in fig.axes[1].patches]
    assert heights[2] == pytest.approx(float(window))  # cnn window, cnn late, convrnn window
    redrawn(
        plots,
        lambda path: plots.solution_time_scatter(solution_times, scores, path),
        figures / "solution_times.png",
        tmp_path,
    )
    stimuli = read_stimulus_set(
        root / "resources/it/stimuli.csv", root / "resources/it/stimuli.zip"
    )
    fig = redrawn(
        plots,
        lambda path: plots.example_stimuli(stimuli, path),
        figures / "stimuli.png",
        tmp_path,
    )
    table = stimuli.metadata
    first = table[table["category_name"] == table["category_name"].iloc[0]]
    first = first[first["variation"] == table["variation"].min()]
    np.testing.assert_array_equal(
        fig.axes[0].get_images()[0].get_array(), stimuli.images[first.index[0]]
    )
    assert fig.axes[0].get_title() == table["category_name"].iloc[0]


def test_summary_table_and_scores(finished_workflow):
    root = finished_workflow.root
    table = pd.read_csv(root / "results/it/summary.csv")
    assert len(table) == 2 * 2 * 2  # models x states x regions
    assert set(table["region"]) == {"V4", "IT"}
    assert set(table["best_layer"]) <= set(LAYERS)
    assert table["ceiling"].between(0, 1).all() and table["raw_r"].between(-1, 1).all()
    assert (table["ceiled_formula"] == "r^2 / c (Brain-Score since 2026)").all()
    untrained = table[table["state"] == "untrained"]
    assert (untrained["test_accuracy"] < 0.6).all()
    with xr.open_dataset(root / "results/it/scores.nc", engine="h5netcdf") as scores:
        assert scores["score"].dims == ("model", "state", "seed", "layer", "region")
        assert scores.sizes["time_bin"] == 19 and scores.sizes["split"] == 3
        assert "true_ceiling" in scores  # simulated data know their exact reliability


def test_claims_and_solution_times(finished_workflow):
    """Every claim is measured; every stimulus has a solution time or is marked unsolved."""
    root = finished_workflow.root
    claims = pd.read_csv(root / "results/it/claims.csv")
    assert {
        "trained_minus_untrained",
        "v4_layer_before_it",
        "fraction_of_ceiling",
        "convrnn_minus_cnn_window",
        "convrnn_minus_cnn_late",
        "solution_time_correlation",
        "decoding_rises",
        "hard_solved_later",
    } <= set(claims["claim"])
    assert {"value", "ci_low", "ci_high", "n", "verdict", "holds", "kind"} <= set(claims.columns)
    # one seed in the tiny preset: measured, never decided
    models = claims[claims["replicates"] == "seeds"]
    assert (models["verdict"] == "not resolved").all() and not models["holds"].any()
    assert models.loc[models["claim"] != "solution_time_correlation", "value"].notna().all()
    design = claims.set_index("claim").loc[["decoding_rises", "hard_solved_later"]]
    assert (design["kind"] == "design check").all() and (design["n"] >= 3).all()
    stimuli = pd.read_csv(root / "results/it/stimuli_solution_times.csv")
    assert len(stimuli) == 4 * 3 * (3 * 2 + 4)  # objects x (clean levels x 2 + hard kinds)
    assert set(stimuli["solved"]) <= {"early", "late", "unsolved"}
    assert (stimuli["solution_time_ms"].isna() == (stimuli["solved"] == "unsolved")).all()
    with xr.open_dataset(root / "results/it/scores.nc", engine="h5netcdf") as scores:
        assert scores["score_group"].dims[-3:] == ("solved_group", "region", "time_bin")


def test_finished_it_branch_has_nothing_to_do(finished_workflow):
    jobs = finished_workflow.planned_jobs("results/it/summary.csv")
    assert jobs == {}


def test_editing_the_convrnn_reruns_only_convrnn_jobs(finished_workflow):
    with edited(finished_workflow.root / "src/insilico/it/models/convrnn.py"):
        jobs = finished_workflow.planned_jobs()
    assert jobs == CONVRNN_DOWNSTREAM


def test_editing_the_it_plots_reruns_only_the_figures(finished_workflow):
    with edited(finished_workflow.root / "src/insilico/it/plots.py"):
        jobs = finished_workflow.planned_jobs()
    assert jobs == {"plot_it": 1, "all": 1}


def test_training_setting_reruns_trained_models_but_not_untrained_controls(finished_workflow):
    changed = finished_workflow.root / "it_lr.yaml"
    changed.write_text("it:\n  train:\n    learning_rate: 0.01\n")
    jobs = finished_workflow.planned_jobs("--configfile", "config/tiny.yaml", str(changed))
    assert jobs == {
        "train_it": 2,
        "it_activations_cnn": 1,
        "it_activations_convrnn": 1,
        "it_predictivity": 2,
        "it_summary": 1,
        "plot_it": 1,
        "geometry_layers": 2,
        "geometry_simulation": 1,  # its layer is the trained CNN's
        "geometry_summary": 1,
        "plot_geometry": 1,
        "all": 1,
    }


def test_new_preprocessing_is_a_new_activation_cache(finished_workflow):
    changed = finished_workflow.root / "it_prep.yaml"
    changed.write_text("it:\n  activations:\n    max_features: 10\n")
    jobs = finished_workflow.planned_jobs("--configfile", "config/tiny.yaml", str(changed))
    assert jobs["it_activations_cnn"] == 2 and jobs["it_activations_convrnn"] == 2
    assert "train_it" not in jobs and "simulate_it" not in jobs


def _retina_placeholders(source: str) -> dict:
    """The retina branch checks its own settings when data.source changes; satisfy them."""
    if source == "remote":
        checksums = {
            f"sim01/{stimulus}.h5": "sha256:" + "0" * 64
            for stimulus in ("whitenoise", "naturalscene")
        }
        return {"retina": {"checksums": checksums}}
    return {"retina": {"root": "/nonexistent"}}


@pytest.mark.parametrize("source", ["remote", "local"])
def test_remote_and_local_sources_give_the_simulated_targets(
    finished_workflow, fresh_workflow, tmp_path, file_server, source
):
    served = tmp_path / "served"
    served.mkdir()
    names = {
        "assembly": "assy_test_public.nc",
        "temporal_assembly": "assy_test_temporal_public.nc",
        "stimuli_csv": "stimulus_test.csv",
        "stimuli_zip": "stimulus_test.zip",
    }
    for name, original in zip(names.values(), IT_FILES, strict=True):
        shutil.copy(finished_workflow.root / "resources/it" / original, served / name)
    with file_server(served) as url:
        if source == "remote":
            files = {
                kind: {
                    "name": name,
                    "checksum": "sha1:" + hashlib.sha1((served / name).read_bytes()).hexdigest(),
                }
                for kind, name in names.items()
            }
            # a named entry beside MajajHong2015 and FreemanZiemba2013, chosen by name
            entry = {"files": files, "stratify_by": "object_name"}
            it = {"base_url": url, "retries": 0, "assembly": "test", "assemblies": {"test": entry}}
        else:
            it = {kind: str(served / name) for kind, name in names.items()}
        override = fresh_workflow.root / "source.yaml"
        override.write_text(
            yaml.safe_dump({"data": {"it": {"source": source}, source: {"it": it}}})
        )
        fresh_workflow.snakemake(
            "--cores",
            "2",
            "results/it/neural.nc",
            "--configfile",
            "config/tiny.yaml",
            str(override),
        )
    rule = "download_it" if source == "remote" else "link_local_it"
    for name in IT_FILES:
        provenance = (fresh_workflow.root / "resources/it" / f"{name}.provenance.json").read_text()
        assert f'"source": "{source}"' in provenance
    assert (fresh_workflow.root / f"results/logs/acquire/{rule}/stimuli.zip.log").exists()
    with (
        xr.open_dataset(
            fresh_workflow.root / "results/it/neural.nc", engine="h5netcdf"
        ) as acquired,
        xr.open_dataset(
            finished_workflow.root / "results/it/neural.nc", engine="h5netcdf"
        ) as simulated,
    ):
        np.testing.assert_array_equal(acquired["rates"].values, simulated["rates"].values)
        np.testing.assert_array_equal(
            acquired["consistency"].values, simulated["consistency"].values
        )
        assert "true_reliability" not in acquired  # only simulated data know the truth


def test_local_data_without_a_temporal_assembly_runs_the_time_averaged_analyses(
    finished_workflow, fresh_workflow, tmp_path
):
    """Many users have only the time-averaged assembly: its analyses run, the per-bin ones not."""
    mine = tmp_path / "mine"
    mine.mkdir()
    files = {"assembly": "assembly.nc", "stimuli_csv": "stimuli.csv", "stimuli_zip": "stimuli.zip"}
    for name in files.values():
        shutil.copy(finished_workflow.root / "resources/it" / name, mine / name)
    local = {kind: str(mine / name) for kind, name in files.items()}
    override = fresh_workflow.root / "source.yaml"
    override.write_text(
        yaml.safe_dump(
            {
                # factorisation decomposes the temporal assembly: left out, as the config asks
                "branches": ["retina", "mechanisms", "dynamics", "it", "geometry"],
                "data": {"it": {"source": "local"}, "local": {"it": local}},
            }
        )
    )
    presets = ("--configfile", "config/tiny.yaml", str(override))
    jobs = fresh_workflow.planned_jobs(*presets)
    assert jobs["link_local_it"] == 3 and jobs["plot_it"] == 1 and jobs["it_summary"] == 1
    # issue 31: it_summary used to crash here (a maximum over an empty set of bins)
    fresh_workflow.snakemake("--cores", "2", "results/it/claims.csv", *presets)
    log = (fresh_workflow.root / "results/logs/it/neural.log").read_text()
    assert "no temporal assembly was given" in log
    claims = pd.read_csv(fresh_workflow.root / "results/it/claims.csv").set_index("claim")
    assert (claims.loc["convrnn_minus_cnn_late", "verdict"] == "needs the temporal assembly").all()
    assert claims.loc["decoding_rises", "verdict"] == "needs the temporal assembly"
    assert claims.loc["trained_minus_untrained", "value"].notna().all()
    with (
        xr.open_dataset(fresh_workflow.root / "results/it/neural.nc", engine="h5netcdf") as alone,
        xr.open_dataset(finished_workflow.root / "results/it/neural.nc", engine="h5netcdf") as full,
    ):
        assert alone.sizes["time_bin"] == 0
        np.testing.assert_array_equal(alone["rates_window"].values, full["rates_window"].values)
