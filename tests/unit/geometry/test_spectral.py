"""Spectral theory of ridge prediction against ridge fitted on synthetic Gaussian features."""

import numpy as np
import pytest

from insilico.geometry import spectral


def _power_law_data(n=1200, f=200, seed=0):
    rng = np.random.default_rng(seed)
    lam = np.arange(1, f + 1) ** -1.5
    z = rng.standard_normal((n, f))
    beta = np.arange(1, f + 1) ** -0.5
    responses = np.column_stack([z @ beta, z @ beta[::-1] + 0.3 * rng.standard_normal(n)])
    return z * np.sqrt(lam), responses


def test_theory_equals_empirical_ridge_error():
    features, responses = _power_law_data()
    spec = spectral.spectrum(features, responses)
    sizes, ridge = [20, 50, 120], 1e-2  # p / n <= 0.1, where the theory holds for a finite set
    theory = spectral.theory_error(spec, sizes, ridge)
    empirical, sem = spectral.empirical_error(features, responses, sizes, ridge, n_reps=20, seed=1)
    np.testing.assert_allclose(empirical, theory, rtol=0.06)
    assert np.all(np.diff(theory) < 0)


def test_alignment_lowers_error():
    """Responses along the top eigenvectors are learnt faster than along the bottom ones."""
    features, responses = _power_law_data()
    aligned = spectral.spectrum(features, responses[:, :1])
    misaligned = spectral.spectrum(features, responses[:, 1:])
    assert spectral.alignment(aligned) > spectral.alignment(misaligned)
    assert spectral.theory_error(aligned, [40], 1e-2) < spectral.theory_error(
        misaligned, [40], 1e-2
    )


def test_error_at_zero_samples_is_one_and_modes_sum_to_error():
    features, responses = _power_law_data(n=300, f=50)
    spec = spectral.spectrum(features, responses)
    assert spectral.theory_error(spec, [0], 1e-2)[0] == pytest.approx(1.0)
    modes = spectral.error_modes(spec, 30, 1e-2)
    radius, dimension = spectral.error_mode_geometry(modes)
    assert radius * np.sqrt(dimension) == pytest.approx(modes.sum())
    assert spectral.spectral_decay(spec.eigenvalues, 40) == pytest.approx(1.5, abs=0.25)


def test_kappa_solves_its_equation():
    lam = 1.0 / np.arange(1, 101) ** 2
    kappa = spectral.solve_kappa(lam, 20, 1e-3)
    assert kappa == pytest.approx(1e-3 + kappa * np.sum(lam / (20 * lam + kappa)), rel=1e-9)
