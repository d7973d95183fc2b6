"""MMCR reaches its analytic bound -B only for orthonormal centroids with collapsed views; InfoNCE
matches a hand-computed case; the supervised objective is cross-entropy over every view."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from insilico.objectives.losses import centroids, info_nce, mmcr_loss, objective_loss

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _orthonormal(b: int, d: int, seed: int = 0) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(d, b, generator=torch.Generator().manual_seed(seed)))
    return q.T  # (b, d) orthonormal rows


def test_orthonormal_collapsed_centroids_reach_minus_batch_size():
    rows = _orthonormal(4, 8)
    views = rows[:, None, :].expand(4, 3, 8) * 2.5  # the norm is removed by the normalisation
    assert mmcr_loss(views).item() == pytest.approx(-4.0, abs=1e-5)


def test_spread_views_or_correlated_centroids_stay_above_the_bound():
    rows = _orthonormal(4, 8)
    other = _orthonormal(4, 8, seed=1)
    spread = torch.stack([rows, rows + 0.5 * other], dim=1)  # two different views per image
    assert mmcr_loss(spread).item() > -4.0 + 0.05
    tilted = F.normalize(rows + 0.7 * rows[0], dim=1)  # unit-norm, collapsed, not orthogonal
    assert mmcr_loss(tilted[:, None, :].expand(4, 2, 8)).item() > -4.0 + 0.05
    random = torch.randn(4, 2, 8, generator=torch.Generator().manual_seed(2))
    assert mmcr_loss(random).item() > -4.0


def test_optimising_free_embeddings_reaches_the_bound_by_collapse_and_orthogonality():
    embeddings = torch.randn(4, 3, 8, generator=torch.Generator().manual_seed(3)).requires_grad_()
    optimiser = torch.optim.Adam([embeddings], lr=0.1)
    for _ in range(200):
        loss = mmcr_loss(embeddings)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert mmcr_loss(embeddings).item() == pytest.approx(-4.0, abs=1e-3)
    c = centroids(embeddings.detach())
    assert torch.allclose(c @ c.T, torch.eye(4), atol=5e-3)  # unit norm (collapsed) and orthogonal


def test_info_nce_matches_the_hand_computed_case():
    # two images, two identical views each, orthogonal images, temperature 1: every anchor sees
    # its positive at cosine 1 and two negatives at 0, so the loss is log(e + 2) - 1
    views = torch.tensor([[[1.0, 0.0], [2.0, 0.0]], [[0.0, 1.0], [0.0, 3.0]]])
    assert info_nce(views, temperature=1.0).item() == pytest.approx(math.log(math.e + 2) - 1)
    # at temperature 0.5 the logits double: log(e^2 + 2) - 2
    assert info_nce(views, temperature=0.5).item() == pytest.approx(math.log(math.e**2 + 2) - 2)


def test_info_nce_three_views_averages_both_positives():
    views = torch.tensor(
        [[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]]
    )
    # hand computation: each anchor has 5 others; cosines are 1 or 0
    z = F.normalize(views.reshape(6, 2), dim=1)
    logits = z @ z.T
    expected = []
    for i in range(6):
        others = [j for j in range(6) if j != i]
        norm = math.log(sum(math.exp(logits[i, j]) for j in others))
        expected += [-(logits[i, j].item() - norm) for j in others if j // 3 == i // 3]
    assert info_nce(views, 1.0).item() == pytest.approx(sum(expected) / len(expected))


def test_supervised_objective_is_cross_entropy_over_views():
    logits = torch.randn(3, 2, 5, generator=torch.Generator().manual_seed(4))
    labels = torch.tensor([0, 4, 2])
    expected = F.cross_entropy(logits.reshape(6, 5), torch.tensor([0, 0, 4, 4, 2, 2]))
    assert objective_loss("supervised", logits, labels, 0.5).item() == pytest.approx(
        expected.item()
    )
    with pytest.raises(ValueError, match="unknown objective"):
        objective_loss("byol", logits, labels, 0.5)
