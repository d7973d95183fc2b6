"""MFTMA against values known by construction or published (points, Gaussian clouds, solvers)."""

import numpy as np
import pytest

from insilico.geometry import qp
from insilico.geometry.capacity import manifold_analysis, mean_abs_cosine
from insilico.geometry.synthetic import sphere_manifolds


def test_points_have_capacity_two():
    """Cover: P random points in N dimensions are separable up to P = 2N (radius 0)."""
    points = sphere_manifolds(2000, 200, n_points=1, dim=1, radius=0.0, seed=3)
    geometry = manifold_analysis(points, kappa=0.0, n_t=400)
    assert geometry.capacity == pytest.approx(2.0, rel=0.03)
    assert geometry.radius == 0.0


def test_margin_lowers_capacity_of_points_as_gardner():
    """Points at margin kappa: 1/alpha = E[(kappa - t)^2; t < kappa] (Gardner 1988)."""
    points = sphere_manifolds(2000, 200, n_points=1, dim=1, radius=0.0, seed=3)
    # (kappa^2 + 1) Phi(kappa) + kappa phi(kappa) at kappa = 1: 1.9247 -> alpha = 0.5196
    assert manifold_analysis(points, kappa=1.0, n_t=2000).capacity == pytest.approx(
        0.5196, rel=0.03
    )


def test_gaussian_clouds_reproduce_the_reference_example():
    """N = 5000, M = 50, P = 100, kappa = 0, n_t = 200: 0.04, 1.48, 36.17, correlation 0.00."""
    rng = np.random.default_rng(0)
    clouds = [rng.standard_normal((5000, 50)) for _ in range(100)]
    geometry = manifold_analysis(clouds, kappa=0.0, n_t=200)
    assert geometry.capacity == pytest.approx(0.040, rel=0.03)
    assert geometry.radius == pytest.approx(1.48, rel=0.02)
    assert geometry.dimension == pytest.approx(36.17, rel=0.02)
    assert geometry.centre_correlation < 0.02
    assert geometry.n_fallback == 0


def test_shared_centre_structure_is_projected_out():
    """A common offset direction added to every centre is found and removed (K >= 1)."""
    manifolds = sphere_manifolds(500, 30, n_points=10, dim=3, radius=0.5, seed=1)
    shared = np.random.default_rng(2).standard_normal(500)
    shared *= 3.0 / np.linalg.norm(shared)
    weights = np.random.default_rng(3).standard_normal(30)
    offset = [m + w * shared[:, None] for m, w in zip(manifolds, weights, strict=True)]
    clean, correlated = manifold_analysis(manifolds), manifold_analysis(offset)
    assert correlated.centre_correlation > 0.3
    assert correlated.n_projected >= 1 and correlated.residual_correlation < 0.1
    assert correlated.capacity == pytest.approx(clean.capacity, rel=0.1)


def test_batched_solver_equals_reference_and_satisfies_kkt():
    rng = np.random.default_rng(5)
    points = np.column_stack([np.ones(30), rng.standard_normal((30, 12))])
    samples = rng.standard_normal((300, 13))
    for kappa in (0.0, 0.5):
        batched = qp.solve_batched(points, samples, kappa)
        reference = qp.solve_reference(points, samples, kappa)
        np.testing.assert_allclose(batched.v, reference.v, atol=1e-8)
        assert qp.kkt_ok(points, samples, batched.multipliers, kappa).all()


def test_dependent_points_fall_back_and_stay_exact():
    """More points than dimensions (singular G): the answer is still the reference's."""
    rng = np.random.default_rng(6)
    points = np.column_stack([np.ones(40), rng.standard_normal((40, 4))])
    samples = rng.standard_normal((100, 5))
    batched = qp.solve_batched(points, samples, 0.0)
    np.testing.assert_allclose(batched.v, qp.solve_reference(points, samples, 0.0).v, atol=1e-7)


def test_mean_abs_cosine_of_orthogonal_and_parallel_vectors():
    assert mean_abs_cosine(np.eye(4)) == 0.0
    assert mean_abs_cosine(np.ones((3, 4))) == pytest.approx(1.0)
