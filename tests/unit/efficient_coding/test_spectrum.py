"""The spectrum fit recovers known exponents; the patch spectrum keeps the variance."""

from __future__ import annotations

import numpy as np
import pytest

from insilico.efficient_coding import spectrum


@pytest.mark.parametrize(("a", "b"), [(2.0, 2.0), (1.0, 1.5), (1.5, 1.0)])
def test_fit_recovers_the_exponents_of_a_synthetic_movie(a, b):
    movie = spectrum.synthetic_movie(1024, 32, a, b, seed=1)
    k, w, power = spectrum.spacetime_spectrum(movie, 64, 10)
    fitted_a, fitted_b, _ = spectrum.fit_power_law(k, w, power, (0.04, 0.25), (3.0, 25.0))
    assert fitted_a == pytest.approx(a, abs=0.2)
    assert fitted_b == pytest.approx(b, abs=0.2)


def test_rendered_movie_has_a_falling_spectrum_in_space_and_time():
    movie = spectrum.render(640, 16, seed=0, saccade_frames=100, jitter_px=0.5)
    k, w, power = spectrum.spacetime_spectrum(movie, 32, 4)
    a, b, _ = spectrum.fit_power_law(k, w, power, (0.06, 0.4), (3.0, 40.0))
    assert a > 0.3 and b > 0.5


def test_patch_spectrum_is_symmetric_and_keeps_the_variance():
    rng = np.random.default_rng(0)
    patches = np.cumsum(rng.normal(size=(200, 8, 6)), axis=1).astype(np.float32)
    power = spectrum.patch_spectrum(patches)
    assert power.mean() == pytest.approx(float(np.square(patches).mean()), rel=1e-5)
    np.testing.assert_allclose(power, np.roll(np.flip(power, 0), 1, 0), rtol=1e-6)
    np.testing.assert_allclose(power, np.roll(np.flip(power, 1), 1, 1), rtol=1e-6)
    tilted = spectrum.tilted(power, 1.0)
    assert (
        tilted.mean() == pytest.approx(1.0)
        and tilted[1, 0] / tilted[3, 0] > power[1, 0] / power[3, 0]
    )
