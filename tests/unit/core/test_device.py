"""Local GPU assignment: distinct devices for concurrent jobs, reuse after release, none without GPUs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from insilico.core import device as gpus

SRC = Path(__file__).resolve().parents[3] / "src"

# A job: claim a GPU, report it, hold it until stdin closes.
JOB = textwrap.dedent(
    """
    import os, sys
    from insilico.core.device import claim_gpu
    device = claim_gpu(poll_seconds=0.05)
    print(device, os.environ.get("CUDA_VISIBLE_DEVICES"), flush=True)
    sys.stdin.read()
    """
)


@pytest.fixture
def gpu_env(monkeypatch, tmp_path):
    """Three simulated GPUs, a private lock folder, no scheduler assignment."""
    monkeypatch.setenv(gpus.DEVICES_ENV, "0,1,2")
    monkeypatch.setenv(gpus.LOCK_DIR_ENV, str(tmp_path / "locks"))
    monkeypatch.delenv(gpus.VISIBLE_ENV, raising=False)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
    )
    yield
    gpus.release_gpu()


def start_job() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", JOB], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def claimed(job: subprocess.Popen) -> str:
    device, visible = job.stdout.readline().split()
    assert device == visible
    return device


def finish(job: subprocess.Popen) -> None:
    """Let the job exit (releasing its device); kill it if it is stuck waiting for one."""
    if not job.stdin.closed:
        job.stdin.close()
    try:
        job.wait(timeout=10)
    except subprocess.TimeoutExpired:
        job.kill()
        job.wait()
    job.stdout.close()


def test_concurrent_jobs_get_distinct_devices(gpu_env):
    jobs = [start_job() for _ in range(3)]
    try:
        assert sorted(claimed(job) for job in jobs) == ["0", "1", "2"]
    finally:
        for job in jobs:
            finish(job)


def test_released_device_is_reused_and_a_job_waits_for_it(gpu_env):
    jobs = {}
    for _ in range(3):
        job = start_job()
        jobs[claimed(job)] = job
    waiting = start_job()  # all three taken: it must wait
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            waiting.wait(timeout=0.5)
        released = jobs.pop("1")
        finish(released)
        assert released.returncode == 0
        assert claimed(waiting) == "1"
    finally:
        for job in [*jobs.values(), waiting]:
            finish(job)


def test_killed_job_releases_its_device(gpu_env):
    first_job = start_job()
    first = claimed(first_job)
    first_job.kill()
    finish(first_job)
    others = [start_job() for _ in range(3)]
    try:
        assert first in {claimed(job) for job in others}
    finally:
        for job in others:
            finish(job)


def test_same_process_claims_once_and_release_frees(gpu_env):
    assert gpus.claim_gpu() == "0"
    assert gpus.claim_gpu() == "0"
    assert os.environ[gpus.VISIBLE_ENV] == "0"
    gpus.release_gpu()
    assert gpus.VISIBLE_ENV not in os.environ
    assert gpus.claim_gpu() == "0"


def test_timeout_when_every_device_is_taken(gpu_env, monkeypatch):
    monkeypatch.setenv(gpus.DEVICES_ENV, "0")
    job = start_job()
    try:
        assert claimed(job) == "0"
        with pytest.raises(TimeoutError, match="no free GPU"):
            gpus.claim_gpu(poll_seconds=0.05, timeout=0.2)
        assert gpus.VISIBLE_ENV not in os.environ
    finally:
        finish(job)


def test_no_gpus_sets_nothing(gpu_env, monkeypatch):
    monkeypatch.setenv(gpus.DEVICES_ENV, "")
    assert gpus.claim_gpu() is None
    assert gpus.VISIBLE_ENV not in os.environ


def test_no_driver_means_no_gpus(gpu_env, monkeypatch, tmp_path):
    monkeypatch.delenv(gpus.DEVICES_ENV)
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi
    assert gpus.available_gpus() == []
    assert gpus.claim_gpu() is None
    assert gpus.VISIBLE_ENV not in os.environ


def test_devices_are_read_from_nvidia_smi(gpu_env, monkeypatch, tmp_path):
    fake = tmp_path / "bin" / "nvidia-smi"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        "echo 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-aaaa)'\n"
        "echo 'GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-bbbb)'\n"
    )
    fake.chmod(0o755)
    monkeypatch.delenv(gpus.DEVICES_ENV)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    assert gpus.available_gpus() == ["0", "1"]


def test_scheduler_assignment_is_left_alone(gpu_env, monkeypatch, caplog):
    monkeypatch.setenv(gpus.VISIBLE_ENV, "3")
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    with caplog.at_level("INFO"):
        assert gpus.claim_gpu() == "3"
    assert os.environ[gpus.VISIBLE_ENV] == "3"
    assert "SLURM job 42" in caplog.text
    assert not list(Path(os.environ[gpus.LOCK_DIR_ENV]).glob("*.lock"))
