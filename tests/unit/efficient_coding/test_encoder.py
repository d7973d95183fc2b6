"""Trained mosaic encoders reach the water-filling optimum; the budget holds exactly."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from insilico.efficient_coding import encoder, spectrum, waterfill

pytestmark = pytest.mark.usefixtures("one_torch_thread")
NOISE = waterfill.Noise(input=0.05, output=1.0)
LOG = logging.getLogger("test")


def _gaussian_patches(power: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Periodic Gaussian patches whose Fourier modes have exactly the variance ``power``."""
    rng = np.random.default_rng(seed)
    white = np.fft.fft2(rng.normal(size=(n, *power.shape)), norm="ortho")
    return np.fft.ifft2(white * np.sqrt(power), norm="ortho").real.astype(np.float32)


def test_trained_linear_encoders_reach_the_water_filling_optimum(tmp_path):
    power = spectrum.power_law_spectrum(8, 8, 2.0, 2.0)
    patches = _gaussian_patches(power, 2000, seed=0)[None]
    measured = spectrum.patch_spectrum(patches[0]).astype(float)
    models = [encoder.Model((2,), 0.3, 0), encoder.Model((4, 1), 0.3, 0)]
    training = encoder.Training(400, 64, 0.03)
    bank = encoder.train(models, patches, NOISE, training, 0, LOG, tmp_path / "checkpoint.pt")
    errors = encoder.relative_errors(bank, models, patches, NOISE, seed=1, batches=8)
    one = waterfill.one_type_error(measured, NOISE, 2, [0.3])[0]
    pair, _ = waterfill.two_type_error(measured, NOISE, (4, 1), [0.3], np.linspace(0.05, 0.95, 19))
    assert errors[0] == pytest.approx(one, rel=0.05)
    assert errors[1] == pytest.approx(pair[0], rel=0.05)
    # untrained encoders are far from it: the test can fail
    fresh = encoder.MosaicBank(models, 8, 8, torch.Generator().manual_seed(3))
    assert encoder.relative_errors(fresh, models, patches, NOISE, 1, 2)[0] > one * 1.2


def test_budget_is_met_exactly_linear_and_rectified():
    models = [encoder.Model((2, 1), 0.7, 0), encoder.Model((2, 2), 0.4, 0, rectified=True)]
    bank = encoder.MosaicBank(models, 8, 6, torch.Generator().manual_seed(0))
    patches = torch.randn(2, 64, 8, 6)
    with torch.no_grad():
        drive = bank.drives(patches)
        scale = torch.tensor([0.7, 0.4]) / bank.costs(drive)
        scaled = drive * scale[:, None, None, None, None]
        costs = bank.costs(scaled)
    np.testing.assert_allclose(costs.numpy(), [0.7, 0.4], rtol=1e-5)
    # by hand for the linear model: cells x std per type, per pixel
    cells = (drive[0, :, 0, ::2] * scale[0], drive[0, :, 1, ::1] * scale[0])
    by_hand = sum(c.shape[1] * c.square().mean().sqrt() for c in cells) / 8
    assert float(by_hand) == pytest.approx(0.7, rel=1e-5)


def test_symmetrised_patches_keep_each_periodogram():
    generator = torch.Generator().manual_seed(0)
    patches = torch.randn(5, 8, 6)
    moved = encoder.symmetrised(patches, generator)
    assert not torch.equal(moved, patches)
    np.testing.assert_allclose(
        torch.fft.fft2(moved).abs().square().sum(dim=(1, 2)).numpy(),
        torch.fft.fft2(patches).abs().square().sum(dim=(1, 2)).numpy(),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        np.sort(torch.fft.fft2(moved).abs().flatten(1).numpy(), axis=1),
        np.sort(torch.fft.fft2(patches).abs().flatten(1).numpy(), axis=1),
        rtol=1e-4,
        atol=1e-4,
    )


def test_a_killed_training_resumes_to_the_bank_of_an_uninterrupted_one(tmp_path, monkeypatch):
    """Killed at step 7 of 20 (checkpoints every 2 steps), training resumes from step 6 with the
    bank, Adam, the cosine schedule and the batch generator as they were."""
    patches = np.random.default_rng(0).standard_normal((2, 32, 8, 6)).astype(np.float32)
    models = [encoder.Model((2,), 0.5, 0), encoder.Model((2, 2, 4, 4), 0.5, 1, rectified=True)]
    training = encoder.Training(20, 8, 0.01)

    def run(checkpoint):
        return encoder.train(models, patches, NOISE, training, 3, LOG, checkpoint).state_dict()

    reference = run(tmp_path / "reference.pt")
    real, calls = encoder._batch, []

    def counted(*args, kill_at=None):
        calls.append(1)
        if len(calls) == kill_at:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(encoder, "_batch", lambda *args: counted(*args, kill_at=7))
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "killed.pt")
    assert (tmp_path / "killed.pt").exists()
    calls.clear()
    monkeypatch.setattr(encoder, "_batch", lambda *args: counted(*args))
    resumed = run(tmp_path / "killed.pt")
    assert len(calls) == 14  # steps 7 to 20: it resumed from step 6
    for name, tensor in reference.items():
        assert torch.equal(resumed[name], tensor), name
    assert not (tmp_path / "killed.pt").exists()
