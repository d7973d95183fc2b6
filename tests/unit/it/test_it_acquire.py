"""Remote IT data: download from a loopback HTTP server, sha1 verification, same in-memory form.

The server serves small files in the exact Brain-Score formats (written by the simulator), so the
whole remote path runs for real without reaching the internet.
"""

from __future__ import annotations

import hashlib
import json
import logging

import numpy as np
import pytest

from insilico.acquire.download import ChecksumMismatchError
from insilico.acquire.sources import acquire_remote
from insilico.it.assembly import AssemblyFormatError, validator
from insilico.it.experiment import simulate_experiment
from insilico.it.protocol.ceiling import neural_targets

FILES = {
    "assembly": "assy_test_public.nc",
    "temporal_assembly": "assy_test_temporal_public.nc",
    "stimuli_csv": "stimulus_test.csv",
    "stimuli_zip": "stimulus_test.zip",
}
PARAMS = {
    "seed": 3,
    "image_size": 16,
    "n_categories": 2,
    "objects_per_category": 3,
    "variations": [0, 3],
    "images_per_object": 2,
    "repetitions": 4,
    "v4_neuroids": 3,
    "it_neuroids": 3,
    "brain_resolution": 16,
    "hard_images_per_object": 0,
    "brain": {
        "width": 3,
        "it_units": 4,
        "iterations": 1,
        "iteration_ms": 25,
        "train_images": 20,
        "steps": 1,
        "batch_size": 8,
        "learning_rate": 0.01,
    },
    "baseline_hz": [2, 12],
    "peak_hz": [60, 160],
    "fano_factor": [1.0, 1.5],
    "image_on_ms": 100,
    "time_bins_ms": [70, 170],
    "window_ms": [70, 170],
}
LOG = logging.getLogger("test")


@pytest.fixture(scope="module")
def served(tmp_path_factory, file_server):
    """A loopback server on 127.0.0.1 serving one small simulated experiment; yields (url, folder, sha1s)."""
    folder = tmp_path_factory.mktemp("served")
    simulate_experiment(
        PARAMS,
        PARAMS["seed"],
        assembly_path=folder / FILES["assembly"],
        temporal_path=folder / FILES["temporal_assembly"],
        csv_path=folder / FILES["stimuli_csv"],
        zip_path=folder / FILES["stimuli_zip"],
        groundtruth_path=folder / "groundtruth.nc",
    )
    sha1 = {
        kind: hashlib.sha1((folder / name).read_bytes()).hexdigest() for kind, name in FILES.items()
    }
    with file_server(folder) as url:
        yield url, folder, sha1


def test_download_verifies_sha1_and_reads_like_the_simulated_set(served, tmp_path):
    url, folder, sha1 = served
    local = {}
    for kind, name in FILES.items():
        local[kind] = acquire_remote(
            f"{url}/{name}",
            tmp_path / name,
            f"sha1:{sha1[kind]}",
            validate=validator(kind),
            retries=0,
            timeout=5,
            log=LOG,
        )
        record = json.loads((tmp_path / f"{name}.provenance.json").read_text())
        assert record["source"] == "remote" and record["checksums"]["sha1"] == sha1[kind]
    downloaded = neural_targets(
        assembly_path=local["assembly"],
        temporal_path=local["temporal_assembly"],
        csv_path=local["stimuli_csv"],
        n_splits=4,
        seed=0,
    )
    original = neural_targets(
        assembly_path=folder / FILES["assembly"],
        temporal_path=folder / FILES["temporal_assembly"],
        csv_path=folder / FILES["stimuli_csv"],
        n_splits=4,
        seed=0,
    )
    np.testing.assert_array_equal(downloaded["rates"].values, original["rates"].values)
    np.testing.assert_array_equal(downloaded["consistency"].values, original["consistency"].values)


def test_wrong_sha1_is_refused_and_leaves_nothing(served, tmp_path):
    url, _, sha1 = served
    wrong = "0" * 40
    with pytest.raises(ChecksumMismatchError, match="expected sha1 0000"):
        acquire_remote(
            f"{url}/{FILES['assembly']}",
            tmp_path / "assembly.nc",
            f"sha1:{wrong}",
            validate=validator("assembly"),
            retries=0,
            timeout=5,
            log=LOG,
        )
    assert list(tmp_path.iterdir()) == []


def test_file_with_right_sha1_but_wrong_format_is_refused(served, tmp_path):
    """A checksum proves the bytes are the ones configured, the reader that they are usable."""
    url, _, sha1 = served
    with pytest.raises(AssemblyFormatError, match="not a readable netCDF-4 file"):
        acquire_remote(
            f"{url}/{FILES['stimuli_csv']}",
            tmp_path / "assembly.nc",
            f"sha1:{sha1['stimuli_csv']}",
            validate=validator("assembly"),
            retries=0,
            timeout=5,
            log=LOG,
        )
