"""The training objectives: MMCR, InfoNCE (SimCLR) and supervised cross-entropy.

Embeddings come as ``(B, V, d)``: B images, V views of each, d dimensions.

MMCR (Yerxa, Kuang, Simoncelli & Chung 2023, NeurIPS): every view embedding is scaled to unit norm,
the views of an image are averaged into its centroid c_i, and the loss is minus the nuclear norm of
the centroid matrix C = (c_1 ... c_B)^T. Each centroid has norm at most 1 (the mean of unit
vectors), so ||C||_* <= sqrt(rank C) ||C||_F <= sqrt(B) sqrt(B) = B when B <= d: the loss is
bounded below by -B, and reaches it only when every centroid has unit norm (the views of each
image coincide: collapsed manifolds) and the singular values are equal (orthonormal centroids).
Maximising the nuclear norm spreads the centroids (high capacity) while shrinking each image's
manifold of views, the manifold-capacity objective of Chung et al. turned into a loss.

InfoNCE (Chen et al. 2020, SimCLR; NT-Xent): all B V views normalised, cosine similarities over a
temperature; each view's positives are the other views of its image, every other view a negative.
With V views the loss averages, over anchors and their V - 1 positives, minus the log-softmax of
the positive among all other views.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

OBJECTIVES = ("supervised", "simclr", "mmcr")


def centroids(embeddings: torch.Tensor) -> torch.Tensor:
    """``(B, V, d)`` -> ``(B, d)``: the mean of each image's unit-norm view embeddings."""
    return F.normalize(embeddings, dim=-1).mean(dim=1)


def mmcr_loss(embeddings: torch.Tensor) -> torch.Tensor:
    """Minus the nuclear norm of the centroid matrix (lower bound -min(B, d), see the module)."""
    return -torch.linalg.matrix_norm(centroids(embeddings), ord="nuc")


def info_nce(embeddings: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """SimCLR's NT-Xent over ``(B, V, d)`` views (V >= 2), mean over anchor-positive pairs."""
    n_images, n_views, _ = embeddings.shape
    if n_views < 2:
        raise ValueError(f"InfoNCE needs at least 2 views per image, got {n_views}")
    z = F.normalize(embeddings.reshape(n_images * n_views, -1), dim=-1)
    logits = z @ z.T / temperature
    self_mask = torch.eye(len(z), dtype=torch.bool, device=z.device)
    log_prob = logits.masked_fill(self_mask, float("-inf")).log_softmax(dim=1)
    image = torch.arange(n_images, device=z.device).repeat_interleave(n_views)
    positive = (image[:, None] == image[None, :]) & ~self_mask
    return -log_prob[positive].mean()


def objective_loss(
    objective: str, outputs: torch.Tensor, labels: torch.Tensor, temperature: float
) -> torch.Tensor:
    """The loss of ``objective`` on the network outputs ``(B, V, d)`` (logits when supervised)."""
    if objective == "mmcr":
        return mmcr_loss(outputs)
    if objective == "simclr":
        return info_nce(outputs, temperature)
    if objective == "supervised":
        n_views = outputs.shape[1]
        return F.cross_entropy(outputs.flatten(0, 1), labels.repeat_interleave(n_views))
    raise ValueError(f"unknown objective {objective!r}; known: {OBJECTIVES}")
