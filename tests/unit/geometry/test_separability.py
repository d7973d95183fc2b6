"""Simulated capacity (LP separability + bisection) against the replica theory."""

import numpy as np
import pytest

from insilico.geometry.capacity import manifold_analysis, remove_centre_correlations
from insilico.geometry.separability import separable, simulated_capacity
from insilico.geometry.synthetic import sphere_manifolds


def test_lp_separability_of_known_cases():
    points = np.array([[1.0, 0.0], [2.0, 0.5], [-1.0, 0.0]])
    assert separable(points, np.array([1.0, 1.0, -1.0]))
    assert not separable(points, np.array([1.0, -1.0, 1.0]))  # -1 lies between two +1 along a ray


def test_theory_matches_simulation_on_sphere_manifolds():
    manifolds = sphere_manifolds(300, 24, n_points=10, dim=3, radius=1.5, seed=1)
    theory = manifold_analysis(manifolds, kappa=0.0, n_t=200).capacity
    corrected, *_ = remove_centre_correlations(manifolds, max_k=10)
    simulation = simulated_capacity(corrected, n_reps=20, seed=0)
    assert simulation.capacity == pytest.approx(theory, rel=0.08)
    assert simulation.capacity < 2.0 / 2  # well below the points' capacity: the radius matters


def test_too_few_neurons_is_reported():
    manifolds = sphere_manifolds(10, 40, n_points=10, dim=5, radius=3.0, seed=0)
    with pytest.raises(ValueError, match="cannot be bracketed"):
        simulated_capacity(manifolds, n_reps=4)
