"""The measures' known answers: invariance 1 for a representation shifts do not move, a perfect
probe on separable features, PGD that drives a linear model to chance at a large budget."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from insilico.objectives import analysis

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_invariance_index_is_one_for_unmoved_features_and_near_zero_for_random_ones():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(5, 30))
    same = np.repeat(images, 4, axis=0)
    assert analysis.invariance_index(same, 5) == pytest.approx(1.0)
    assert abs(analysis.invariance_index(rng.normal(size=(20, 30)), 5)) < 0.2


def test_ridge_probe_separates_separable_classes():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(3), 20)
    features = np.eye(3)[labels] * 5 + rng.normal(scale=0.1, size=(60, 3))
    probe = analysis.fit_probe(features, labels, 3, ridge=0.01)
    assert analysis.probe_accuracy(probe, features, labels) == 1.0


def test_shifted_copies_put_every_offset_of_each_image_together():
    x = torch.arange(2 * 16.0).reshape(2, 1, 4, 4)
    copies = analysis.shifted_copies(x, [-1, 0, 1])
    assert copies.shape == (18, 1, 4, 4)
    torch.testing.assert_close(copies[4], x[0])  # offset (0, 0) is the middle of the 3 x 3 grid
    torch.testing.assert_close(copies[13], x[1])


class _Linear(torch.nn.Module):
    layer_names = ["avgpool"]

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(
            torch.randn(16, 4, generator=torch.Generator().manual_seed(0))
        )

    def features(self, x):
        return {"avgpool": x.flatten(1) @ self.weight}


def test_pgd_keeps_clean_accuracy_at_zero_budget_and_reaches_chance_at_a_large_one():
    model = _Linear()
    x = torch.randn(64, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    features = analysis.layer_features(model, x)["avgpool"]
    labels = np.argmax(features[:, :2], axis=1)  # two classes the features separate
    probe = analysis.fit_probe(features, labels, 2, ridge=1e-3)
    pgd = {"steps": 10, "step_fraction": 0.5, "seed": 0}
    accuracy = analysis.pgd_accuracy(model, probe, x, labels, [0.0, 10.0], 1.0, pgd)
    assert accuracy[0] == pytest.approx(analysis.probe_accuracy(probe, features, labels))
    assert accuracy[0] > 0.8 and accuracy[1] <= 0.5
