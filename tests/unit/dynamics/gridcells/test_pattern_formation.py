import numpy as np
import pytest
from scipy import special

from insilico.dynamics.gridcells import pattern_formation as pf
from insilico.dynamics.gridcells.gridness import gridness
from insilico.dynamics.gridcells.place_cells import PlaceCells


def test_analytic_peak_is_the_maximum_of_the_spectrum():
    k = np.linspace(0, 60, 60001)
    for width, surround in ((0.12, 2.0), (0.08, 1.5), (0.2, 3.0)):
        spectrum = pf.correlation_spectrum(k, width, surround)
        assert pf.peak_frequency(width, surround) == pytest.approx(k[spectrum.argmax()], abs=2e-3)
    assert pf.peak_frequency(0.12, 1.0) == 0.0
    assert pf.predicted_period(0.12, 2.0) == pytest.approx(2 * np.pi / 8.0113, rel=1e-4)


def test_fourier_peak_of_a_known_correlation_function():
    """J0(k0 r), whose 2-D Fourier transform is a ring at |k| = k0, windowed by a wide Gaussian."""
    n, size, k0 = 128, 8.0, 9.0
    axis = (np.arange(n) - n / 2) * size / n
    r = np.hypot(*np.meshgrid(axis, axis, indexing="ij"))
    field = special.j0(k0 * r) * np.exp(-(r**2) / (2 * 1.5**2))
    power = np.abs(np.fft.fft2(field)) ** 2
    k, radial = pf.radial_average(power, size, bins=60)
    assert pf.spectral_peak(k, radial) == pytest.approx(k0, rel=0.05)


def test_the_softmax_place_code_has_its_spectral_peak_at_the_theory_k_star():
    cells = PlaceCells(n=256, width=0.12, surround=2.0, box=2.2, seed=0)
    k, power = pf.place_cell_spectrum(cells, resolution=44, bins=60)
    assert pf.spectral_peak(k, power) == pytest.approx(pf.peak_frequency(0.12, 2.0), rel=0.1)
    gaussian = PlaceCells(n=256, width=0.12, surround=1.0, box=2.2, seed=0)
    k, power = pf.place_cell_spectrum(gaussian, resolution=44, bins=60)
    assert pf.spectral_peak(k, power) < 3.0  # low-pass: no ring, no grid


def _patterns(nonnegative: bool) -> tuple[np.ndarray, float, float]:
    k_star = pf.peak_frequency(0.12, 2.0)
    size = 4 * 2 * np.pi / k_star
    maps = pf.simulate_patterns(
        8, 32, size, 0.12, 2.0, nonnegative, 300, 1.0, np.random.default_rng(1)
    )
    return maps, size, k_star


def test_nonnegative_pattern_dynamics_gives_a_six_fold_spectrum_at_k_star():
    maps, size, k_star = _patterns(nonnegative=True)
    assert maps.min() >= 0
    assert np.median(pf.hexagonal_order(maps, size, k_star)) > 0.4
    assert np.median([gridness(m) for m in maps]) > 0.5
    k, power = pf.radial_average(np.fft.ifftshift(pf.power_spectrum(maps).mean(0)), size, 16)
    assert pf.spectral_peak(k, power) == pytest.approx(k_star, rel=0.15)


def test_unconstrained_pattern_dynamics_does_not_select_hexagons():
    maps, size, k_star = _patterns(nonnegative=False)
    assert np.median(pf.hexagonal_order(maps, size, k_star)) < 0.0
    assert np.median([gridness(m) for m in maps]) < 0.2


def test_hexagonal_order_of_ideal_patterns():
    n, size = 32, 4.0
    axis = np.arange(n) * size / n
    x, y = np.meshgrid(axis, axis, indexing="ij")
    k = 2 * np.pi / 1.0

    def waves(angles):
        return sum(np.cos(k * (np.cos(a) * x + np.sin(a) * y)) for a in angles)

    stripe, square = waves([0.0]), waves([0.0, np.pi / 2])
    hexagon = waves([0.0, np.pi / 3, 2 * np.pi / 3])
    order = pf.hexagonal_order(np.stack([hexagon, stripe, square]), size, k)
    assert order[0] > 0.6 and abs(order[1]) < 0.05 and order[2] < -0.9
