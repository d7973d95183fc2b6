from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from insilico.core.io import read_netcdf, save_torch
from insilico.retina import train as training
from insilico.retina import windows
from insilico.retina.inference import load_model, predict
from insilico.retina.models import build_model
from insilico.retina.recording import RetinaRecording
from insilico.retina.train import train_model
from insilico.retina.windows import WindowSampler

HISTORY, SIZE = 5, 8
TRAIN = {
    "epochs": 5,
    "batch_size": 64,
    "learning_rate": 0.01,
    "weight_decay": 0.0,
    "patience": 5,
    "val_fraction": 0.2,
    "seed": 3,
    "lr_plateau_factor": 0.5,
}
CNN = {"history": HISTORY, "channels": [3, 3], "kernels": [3, 3], "noise_std": 0.1}
LOG = logging.getLogger("test_training")


def planted_recording(n_bins: int, n_cells: int = 2, seed: int = 0) -> RetinaRecording:
    """White noise through planted LN cells (centre-surround x biphasic filters), rates in Hz."""
    rng = np.random.default_rng(seed)
    stimulus = rng.integers(0, 256, size=(n_bins, SIZE, SIZE), dtype=np.uint8)
    x = (stimulus - 127.5) / 74.0
    grid = np.arange(SIZE) - (SIZE - 1) / 2
    temporal = np.array([-0.3, -0.1, 0.4, 1.0, 0.5])  # oldest .. newest frame
    rates = []
    for cell in range(n_cells):
        r2 = (grid[:, None] - cell) ** 2 + (grid[None, :] + cell) ** 2
        spatial = np.exp(-r2 / 2) - 0.3 * np.exp(-r2 / 8)
        kernel = (-1) ** cell * temporal[:, None, None] * spatial
        drive = np.zeros(n_bins)
        windows = np.lib.stride_tricks.sliding_window_view(x, HISTORY, axis=0)  # (T-h+1, H, W, h)
        drive[HISTORY - 1 :] = np.einsum("thwk,khw->t", windows, kernel)
        rates.append(20 * np.log1p(np.exp(1.5 * drive / drive.std() - 1)))
    n_test = 10
    return RetinaRecording(
        path=Path("planted.h5"),
        train_stimulus=stimulus,
        train_rate=np.array(rates),
        test_stimulus=stimulus[:n_test],
        test_repeats=np.zeros((n_cells, 1, n_test)),
        cell_names=tuple(f"cell{i + 1:02d}" for i in range(n_cells)),
        true_test_rate=None,
    )


def content(model_path: Path) -> dict[str, bytes]:
    """Every record of a torch archive, byte for byte, keyed without the archive's folder name.

    torch.save names that folder after the file it writes, and insilico.core.io writes through a
    randomly named temporary file, so the folder name is the one thing that may differ.
    """
    with zipfile.ZipFile(model_path) as archive:
        return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}


@pytest.fixture(scope="module")
def small_recording():
    return planted_recording(600)


def run(recording, folder: Path, *, kind="cnn", model_params=CNN, **train_overrides) -> Path:
    """Train into ``folder``; returns the model path. Paths go in as str, as Snakemake gives them."""
    train_model(
        recording,
        kind=kind,
        model_params=model_params,
        train_params={**TRAIN, **train_overrides},
        model_out=str(folder / "model.pt"),
        history_out=str(folder / "history.nc"),
        checkpoint_path=str(folder / "checkpoint.pt"),
        log=LOG,
    )
    return folder / "model.pt"


@pytest.fixture(scope="module")
def reference_run(small_recording, tmp_path_factory):
    """One uninterrupted CNN run (with noise and batch norm) that other tests compare against."""
    return run(small_recording, tmp_path_factory.mktemp("reference"))


def test_learns_planted_ln_cell(tmp_path, caplog):
    recording = planted_recording(3000, n_cells=1)
    with caplog.at_level(logging.INFO, logger=LOG.name):
        path = run(recording, tmp_path, kind="ln", model_params={"history": HISTORY}, epochs=8)
    curves = read_netcdf(tmp_path / "history.nc")
    assert set(curves.data_vars) == {
        "train_loss",
        "val_loss",
        "val_corr",
        "learning_rate",
        "seconds",
    }
    assert float(curves.val_corr.max()) > 0.8
    assert not (tmp_path / "checkpoint.pt").exists()
    assert "device: cpu" in caplog.text
    assert "epoch 1/8 train_loss" in caplog.text and "samples/s" in caplog.text

    model, meta = load_model(path)
    assert not model.training
    assert meta["best_val_corr"] == pytest.approx(float(curves.val_corr.max()))
    assert meta["best_epoch"] == int(np.argmax(curves.val_corr.values)) + 1
    assert meta["cell_names"] == ["cell01"]
    assert meta["stimulus_mean"] == pytest.approx(recording.train_stimulus.mean())
    assert meta["stimulus_std"] == pytest.approx(recording.train_stimulus.std())
    # the model predicts the planted cell on the validation block (the last 20%)
    pred = predict(model, meta, recording.train_stimulus[2400:])
    assert pred.shape == (1, 600 - HISTORY + 1)
    assert np.corrcoef(pred[0], recording.train_rate[0, 2400 + HISTORY - 1 :])[0, 1] > 0.8


def test_same_inputs_give_identical_model_files(small_recording, reference_run, tmp_path):
    again = run(small_recording, tmp_path)
    assert content(again) == content(reference_run)
    other_seed = run(small_recording, tmp_path / "seed", seed=4)
    assert content(other_seed) != content(reference_run)


def test_interrupted_run_resumes_to_the_same_model(
    small_recording, reference_run, tmp_path, monkeypatch, caplog
):
    epoch_function = training._train_one_epoch
    calls = []

    def killed_in_third_epoch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return epoch_function(*args, **kwargs)

    monkeypatch.setattr(training, "_train_one_epoch", killed_in_third_epoch)
    with pytest.raises(KeyboardInterrupt):
        run(small_recording, tmp_path)
    assert (tmp_path / "checkpoint.pt").exists() and not (tmp_path / "model.pt").exists()

    monkeypatch.setattr(training, "_train_one_epoch", epoch_function)
    with caplog.at_level(logging.INFO, logger=LOG.name):
        resumed = run(small_recording, tmp_path)
    assert "resuming from epoch 2" in caplog.text
    assert content(resumed) == content(reference_run)
    assert not (tmp_path / "checkpoint.pt").exists()
    curves = read_netcdf(tmp_path / "history.nc")
    reference_curves = read_netcdf(reference_run.parent / "history.nc")
    assert list(curves.epoch.values) == [1, 2, 3, 4, 5]
    assert np.array_equal(curves.val_corr.values, reference_curves.val_corr.values)


def test_checkpoint_of_another_run_is_ignored(small_recording, reference_run, tmp_path, caplog):
    save_torch({"fingerprint": "from another configuration"}, tmp_path / "checkpoint.pt")
    with caplog.at_level(logging.INFO, logger=LOG.name):
        fresh = run(small_recording, tmp_path)
    assert "fingerprint mismatch" in caplog.text and "resuming" not in caplog.text
    assert content(fresh) == content(reference_run)
    assert not (tmp_path / "checkpoint.pt").exists()


def test_early_stopping_keeps_the_best_epoch(small_recording, tmp_path):
    run(small_recording, tmp_path, epochs=30, patience=2, learning_rate=0.05)
    curves = read_netcdf(tmp_path / "history.nc")
    best = int(np.argmax(curves.val_corr.values)) + 1
    assert len(curves.epoch) == min(30, best + 2)
    _, meta = load_model(tmp_path / "model.pt")
    assert meta["best_epoch"] == best


def test_training_gathers_windows_from_one_stimulus_tensor(small_recording, tmp_path, monkeypatch):
    samplers = []

    class SpySampler(WindowSampler):
        def __init__(self, stimulus, history, *device):
            super().__init__(stimulus, history, *device)
            samplers.append(self)

    monkeypatch.setattr(training, "WindowSampler", SpySampler)
    run(small_recording, tmp_path, epochs=1)
    (sampler,) = samplers
    assert sampler.stimulus.shape == small_recording.train_stimulus.shape  # (T, H, W), not windows
    assert sampler.stimulus.dtype == torch.float32 and sampler.stimulus.is_contiguous()

    ends = torch.tensor([HISTORY - 1, 17, 599])
    unfolded = sampler.stimulus.unfold(0, HISTORY, 1)  # strided view (T-h+1, H, W, h), no copy
    assert unfolded.data_ptr() == sampler.stimulus.data_ptr()
    expected = unfolded[ends - HISTORY + 1].permute(0, 3, 1, 2)
    assert torch.equal(sampler(ends), expected)
    assert torch.equal(sampler(ends)[1, -1], sampler.stimulus[17])  # a window ends at its bin


def test_predict_alignment(tmp_path):
    stimulus = np.random.default_rng(1).integers(0, 256, size=(30, 4, 4), dtype=np.uint8)
    model = build_model("ln", history=3, size=4, n_cells=1)
    with torch.no_grad():
        model.linear.weight.zero_()
        model.linear.weight[0, 2 * 16] = 1.0  # newest frame, pixel (0, 0)
        model.linear.bias.zero_()
    meta = {"history": 3, "size": 4, "stimulus_mean": 100.0, "stimulus_std": 50.0}
    pred = predict(model, meta, stimulus, batch_size=7)
    assert pred.shape == (1, 28)
    expected = np.log1p(np.exp((stimulus[2:, 0, 0] - 100.0) / 50.0))
    assert np.allclose(pred[0], expected, rtol=1e-5)
    with pytest.raises(ValueError, match=r"stimulus must be \(T, 4, 4\)"):
        predict(model, meta, stimulus[:, :3])


def test_split_leaves_no_shared_frames():
    train_ends, val_ends = windows.split_bins(100, 5, 0.2)
    assert train_ends[0] == 4 and train_ends[-1] == 79  # windows within bins 0..79
    assert val_ends[0] - 4 == 80 and val_ends[-1] == 99  # windows within bins 80..99


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"epochs": None}, "must be an integer >= 1"),
        ({"val_fraction": 1.0}, r"val_fraction'\] must be in \(0, 1\)"),
        ({"lr_plateau_factor": 1.5}, "lr_plateau_factor"),
        ({"learning_rate": "1e-3"}, "learning_rate'] must be a non-negative number"),
        ({"momentum": 0.9}, r"unknown \['momentum'\]"),
        ({"output_lr_factor": 0}, r"output_lr_factor'\] must be a number > 0"),
        ({"loss": "l1"}, r"loss'\] must be one of \['mse', 'poisson'\]"),
    ],
)
def test_bad_train_params(small_recording, tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        run(small_recording, tmp_path, **overrides)


def test_output_gain_of_the_cnn_learns_faster_and_only_it(monkeypatch, small_recording, tmp_path):
    optimizers = []
    adam = torch.optim.Adam

    def recording_adam(*args, **kwargs):
        optimizers.append(adam(*args, **kwargs))
        return optimizers[-1]

    monkeypatch.setattr(torch.optim, "Adam", recording_adam)
    model_path = run(small_recording, tmp_path, epochs=1, output_lr_factor=10)
    rest, output = optimizers[0].param_groups
    assert output["lr"] == pytest.approx(10 * TRAIN["learning_rate"])
    assert rest["lr"] == pytest.approx(TRAIN["learning_rate"])
    model, _ = load_model(model_path)
    expected = {id(p) for p in model.output_affine()}
    assert len(output["params"]) == 2 == len(expected)  # batch-norm gain and offset per cell
    assert [tuple(p.shape) for p in output["params"]] == [(2,), (2,)]
    assert len(rest["params"]) + 2 == len(list(model.parameters()))


def test_output_lr_factor_needs_a_model_with_an_output_gain(small_recording, tmp_path):
    with pytest.raises(ValueError, match="model 'ln' has no separate output gain"):
        run(
            small_recording,
            tmp_path,
            kind="ln",
            model_params={"history": HISTORY},
            output_lr_factor=3,
        )


def test_model_params_need_history(small_recording, tmp_path):
    with pytest.raises(ValueError, match="model_params must give 'history'"):
        run(small_recording, tmp_path, kind="ln", model_params={})


def test_train_fraction_keeps_the_validation_block_fixed():
    full_train, full_val = windows.split_bins(100, 5, 0.2)
    for fraction in (0.25, 0.5, 1.0):
        train_ends, val_ends = windows.split_bins(100, 5, 0.2, fraction)
        assert np.array_equal(val_ends, full_val)  # comparable across fractions
        assert train_ends[0] == 4 and train_ends[-1] == round(80 * fraction) - 1  # a prefix
        assert set(train_ends) <= set(full_train)
    with pytest.raises(ValueError, match="train_fraction 0.05 leave 0 training"):
        windows.split_bins(100, 5, 0.2, 0.05)


def test_fraction_run_trains_on_its_prefix(small_recording, tmp_path, monkeypatch):
    seen = []
    epoch_function = training._train_one_epoch

    def spy(model, optimizer, inputs, targets, ends, *args):
        seen.append(ends.clone())
        return epoch_function(model, optimizer, inputs, targets, ends, *args)

    monkeypatch.setattr(training, "_train_one_epoch", spy)
    run(small_recording, tmp_path, epochs=1, train_fraction=0.25)
    (ends,) = seen
    assert ends.tolist() == list(range(HISTORY - 1, 120))  # first quarter of the 480 train bins
    _, meta = load_model(tmp_path / "model.pt")
    assert meta["train_fraction"] == 0.25 and meta["n_train_windows"] == len(ends)
    assert meta["val_fraction"] == TRAIN["val_fraction"]


@pytest.mark.parametrize("fraction", [0, 1.5, True])
def test_bad_train_fraction(small_recording, tmp_path, fraction):
    with pytest.raises(ValueError, match=r"train_fraction'\] must be in \(0, 1\]"):
        run(small_recording, tmp_path, train_fraction=fraction)


def test_movie_stays_on_the_gpu_only_when_it_fits(monkeypatch, caplog):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert windows.movie_device(10**12, cpu, LOG) == cpu
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (8 * 10**9, 16 * 10**9))
    assert windows.movie_device(4 * 10**9, cuda, LOG) == cuda
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        assert windows.movie_device(5 * 10**9, cuda, LOG) == cpu
    assert "keeping it in host memory" in caplog.text


def test_sampler_hands_out_windows_on_its_device():
    stimulus = torch.arange(40.0).reshape(10, 2, 2)
    sampler = WindowSampler(stimulus, 3, device="cpu")
    assert sampler(torch.tensor([2, 9])).device.type == "cpu"
    assert torch.equal(sampler(torch.tensor([2]))[0], stimulus[:3])


def test_the_loss_is_a_training_setting(small_recording, reference_run, tmp_path, monkeypatch):
    """loss: mse trains on the squared error (its validation loss is one), poisson stays the default."""
    from insilico.retina import train

    calls = []
    original = train.LOSSES["mse"]
    monkeypatch.setitem(train.LOSSES, "mse", lambda *args: calls.append(1) or original(*args))
    run(small_recording, tmp_path, loss="mse", epochs=1)
    assert calls  # training batches and the validation loss both went through it
    mse_curves = read_netcdf(tmp_path / "history.nc")
    poisson_curves = read_netcdf(reference_run.parent / "history.nc")
    assert (mse_curves["val_loss"] > 0).all()  # a squared error, never negative
    assert (poisson_curves["val_loss"] < 0).all()  # Poisson NLL of rates in Hz (log terms dominate)
