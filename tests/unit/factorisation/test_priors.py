"""The scalar denoisers against direct numerical integration of the posterior."""

import numpy as np
import pytest
from scipy.integrate import quad

from insilico.factorisation.priors import Prior

PRIORS = [
    Prior("gaussian"),
    Prior("rademacher"),
    Prior("sparse", 0.2),
    Prior("nonnegative", 1.0),
    Prior("nonnegative", 0.3),
]


def _slab_density(prior, t):
    scale = 2.0 if prior.kind == "nonnegative" else 1.0
    return scale * np.sqrt(prior.rho / (2 * np.pi)) * np.exp(-0.5 * prior.rho * t * t)


def _brute_force(prior, b, a):
    """log Z, posterior mean and variance by quadrature of the continuous part."""
    lower = 0.0 if prior.kind == "nonnegative" else -np.inf
    moments = []
    for power in range(3):

        def integrand(t, p=power):
            return t**p * _slab_density(prior, t) * np.exp(b * t - a * t * t / 2)

        moments.append(prior.rho * quad(integrand, lower, np.inf)[0])
    moments[0] += 1 - prior.rho
    mean = moments[1] / moments[0]
    return np.log(moments[0]), mean, moments[2] / moments[0] - mean**2


@pytest.mark.parametrize("prior", [p for p in PRIORS if p.kind in ("sparse", "nonnegative")])
@pytest.mark.parametrize(("b", "a"), [(0.7, 1.3), (-1.5, 0.2), (3.0, 4.0)])
def test_slab_priors_match_integration(prior, b, a):
    log_z, mean, var = _brute_force(prior, b, a)
    got_mean, got_var = prior.denoise(b, a)
    assert prior.log_partition(b, a) == pytest.approx(log_z, rel=1e-8, abs=1e-10)
    assert got_mean == pytest.approx(mean, rel=1e-7, abs=1e-10)
    assert got_var == pytest.approx(var, rel=1e-6, abs=1e-10)


@pytest.mark.parametrize("prior", PRIORS)
def test_posterior_mean_is_the_derivative_of_log_z(prior):
    """d log Z / dB = E[x | B]: the identity AMP's Onsager term and the free energy rely on."""
    b, a, h = np.linspace(-2, 2, 9), 0.8, 1e-5
    numeric = (prior.log_partition(b + h, a) - prior.log_partition(b - h, a)) / (2 * h)
    np.testing.assert_allclose(prior.denoise(b, a)[0], numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("prior", PRIORS)
def test_quadrature_and_samples_have_unit_second_moment(prior):
    x, w = prior.quadrature()
    assert (w * x**2).sum() == pytest.approx(1.0, abs=1e-6)
    assert (w * x).sum() == pytest.approx(prior.mean, abs=1e-6)
    s = prior.sample(np.random.default_rng(0), 200_000)
    assert (s**2).mean() == pytest.approx(1.0, abs=0.03)


def test_unknown_prior_is_refused():
    with pytest.raises(ValueError, match="unknown prior"):
        Prior("laplace")
