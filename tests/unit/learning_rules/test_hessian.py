"""Lanczos on Hessian-vector products against the exact Hessian of a tiny MLP."""

import numpy as np
import torch
from torch.func import functional_call, hessian
from torch.nn import functional as F

from insilico.learning_rules.hessian import lanczos, loss_hvp, outlier_count, spectrum


def tiny_mlp():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    model = model.double()
    x = torch.randn(40, 4, dtype=torch.float64)
    y = torch.randint(3, (40,))
    return model, x, y


def exact_hessian(model, x, y):
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    sizes = [p.numel() for p in model.parameters()]
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])

    def loss(theta):
        parts = dict(
            zip(
                names,
                (t.view(s) for t, s in zip(theta.split(sizes), shapes, strict=True)),
                strict=True,
            )
        )
        return F.cross_entropy(functional_call(model, parts, (x,)), y)

    return hessian(loss)(flat).numpy()


def test_lanczos_top_eigenvalues_match_the_exact_hessian():
    model, x, y = tiny_mlp()
    exact = np.sort(np.linalg.eigvalsh(exact_hessian(model, x, y)))[::-1]
    _, hvp = loss_hvp(model, x, y)
    dim = sum(p.numel() for p in model.parameters())
    values, vectors = lanczos(hvp, dim, steps=dim)
    np.testing.assert_allclose(values[:5], exact[:5], rtol=1e-8, atol=1e-10)
    values_short, _ = lanczos(hvp, dim, steps=15)
    np.testing.assert_allclose(values_short[0], exact[0], rtol=1e-2)  # 15 of 43 steps
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(vectors.shape[1]), atol=1e-8)


def test_gradient_share_is_a_fraction_and_the_outlier_gap_is_found():
    model, x, y = tiny_mlp()
    result = spectrum(model, x, y, n_classes=3, steps=20)
    assert 0.0 <= result["gradient_share"] <= 1.0 + 1e-9
    assert outlier_count(np.array([50.0, 40.0, 30.0, 1.0, 0.9, 0.5])) == 3
    assert outlier_count(np.array([1.0])) == 1
