"""Positive controls of the receptive-field indices, linearity and separability (numpy only)."""

from __future__ import annotations

import numpy as np
import pytest

from insilico.bottleneck import analysis

SIZE = 21


def _grid(centre=(10.0, 10.0)):
    rows, cols = np.indices((SIZE, SIZE))
    return rows - centre[0], cols - centre[1]


def dog(centre=(10.0, 10.0), sigma=1.5, surround=3.5):
    """Balanced difference of Gaussians (zero sum): a centre-surround field."""
    y, x = _grid(centre)
    d2 = x**2 + y**2
    return np.exp(-d2 / (2 * sigma**2)) / sigma**2 - np.exp(-d2 / (2 * surround**2)) / surround**2


def gabor(theta, phase=0.0, sigma=3.0, wavelength=6.0):
    y, x = _grid()
    along = x * np.cos(theta) + y * np.sin(theta)
    return np.exp(-(x**2 + y**2) / (2 * sigma**2)) * np.cos(2 * np.pi * along / wavelength + phase)


def test_a_difference_of_gaussians_is_centre_surround_and_not_oriented():
    for field in (dog(), -dog(), dog(centre=(7.3, 12.6))):
        assert analysis.centre_surround(field) > 0.85
        assert analysis.orientedness(field) < 0.05


def test_a_gaussian_blob_is_isotropic_but_has_no_surround():
    y, x = _grid()
    blob = np.exp(-(x**2 + y**2) / 8)
    assert analysis.orientedness(blob) < 0.05
    assert analysis.centre_surround(blob) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("theta", [0.0, 0.4, np.pi / 2, 2.5])
@pytest.mark.parametrize("phase", [0.0, np.pi / 2])
def test_a_gabor_is_oriented_whatever_its_angle_and_phase(theta, phase):
    field = gabor(theta, phase)
    assert analysis.orientedness(field) > 0.8
    assert analysis.centre_surround(field) < 0.4


def test_random_filters_score_low_on_both():
    fields = np.random.default_rng(0).normal(size=(30, SIZE, SIZE))
    assert analysis.orientedness(fields).mean() < 0.1
    assert analysis.centre_surround(fields).mean() < 0.1
    assert analysis.orientedness(fields).shape == (30,)


def test_a_blank_field_has_no_index():
    assert np.isnan(analysis.orientedness(np.zeros((SIZE, SIZE))))
    assert np.isnan(analysis.centre_surround(np.zeros((SIZE, SIZE))))


def test_the_ring_average_is_a_projection():
    field = gabor(0.3) + dog()
    ring, profile, count = analysis.ring_profile(field)
    radial = profile[ring]
    residual = field - radial
    assert np.sum(radial * residual) == pytest.approx(0.0, abs=1e-9)
    assert count.sum() == SIZE * SIZE


def test_field_agreement_is_scale_free():
    a = gabor(0.2)
    assert analysis.field_agreement(a, 3 * a) == pytest.approx(1.0)
    assert analysis.field_agreement(a, -a) == pytest.approx(-1.0)


def test_linearity_is_one_for_a_linear_unit_and_low_for_an_even_one():
    rng = np.random.default_rng(1)
    images = rng.normal(size=(600, 6, 6))
    weights = rng.normal(size=36)
    drive = images.reshape(600, -1) @ weights
    responses = np.stack([drive + 0.01 * rng.normal(size=600), drive**2], axis=1)
    r2 = analysis.linearity(images, responses, fit=0.6, select=0.2)
    assert r2[0] > 0.99
    assert r2[1] < 0.1
    rectified = analysis.linearity(images, np.maximum(drive, 0)[:, None], 0.6, 0.2)[0]
    assert 0.4 < rectified < 0.9  # a half-wave rectified linear unit is partly linear


def test_linearity_of_a_constant_unit_is_undefined():
    images = np.random.default_rng(2).normal(size=(100, 3, 3))
    assert np.isnan(analysis.linearity(images, np.ones((100, 1)), 0.6, 0.2)[0])


def test_separability_of_separable_classes_and_of_random_labels():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 4, size=800)
    means = rng.normal(size=(4, 50)) * 2
    features = means[labels] + rng.normal(size=(800, 50))
    assert (
        analysis.separability(features[:400], labels[:400], features[400:], labels[400:], 0.01)
        > 0.95
    )
    shuffled = rng.permutation(labels)
    accuracy = analysis.separability(
        features[:400], shuffled[:400], features[400:], shuffled[400:], 0.01
    )
    assert accuracy < 0.4
