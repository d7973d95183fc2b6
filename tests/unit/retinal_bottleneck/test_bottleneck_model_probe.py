"""The model family across the sweep, its training, and the receptive-field probes (torch)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
import xarray as xr

from insilico.bottleneck import analysis, probe
from insilico.bottleneck.model import STAGES, build_model, load_model, train_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ARCHITECTURE = {"retina_channels": [4, 3], "vvs_channels": 5, "kernel": 3, "dense_units": 7}


@pytest.mark.parametrize("n_bn", [1, 2, 6])
@pytest.mark.parametrize("d_vvs", [0, 1, 3])
def test_the_family_has_the_sweep_shapes(n_bn, d_vvs):
    net = build_model(ARCHITECTURE, n_bn=n_bn, d_vvs=d_vvs, size=10, n_classes=4)
    x = torch.zeros(2, 1, 10, 10)
    assert net(x).shape == (2, 4)
    assert net.stage(x, "bottleneck").shape == (2, n_bn, 10, 10)
    assert len(net.retina) == 2 and len(net.ventral) == d_vvs
    if d_vvs:
        assert net.stage(x, "v1").shape == (2, 5, 10, 10)
    else:
        with pytest.raises(ValueError, match="no v1"):
            net.stage(x, "v1")


class LinearStage(torch.nn.Module):
    """A known linear field per channel: the probes must return it."""

    def __init__(self, weights: torch.Tensor):
        super().__init__()
        self.weights = weights  # (channels, size, size)

    def stage(self, x, name):
        size = x.shape[-1]
        response = torch.einsum("bhw,chw->bc", x[:, 0], self.weights)
        out = torch.zeros(len(x), len(self.weights), size, size)
        out[:, :, size // 2, size // 2] = response
        return out


def test_gradient_and_sta_fields_of_a_linear_unit_agree_with_its_weights():
    torch.manual_seed(0)
    weights = torch.randn(3, 9, 9)
    model = LinearStage(weights)
    gradient = probe.gradient_fields(model, "bottleneck", 9)
    np.testing.assert_allclose(gradient, weights.numpy(), rtol=1e-5)
    sta = probe.sta_fields(model, "bottleneck", probe.white_noise(20000, 9, 1.0, seed=0))
    assert (analysis.field_agreement(gradient, sta) > 0.95).all()


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=90)
    pictures = rng.integers(0, 256, size=(90, 8, 8)).astype(np.uint8)
    pictures[labels == 1, 2:6, 2:6] = 255  # something to learn
    return xr.Dataset(
        {
            "train_images": (("train_image", "y", "x"), pictures[:60]),
            "train_labels": ("train_image", labels[:60]),
            "test_images": (("test_image", "y", "x"), pictures[60:]),
            "test_labels": ("test_image", labels[60:]),
        },
        attrs={"n_categories": 3},
    )


def _train(tmp_path, images, name, d_vvs=1):
    return train_model(
        architecture=ARCHITECTURE,
        train={"epochs": 2, "batch_size": 16, "learning_rate": 1e-3, "weight_decay": 1e-4},
        n_bn=2,
        d_vvs=d_vvs,
        seed=3,
        images=images,
        device=torch.device("cpu"),
        model_out=tmp_path / f"{name}.pt",
        checkpoint_path=tmp_path / f"{name}.checkpoint.pt",
        log=logging.getLogger("test"),
    )


def test_training_is_reproducible_and_writes_a_loadable_model(tmp_path, images):
    first, second = _train(tmp_path, images, "a"), _train(tmp_path, images, "b")
    assert first["curves"] == second["curves"] and len(first["curves"]["epoch"]) == 2
    a, meta = load_model(tmp_path / "a.pt")
    b, _ = load_model(tmp_path / "b.pt")
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    assert meta["n_bn"] == 2 and meta["d_vvs"] == 1
    assert not (tmp_path / "a.checkpoint.pt").exists()


def test_probe_group_stacks_depths_and_seeds(tmp_path, images):
    _train(tmp_path, images, "deep", d_vvs=1)
    _train(tmp_path, images, "shallow", d_vvs=0)
    settings = {
        "sta": {"n_images": 3000, "contrasts": [0.001, 1.0], "seed": 1},
        "linearity": {"fit": 0.6, "select": 0.2},
        "separability": {"pool": 2, "relative_ridge": 0.01, "n_train": 60},
    }
    paths = {(1, 3): tmp_path / "deep.pt", (0, 3): tmp_path / "shallow.pt"}
    probed = probe.probe_group(paths, images, settings, n_bn=2)
    assert dict(probed["gradient_rf"].sizes) == {
        "d_vvs": 2, "seed": 1, "stage": len(STAGES), "unit": 5, "row": 8, "col": 8
    }  # fmt: skip
    shallow = probed["gradient_rf"].sel(d_vvs=0, seed=3)
    assert np.isnan(shallow.sel(stage="v1")).all()  # no ventral stream: no v1 fields
    assert np.isnan(shallow.sel(stage="bottleneck").isel(unit=slice(2, None))).all()  # padding
    assert np.isfinite(probed["gradient_rf"].sel(d_vvs=1, seed=3, stage="v1")).all()
    assert 0 <= float(probed["separability"].sel(d_vvs=1, seed=3)) <= 1
    assert probed.sizes["unit"] == 5 and probed["linearity"].sizes["unit"] == 5
    assert probed["sta_rf"].sizes["contrast"] == 2


def test_a_faint_noise_sta_is_the_gradient_of_a_trained_relu_network(tmp_path, images):
    """Stein's lemma: the STA of faint noise is the mean gradient over it, which is the gradient
    at the blank image where the network is differentiable there. A unit silent at the blank
    image never fires to faint noise (no STA: nan); one whose ReLUs sit at a kink may disagree."""
    _train(tmp_path, images, "net", d_vvs=1)
    model, _ = load_model(tmp_path / "net.pt")
    noise = probe.white_noise(4000, 8, 1e-5, seed=0)
    agreement = np.concatenate(
        [
            analysis.field_agreement(
                probe.gradient_fields(model, stage, 8), probe.sta_fields(model, stage, noise)
            )
            for stage in STAGES
        ]
    )
    agreement = agreement[np.isfinite(agreement)]
    assert len(agreement) >= 3 and np.mean(agreement > 0.9) >= 0.75, agreement
