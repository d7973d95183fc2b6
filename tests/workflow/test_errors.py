"""Every user error before any work, in one line: faulty local data and config files stop the run
before a job starts, naming the file and the key; the advice for a truncated intermediate names a
command that really rebuilds it."""

from __future__ import annotations

import re

import h5py
import pytest
import yaml
from conftest import SMALL_RETINA

from insilico.retina.simulator import simulate_recording

pytestmark = pytest.mark.workflow

# An output of an earlier run that a refused run must leave alone (Snakemake removes the outputs
# of a job before it runs it).
EARLIER = "results/retina/exp01/whitenoise/ceiling.nc"


def _drop_repeats(path):
    with h5py.File(path, "a") as h5:
        del h5["test/repeats"]


def _truncate(path):
    path.write_bytes(path.read_bytes()[:5000])


def _not_hdf5(path):
    path.write_text("<html>not found</html>\n")


FAULTS = {
    # fault: (how a recording is damaged, cells asked for, words of the one line)
    "missing-repeats": (_drop_repeats, None, "missing dataset 'test/repeats'"),
    "truncated": (_truncate, None, "is not a readable HDF5 file (Unable to synchronously open"),
    "not-hdf5": (_not_hdf5, None, "is not a readable HDF5 file"),
    "missing-file": (lambda path: path.unlink(), None, "no such retina recording"),
    "unknown-cell": (lambda path: None, [1, 9], "cell 9 (cell09) is not in the recording; "),
}


def local_recordings(root):
    """Two small recordings of experiment exp01 in the public layout."""
    for stimulus in ("whitenoise", "naturalscene"):
        simulate_recording(root / "exp01" / f"{stimulus}.h5", stimulus, SMALL_RETINA, seed=3)
    return root


def local_settings(root, cells=None) -> dict:
    """The tiny preset on local recordings (no V4/IT data: IT and its readers left out)."""
    return {
        "branches": ["retina", "mechanisms", "dynamics"],
        "data": {
            "retina": {
                "source": "local",
                "experiments": ["exp01"],
                "cells": {"exp01": cells} if cells else {},
            },
            "local": {"retina": {"root": str(root)}},
        },
    }


def refused(workflow, settings: dict, *args: str) -> str:
    """Run Snakemake (not a dry run) with ``settings``; it must fail; its output."""
    (workflow.root / "user.yaml").write_text(yaml.safe_dump(settings))
    result = workflow.snakemake(
        *args, "--cores", "1", "--configfile", "config/tiny.yaml", "user.yaml", check=False
    )
    assert result.returncode != 0
    return result.stdout + result.stderr


@pytest.mark.parametrize("fault", FAULTS)
def test_a_faulty_local_recording_stops_the_run_before_any_job(fresh_workflow, tmp_path, fault):
    damage, cells, words = FAULTS[fault]
    root = local_recordings(tmp_path / "recordings")
    bad = root / "exp01" / "whitenoise.h5"  # the first file checked
    damage(bad)
    earlier = fresh_workflow.root / EARLIER
    earlier.parent.mkdir(parents=True)
    earlier.write_bytes(b"an earlier result")
    output = refused(fresh_workflow, local_settings(root, cells))
    key = "data.retina.cells" if cells else "data.local.retina.root"
    (line,) = [line for line in output.splitlines() if line.startswith("Invalid local data:")]
    assert f"config key '{key}': {bad}" in line and words in line, output
    if fault == "unknown-cell":
        assert "available cells: [1, 2]" in line
    assert "Traceback" not in output and len(output.splitlines()) < 10, output
    # No job ran: nothing was linked or logged, the earlier result is untouched.
    assert not (fresh_workflow.root / "resources").exists()
    assert not (fresh_workflow.root / "results/logs").exists()
    assert earlier.read_bytes() == b"an earlier result"


def test_a_faulty_local_it_assembly_stops_the_run_before_any_job(fresh_workflow, tmp_path):
    assembly = tmp_path / "assembly.nc"
    assembly.write_text("not netCDF\n")
    local = {
        "assembly": str(assembly),
        "stimuli_csv": str(tmp_path / "stimuli.csv"),
        "stimuli_zip": str(tmp_path / "stimuli.zip"),
    }
    settings = {
        "branches": ["retina", "mechanisms", "dynamics", "it", "geometry"],
        "data": {"it": {"source": "local"}, "local": {"it": local}},
    }
    output = refused(fresh_workflow, settings, "--dry-run")
    assert (
        f"Invalid local data: config key 'data.local.it.assembly': {assembly}: "
        "not a readable netCDF-4 file" in output
    ), output


def test_the_advice_for_a_truncated_intermediate_rebuilds_it_and_what_is_made_from_it(
    fresh_workflow,
):
    """A model cut short stops the job that reads it with one line. Deleting the model is not
    enough (Snakemake does not remake a missing file whose downstream files exist); the command
    the line names rebuilds the model, the file removed with the failed job, and what follows."""
    summary = "results/dynamics/summary.csv"
    fresh_workflow.snakemake("--cores", "2", summary)
    root = fresh_workflow.root
    model = sorted(root.glob("results/dynamics/*/models/chunk*.pt"))[0]
    fixed_points = model.parent.parent / "fixed_points" / model.with_suffix(".nc").name
    model.write_bytes(model.read_bytes()[:1000])
    failed = fresh_workflow.snakemake(
        "--cores", "1", "--forcerun", str(fixed_points.relative_to(root)), summary, check=False
    )
    assert failed.returncode != 0
    relative = str(model.relative_to(root))
    (line,) = [
        line
        for line in (failed.stdout + failed.stderr).splitlines()
        if line.startswith("UnreadableFileError:")
    ]
    assert f"{relative} is unreadable" in line
    advised = re.search(r"`snakemake (--forcerun \S+)`", line).group(1).split()
    assert advised == ["--forcerun", relative]
    assert not fixed_points.exists() and (root / summary).exists()
    model.unlink()  # the old advice: delete it and rerun
    assert fresh_workflow.planned_jobs(summary) == {}  # "Nothing to be done"
    # --forcerun takes several values: the target goes before it.
    # (the population's claims compare geometry with topology: the geometry job reruns too)
    assert fresh_workflow.planned_jobs(summary, *advised) == {
        "train_dynamics": 1,
        "dynamics_fixed_points": 1,
        "dynamics_geometry": 1,
        "dynamics_population": 1,
    }


def test_a_malformed_config_yaml_stops_the_run_naming_file_and_line(fresh_workflow):
    config = fresh_workflow.root / "config.yaml"
    lines = config.read_text().splitlines()
    config.write_text("\n".join([*lines, "broken: [1, 2", "next: 3", ""]))
    output = refused(fresh_workflow, {}, "--dry-run")
    assert (
        f"Invalid configuration: config file config.yaml, line {len(lines) + 2}, column 5: "
        "not valid YAML: expected ','" in output
    ), output
    assert "Traceback" not in output
