"""The dynamics branch inside the whole tiny DAG: outputs, and reruns that are exactly right."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import edited, read, redrawn

from insilico.dynamics import plots

pytestmark = pytest.mark.workflow

TASKS = ["flipflop", "sine", "context"]
ARCHITECTURES = ["vanilla", "gru", "lstm", "ugrnn"]
FIGURES = ["training", "fixed_points", "geometry", "topology", "line_attractor"]
ANALYSIS = {
    "dynamics_geometry": 1,
    "dynamics_population": 1,
    "dynamics_dsa": 1,
    "plot_dynamics": 1,
    "all": 1,
}


def _open(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as dataset:
        return dataset.load()


def test_figures_show_the_netcdf_they_were_drawn_from(finished_workflow, tmp_path):
    root = finished_workflow.root / "results/dynamics"
    topology = read(root / "topology.nc")
    fig = redrawn(
        plots, lambda path: plots.topology(topology, path), root / "figures/topology.png", tmp_path
    )
    by_task = fig.axes[0]
    points = np.concatenate([c.get_offsets() for c in by_task.collections if len(c.get_offsets())])
    np.testing.assert_allclose(
        np.sort(points, axis=0), np.sort(topology["mds"].values, axis=0)
    )  # every network once, where the MDS placed it
    assert f"silhouette {topology.attrs['silhouette_task']:.2f}" in by_task.get_title()
    geometry = [read(root / f"{task}/geometry.nc") for task in TASKS]
    fig = redrawn(
        plots, lambda path: plots.geometry(geometry, path), root / "figures/geometry.png", tmp_path
    )
    points = np.concatenate([c.get_offsets() for c in fig.axes[0].collections])  # first measure
    measure = next(name for name in plots.MEASURE_TITLES if name in geometry[0])
    np.testing.assert_allclose(
        np.sort(points, axis=0), np.sort(geometry[0][f"mds_{measure}"].values, axis=0)
    )
    for figure in FIGURES:  # training, fixed points, line attractor: drawn from the models too
        assert (root / f"figures/{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure


def test_population_table_logs_and_benchmarks(finished_workflow):
    root = finished_workflow.root / "results/dynamics"
    table = pd.read_csv(root / "summary.csv")
    assert len(table) == len(TASKS) * len(ARCHITECTURES)  # tiny: one seed, one size
    assert set(table["task"]) == set(TASKS) and set(table["arch"]) == set(ARCHITECTURES)
    assert (table["val_nmse"] > 0).all()
    for log in ("train/flipflop_chunk0.log", "fixed_points/context_chunk0.log", "plots.log"):
        assert (finished_workflow.root / "results/logs/dynamics" / log).stat().st_size > 0
    assert (finished_workflow.root / "results/benchmarks/dynamics/geometry.tsv").exists()


def test_fixed_points_geometry_and_topology_files(finished_workflow):
    root = finished_workflow.root / "results/dynamics"
    points = _open(root / "flipflop/fixed_points/chunk0.nc")
    assert points.sizes["network"] == len(ARCHITECTURES)
    # End points are kept below keep_q, slow-point snapshots below slow_q.
    limit = np.where(points["snapshot"], points.attrs["slow_q"], points.attrs["keep_q"])
    assert (points["q"].values < limit).all()
    assert set(np.unique(points["point_network"])) <= set(range(len(ARCHITECTURES)))
    assert points["jacobian"].dims == ("point", "state", "state_in")
    for task in TASKS:
        geometry = _open(root / f"{task}/geometry.nc")
        for measure in ("svcca", "cka", "procrustes"):
            matrix = geometry[measure].values
            assert matrix.shape == (len(ARCHITECTURES),) * 2
            assert np.allclose(matrix, matrix.T) and np.all(np.diag(matrix) == 0)
            assert geometry[f"mds_{measure}"].shape == (len(ARCHITECTURES), 2)
    topology = _open(root / "topology.nc")
    assert topology.sizes["network"] == len(TASKS) * len(ARCHITECTURES)
    assert np.allclose(topology["distance"], topology["distance"].T)
    assert set(topology["task"].values) == set(TASKS)
    assert np.isfinite(topology.attrs["silhouette_task"])


def test_dsa_compares_every_network_across_tasks_beside_geometry_and_topology(finished_workflow):
    root = finished_workflow.root / "results/dynamics"
    dsa = _open(root / "dsa.nc")
    n = len(TASKS) * len(ARCHITECTURES)
    matrix = dsa["dsa"].values
    assert matrix.shape == (n, n) and np.allclose(matrix, matrix.T)
    assert np.all(np.diag(matrix) == 0) and (matrix[~np.eye(n, dtype=bool)] > 0).all()
    assert set(dsa["task"].values) == set(TASKS)
    table = pd.read_csv(root / "dsa_separation.csv").set_index("measure")
    assert list(table.index) == ["cka", "procrustes", "svcca", "topology", "dsa"]
    # the table is written to 4 significant digits
    assert table.loc["dsa", "silhouette_task"] == pytest.approx(
        dsa.attrs["silhouette_task"], abs=5e-4
    )
    assert table.loc["svcca", "silhouette_task"] != table.loc["svcca", "silhouette_task"]  # nan


def test_the_branch_is_one_target(finished_workflow):
    assert finished_workflow.planned_jobs("dynamics") == {}


def test_editing_the_similarity_module_reruns_only_the_population_analyses(finished_workflow):
    with edited(finished_workflow.root / "src/insilico/dynamics/similarity.py"):
        assert finished_workflow.planned_jobs() == ANALYSIS


def test_editing_the_cells_reruns_training_and_everything_after_it(finished_workflow):
    with edited(finished_workflow.root / "src/insilico/dynamics/cells.py"):
        jobs = finished_workflow.planned_jobs()
    assert jobs == {"train_dynamics": 3, "dynamics_fixed_points": 3, **ANALYSIS}


def test_editing_the_plots_reruns_only_the_figures(finished_workflow):
    with edited(finished_workflow.root / "src/insilico/dynamics/plots.py"):
        assert finished_workflow.planned_jobs() == {
            "plot_dynamics": 1,
            "dynamics_dsa": 1,
            "all": 1,
        }


def test_a_fixed_point_setting_reruns_the_search_not_the_training(finished_workflow):
    changed = finished_workflow.root / "dynamics_changed.yaml"
    changed.write_text("dynamics:\n  fixed_points:\n    noise_std: 0.05\n")
    jobs = finished_workflow.planned_jobs("--configfile", "config/tiny.yaml", str(changed))
    assert jobs == {
        "dynamics_fixed_points": 3,
        "dynamics_population": 1,
        "dynamics_dsa": 1,
        "plot_dynamics": 1,
        "all": 1,
    }


def test_claims_are_decided_over_tasks_and_networks(finished_workflow):
    """tiny: one seed per architecture, three tasks; the table follows the topology file."""
    from insilico.dynamics.claims import topology_silhouette

    root = finished_workflow.root / "results/dynamics"
    claims = pd.read_csv(root / "claims.csv")
    geometry = claims[claims["replicates"] == "tasks"]
    assert sorted(geometry["model"].str.split().str[0]) == ["cka", "procrustes", "svcca"]
    assert (geometry["n"] <= len(TASKS)).all()
    topology = _open(root / "topology.nc")
    cka = [
        _open(root / f"{task}/geometry.nc").attrs["silhouette_arch_cka"]
        - topology_silhouette(topology, task)
        for task in TASKS
    ]
    row = geometry[geometry["model"].str.startswith("cka")].iloc[0]
    assert row["value"] == pytest.approx(np.mean(cka), abs=1e-5, nan_ok=True)  # nan: 1 seed
    flipflop = claims[claims["replicates"] == "networks"].iloc[0]
    summary = pd.read_csv(root / "summary.csv")
    assert flipflop["n"] == (summary["task"] == "flipflop").sum()
