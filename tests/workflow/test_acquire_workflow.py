"""data.retina.source remote and local through Snakemake, against a real HTTP server on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from insilico.acquire.download import file_digest
from insilico.retina.simulator import simulate_recording

pytestmark = pytest.mark.workflow

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
TARGETS = [
    "resources/retina/exp01/whitenoise.h5",
    "resources/retina/exp01/whitenoise.h5.provenance.json",
]


@pytest.fixture(scope="module")
def served(tmp_path_factory, file_server):
    """A folder in the public repository's layout, served over HTTP on 127.0.0.1."""
    root = tmp_path_factory.mktemp("served")
    simulate_recording(root / "exp01" / "whitenoise.h5", "whitenoise", SMALL_RETINA, seed=3)
    (root / "bad").mkdir()
    (root / "bad" / "whitenoise.h5").write_bytes(b"<html>not found</html>")
    with file_server(root) as url:
        yield root, url


def run_with(
    workflow, settings: dict, *targets: str, check: bool = True, experiment: str = "exp01"
):
    """Run Snakemake with the tiny preset plus ``settings`` under ``data`` (``source``: the retina
    source), on one recording. The IT data stay simulated: each branch has its own source."""
    settings = dict(settings)
    retina = {
        "source": settings.pop("source"),
        "experiments": [experiment],
        "stimuli": ["whitenoise"],
    }
    override = workflow.root / "source.yaml"
    # One stimulus class only: the mechanism analyses (which need both CNNs by default) are off.
    mechanisms_off = {"mechanisms": {"cnns": {"stimuli": []}}}
    override.write_text(yaml.safe_dump({"data": {"retina": retina, **settings}, **mechanisms_off}))
    return workflow.snakemake(
        *targets, "--cores", "1", "--configfile", "config/tiny.yaml", str(override), check=check
    )


def test_remote_download_is_verified_and_recorded(fresh_workflow, served):
    root, url = served
    digest = file_digest(root / "exp01/whitenoise.h5", "sha256")
    settings = {
        "source": "remote",
        "remote": {
            "retina": {"base_url": url, "checksums": {"exp01/whitenoise.h5": f"sha256:{digest}"}}
        },
    }
    run_with(fresh_workflow, settings, *TARGETS)
    downloaded = fresh_workflow.root / TARGETS[0]
    assert downloaded.read_bytes() == (root / "exp01/whitenoise.h5").read_bytes()
    provenance = json.loads((fresh_workflow.root / TARGETS[1]).read_text())
    assert provenance["source"] == "remote"
    assert provenance["url"] == f"{url}/exp01/whitenoise.h5"
    assert provenance["checksums"]["sha256"] == digest


def test_remote_checksum_mismatch_leaves_nothing(fresh_workflow, served):
    _, url = served
    wrong = "0" * 64
    settings = {
        "source": "remote",
        "remote": {
            "retina": {"base_url": url, "checksums": {"exp01/whitenoise.h5": f"sha256:{wrong}"}}
        },
    }
    result = run_with(fresh_workflow, settings, *TARGETS, check=False)
    assert result.returncode != 0
    assert wrong in result.stdout + result.stderr
    folder = fresh_workflow.root / "resources/retina/exp01"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_remote_without_checksum_is_refused_before_any_job(fresh_workflow, served):
    _, url = served
    result = run_with(
        fresh_workflow,
        {"source": "remote", "remote": {"retina": {"base_url": url}}},
        "--dry-run",
        check=False,
    )
    assert result.returncode != 0
    assert (
        "config key 'data.remote.retina.checksums' has no entry for ['exp01/whitenoise.h5']"
        in result.stdout + result.stderr
    )


def test_local_files_are_validated_then_linked(fresh_workflow, served):
    root, _ = served
    run_with(
        fresh_workflow, {"source": "local", "local": {"retina": {"root": str(root)}}}, *TARGETS
    )
    assert (fresh_workflow.root / TARGETS[0]).read_bytes() == (
        root / "exp01/whitenoise.h5"
    ).read_bytes()
    provenance = json.loads((fresh_workflow.root / TARGETS[1]).read_text())
    assert provenance["source"] == "local" and provenance["path"] == str(
        (root / "exp01/whitenoise.h5").resolve()
    )


def test_local_file_in_another_layout_is_named(fresh_workflow, served):
    root, _ = served
    settings = {"source": "local", "local": {"retina": {"root": str(root)}}}
    result = run_with(
        fresh_workflow,
        settings,
        "resources/retina/bad/whitenoise.h5",
        check=False,
        experiment="bad",
    )
    assert result.returncode != 0
    assert str(Path(root) / "bad" / "whitenoise.h5") in result.stdout + result.stderr
    assert not (fresh_workflow.root / "resources/retina/bad/whitenoise.h5").exists()


PUBLIC_EXPERIMENTS = ["15-10-07", "15-11-21a", "15-11-21b"]


def test_recordings_preset_plans_every_public_file_and_no_simulation(fresh_workflow):
    """config/recordings.yaml on top of the paper preset, with the user's checksums file."""
    checksums = {
        f"{experiment}/{stimulus}.h5": "sha256:" + "0" * 64
        for experiment in PUBLIC_EXPERIMENTS
        for stimulus in ("whitenoise", "naturalscene")
    }
    (fresh_workflow.root / "checksums.yaml").write_text(
        yaml.safe_dump({"data": {"remote": {"retina": {"checksums": checksums}}}})
    )
    presets = ["config/paper.yaml", "config/recordings.yaml"]
    jobs = fresh_workflow.planned_jobs("--configfile", *presets, "checksums.yaml")
    assert jobs["download_retina"] == len(checksums)
    assert jobs["download_it"] == 4
    assert jobs["retina_performance"] == len(checksums)
    assert not {"simulate_retina", "simulate_it", "mechanism_groundtruth"} & set(jobs)
    # Without the checksums file the run is refused before any job.
    refused = fresh_workflow.snakemake("--dry-run", "--configfile", *presets, check=False)
    assert refused.returncode != 0
    assert "'data.remote.retina.checksums' has no entry" in refused.stdout + refused.stderr


def test_local_retina_without_it_data_plans_retina_mechanisms_and_dynamics(
    fresh_workflow, tmp_path
):
    """A user with local retina recordings and no V4/IT data leaves IT out of `branches`."""
    root = tmp_path / "recordings"
    for stimulus in ("whitenoise", "naturalscene"):  # checked (metadata only) before any job
        simulate_recording(root / "exp01" / f"{stimulus}.h5", stimulus, SMALL_RETINA, seed=3)
    settings = {
        "branches": ["retina", "mechanisms", "dynamics"],
        "data": {
            "retina": {"source": "local", "experiments": ["exp01"]},
            "it": {"source": "local"},  # no IT files given: not checked, IT does not run
            "local": {"retina": {"root": str(root)}},
        },
    }
    (fresh_workflow.root / "local.yaml").write_text(yaml.safe_dump(settings))
    jobs = fresh_workflow.planned_jobs("--configfile", "config/tiny.yaml", "local.yaml")
    assert jobs["link_local_retina"] == 2
    assert jobs["train_retina"] > 0 and jobs["mechanism_attribution"] > 0
    assert jobs["train_dynamics"] > 0 and jobs["plot_dynamics"] == 1
    it_rules = [rule for rule in jobs if "it" in rule.split("_")]
    assert it_rules == [], it_rules
    assert not {"simulate_retina", "mechanism_groundtruth"} & set(jobs)
    # With IT among the branches, the missing IT files stop the run before any job.
    settings["branches"].append("it")
    (fresh_workflow.root / "local.yaml").write_text(yaml.safe_dump(settings))
    refused = fresh_workflow.snakemake(
        "--dry-run", "--configfile", "config/tiny.yaml", "local.yaml", check=False
    )
    assert refused.returncode != 0
    assert "'data.local.it.assembly'" in refused.stdout + refused.stderr
