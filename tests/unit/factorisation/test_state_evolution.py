"""State evolution: closed-form fixed points and thresholds, and the free-energy ordering."""

import numpy as np
import pytest

from insilico.factorisation import state_evolution as se
from insilico.factorisation.priors import Prior


def test_gaussian_order2_fixed_point_is_one_minus_inverse_snr():
    """Square Gaussian order 2: m = 1 - 1/snr above snr = 1, 0 below (BBP-like)."""
    snr = np.array([0.5, 2.0, 4.0])
    m = se.evolve(snr, (1, 1), Prior("gaussian"), [1e-4, 1e-4])
    np.testing.assert_allclose(m[:, 0], [0.0, 0.5, 0.75], atol=2e-3)


@pytest.mark.parametrize("alphas", [(1, 1), (1, 2), (0.5, 2), (1, 4)])
def test_order2_threshold_is_inverse_sqrt_of_shape_product(alphas):
    grid = np.geomspace(0.2, 3, 150)
    th = se.thresholds(alphas, Prior("rademacher"), grid)
    assert th["continuous"]
    expected = 1 / np.sqrt(np.prod(alphas))
    step = grid[1] / grid[0]
    assert expected / step**2 <= th["algorithmic"] <= expected * step**2


def test_order3_sparse_nonnegative_has_a_hard_phase():
    """Order 3 is discontinuous: spinodal < information-theoretic < algorithmic, all finite."""
    th = se.thresholds((1, 1, 1), Prior("nonnegative", 0.1), np.geomspace(0.5, 10, 120))
    assert not th["continuous"]
    assert th["spinodal"] < th["information"] < th["algorithmic"] < 10
    labels = se.phase_labels([0.6, 0.5 * (th["information"] + th["algorithmic"]), 9], th)
    assert list(labels) == [0, 1, 2]


def test_order3_zero_mean_uninformative_start_never_leaves_zero():
    m = se.evolve([5.0, 20.0], (1, 1, 1), Prior("rademacher"), [1e-4] * 3, max_iter=200)
    assert np.all(m < 1e-3)
    informed = se.evolve([20.0], (1, 1, 1), Prior("rademacher"), [1.0] * 3)
    assert np.all(informed > 0.99)


def test_potential_is_stationary_at_fixed_points():
    """dPhi/dm_k = 0 at a state evolution fixed point (Phi's stationarity is the SE equation)."""
    prior, alphas, snr = Prior("nonnegative", 0.3), (1.0, 0.5, 2.0), 3.0
    m = se.evolve(snr, alphas, prior, [1.0, 1.0, 1.0])
    for k in range(3):
        dm = np.zeros(3)
        dm[k] = 1e-5
        grad = (
            se.potential(snr, alphas, prior, m + dm) - se.potential(snr, alphas, prior, m - dm)
        ) / 2e-5
        assert abs(grad) < 1e-5
