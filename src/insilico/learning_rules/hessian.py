"""The loss landscape (Fort & Ganguli 2019): top Hessian eigenvalues by Lanczos.

The Hessian of the full-batch cross-entropy with respect to all parameters is never formed: the
Lanczos iteration (full reorthogonalisation, float64) needs only Hessian-vector products, which
autograd gives by differentiating the gradient's inner product with a vector. The Ritz values of
``steps`` iterations approximate the top of the spectrum (the outliers converge first); the share
of the gradient inside the span of the top ``C`` Ritz vectors measures how much of the gradient
lives in the outlier subspace. The Hessian is the loss's, whatever rule trained the weights. The products are taken in the
model's precision (float32 for the trained networks) and the iteration runs in float64.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch.nn import functional as F


def lanczos(
    hvp: Callable[[torch.Tensor], torch.Tensor], dim: int, steps: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Ritz values (descending) and vectors ``(dim, k)`` of a symmetric operator ``hvp``."""
    steps = min(steps, dim)
    generator = torch.Generator().manual_seed(seed)
    q = torch.randn(dim, generator=generator, dtype=torch.float64)
    basis = [q / q.norm()]
    alphas, betas = [], []
    for j in range(steps):
        w = hvp(basis[j])
        alpha = float(w @ basis[j])
        Q = torch.stack(basis, 1)
        w = w - Q @ (Q.T @ w)  # full reorthogonalisation (twice is enough)
        w = w - Q @ (Q.T @ w)
        alphas.append(alpha)
        beta = float(w.norm())
        if j == steps - 1 or beta < 1e-10:
            break
        betas.append(beta)
        basis.append(w / beta)
    k = len(alphas)
    T = np.diag(alphas) + np.diag(betas[: k - 1], 1) + np.diag(betas[: k - 1], -1)
    values, vectors = np.linalg.eigh(T)
    order = np.argsort(values)[::-1]
    ritz = torch.stack(basis[:k], 1).numpy() @ vectors[:, order]
    return values[order], ritz


def loss_hvp(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor):
    """The full-batch loss's gradient (flat, float64) and its Hessian-vector product."""
    params = [p for p in model.parameters() if p.requires_grad]
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    flat = torch.cat([g.flatten() for g in grads])

    def hvp(v: torch.Tensor) -> torch.Tensor:
        out = torch.autograd.grad(flat, params, grad_outputs=v.to(flat), retain_graph=True)
        return torch.cat([o.flatten() for o in out]).double()

    return flat.detach().double(), hvp


def spectrum(model: torch.nn.Module, x, y, n_classes: int, steps: int, seed: int = 0) -> dict:
    """Top Ritz values, the outlier count (largest gap) and the gradient's top-C share."""
    gradient, hvp = loss_hvp(model, x, y)
    values, vectors = lanczos(hvp, gradient.numel(), steps, seed)
    g = gradient.numpy()
    top = vectors[:, :n_classes]
    share = float(np.sum((top.T @ g) ** 2) / max(float(g @ g), 1e-300))
    return {"eigenvalues": values, "outliers": outlier_count(values), "gradient_share": share}


def outlier_count(values: np.ndarray) -> int:
    """Eigenvalues above the largest relative gap among the positive top values: the outliers."""
    positive = np.asarray(values)[np.asarray(values) > 0]
    if len(positive) < 2:
        return len(positive)
    ratios = positive[:-1] / positive[1:]
    return int(np.argmax(ratios) + 1)
