"""The workflow on a real SLURM cluster with profiles/slurm: every job is a SLURM job, exactly the
rules that ask for a GPU get one, and the results are exactly those of a local run.

The cluster (tests/slurm/cluster.py) is one node with the machine's CPUs and one fake GPU; the
plugin polls job states with squeue (no accounting). The test runs in CI (CI=true, as root); see the
`slurm_cluster` fixture for when it skips elsewhere.

Each SLURM job costs a Snakemake start inside the job (about 4 s of CPU) and the plugin's status
polling adds seconds to minutes per dependency level, so the SLURM run builds only what a cluster
can show: one recording of config/tiny.yaml, then a GPU rule (one model's training) and a CPU rule
(the ceiling) side by side: 3 jobs at 2 dependency levels, not the whole DAG. What does not need a
cluster (resuming a killed training to the same model, every rule's results) is tested locally.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest
import torch
import xarray as xr
import yaml
from conftest import REPO, Workflow, copy_workflow

from insilico.core.io import load_torch, read_netcdf

pytestmark = pytest.mark.workflow

TARGETS = [
    "results/retina/sim01/whitenoise/models/ln/seed0/model.pt",
    "results/retina/sim01/whitenoise/ceiling.nc",
]
# Outputs that hold the time they were made, not results: left out of the comparison.
UNCOMPARED_KEYS = {"history.nc": {"seconds"}, "provenance.json": {"acquired_utc"}}


def dry_run(workflow: Workflow, *args: str) -> dict[str, tuple[int, bool]]:
    """Rule -> (jobs a run would execute, whether those jobs ask for a GPU), from a dry run."""
    output = workflow.snakemake("--dry-run", *args).stdout
    counts = Counter(re.findall(r"^rule (\w+):$", output, flags=re.MULTILINE))
    gpu = {}
    for block in re.split(r"\n(?=rule \w+:\n)", output):
        match = re.match(r"rule (\w+):\n", block)
        resources = re.search(r"^\s+resources: (.*)$", block, flags=re.MULTILINE)
        if match and resources:
            gpu[match.group(1)] = bool(re.search(r"\bgpu=[1-9]", resources.group(1)))
    return {rule: (count, gpu.get(rule, False)) for rule, count in counts.items()}


def rule_of(comment: str) -> str:
    """Rule name from the plugin's job comment ``rule_<rule>[_wildcards_<wildcards>]``."""
    assert comment.startswith("rule_"), comment
    return comment.removeprefix("rule_").split("_wildcards_", 1)[0]


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, tmp_path_factory):
    """TARGETS built with --profile profiles/slurm: the workflow copy, the dry run, the jobs."""
    workflow = copy_workflow(tmp_path_factory.mktemp("slurm_workflow"))
    planned = dry_run(workflow, *TARGETS)
    # --verbose: each job's SLURM log then shows the environment SLURM gave the job.
    result = workflow.snakemake(
        "--profile", "profiles/slurm", "--slurm-keep-successful-logs", "--verbose", *TARGETS
    )
    output = result.stdout + result.stderr
    run_id = re.search(r"SLURM run ID: (\S+)", output)
    assert run_id, f"no SLURM run ID in the Snakemake output:\n{output}"
    # Every SLURM job of this run carries the run id as its name (older jobs of a reused cluster
    # do not).
    jobs = [job for job in slurm_cluster.jobs() if job["name"] == run_id.group(1)]
    return workflow, planned, jobs


def test_every_job_ran_through_slurm(slurm_run):
    workflow, planned, jobs = slurm_run
    expected = {rule: count for rule, (count, _) in planned.items() if rule != "all"}
    assert expected.get("train_retina", 0) >= 1, expected
    assert Counter(rule_of(job["comment"]) for job in jobs) == expected
    assert {job["state"] for job in jobs} == {"COMPLETED"}
    # The plugin's log of each job: .snakemake/slurm_logs/rule_<rule>/<wildcards>/<jobid>.log
    logs = {
        path.stem: path.relative_to(workflow.root / ".snakemake/slurm_logs").parts[0]
        for path in (workflow.root / ".snakemake/slurm_logs").rglob("*.log")
    }
    assert logs == {job["id"]: f"rule_{rule_of(job['comment'])}" for job in jobs}


def test_exactly_the_gpu_rules_ask_for_a_gpu_and_get_one(slurm_run):
    workflow, planned, jobs = slurm_run
    gpu_rules = {rule for rule, (_, gpu) in planned.items() if gpu}
    assert "train_retina" in gpu_rules
    assert {rule for rule, (_, gpu) in planned.items() if not gpu} - {"all"}, "no CPU-only rule"
    for job in jobs:
        wanted = "gres:gpu:1" if rule_of(job["comment"]) in gpu_rules else "N/A"
        assert job["gpus"] == wanted, job
    # SLURM gave the (fake) GPU to those jobs only: CUDA_VISIBLE_DEVICES in their environment, as
    # printed by the plugin's job step in --verbose mode.
    for log in (workflow.root / ".snakemake/slurm_logs").rglob("*.log"):
        environment = re.search(r"environment: environ\((.*)\)$", log.read_text(), re.MULTILINE)
        assert environment, f"no environment in {log}"
        visible = re.search(r"'CUDA_VISIBLE_DEVICES': '([^']*)'", environment.group(1))
        rule = log.relative_to(workflow.root / ".snakemake/slurm_logs").parts[0]
        if rule.removeprefix("rule_") in gpu_rules:
            assert visible and visible.group(1) == "0", log
        else:
            assert visible is None, log


def test_results_equal_a_local_run(slurm_run, finished_workflow: Workflow):
    slurm, local = slurm_run[0].root, finished_workflow.root
    outputs = sorted(
        path
        for folder in ("resources", "results")
        for path in (slurm / folder).rglob("*")
        if path.is_file() and not {"logs", "benchmarks"} & set(path.relative_to(slurm).parts)
    )
    assert {str(path.relative_to(slurm)) for path in outputs} >= set(TARGETS)
    assert {".h5", ".nc", ".pt"} <= {path.suffix for path in outputs}
    for path in outputs:
        assert_same(path, local / path.relative_to(slurm))


def assert_same(actual: Path, expected: Path) -> None:
    """Equal content; for netCDF and torch files equal values, not bytes."""
    leave_out = next(
        (keys for end, keys in UNCOMPARED_KEYS.items() if actual.name.endswith(end)), ()
    )
    if actual.suffix == ".nc":
        xr.testing.assert_identical(
            read_netcdf(actual).drop_vars(leave_out), read_netcdf(expected).drop_vars(leave_out)
        )
    elif actual.suffix == ".pt":
        mine, theirs = load_torch(actual), load_torch(expected)
        state, expected_state = mine.pop("state_dict"), theirs.pop("state_dict")
        assert mine == theirs, actual
        assert state.keys() == expected_state.keys(), actual
        for name, tensor in expected_state.items():
            assert torch.equal(state[name], tensor), f"{actual}: {name}"
    elif actual.suffix == ".json":
        mine, theirs = json.loads(actual.read_text()), json.loads(expected.read_text())
        for key in leave_out:
            mine.pop(key, None)
            theirs.pop(key, None)
        assert mine == theirs, actual
    else:
        assert actual.read_bytes() == expected.read_bytes(), f"{actual} differs from the local run"


def test_profile_sends_every_gpu_rule_to_the_gpu_partition(fresh_workflow):
    """A rule that asks for a GPU but has no set-resources entry would go to the CPU partition."""
    profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    gpu_rules = {rule for rule, (_, gpu) in dry_run(fresh_workflow).items() if gpu}
    missing = gpu_rules - set(profile["set-resources"])
    assert not missing, f"add to set-resources in profiles/slurm/config.yaml: {sorted(missing)}"
    partitions = {profile["set-resources"][rule]["slurm_partition"] for rule in gpu_rules}
    assert len(partitions) == 1, partitions


# -- many small jobs: the data-efficiency sweep is grouped into few SLURM jobs ---------------------

SWEEP_SEEDS = [0, 1, 2]
SWEEP_RUNS = [f"results/retina/sim01/whitenoise/models/ln/fraction50/seed{s}" for s in SWEEP_SEEDS]


def test_sweep_runs_share_one_slurm_job_with_one_gpu(slurm_cluster, tmp_path):
    """profiles/slurm groups train_retina_fraction (up to 8 runs a job): three runs, one job."""
    workflow = copy_workflow(tmp_path)
    (workflow.root / "sweep.yaml").write_text(
        yaml.safe_dump({"retina": {"data_efficiency": {"seeds": SWEEP_SEEDS}}})
    )
    targets = [f"{run}/model.pt" for run in SWEEP_RUNS]
    result = workflow.snakemake(
        "--profile", "profiles/slurm", *targets, "--configfile", "config/tiny.yaml", "sweep.yaml"
    )
    run_id = re.search(r"SLURM run ID: (\S+)", result.stdout + result.stderr).group(1)
    jobs = [job for job in slurm_cluster.jobs() if job["name"] == run_id]
    by_rule = Counter(rule_of(job["comment"]) for job in jobs)
    # One job simulates the recording; one group job trains all three runs, in series on one GPU.
    assert by_rule == {"simulate_retina": 1, "retina_sweep_train_retina_fraction": 1}, jobs
    (group,) = [job for job in jobs if "train_retina_fraction" in job["comment"]]
    assert group["gpus"] == "gres:gpu:1"
    assert {job["state"] for job in jobs} == {"COMPLETED"}
    for run in SWEEP_RUNS:
        assert (workflow.root / run / "model.pt").is_file()


# -- failure: a job the scheduler kills leaves no output, and its rerun resumes ---------------------

KILLED_RUN = "results/retina/sim01/whitenoise/models/ln/seed0"
KILLED_LOG = "results/logs/retina/train/sim01_whitenoise_ln_seed0.log"
# Long enough to be caught between the first checkpoint and the end (tens of seconds), and no early
# stop: the run is killed after its first epoch checkpoint.
SLOW_TRAINING = {"retina": {"train": {"epochs": 400, "patience": 400}}}


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.2)


def test_a_job_the_scheduler_kills_leaves_no_output_and_the_rerun_resumes(
    slurm_cluster, tmp_path_factory
):
    """scancel, as SLURM does at a time limit: SIGTERM to the job, SIGKILL after KillWait."""
    workflow = copy_workflow(tmp_path_factory.mktemp("killed"))
    (workflow.root / "slow.yaml").write_text(yaml.safe_dump(SLOW_TRAINING))
    configs = ["--configfile", "config/tiny.yaml", "slow.yaml"]
    target = f"{KILLED_RUN}/model.pt"
    checkpoint = workflow.root / KILLED_RUN / "checkpoint.pt"

    snakemake = workflow.start("--profile", "profiles/slurm", target, *configs)
    try:
        wait_for(checkpoint.exists, timeout=300, what=f"{checkpoint} (first epoch)")
        (training,) = [
            job
            for job in slurm_cluster.jobs()
            if job["state"] == "RUNNING" and rule_of(job["comment"]) == "train_retina"
        ]
        slurm_cluster.run("scancel", training["id"])
        assert snakemake.wait(timeout=300) != 0
    finally:
        snakemake.kill()
    killed = {job["id"]: job["state"] for job in slurm_cluster.jobs()}[training["id"]]
    assert killed == "CANCELLED"
    # The job left through its SIGTERM handler, which removes a write in progress (whether or not
    # the signal came mid-write); nothing under an output's name; the last epoch's checkpoint stays.
    assert "job stopped by SIGTERM" in (workflow.root / KILLED_LOG).read_text()
    assert sorted(path.name for path in (workflow.root / KILLED_RUN).iterdir()) == ["checkpoint.pt"]
    stopped_at = load_torch(checkpoint)["progress"]  # epochs done
    assert 1 <= stopped_at < SLOW_TRAINING["retina"]["train"]["epochs"]

    workflow.snakemake("--profile", "profiles/slurm", target, *configs)
    assert f"resuming from epoch {stopped_at} " in (workflow.root / KILLED_LOG).read_text()
    assert not checkpoint.exists() and (workflow.root / target).is_file()
    # That the resumed model equals an uninterrupted run's needs no cluster:
    # tests/unit/retina/test_retina_train.py::test_interrupted_run_resumes_to_the_same_model.
