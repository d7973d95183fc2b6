"""The run's budget table inside the whole tiny DAG, the docs written from it, the slowest-jobs
benchmark that reads it, and the GPU check at toy size on the CPU (so CI keeps it working)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest
from conftest import REPO

from insilico.core import budgets

pytestmark = pytest.mark.workflow


def test_the_table_counts_every_job_that_ran_before_it(finished_workflow):
    results = finished_workflow.root / "results"
    table = budgets.read_csv(results / "budgets.csv")
    jobs = budgets.read_csv(results / "budget_jobs.csv")
    made = (results / "budgets.csv").stat().st_mtime
    before = {
        str(path.relative_to(results / "benchmarks").with_suffix(""))
        for path in (results / "benchmarks").rglob("*.tsv")
        if path.stat().st_mtime < made
    }
    assert {f"{job['branch']}/{job['job']}" for job in jobs} == before
    by_branch = {row["branch"]: row for row in table}
    assert set(by_branch) == {job["branch"] for job in jobs} | {"total"}
    assert {"retina", "it", "dynamics", "acquire", "bottleneck"} <= set(by_branch)
    for branch, row in by_branch.items():
        mine = [job for job in jobs if branch in (job["branch"], "total")]
        assert row["jobs"] == len(mine), branch
        assert row["cpu_s"] == pytest.approx(sum(job["cpu_s"] for job in mine), abs=0.2)
        assert row["peak_memory_mb"] == pytest.approx(
            max(j["peak_memory_mb"] for j in mine), abs=0.06
        )  # written to 0.1 MB
        assert row["status"] in {"within", "over"}, branch  # every branch has a budget
    assert by_branch["total"]["budget_cpu_s"] == 2 * 15 * 60
    assert (results / "budgets.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_docs_block_and_benchmark_read_the_run(finished_workflow, tmp_path):
    results = finished_workflow.root / "results"
    page = tmp_path / "budgets.md"
    page.write_text((REPO / "docs/budgets.md").read_text())
    subprocess.run(
        [sys.executable, "-m", "insilico.core.docblocks", str(page), "budgets"]
        + [str(results / "budgets.csv"), "--note", "config/tiny.yaml"],
        check=True,
    )
    block = page.read_text().split("<!-- budgets:begin -->")[1].split("<!-- budgets:end -->")[0]
    rows = {line.split(" | ")[0].lstrip("| ") for line in block.splitlines() if line[:2] == "| "}
    assert {"branch", "retina", "it", "total"} <= rows and "config/tiny.yaml" in block
    output = subprocess.run(
        [sys.executable, str(REPO / "benchmarks/bench_budget.py"), "--slowest", "3"]
        + ["--table", str(results / "budgets.csv"), "--jobs", str(results / "budget_jobs.csv")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    with open(results / "budget_jobs.csv") as handle:
        slowest = max(csv.DictReader(handle), key=lambda job: float(job["cpu_s"]))
    assert output.splitlines()[1].endswith(f"{slowest['branch']}/{slowest['job']}")


def test_gpu_check_runs_at_toy_size_on_the_cpu(finished_workflow, tmp_path):
    """On a copy of the finished tiny run, so that only the six trainings run again."""
    out = tmp_path / "out"
    result = subprocess.run(
        ["bash", str(REPO / "benchmarks/gpu_check.sh"), str(out), "--toy"],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PYTHON": sys.executable,
            "GPU_CHECK_WORKFLOW": str(finished_workflow.root),
        },
    )
    log = (out / "gpu_check.txt").read_text()
    assert result.returncode == 0, log
    with open(out / "timings.csv") as handle:
        parts = {row["part"]: row["status"] for row in csv.DictReader(handle)}
    assert parts == dict.fromkeys(
        ["retina_samples_per_s", "retina_one_epoch", "pls_cpu", "pls_device", "fixed_points"]
        + ["branch_trainings"],
        "ok",
    )
    assert "reference (materialised, DataLoader)" in log and "samples/s" in log
    with open(out / "trainings.csv") as handle:
        trained = {row["branch"] for row in csv.DictReader(handle)}
    assert trained == {"retina", "it", "dynamics", "bottleneck"}
    assert not (out / "workflow").exists()  # the scratch workflow is removed
