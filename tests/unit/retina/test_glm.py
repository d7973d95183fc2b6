"""The Poisson GLM baseline: patch placement from the STA, spike history, closed-loop prediction."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from insilico.core.sta import receptive_field_centres, spike_triggered_average
from insilico.retina.inference import load_model, predict
from insilico.retina.models import build_model, model_response_history
from insilico.retina.models.glm import GLM
from insilico.retina.recording import RetinaRecording
from insilico.retina.train import train_model
from insilico.retina.windows import WindowSampler

pytestmark = pytest.mark.usefixtures("one_torch_thread")


LOG = logging.getLogger("test_glm")
SIZE, HISTORY = 10, 4
TRAIN = {
    "epochs": 15,
    "batch_size": 256,
    "learning_rate": 0.1,
    "weight_decay": 0.0,
    "patience": 15,
    "val_fraction": 0.2,
    "seed": 0,
    "lr_plateau_factor": 0.0,
}


def planted_glm_recording(n_bins=20000, seed=0) -> tuple[RetinaRecording, dict]:
    """Two GLM cells: a stimulus filter on one pixel each (at different places), a refractory
    spike-history term and softplus in Hz, Poisson spikes simulated bin by bin."""
    rng = np.random.default_rng(seed)
    stimulus = (rng.integers(0, 2, size=(n_bins, SIZE, SIZE)) * 255).astype(np.uint8)
    contrast = (stimulus.astype(float) - 127.5) / 127.5
    centres = [(2, 3), (7, 6)]
    temporal = np.array([0.0, 0.2, 0.6, 1.0])  # oldest .. newest frame
    history_weights = np.array([0.0, 0.0, -5.0, -15.0])  # spikes 1-2 bins ago suppress firing
    counts = np.zeros((2, n_bins))
    for cell, (row, col) in enumerate(centres):
        pixel = contrast[:, row, col]
        drive = np.convolve(pixel, temporal[::-1], mode="full")[:n_bins]
        for t in range(n_bins):
            past = counts[cell, max(0, t - 4) : t]
            recurrent = history_weights[4 - len(past) :] @ past if len(past) else 0.0
            rate = np.log1p(np.exp(20 * drive[t] + 10 + recurrent))
            counts[cell, t] = rng.poisson(rate * 0.01)
    recording = RetinaRecording(
        path=Path("planted_glm.h5"),
        train_stimulus=stimulus,
        train_rate=counts / 0.01,
        test_stimulus=stimulus[:50],
        test_repeats=np.zeros((2, 1, 50)),
        cell_names=("cell01", "cell02"),
        true_test_rate=None,
        train_counts=counts,
    )
    return recording, {"centres": centres, "history_weights": history_weights}


@pytest.fixture(scope="module")
def planted():
    return planted_glm_recording()


def test_glm_shapes_patch_and_history():
    model = build_model("glm", history=HISTORY, size=SIZE, n_cells=3, cutout=4, spike_history=5)
    assert isinstance(model, GLM)
    assert model.response_history == 5 == model_response_history("glm", spike_history=5)
    assert model_response_history("cnn") == 0 and model_response_history("ln") == 0
    assert model.stimulus_filter.shape == (3, HISTORY, 4, 4)
    with torch.no_grad():
        model.corner.copy_(torch.tensor([[0, 0], [6, 6], [3, 5]]))
        model.stimulus_filter.fill_(1.0)
    full = model.full_filter()
    assert full.shape == (3, HISTORY, SIZE, SIZE)
    assert full[0, :, :4, :4].eq(1).all() and full[0].sum() == HISTORY * 16
    assert full[1, :, 6:, 6:].eq(1).all() and full[2, :, 3:7, 5:9].eq(1).all()
    rates = model(torch.randn(7, HISTORY, SIZE, SIZE), torch.rand(7, 5, 3) * 100)
    assert rates.shape == (7, 3) and (rates >= 0).all()
    model.regularization(rates).backward()


def test_history_filter_weighs_past_counts():
    model = build_model("glm", history=2, size=4, n_cells=1, cutout=2, spike_history=3)
    with torch.no_grad():
        model.history_filter.copy_(torch.tensor([[0.0, 0.0, -2.0]]))  # only the last bin counts
    x = torch.zeros(2, 2, 4, 4)
    past_hz = torch.tensor([[0.0, 0.0, 100.0], [100.0, 0.0, 0.0]])[:, :, None]  # one spike
    rates = model(x, past_hz)
    assert torch.allclose(rates[0], torch.nn.functional.softplus(torch.tensor(-2.0)))
    assert torch.allclose(rates[1], torch.nn.functional.softplus(torch.tensor(0.0)))


def test_sta_finds_each_cells_centre(planted):
    recording, truth = planted
    stimulus = torch.from_numpy((recording.train_stimulus - 127.5) / 127.5).float()
    response = torch.from_numpy(recording.train_rate.T).float()
    ends = torch.arange(HISTORY - 1, stimulus.shape[0])
    sta = spike_triggered_average(WindowSampler(stimulus, HISTORY), response, ends)
    assert sta.shape == (2, HISTORY, SIZE, SIZE)
    assert receptive_field_centres(sta).tolist() == [list(c) for c in truth["centres"]]
    assert sta[0, -1, 2, 3] > 5 * sta[0, -1].abs().flatten().sort().values[-2]


def test_trainer_fits_counts_places_patches_and_learns_refractoriness(planted, tmp_path):
    recording, truth = planted
    train_model(
        recording,
        kind="glm",
        model_params={"history": HISTORY, "cutout": 3, "spike_history": 4, "l2": 0.0},
        train_params=TRAIN,
        model_out=tmp_path / "glm.pt",
        history_out=tmp_path / "history.nc",
        checkpoint_path=tmp_path / "checkpoint.pt",
        log=LOG,
    )
    model, meta = load_model(tmp_path / "glm.pt")
    assert meta["response_history"] == 4
    # patches centred on the planted pixels (corner = centre - cutout // 2)
    assert model.corner.tolist() == [[1, 2], [6, 5]]
    learned = model.history_filter.detach().numpy()  # planted: 0, 0, -5, -15 (newest last)
    assert (learned[:, -1] < -10).all() and (learned[:, -1] > -20).all()
    assert (learned[:, -2] < -3).all() and (learned[:, -2] > -8).all()
    assert (np.abs(learned[:, :2]) < 2.5).all()
    newest = model.stimulus_filter.detach()[:, -1, 1, 1]  # planted: 20 on the patch centre
    assert ((newest > 15) & (newest < 25)).all()
    centre_pixel = model.stimulus_filter.detach()[:, :, 1, 1]
    assert (centre_pixel[:, -1] > centre_pixel[:, 0]).all()


def test_glm_needs_spike_counts(planted, tmp_path):
    recording, _ = planted
    without = dataclasses.replace(recording, train_counts=None)  # no train/response/binned
    with pytest.raises(ValueError, match=r"planted_glm.h5: model 'glm'.*train/response/binned"):
        train_model(
            without,
            kind="glm",
            model_params={"history": HISTORY},
            train_params=TRAIN,
            model_out=tmp_path / "glm.pt",
            history_out=tmp_path / "history.nc",
            checkpoint_path=tmp_path / "checkpoint.pt",
            log=LOG,
        )


def test_closed_loop_prediction_is_seeded_and_uses_own_spikes():
    torch.manual_seed(0)
    model = build_model("glm", history=3, size=6, n_cells=2, cutout=3, spike_history=4)
    with torch.no_grad():
        model.stimulus_filter.normal_()
        model.bias.fill_(3.0)
    meta = {"history": 3, "size": 6, "stimulus_mean": 127.5, "stimulus_std": 127.5}
    movie = np.random.default_rng(0).integers(0, 256, size=(200, 6, 6), dtype=np.uint8)
    # Without a history filter the closed loop is exactly the stimulus-driven rate.
    stimulus_only = predict(model, meta, movie, samples=20, seed=1)
    assert stimulus_only.shape == (2, 198) and (stimulus_only >= 0).all()
    windows = WindowSampler(torch.from_numpy((movie - 127.5) / 127.5).float(), 3)
    drive = model.stimulus_drive(windows(torch.arange(2, 200)))
    assert np.allclose(stimulus_only, torch.nn.functional.softplus(drive).detach().numpy().T)
    # With one, every trial's own sampled spikes feed back: seeded, and self-inhibition lowers
    # the mean rate.
    with torch.no_grad():
        model.history_filter.fill_(-1.0)
    inhibited = predict(model, meta, movie, samples=20, seed=1)
    assert np.array_equal(inhibited, predict(model, meta, movie, samples=20, seed=1))
    assert not np.array_equal(inhibited, predict(model, meta, movie, samples=20, seed=2))
    assert (inhibited.mean(1) < stimulus_only.mean(1)).all()
