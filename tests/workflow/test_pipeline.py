"""The whole DAG on config/tiny.yaml: outputs, and reruns that are exactly right."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import edited, read, redrawn

from insilico.core.io import load_torch
from insilico.retina import plots as retina_plots

pytestmark = pytest.mark.workflow

RECORDINGS = [("sim01", "whitenoise"), ("sim01", "naturalscene")]
FIGURES = ["model_comparison.png", "example_predictions.png", "cnn_filters.png"]
# Everything downstream of one recording's CNN training, per recording.
CNN_DOWNSTREAM = {
    "evaluate_retina": 1,
    "retina_performance": 1,
    "plot_retina_comparison": 1,
    "plot_retina_predictions": 1,
    "plot_cnn_filters": 1,
}
# ... and of both recordings' CNNs together: the per-experiment analyses of McIntosh et al. 2016
# (tests/workflow/test_retina.py; config/tiny.yaml runs the data-efficiency sweep for LN only).
CNN_PAPER_DOWNSTREAM = {
    "retina_generalization": 1,
    "plot_retina_generalization": 1,
    "retina_receptive_fields": 1,
    "plot_retina_receptive_fields": 1,
    "plot_retina_model_comparison": 1,
}
# ... and the mechanisms branch, which dissects the first seed's CNN, the dense and untrained
# controls built from it (their model files too) and the trained control, trained with the CNN's
# architecture and settings (tests/workflow/test_mechanisms_workflow.py).
CNN_MECHANISMS_DOWNSTREAM = {
    "mechanism_control_model": 2,
    "mechanism_trained_control": 1,
    "mechanism_responses": 4,
    "mechanism_attribution": 4,
    "mechanism_reduction": 4,
    "mechanism_groundtruth": 4,
    "mechanisms_summary": 1,
    "plot_mechanism_phenomena": 1,
    "plot_mechanism_dissection": 1,
}


# ... and the ablation (config/tiny.yaml: white noise, baseline, data-2x and history-4), whose
# variants are CNNs trained with the CNN's settings but one.
CNN_ABLATION = {
    "train_retina_ablation": 3,
    "retina_ablation": 1,
    "retina_ablation_table": 1,
    "plot_retina_ablation": 1,
}


def times_two(jobs: dict[str, int]) -> dict[str, int]:
    return {rule: 2 * count for rule, count in jobs.items()}


def test_all_outputs_exist(finished_workflow):
    root = finished_workflow.root
    for experiment, stimulus in RECORDINGS:
        recording = root / f"resources/retina/{experiment}/{stimulus}.h5"
        assert recording.stat().st_size > 0
        assert (root / f"resources/retina/{experiment}/{stimulus}.h5.provenance.json").exists()


def test_recording_figures_show_the_netcdf_they_were_drawn_from(
    finished_workflow, tmp_path, artists
):
    for experiment, stimulus in RECORDINGS:
        run = finished_workflow.root / f"results/retina/{experiment}/{stimulus}"
        performance = read(run / "performance.nc")
        fig = redrawn(
            retina_plots,
            lambda path, p=performance: retina_plots.model_comparison(p, path),
            run / "figures/model_comparison.png",
            tmp_path,
        )
        per_cell = performance["correlation"].mean("seed").transpose("model", "cell").values
        points = [offsets[:, 1] for offsets in artists.points(fig.axes[0])]
        np.testing.assert_allclose(np.array(points), per_cell)  # one scatter per model
        models = [str(m) for m in performance["model"].values]
        evaluations = {m: read(run / f"models/{m}/seed0/evaluation.nc") for m in models}
        fig = redrawn(
            retina_plots,
            lambda path, e=evaluations: retina_plots.example_predictions(e, path),
            run / "figures/example_predictions.png",
            tmp_path,
        )
        recorded = fig.axes[0].get_lines()[0]
        target = evaluations[models[0]]["target"].isel(cell=0)
        np.testing.assert_allclose(recorded.get_ydata(), target.sel(time=recorded.get_xdata()))
        model = run / "models/cnn/seed0/model.pt"
        fig = redrawn(
            retina_plots,
            lambda path, m=model: retina_plots.cnn_filters(m, path),
            run / "figures/cnn_filters.png",
            tmp_path,
        )
        weight = load_torch(model)["state_dict"]["conv1.weight"].numpy()
        spatial, _, _ = retina_plots.rank1_filters(weight)
        np.testing.assert_allclose(fig.axes[0].get_images()[0].get_array(), spatial[0])


def test_performance_table_is_cell_by_model(finished_workflow):
    path = finished_workflow.root / "results/retina/sim01/whitenoise/performance.nc"
    with xr.open_dataset(path, engine="h5netcdf") as performance:
        assert set(performance["correlation"].dims) == {"model", "seed", "cell"}
        assert sorted(performance["model"].values) == ["cnn", "glm", "ln"]
        assert performance.sizes["cell"] == 5  # one cell of each of the 5 default types
        assert float(performance["ceiling"].min()) > 0
    summary = pd.read_csv(finished_workflow.root / "results/retina/summary.csv")
    assert len(summary) == len(RECORDINGS) * 3
    assert summary["correlation"].between(-1, 1).all()


def test_every_job_has_log_and_benchmark(finished_workflow):
    jobs = finished_workflow.planned_jobs("--forceall", budget=True)
    n_jobs = sum(jobs.values()) - jobs["all"]
    logs = list((finished_workflow.root / "results/logs").rglob("*.log"))
    benchmarks = list((finished_workflow.root / "results/benchmarks").rglob("*.tsv"))
    assert len(logs) == len(benchmarks) == n_jobs


def test_provenance_of_every_recording_is_in_the_report_table(finished_workflow):
    table = pd.read_csv(finished_workflow.root / "results/data_provenance.csv")
    retina = table[table["file"].str.startswith("resources/retina/")]
    assert sorted(retina["file"]) == sorted(f"resources/retina/{e}/{s}.h5" for e, s in RECORDINGS)
    assert (retina["source"] == "simulated").all()
    assert retina["origin"].str.startswith("insilico simulator").all()


def test_finished_run_has_nothing_to_do(finished_workflow):
    assert finished_workflow.planned_jobs() == {}


def test_a_copied_run_has_nothing_to_do(finished_copy):
    """Users move projects to scratch space and restore backups: no declared input is absolute."""
    assert finished_copy.planned_jobs() == {}


def test_a_new_timestamp_without_an_edit_reruns_nothing(finished_workflow):
    module = finished_workflow.root / "src/insilico/retina/models/cnn.py"
    stat = module.stat()
    later = time.time() + 3600  # newer than every output
    os.utime(module, (later, later))
    try:
        assert finished_workflow.planned_jobs() == {}
    finally:
        os.utime(module, (stat.st_atime, stat.st_mtime))


def test_training_parameter_of_one_model_reruns_only_that_model(finished_workflow):
    changed = finished_workflow.root / "changed.yaml"
    changed.write_text("retina:\n  models:\n    cnn:\n      train:\n        learning_rate: 0.01\n")
    jobs = finished_workflow.planned_jobs("--configfile", "config/tiny.yaml", str(changed))
    assert jobs == times_two(
        {"train_retina": 1, **CNN_DOWNSTREAM}
    ) | CNN_PAPER_DOWNSTREAM | CNN_MECHANISMS_DOWNSTREAM | CNN_ABLATION | {
        "retina_summary": 1,
        "all": 1,
    }


def test_editing_the_cnn_module_reruns_exactly_its_dependents(finished_workflow):
    with edited(finished_workflow.root / "src/insilico/retina/models/cnn.py"):
        jobs = finished_workflow.planned_jobs()
    # the circuit control is a CNN too: its dissection reruns (its model file, written from the
    # circuit, does not), and the figures of both dissected families
    stages = ("responses", "attribution", "reduction", "groundtruth")
    mechanisms = CNN_MECHANISMS_DOWNSTREAM | {
        **{
            f"mechanism_{stage}": CNN_MECHANISMS_DOWNSTREAM[f"mechanism_{stage}"] + 1
            for stage in stages
        },
        "plot_mechanism_phenomena": 2,
        "plot_mechanism_dissection": 2,
    }
    assert jobs == times_two(
        {"train_retina": 1, **CNN_DOWNSTREAM}
    ) | CNN_PAPER_DOWNSTREAM | mechanisms | CNN_ABLATION | {
        "retina_summary": 1,
        "all": 1,
    }


# Rules of the retina and mechanisms branches, whose jobs a retina module may rerun.
RETINA_BRANCHES = (
    "retina_",
    "train_retina",
    "evaluate_retina",
    "plot_retina",
    "plot_cnn",
    "mechanism",
    "plot_mechanism",
)


def test_editing_the_retina_trainer_reruns_its_branches_and_no_it_or_dynamics_job(
    finished_workflow,
):
    everything = finished_workflow.planned_jobs("--forceall")
    with edited(finished_workflow.root / "src/insilico/retina/train.py"):
        jobs = finished_workflow.planned_jobs()
    # every retina and mechanisms job downstream of a trained model: not the simulated recordings
    # (simulate_retina), the ceilings (they read the recordings only), or the circuit control's
    # model and its dissection (written from the circuit, not trained: inference and windows live
    # apart from the trainer); no IT, dynamics or data job
    # nor the trained control and its dissection (its own training code, not the trainer's)
    stages = {
        f"mechanism_{stage}" for stage in ("responses", "attribution", "reduction", "groundtruth")
    }
    control = set(CNN_MECHANISMS_DOWNSTREAM) - {"mechanisms_summary", "mechanism_trained_control"}
    kept = {rule: (rule in control) + (rule in stages) for rule in everything}
    kept["mechanism_trained_control"] = 1
    assert jobs == {
        rule: count - kept[rule]
        for rule, count in everything.items()
        if rule.startswith(RETINA_BRANCHES) and rule != "retina_ceiling" and count > kept[rule]
    } | {"all": 1}
    assert not any(rule.startswith(("it_", "train_it", "plot_it", "dynamics")) for rule in jobs)


def test_editing_core_stats_reruns_exactly_the_rules_that_import_it(finished_workflow):
    with edited(finished_workflow.root / "src/insilico/core/stats.py"):
        jobs = finished_workflow.planned_jobs()
    # The one Pearson lives in core/stats.py: the retina trainer (early stopping) and evaluation,
    # the IT assembly reader/writer (split-half consistency), protocol and figures import it; so
    # do their scripts' closures, and what is downstream of them reruns.
    retina = {
        "train_retina": 6,
        "train_retina_fraction": 2,
        "evaluate_retina": 6,
        "retina_ceiling": 2,
        "retina_performance": 2,
        "retina_summary": 1,
        "retina_data_efficiency": 2,
        "retina_data_trend": 1,
        "retina_generalization": 1,
        "retina_receptive_fields": 1,
        "plot_retina_comparison": 2,
        "plot_retina_predictions": 2,
        "plot_cnn_filters": 2,  # downstream of the CNN training
        "plot_retina_model_comparison": 1,
        "plot_retina_data_efficiency": 1,
        "plot_retina_generalization": 1,
        "plot_retina_receptive_fields": 1,
        **CNN_ABLATION,  # trained and evaluated with the trainer and evaluation
    }
    # the fitted CNN's dissection, downstream of its training (not the control's: the mechanisms
    # code itself does not import core.stats)
    mechanisms = CNN_MECHANISMS_DOWNSTREAM
    it = {
        "simulate_it": 1,  # writes the assembly with insilico.it.assembly
        "provenance_table": 1,  # downstream of simulate_it
        "it_neural": 1,
        "it_activations_cnn": 2,
        "it_activations_convrnn": 2,
        "it_predictivity": 4,
        "it_solution_times": 1,
        "it_summary": 1,
        "plot_it": 1,
    }
    grid_cells = {  # gridness correlates rotated autocorrelograms
        "grid_cells_theory": 1,
        "grid_cells_train": 2,
        "grid_cells_scores": 2,
        "grid_cells_summary": 1,
        "grid_cells_figures": 1,
    }
    geometry = {  # downstream of the IT scores and activations
        "geometry_layers": 4,
        "geometry_neural": 1,
        "geometry_simulation": 1,
        "geometry_summary": 1,
        "plot_geometry": 1,
    }
    # its applications read the recordings with the IT and retina readers
    factorisation = {"factorisation_applications": 1, "factorisation_summary": 1}
    bottleneck = {  # the probes' indices (not the images or the training: they use no Pearson)
        "bottleneck_probe": 2,
        "bottleneck_summary": 1,
        "plot_bottleneck": 1,
    }
    # the new branches score their networks with the IT protocol (not their training)
    learning_rules = {"learning_rules_predictivity": 1, "learning_rules_summary": 1}
    objectives = {"objectives_measures": 1, "objectives_summary": 1}
    # no RNN-population job, no retina simulation, no bottleneck reference: they do not import it
    branches = retina | mechanisms | it | grid_cells | geometry | factorisation | bottleneck
    assert jobs == branches | learning_rules | objectives | {"all": 1}


def test_editing_the_plotting_module_reruns_only_figures(finished_workflow):
    with edited(finished_workflow.root / "src/insilico/retina/plots.py"):
        jobs = finished_workflow.planned_jobs()
    assert jobs == {
        "plot_retina_comparison": 2,
        "plot_retina_predictions": 2,
        "plot_cnn_filters": 2,
        "plot_retina_model_comparison": 1,
        "plot_retina_data_efficiency": 1,
        "plot_retina_generalization": 1,
        "plot_retina_receptive_fields": 1,
        "plot_retina_ablation": 1,
        "all": 1,
    }


def test_config_typo_stops_before_any_job_with_one_clear_message(finished_workflow):
    typo = finished_workflow.root / "typo.yaml"
    typo.write_text("data:\n  retina:\n    source: simulatd\n")
    result = finished_workflow.snakemake(
        "--dry-run", "--configfile", "config/tiny.yaml", str(typo), check=False
    )
    assert result.returncode != 0
    assert (
        "config key 'data.retina.source': expected one of ['simulated', 'remote', 'local'], got 'simulatd'"
        in (result.stdout + result.stderr)
    )


def test_corrupt_recording_fails_clearly_and_keeps_other_results(finished_copy):
    """A truncated recording stops its own jobs with one clear line; with --keep-going the other
    recording's figure is still made (it was removed, so it must be drawn again)."""
    root = finished_copy.root
    recording = root / "resources/retina/sim01/naturalscene.h5"
    recording.write_bytes(recording.read_bytes()[:5000])  # a truncated download
    untouched = root / "resources/retina/sim01/whitenoise.h5"
    before = untouched.stat().st_mtime_ns
    figures = [
        f"results/retina/sim01/{stimulus}/figures/model_comparison.png"
        for _, stimulus in RECORDINGS
    ]
    (root / figures[0]).unlink()
    result = finished_copy.snakemake(*figures, "--cores", "2", "--keep-going", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "naturalscene.h5" in output and "not a readable HDF5 file" in output
    assert untouched.stat().st_mtime_ns == before
    assert (root / figures[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_catalogs_test_folder_plans_the_tiny_preset(fresh_workflow):
    """The workflow catalog runs `snakemake --directory .test`: the same DAG as the tiny preset."""
    command = [sys.executable, "-m", "snakemake", "--dry-run", "--directory", ".test"]
    in_test_folder = subprocess.run(
        command, cwd=fresh_workflow.root, capture_output=True, text=True, check=True
    )
    from_root = fresh_workflow.snakemake("--dry-run")
    stats = [
        run.stdout.split("Job stats:", 1)[1].split("total", 1)[0]
        for run in (in_test_folder, from_root)
    ]
    assert stats[0] == stats[1] and "simulate_retina" in stats[0]


def test_report_holds_every_figure_with_its_caption(finished_workflow):
    finished_workflow.snakemake("--report", "results/report.html")
    report = (finished_workflow.root / "results/report.html").read_text(errors="replace")
    for figure in FIGURES:
        assert figure in report
    assert "Spearman-Brown" in report  # the ceiling protocol is stated in a caption


@pytest.mark.parametrize(
    ("gpus", "extra", "provided"),
    [
        ("0,1,2", [], 'gpu=Resource("gpu", 3)'),  # one GPU job per GPU of the machine
        ("0,1,2", ["--resources", "gpu=1"], 'gpu=Resource("gpu", 1)'),  # the user's limit wins
        ("", [], None),  # no GPU: no limit, GPU rules run on the CPU
    ],
)
def test_local_gpu_jobs_are_limited_to_the_machines_gpus(
    fresh_workflow, monkeypatch, gpus, extra, provided
):
    monkeypatch.setenv("INSILICO_GPUS", gpus)  # the machine's GPU list, as nvidia-smi would give
    result = fresh_workflow.snakemake(
        "resources/retina/sim01/whitenoise.h5", "--cores", "1", *extra
    )
    output = result.stdout + result.stderr
    limits = [line for line in output.splitlines() if line.startswith("Provided resources:")]
    assert limits == ([f"Provided resources: {provided}"] if provided else []), output
