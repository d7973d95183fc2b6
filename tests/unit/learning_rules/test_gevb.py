"""Known answers of GEVB (Clark, Abbott & Chung 2021) in a vectorised network."""

import torch

from insilico.learning_rules.gevb import VectorisedNet, cosine, sign_agreement


def data(n=64, n_in=12, n_classes=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, n_in, generator=generator)
    return x, torch.randint(n_classes, (n,), generator=generator)


def test_gevb_has_the_gradients_sign_in_every_entry_at_every_step():
    x, y = data()
    net = VectorisedNet(12, [32, 32], 4, seed=0)
    first = torch.nn.functional.cross_entropy(net.forward(x)[0], y).item()
    for step in range(20):
        i = step % len(x)
        one = (x[i : i + 1], y[i : i + 1])  # the guarantee is per example
        assert sign_agreement(net.gevb(*one), net.gradient(*one)) == 1.0
        net.step(net.gevb(x, y), rate=0.5)
    assert all((w[...] >= 0).all() for w in net.weights[1:])
    assert torch.nn.functional.cross_entropy(net.forward(x)[0], y).item() < 0.5 * first


def test_the_readout_update_is_the_gradient_and_hidden_cosine_rises_with_width():
    x, y = data()
    cosines = []
    for width in (8, 64, 512):
        values = []
        for seed in range(3):
            net = VectorisedNet(12, [width, width], 4, seed=seed)
            update, gradient = net.gevb(x, y), net.gradient(x, y)
            torch.testing.assert_close(update[-1], gradient[-1])
            values.append(cosine(update, gradient, layers=[0, 1]))
        cosines.append(sum(values) / len(values))
    assert cosines[0] < cosines[1] < cosines[2]
    assert cosines[2] > 0.99
