"""IT task training: it learns a separable task, and a killed run resumes to the same model."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import numpy as np
import pytest

from insilico.core.io import read_netcdf
from insilico.it import train as it_train

pytestmark = pytest.mark.usefixtures("one_torch_thread")

LOG = logging.getLogger("test")
PARAMS = {
    "steps": 24,
    "batch_size": 8,
    "learning_rate": 0.02,
    "weight_decay": 0.0,
    "eval_every": 3,
    "checkpoint_every": 2,
    "seed": 1,
}


def images_and_labels(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Bright-left vs bright-right images: a task any CNN learns in a few steps."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=n)
    images = rng.integers(0, 60, size=(n, 8, 8))
    images[labels == 0, :, :4] += 180
    images[labels == 1, :, 4:] += 180
    return images.astype(np.uint8), labels


def train(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    images, labels = images_and_labels(64, 0)
    test_images, test_labels = images_and_labels(32, 1)
    it_train.train_classifier(
        kind="cnn",
        model_params={"channels": [4], "kernels": [3]},
        train_params=PARAMS,
        train_images=images,
        train_labels=labels,
        test_images=test_images,
        test_labels=test_labels,
        n_classes=2,
        model_out=folder / "model.pt",
        history_out=folder / "history.nc",
        checkpoint_path=folder / "checkpoint.pt",
        log=LOG,
    )
    return folder / "model.pt"


def content(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}


def test_a_killed_run_resumes_to_the_model_of_an_uninterrupted_one(tmp_path, monkeypatch):
    reference = train(tmp_path / "reference")
    history = read_netcdf(tmp_path / "reference" / "history.nc")
    assert history.attrs["test_accuracy"] > 0.9  # it learned the task
    assert list(history["step"].values) == list(range(3, 25, 3))

    real, calls = it_train.accuracy, []

    def killed_at_the_third_evaluation(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # step 9: the checkpoint of step 8 is the last one
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(it_train, "accuracy", killed_at_the_third_evaluation)
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "killed")
    assert (tmp_path / "killed" / "checkpoint.pt").exists()
    monkeypatch.setattr(it_train, "accuracy", real)
    resumed = train(tmp_path / "killed")
    assert content(resumed) == content(reference)
    resumed_history = read_netcdf(tmp_path / "killed" / "history.nc")
    assert resumed_history.drop_vars("seconds").equals(history.drop_vars("seconds"))
    assert not (tmp_path / "killed" / "checkpoint.pt").exists()
