"""data.retina.source remote and local through Snakemake, against a real HTTP server on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from conftest import SMALL_RETINA

from insilico.acquire.download import file_digest
from insilico.retina.simulator import simulate_recording

pytestmark = pytest.mark.workflow

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
    workflow,
    settings: dict,
    *targets: str,
    check: bool = True,
    experiment: str = "exp01",
    retina: dict | None = None,
):
    """Run Snakemake with the tiny preset plus ``settings`` under ``data`` (``source``: the retina
    source), on one recording. The IT data stay simulated: each branch has its own source."""
    settings = dict(settings)
    data_retina = {
        "source": settings.pop("source"),
        "experiments": [experiment],
        "stimuli": ["whitenoise"],
    }
    override = workflow.root / "source.yaml"
    # One stimulus class only: the mechanism analyses (which need both CNNs by default) are off.
    mechanisms_off = {"mechanisms": {"cnns": {"stimuli": []}}}
    override.write_text(
        yaml.safe_dump(
            {"data": {"retina": data_retina, **settings}, "retina": retina or {}, **mechanisms_off}
        )
    )
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


def _pixel_spikes(movie, pixel: int, onset: float, rng) -> np.ndarray:
    """Poisson spike times of a cell at 5 Hz, 45 Hz while its pixel is bright (20 ms frames)."""
    rate = 5 + 40 * (movie[:, pixel, pixel] > 0)
    frames = np.repeat(np.arange(len(movie)), rng.poisson(rate * 0.02))
    return onset + (frames + rng.random(frames.size)) * 0.02


def _nwb_recording(path: Path, seed: int = 0) -> None:
    """A small NWB recording: white-noise frames at 50 Hz and Poisson spikes of three cells whose
    rates follow their own pixel (so a model can learn them), the test movie shown three times."""
    import datetime as dt

    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.image import ImageSeries

    rng = np.random.default_rng(seed)
    train = rng.choice(np.array([0, 255], np.uint8), size=(3000, 8, 8))  # 60 s
    test = rng.choice(np.array([0, 255], np.uint8), size=(200, 8, 8))  # 4 s
    nwb = NWBFile("NWB workflow test", "nwb-test", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    nwb.add_stimulus(ImageSeries(name="train", data=train, unit="n.a.", rate=50.0))
    nwb.add_stimulus(ImageSeries(name="test", data=test, unit="n.a.", rate=50.0))
    nwb.add_trial_column("stimulus", "the stimulus series shown")
    nwb.add_trial(start_time=0.0, stop_time=60.0, stimulus="train")
    starts = [70.0, 80.0, 90.0]
    for start in starts:
        nwb.add_trial(start_time=start, stop_time=start + 4.0, stimulus="test")
    for pixel in (2, 4, 6):
        times = [_pixel_spikes(train, pixel, 0.0, rng)]
        times += [_pixel_spikes(test, pixel, start, rng) for start in starts]
        nwb.add_unit(spike_times=np.sort(np.concatenate(times)))
    path.parent.mkdir(parents=True, exist_ok=True)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


def test_nwb_recordings_are_converted_and_run_through_the_retina_rules(fresh_workflow, tmp_path):
    root = tmp_path / "nwb"
    _nwb_recording(root / "exp01" / "whitenoise.nwb")
    settings = {"source": "local", "local": {"retina": {"root": str(root), "format": "nwb"}}}
    performance = "results/retina/exp01/whitenoise/performance.nc"
    # the LN model alone, trained long enough to learn the cells (the tiny preset's 3 epochs do not)
    run_with(
        fresh_workflow,
        settings,
        *TARGETS,
        performance,
        retina={"fit": ["ln"], "train": {"epochs": 30}},
    )
    provenance = json.loads((fresh_workflow.root / TARGETS[1]).read_text())
    assert provenance["extra"]["converted_from"] == "nwb"
    assert provenance["path"] == str((root / "exp01/whitenoise.nwb").resolve())
    with xr.open_dataset(fresh_workflow.root / performance, engine="h5netcdf") as ds:
        correlation = ds["correlation"].load()
    # each cell follows its own pixel: the LN model predicts every cell's held-out repeats
    # (chance is 0 +- 0.05 over the 400 test bins; measured 0.22-0.35 when written)
    assert correlation.sizes["cell"] == 3 and float(correlation.min()) > 0.15, correlation.values


def test_an_nwb_file_without_test_repeats_is_named_and_nothing_is_left(fresh_workflow, tmp_path):
    root = tmp_path / "nwb"
    (root / "exp01").mkdir(parents=True)
    (root / "exp01" / "whitenoise.nwb").write_text("not an NWB file")
    settings = {"source": "local", "local": {"retina": {"root": str(root), "format": "nwb"}}}
    result = run_with(fresh_workflow, settings, *TARGETS, check=False)
    assert result.returncode != 0
    assert "whitenoise.nwb: not a readable NWB file" in result.stdout + result.stderr
    assert not (fresh_workflow.root / TARGETS[0]).exists()
