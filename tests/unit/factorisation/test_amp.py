"""AMP recovers planted factors above threshold, not below, and follows state evolution."""

import numpy as np
import pytest

from insilico.factorisation import state_evolution as se
from insilico.factorisation.amp import amp, initialise
from insilico.factorisation.planted import matched_overlaps, mode_sizes, planted_tensor, tensor_mse
from insilico.factorisation.priors import Prior


def _run(seed, n, alphas, rank, snr, prior, trials=2, **kw):
    rng = np.random.default_rng(seed)
    y, truth = planted_tensor(rng, n, alphas, rank, snr, prior, trials)
    init = initialise(rng, mode_sizes(n, alphas), rank, prior, trials, scale=0.1)
    res = amp(y, snr, n, prior, rank, init, **kw)
    m, cosine = matched_overlaps(res.means, truth)
    return res, m, cosine, truth


@pytest.mark.parametrize(
    ("order", "prior", "alphas", "rank", "n"),
    [
        (2, Prior("rademacher"), (1, 2), 2, 200),
        (2, Prior("sparse", 0.3), (1, 1), 1, 200),
        (3, Prior("nonnegative", 0.5), (1, 1, 1), 1, 40),
        (3, Prior("nonnegative", 1.0), (1, 0.5, 2), 2, 60),
    ],
)
def test_high_snr_recovers_the_plant(order, prior, alphas, rank, n):
    res, _, cosine, truth = _run(0, n, alphas, rank, 40.0, prior)
    assert res.converged.all()
    assert cosine.min() > 0.95
    assert tensor_mse(res.means, truth).max() < 0.25


def test_far_below_threshold_recovers_nothing():
    """Order 2 at snr = 0.2 (threshold 1): overlaps at the 1/sqrt(N) noise floor."""
    _, m, cosine, _ = _run(1, 400, (1, 1), 1, 0.2, Prior("rademacher"), max_iter=100)
    assert cosine.max() < 0.2
    assert m.max() < 0.05


@pytest.mark.parametrize(
    ("prior", "alphas", "snr", "n"),
    [(Prior("rademacher"), (1, 2), 1.5, 1000), (Prior("nonnegative", 1.0), (1, 1, 1), 3.0, 100)],
)
def test_amp_overlaps_match_state_evolution_at_large_n(prior, alphas, snr, n):
    _, m, _, _ = _run(2, n, alphas, 1, snr, prior, trials=6, max_iter=300)
    theory = se.evolve(snr, alphas, prior, se.uninformative_start(prior, len(alphas)))
    np.testing.assert_allclose(m.mean(axis=(0, 2)), theory, atol=0.05)  # finite-N spread
