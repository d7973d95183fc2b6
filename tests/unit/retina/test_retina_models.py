from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from insilico.retina.models import build_model
from insilico.retina.models.cnn import RetinaCNN
from insilico.retina.models.ln import LNModel

CNN = {"channels": [4, 3], "kernels": [5, 3], "noise_std": 0.1}


@pytest.mark.parametrize(("kind", "hparams"), [("ln", {"l2": 0.01}), ("cnn", CNN)])
def test_shapes_and_non_negative_rates(kind, hparams):
    torch.manual_seed(0)
    model = build_model(kind, history=6, size=10, n_cells=3, **hparams)
    rates = model(torch.randn(7, 6, 10, 10) * 5)
    assert rates.shape == (7, 3)
    assert (rates >= 0).all()
    penalty = model.regularization(rates)
    assert penalty.ndim == 0 and penalty.item() >= 0
    penalty.backward()  # differentiable, so it can be added to the loss


def test_model_classes_and_first_layer():
    cnn = build_model("cnn", history=6, size=10, n_cells=3, **CNN)
    assert isinstance(cnn, RetinaCNN)
    assert cnn.conv1.weight.shape == (4, 6, 5, 5)
    ln = build_model("ln", history=6, size=10, n_cells=3)
    assert isinstance(ln, LNModel)
    assert ln.linear.weight.shape == (3, 6 * 10 * 10)


def test_noise_only_in_training_and_batchnorm_optional():
    torch.manual_seed(0)
    model = build_model("cnn", history=4, size=8, n_cells=2, batchnorm=False, **CNN)
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules())
    x = torch.randn(5, 4, 8, 8)
    model.eval()
    assert torch.equal(model(x), model(x))
    model.train()
    assert not torch.equal(model(x), model(x))


def test_regularization_terms():
    model = build_model("cnn", history=4, size=8, n_cells=2, l2=0.5, l1_activity=0.25, **CNN)
    rates = torch.tensor([[1.0, 3.0], [2.0, 2.0]])
    expected = 0.5 * model.readout.weight.square().sum() + 0.25 * 4.0
    assert torch.allclose(model.regularization(rates), expected)
    ln = build_model("ln", history=4, size=8, n_cells=2)
    assert ln.regularization(rates).item() == 0.0  # default l2 = 0


@pytest.mark.parametrize("kind", ["ln", "cnn"])
def test_init_output_bias_starts_at_mean_rate(kind):
    torch.manual_seed(0)
    model = build_model(kind, history=4, size=8, n_cells=2, **(CNN if kind == "cnn" else {}))
    model.init_output_bias(torch.tensor([20.0, 0.5]))
    with torch.no_grad():
        if kind == "ln":
            model.linear.weight.zero_()
        else:
            model.readout.weight.zero_()
        model.eval()
        rates = model(torch.randn(3, 4, 8, 8))
    assert torch.allclose(rates, torch.tensor([20.0, 0.5]).expand(3, 2), rtol=1e-4)


def test_unknown_kind_names_allowed_kinds():
    with pytest.raises(ValueError, match=r"unknown model kind 'rnn'.*\['cnn', 'glm', 'ln'\]"):
        build_model("rnn", history=4, size=8, n_cells=1)


def test_unknown_hparam_names_it_and_the_allowed_ones():
    with pytest.raises(ValueError, match=r"\['chanels'\] for model 'cnn'.*'channels'.*'kernels'"):
        build_model("cnn", history=4, size=8, n_cells=1, chanels=[4, 4])
    with pytest.raises(ValueError, match=r"\['noise_std'\] for model 'ln'; allowed: \['l2'\]"):
        build_model("ln", history=4, size=8, n_cells=1, noise_std=0.1)


@pytest.mark.parametrize(
    ("hparams", "message"),
    [
        ({"channels": [4]}, "channels must be a list of 2 positive integers"),
        ({"kernels": [5, 0]}, "kernels must be a list of 2 positive integers"),
        ({"l2": "1e-3"}, "l2 must be a non-negative number, got '1e-3'"),
        ({"noise_std": -0.1}, "noise_std must be a non-negative number"),
        ({"batchnorm": "yes"}, "batchnorm must be true or false"),
    ],
)
def test_bad_hparam_values(hparams, message):
    with pytest.raises(ValueError, match=message):
        build_model("cnn", history=4, size=12, n_cells=1, **hparams)


def test_bad_sizes():
    with pytest.raises(ValueError, match="n_cells must be a positive integer"):
        build_model("ln", history=4, size=8, n_cells=0)


def test_kernels_too_big_for_image():
    with pytest.raises(ValueError, match=r"kernels \[15, 11\] do not fit a 20x20 stimulus.*25"):
        build_model("cnn", history=4, size=20, n_cells=1, kernels=[15, 11])
    model = build_model("cnn", history=4, size=20, n_cells=1, kernels=[15, 6])  # 20 -> 6 -> 1
    assert model(torch.randn(2, 4, 20, 20)).shape == (2, 1)


def test_ln_is_linear_filter_then_softplus():
    model = build_model("ln", history=2, size=3, n_cells=1)
    x = torch.randn(4, 2, 3, 3)
    expected = F.softplus(x.flatten(1) @ model.linear.weight.T + model.linear.bias)
    assert torch.allclose(model(x), expected)
