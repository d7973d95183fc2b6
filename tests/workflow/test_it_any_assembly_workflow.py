"""The IT branch on another Brain-Score assembly: FreemanZiemba2013-shaped V1/V2 data written by
the test, given as local data with its stratification key and window, run through the default
rules on config/tiny.yaml; a missing key fails before any job; the public FreemanZiemba2013 entry
is selectable by name (planned here, never downloaded: no test reaches the internet)."""

from __future__ import annotations

import pandas as pd
import pytest
import xarray as xr
import yaml

pytestmark = pytest.mark.workflow

FZ_SHAPES = {
    "per-repetition, time bins": {"averaged": False, "time_bins": True},
    "averaged, no time bins": {"averaged": True, "time_bins": False},
}


def _local_override(workflow, paths, **settings) -> str:
    override = workflow.root / "fz.yaml"
    local = {kind: str(path) for kind, path in paths.items()} | settings
    override.write_text(
        yaml.safe_dump(
            {
                "branches": ["it"],
                "data": {"it": {"source": "local"}, "local": {"it": local}},
            }
        )
    )
    return str(override)


@pytest.mark.parametrize("shape", FZ_SHAPES)
def test_a_v1_v2_assembly_runs_the_it_branch_on_its_own_regions(
    fresh_workflow, tmp_path, brainscore_experiment, shape
):
    paths = brainscore_experiment(tmp_path / "fz", **FZ_SHAPES[shape])
    override = _local_override(
        fresh_workflow, paths, stratify_by="texture_type", window_ms=[50, 200]
    )
    presets = ("--configfile", "config/tiny.yaml", override)
    jobs = fresh_workflow.planned_jobs(*presets)
    assert jobs["link_local_it"] == 3 and "it_solution_times" not in jobs
    fresh_workflow.snakemake("--cores", "2", *presets)
    root = fresh_workflow.root
    with xr.open_dataset(root / "results/it/scores.nc", engine="h5netcdf") as scores:
        assert list(scores["region"].values) == ["V1", "V2"]
        ceiling = scores["ceiling"].values
    summary = pd.read_csv(root / "results/it/summary.csv")
    assert set(summary["region"]) == {"V1", "V2"}
    with xr.open_dataset(root / "results/it/neural.nc", engine="h5netcdf") as neural:
        assert neural.attrs["stratify_by"] == "texture_type"
        assert (neural.attrs["window_start_ms"], neural.attrs["window_end_ms"]) == (50, 200)
    claims = pd.read_csv(root / "results/it/claims.csv")
    assert not {"V4", "IT", "V4-IT"} & set(claims["region"].dropna())
    for figure in ("predictivity_by_layer", "performance_vs_predictivity", "stimuli"):
        assert (root / f"results/it/figures/{figure}.png").stat().st_size > 0
    log = (root / "results/logs/it/neural.log").read_text()
    if FZ_SHAPES[shape]["averaged"]:
        assert "averaged over repetitions" in log
        assert pd.isna(ceiling).all()
    else:
        assert (ceiling > 0.5).all()


def test_a_missing_stratification_column_stops_the_run_before_any_job(
    fresh_workflow, tmp_path, brainscore_experiment
):
    paths = brainscore_experiment(tmp_path / "fz")
    override = _local_override(fresh_workflow, paths)  # stratify_by left at object_name
    result = fresh_workflow.snakemake(
        "-n", "--configfile", "config/tiny.yaml", override, check=False
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    lines = [line for line in output.splitlines() if "data.local.it.stratify_by" in line]
    assert len(lines) == 1, output
    assert str(paths["stimuli_csv"]) in lines[0] and "'object_name'" in lines[0]
    assert not (fresh_workflow.root / "resources/it").exists()


def test_solution_times_of_a_region_the_data_lack_stop_the_run_before_any_job(
    fresh_workflow, tmp_path, brainscore_experiment
):
    paths = brainscore_experiment(tmp_path / "fz")
    paths["temporal_assembly"] = paths["assembly"]  # 10 ms bins: the per-bin analyses run
    override = _local_override(fresh_workflow, paths, stratify_by="texture_type")
    result = fresh_workflow.snakemake(
        "-n", "--configfile", "config/tiny.yaml", override, check=False
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "config key 'it.solution_times.region'" in output
    assert "no neuroids of region 'IT'; its regions are ['V1', 'V2']" in output
    # decoding V2 instead: then factorisation's region is the one the data lack
    settings = yaml.safe_load((fresh_workflow.root / "fz.yaml").read_text())
    settings["branches"] = ["retina", "it", "factorisation"]
    settings["it"] = {"solution_times": {"region": "V2"}}
    (fresh_workflow.root / "fz.yaml").write_text(yaml.safe_dump(settings))
    result = fresh_workflow.snakemake(
        "-n", "--configfile", "config/tiny.yaml", override, check=False
    )
    assert result.returncode != 0
    assert "config key 'factorisation.applications.it_region'" in result.stdout + result.stderr


def test_the_public_freemanziemba_assembly_is_chosen_by_name(fresh_workflow):
    override = fresh_workflow.root / "remote.yaml"
    override.write_text(
        yaml.safe_dump(
            {
                "branches": ["it"],
                "data": {
                    "it": {"source": "remote"},
                    "remote": {"it": {"assembly": "FreemanZiemba2013"}},
                },
            }
        )
    )
    presets = ("--configfile", "config/tiny.yaml", str(override))
    jobs = fresh_workflow.planned_jobs(*presets)
    assert jobs["download_it"] == 3 and "it_solution_times" not in jobs  # no temporal file
    override.write_text(
        yaml.safe_dump(
            {"data": {"it": {"source": "remote"}, "remote": {"it": {"assembly": "Nope"}}}}
        )
    )
    result = fresh_workflow.snakemake("-n", *presets, check=False)
    assert result.returncode != 0
    assert "'data.remote.it.assembly': 'Nope'" in result.stdout + result.stderr
