"""Field measures: sizes, polarity and the ON/OFF index, with their controls."""

from __future__ import annotations

import numpy as np
import pytest

from insilico.efficient_coding import measures


def test_rms_radius_of_a_gaussian_and_on_a_torus():
    x = np.arange(64)
    field = np.exp(-((x - 20.0) ** 2) / (2 * 3.0**2))
    # energy exp(-x^2 / sigma^2): RMS sigma / sqrt(2), a little less with the 10 % floor
    assert measures.rms_radius(field) == pytest.approx(3.0 / np.sqrt(2), rel=0.15)
    assert measures.rms_radius(np.roll(field, 44)) == pytest.approx(measures.rms_radius(field))
    assert measures.rms_radius(
        np.exp(-((x - 20.0) ** 2) / (2 * 6.0**2))
    ) > 1.8 * measures.rms_radius(field)


def test_on_off_index_separates_opposite_from_equal_signs():
    rng = np.random.default_rng(0)
    bump = np.exp(-np.add.outer((np.arange(8) - 4.0) ** 2, (np.arange(6) - 3.0) ** 2) / 4)
    assert measures.on_off_index(np.stack([bump, -bump, -bump, bump])) == pytest.approx(1.0)
    assert measures.on_off_index(np.stack([bump, bump, -bump, -bump])) == pytest.approx(-1.0)
    # defined up to a shift: a shifted OFF copy is still the ON filter's partner
    shifted = -np.roll(bump, (3, 2), axis=(0, 1))
    assert measures.on_off_index(np.stack([bump, shifted, bump, shifted])) == pytest.approx(1.0)
    noise = rng.normal(size=(4, 32, 32))
    assert abs(measures.on_off_index(noise)) < 0.25
