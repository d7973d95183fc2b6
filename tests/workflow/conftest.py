"""Workflow tests: run Snakemake on config/tiny.yaml in a temporary copy of the workflow."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
# The whole tiny DAG takes 2.5 min on an idle 2-core machine and up to half an hour on one shared
# with other heavy jobs; the limit only stops a Snakemake that hangs.
TIMEOUT = 2400
WORKFLOW_FILES = [
    "Snakefile",
    "config.yaml",
    ".test",
    "config",
    "rules",
    "scripts",
    "schemas",
    "profiles",
    "report",
    "src",
]


# A small simulated recording for the acquisition and bad-input tests (written as local or
# served files).
SMALL_RETINA = {
    "size": 12,
    "train_seconds": 20,
    "test_seconds": 4,
    "repeats": 3,
    "cell_types": ["off_fast", "on"],
    "cells_per_type": 1,
    "subunit_spacing": 2,
    "max_rate": 60,
    "saccade_seconds": 1.0,
    "jitter_px": 0.5,
}


@dataclass
class Workflow:
    """A private copy of the workflow, so tests may edit and touch files without harming the repo."""

    root: Path

    def snakemake(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run Snakemake on the tiny preset. ``--configfile`` takes several values, so it comes last:
        callers that pass their own ``--configfile`` must pass it (and its files) last too."""
        result = subprocess.run(
            self._command(args), cwd=self.root, capture_output=True, text=True, timeout=TIMEOUT
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def start(self, *args: str, output: str = "snakemake.out") -> subprocess.Popen:
        """Start Snakemake in the background, with the arguments of :meth:`snakemake`; its output
        goes to the file ``output`` in the workflow folder (a pipe nobody reads would block it)."""
        with open(self.root / output, "w") as log:
            return subprocess.Popen(
                self._command(args), cwd=self.root, stdout=log, stderr=subprocess.STDOUT
            )

    @staticmethod
    def _command(args: tuple[str, ...]) -> list[str]:
        presets = [] if "--configfile" in args else ["--configfile", "config/tiny.yaml"]
        return [sys.executable, "-m", "snakemake", *args, *presets]

    def planned_jobs(self, *args: str, budget: bool = False) -> dict[str, int]:
        """Jobs per rule that a dry run would execute (parsed from Snakemake's job stats table).

        The run's summaries are left out unless ``budget``: the budget table (rule budget_table)
        reads every job's benchmark, so it reruns after any job, and the claims table
        (claims_table) after any claims.csv; the tests count the jobs a change itself reruns.
        """
        output = self.snakemake("--dry-run", *args).stdout
        if "Nothing to be done" in output:
            return {}
        stats = output.split("Job stats:", 1)[1].splitlines()
        jobs = {}
        for line in stats[3:]:
            fields = line.split()
            if len(fields) != 2 or fields[0] == "total":
                break
            jobs[fields[0]] = int(fields[1])
        if not budget:
            jobs.pop("budget_table", None)
            jobs.pop("claims_table", None)
        return jobs


def copy_workflow(destination: Path) -> Workflow:
    for name in WORKFLOW_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(
                source, destination / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(source, destination / name)
    return Workflow(destination)


@contextmanager
def edited(path: Path):
    """Change ``path``'s content (a trailing comment) and timestamp, then restore both.

    A timestamp alone is not an edit: Snakemake 9 compares the checksum it recorded for each input.
    The new timestamp lies in the future, so the file is newer than every output, however old the
    copied source file was.
    """
    original, stat = path.read_bytes(), path.stat()
    path.write_bytes(original + b"\n# an edit\n")
    later = time.time() + 3600
    os.utime(path, (later, later))
    try:
        yield
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def read(path: Path):
    """A netCDF output, loaded into memory (the file is closed again at once)."""
    import xarray as xr

    with xr.open_dataset(path, engine="h5netcdf") as dataset:
        return dataset.load()


def redrawn(module, draw, run_png: Path, tmp_path: Path):
    """Redraw one of the finished run's figures with ``draw(path)`` from its netCDF inputs, check
    that the run's PNG is the same picture pixel for pixel, and return the Figure.

    The pixel check ties the PNG the pipeline wrote to those netCDF files and that plotting call;
    the caller then checks the returned Figure's data (lines, points, images) against the netCDF.
    """
    from matplotlib.image import imread

    from insilico.core import io

    figures = []

    def save(fig, path) -> None:
        io.save_figure(fig, path)
        figures.append(fig)

    original = module.save_figure
    module.save_figure = save
    try:
        path = tmp_path / run_png.name
        draw(path)
    finally:
        module.save_figure = original
    assert run_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", run_png
    np.testing.assert_array_equal(imread(path), imread(run_png), err_msg=str(run_png))
    (fig,) = figures
    return fig


@pytest.fixture(scope="session")
def finished_workflow(tmp_path_factory) -> Workflow:
    """A workflow copy on which the whole tiny DAG has run to completion (shared by the tests)."""
    workflow = copy_workflow(tmp_path_factory.mktemp("workflow"))
    workflow.snakemake("--cores", "2")
    return workflow


@pytest.fixture
def fresh_workflow(tmp_path) -> Workflow:
    return copy_workflow(tmp_path)


@pytest.fixture
def finished_copy(finished_workflow, tmp_path) -> Workflow:
    """A private copy of the finished run (``cp -a``: Snakemake's records travel with it), for
    tests that change or break outputs: they start from its results instead of recomputing them."""
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-a", str(finished_workflow.root), str(copy)], check=True)
    return Workflow(copy)


# -- SLURM (tests/workflow/test_slurm.py) ----------------------------------------------------------

# The rules' `conda:` files are part of the workflow: Snakemake records the software environment of
# every finished job and fails ("Error recording metadata") when envs/insilico.yaml is missing.
if "envs" not in WORKFLOW_FILES:
    WORKFLOW_FILES.append("envs")


def _slurm_cluster_module():
    """tests/slurm/cluster.py, imported by path (tests/ is not a package)."""
    import importlib.util

    name = "insilico_tests_slurm_cluster"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "tests" / "slurm" / "cluster.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def slurm_cluster():
    """A real one-node SLURM cluster with one fake GPU (tests/slurm/cluster.py).

    Skipped only outside CI (not root, no SLURM and no apt-get, or a machine with its own SLURM);
    with CI=true every problem is an error. A cluster already running in the default folder (from
    `python tests/slurm/cluster.py start`) is reused and left running.
    """
    import os

    cluster = _slurm_cluster_module()
    reason = cluster.skip_reason()
    if reason is not None:
        pytest.skip(reason)
    already_running = cluster.is_running(cluster.DEFAULT_DIR)
    running = cluster.start(cluster.DEFAULT_DIR)
    previous = {name: os.environ.get(name) for name in running.env}
    os.environ.update(running.env)
    try:
        yield running
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if not already_running:
            cluster.stop(cluster.DEFAULT_DIR)
