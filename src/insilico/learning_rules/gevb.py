"""Global error-vector broadcasting (GEVB; Clark, Abbott & Chung 2021) in a vectorised network.

Every unit carries a ``K``-dimensional vector (``K`` = number of classes); a weight is a scalar
that scales a whole presynaptic vector: ``a_i = sum_j W_ij h_j``. The input pixel ``x_j`` enters as
a first layer of ordinary (mixed-sign) weights ``W_ijk`` per vector component:
``a_ik = sum_j W_ijk x_j``. A hidden unit is gated by the sign of its pre-activation's
projection on a fixed random direction ``t_i``: ``h_i = a_i [t_i . a_i > 0]``. The output is one
vector unit, ``y = sum_j W_j h_j``, read out as the ``K`` logits. Weights after the first layer
are nonnegative (kept so by clipping after each update).

GEVB broadcasts the output error vector ``e = dL/dy`` to every hidden unit and updates
``dW_ij = G_i (e . h_j)`` (``G_i`` the unit's gate; ``G_i e_k x_j`` in the first layer). For one
example backprop's gradient is ``c_i (e . h_j)`` with ``c_i = G_i sum_k W_ki c_k >= 0``
(nonnegative downstream weights), so the two agree in sign wherever the gradient is nonzero;
summed over a batch, ``c_i`` differs between examples and the signs can differ. At
initialisation ``c_i`` concentrates as the width grows, so the update approaches a multiple of
the gradient.
"""

from __future__ import annotations

import math

import torch


class VectorisedNet:
    """A fully connected vectorised network (weights in ``self.weights``, first one mixed sign)."""

    def __init__(self, n_in: int, widths: list[int], n_classes: int, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        sizes = [n_in, *widths, 1]
        self.n_classes = n_classes
        self.weights = []
        for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            w = torch.randn(fan_out, fan_in, generator=generator, dtype=torch.float64)
            if layer == 0:  # one mixed-sign weight per vector component
                shape = (fan_out, fan_in, n_classes)
                w = torch.randn(shape, generator=generator, dtype=torch.float64)
                w = w / math.sqrt(fan_in)
            elif fan_out > 1:  # nonnegative, mean 2 / fan_in (about half the inputs are open)
                w = w.abs() * math.sqrt(2 * math.pi) / fan_in
            else:  # the readout starts uniform: every last hidden unit counts alike
                w = torch.full_like(w, 2.0 / fan_in)
            self.weights.append(w.requires_grad_(True))
        self.directions = [
            torch.randn(width, n_classes, generator=generator, dtype=torch.float64)
            for width in widths
        ]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list, list]:
        """Logits ``(B, K)``, each layer's input vectors ``(B, n, K)`` and gates ``(B, n)``."""
        h = x.double()
        inputs, gates = [], []
        for layer, (w, t) in enumerate(zip(self.weights[:-1], self.directions, strict=True)):
            inputs.append(h)
            pattern = "ijk,bj->bik" if layer == 0 else "ij,bjk->bik"
            a = torch.einsum(pattern, w, h)
            gate = ((a * t).sum(-1) > 0).to(a.dtype)
            gates.append(gate)
            h = a * gate[:, :, None]
        inputs.append(h)
        return torch.einsum("ij,bjk->bik", self.weights[-1], h)[:, 0], inputs, gates

    def gevb(self, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
        """GEVB's estimate of the loss gradient, per weight matrix (descend it)."""
        with torch.no_grad():
            logits, inputs, gates = self.forward(x)
            error = torch.softmax(logits, -1) - torch.nn.functional.one_hot(y, self.n_classes)
            error = error / len(x)  # the gradient of the batch-mean cross-entropy
            ones = torch.ones(len(x), 1, dtype=logits.dtype)
            first = torch.einsum("bi,bk,bj->ijk", gates[0], error, inputs[0])
            return [first] + [
                torch.einsum("bi,bk,bjk->ij", gate, error, h)
                for gate, h in zip([*gates[1:], ones], inputs[1:], strict=True)
            ]

    def gradient(self, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
        """Backprop's gradient of the batch-mean cross-entropy (autograd)."""
        logits, _, _ = self.forward(x)
        loss = torch.nn.functional.cross_entropy(logits, y)
        return list(torch.autograd.grad(loss, self.weights))

    @torch.no_grad()
    def step(self, updates: list[torch.Tensor], rate: float) -> None:
        """Descend ``updates``; weights after the first stay nonnegative."""
        for layer, (w, u) in enumerate(zip(self.weights, updates, strict=True)):
            w.sub_(rate * u)
            if layer > 0:
                w.clamp_(min=0.0)


def sign_agreement(updates: list[torch.Tensor], gradients: list[torch.Tensor]) -> float:
    """Share of the gradient's nonzero entries whose sign the update has."""
    agree = total = 0
    for u, g in zip(updates, gradients, strict=True):
        nonzero = g.abs() > 1e-12 * g.abs().max().clamp_min(1e-300)
        agree += int((torch.sign(u[nonzero]) == torch.sign(g[nonzero])).sum())
        total += int(nonzero.sum())
    return agree / max(total, 1)


def cosine(updates: list[torch.Tensor], gradients: list[torch.Tensor], layers=None) -> float:
    """Cosine between the update and the gradient over the chosen layers (all by default)."""
    layers = range(len(updates)) if layers is None else layers
    u = torch.cat([updates[i].flatten() for i in layers])
    g = torch.cat([gradients[i].flatten() for i in layers])
    return float(u @ g / (u.norm() * g.norm()).clamp_min(1e-300))
