"""The tiny DAG on a real SLURM cluster with profiles/slurm: every job is a SLURM job, only training
asks for a GPU, and the results are exactly those of a local run.

The cluster (tests/slurm/cluster.py) is one node with the machine's CPUs and one fake GPU; the
plugin polls job states with squeue (no accounting). The test runs in CI (CI=true, as root); see the
`slurm_cluster` fixture for when it skips elsewhere.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import torch
import xarray as xr
from conftest import Workflow, copy_workflow

from insilico.io import load_torch, read_netcdf

pytestmark = pytest.mark.workflow

GPU_RULES = {"train_retina"}


def rule_of(comment: str) -> str:
    """Rule name from the plugin's job comment ``rule_<rule>[_wildcards_<wildcards>]``."""
    assert comment.startswith("rule_"), comment
    return comment.removeprefix("rule_").split("_wildcards_", 1)[0]


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, tmp_path_factory):
    """The whole tiny DAG run with --profile profiles/slurm; its workflow copy and SLURM jobs."""
    workflow = copy_workflow(tmp_path_factory.mktemp("slurm_workflow"))
    planned = workflow.planned_jobs()
    result = workflow.snakemake("--profile", "profiles/slurm", "--slurm-keep-successful-logs")
    output = result.stdout + result.stderr
    run_id = re.search(r"SLURM run ID: (\S+)", output)
    assert run_id, f"no SLURM run ID in the Snakemake output:\n{output}"
    # Every SLURM job of this run carries the run id as its name (older jobs of a reused cluster
    # do not).
    jobs = [job for job in slurm_cluster.jobs() if job["name"] == run_id.group(1)]
    return workflow, planned, jobs


def test_every_job_ran_through_slurm(slurm_run):
    workflow, planned, jobs = slurm_run
    expected = {rule: count for rule, count in planned.items() if rule != "all"}
    assert sum(expected.values()) == 21
    assert Counter(rule_of(job["comment"]) for job in jobs) == expected
    assert {job["state"] for job in jobs} == {"COMPLETED"}
    # The plugin's log of each job: .snakemake/slurm_logs/rule_<rule>/<wildcards>/<jobid>.log
    logs = {
        path.stem: path.relative_to(workflow.root / ".snakemake/slurm_logs").parts[0]
        for path in (workflow.root / ".snakemake/slurm_logs").rglob("*.log")
    }
    assert logs == {job["id"]: f"rule_{rule_of(job['comment'])}" for job in jobs}


def test_only_training_asks_for_a_gpu(slurm_run):
    _, _, jobs = slurm_run
    requests = {(rule_of(job["comment"]), job["gpus"]) for job in jobs}
    assert {gpus for rule, gpus in requests if rule in GPU_RULES} == {"gres:gpu:1"}
    assert {gpus for rule, gpus in requests if rule not in GPU_RULES} == {"N/A"}


def test_results_equal_a_local_run(slurm_run, finished_workflow: Workflow):
    slurm, local = slurm_run[0].root, finished_workflow.root
    recordings = sorted(local.glob("resources/retina/*/*.h5"))
    tables = sorted(local.glob("results/retina/**/*.nc"))
    models = sorted(local.glob("results/retina/**/model.pt"))
    assert len(recordings) == 2 and len(tables) == 12 and len(models) == 4
    for path in recordings:
        assert_same_bytes(path, slurm / path.relative_to(local))
    assert_same_bytes(local / "results/retina/summary.csv", slurm / "results/retina/summary.csv")
    for path in tables:
        expected, actual = read_netcdf(path), read_netcdf(slurm / path.relative_to(local))
        if path.name == "history.nc":  # wall-clock seconds per epoch differ by nature
            expected, actual = expected.drop_vars("seconds"), actual.drop_vars("seconds")
        xr.testing.assert_identical(actual, expected)
    for path in models:
        expected, actual = load_torch(path), load_torch(slurm / path.relative_to(local))
        assert actual.keys() == expected.keys(), path
        state, expected_state = actual.pop("state_dict"), expected.pop("state_dict")
        assert actual == expected, path
        assert state.keys() == expected_state.keys(), path
        for name, tensor in expected_state.items():
            assert torch.equal(state[name], tensor), f"{path}: {name}"


def assert_same_bytes(expected: Path, actual: Path) -> None:
    assert actual.read_bytes() == expected.read_bytes(), f"{actual} differs from the local run"
