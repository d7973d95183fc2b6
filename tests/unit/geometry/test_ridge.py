"""Cross-validated ridge metric: recovers a linear map, and refuses to fit noise."""

import numpy as np

from insilico.geometry.ridge import cross_validated_r


def _masks(n, n_splits, seed=0):
    rng = np.random.default_rng(seed)
    masks = np.ones((n_splits, n), bool)
    for mask in masks:
        mask[rng.choice(n, n // 10, replace=False)] = False
    return masks


def test_linear_responses_are_predicted_and_noise_is_not():
    rng = np.random.default_rng(0)
    features = rng.standard_normal((300, 80))
    linear = features @ rng.standard_normal((80, 5)) + 0.5 * rng.standard_normal((300, 5))
    noise = rng.standard_normal((300, 5))
    r_linear, _ = cross_validated_r(features, linear, _masks(300, 5))
    r_noise, _ = cross_validated_r(features, noise, _masks(300, 5))
    assert np.median(r_linear) > 0.9
    assert abs(np.median(r_noise)) < 0.2
