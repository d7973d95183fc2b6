"""Known answers of the untied layers: with B = W the custom backward is autograd's."""

import torch
from torch.nn import functional as F

from insilico.learning_rules.layers import UntiedConv2d, UntiedLinear, angle_degrees
from insilico.learning_rules.network import UntiedCNN, it_state_dict
from insilico.learning_rules.rules import Rule


def test_linear_backward_with_b_equal_w_is_autograd():
    torch.manual_seed(0)
    layer = UntiedLinear(7, 5).double()
    layer.feedback.copy_(layer.weight.detach())
    x = torch.randn(11, 7, dtype=torch.float64, requires_grad=True)
    target = torch.randn(11, 5, dtype=torch.float64)
    (layer(x) - target).pow(2).sum().backward()
    ours = x.grad.clone(), layer.weight.grad.clone(), layer.bias.grad.clone()
    x2 = x.detach().clone().requires_grad_(True)
    w, b = layer.weight.detach().clone().requires_grad_(True), layer.bias.detach().clone()
    b.requires_grad_(True)
    (F.linear(x2, w, b) - target).pow(2).sum().backward()
    for a, ref in zip(ours, (x2.grad, w.grad, b.grad), strict=True):
        torch.testing.assert_close(a, ref, rtol=1e-12, atol=1e-12)


def test_conv_backward_with_b_equal_w_is_autograd():
    torch.manual_seed(1)
    layer = UntiedConv2d(3, 4, 3, padding=1).double()
    layer.feedback.copy_(layer.weight.detach())
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64, requires_grad=True)
    target = torch.randn(2, 4, 8, 8, dtype=torch.float64)
    (layer(x) - target).pow(2).sum().backward()
    x2 = x.detach().clone().requires_grad_(True)
    w = layer.weight.detach().clone().requires_grad_(True)
    b = layer.bias.detach().clone().requires_grad_(True)
    (F.conv2d(x2, w, b, padding=1) - target).pow(2).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(layer.weight.grad, w.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(layer.bias.grad, b.grad, rtol=1e-12, atol=1e-12)


def test_random_feedback_changes_only_the_input_gradient():
    torch.manual_seed(2)
    layer = UntiedConv2d(2, 3, 3, padding=1).double()
    Rule("feedback_alignment").attach(layer, torch.Generator().manual_seed(0))
    x = torch.randn(2, 2, 6, 6, dtype=torch.float64, requires_grad=True)
    layer(x).sum().backward()
    x2 = x.detach().clone().requires_grad_(True)
    w = layer.weight.detach().clone().requires_grad_(True)
    F.conv2d(x2, w, layer.bias.detach(), padding=1).sum().backward()
    torch.testing.assert_close(layer.weight.grad, w.grad)
    assert not torch.allclose(x.grad, x2.grad)
    assert angle_degrees(layer.feedback, layer.weight) > 45


def test_backprop_rule_network_gradients_equal_the_it_cnn():
    from insilico.it.models.cnn import ItCNN

    torch.manual_seed(3)
    params = {"channels": [2, 4], "kernels": [3, 3], "block_convs": 2}
    untied = UntiedCNN(size=8, n_classes=3, **params).double()
    Rule("backprop").attach(untied, torch.Generator().manual_seed(0))
    reference = ItCNN(size=8, n_classes=3, **params).double()
    reference.load_state_dict(it_state_dict(untied))
    x, y = torch.randn(5, 1, 8, 8, dtype=torch.float64), torch.tensor([0, 1, 2, 0, 1])
    F.cross_entropy(untied(x), y).backward()
    F.cross_entropy(reference(x), y).backward()
    ours = dict(untied.named_parameters())
    for name, p in reference.named_parameters():
        torch.testing.assert_close(ours[name].grad, p.grad, rtol=1e-10, atol=1e-12)
