"""Hierarchical domains: the 8-item tree's known spectrum, diffusion features, group strengths."""

from __future__ import annotations

import numpy as np
import pytest

from insilico.learning_dynamics import domains as dm


def test_eight_item_tree_has_one_singular_value_per_level():
    domain = dm.node_feature_domain(3)
    assert domain.features.shape == (15, 8)
    s, u, v = dm.modes(domain)
    # item similarity Y^T Y has eigenvalues 15, 7, 3 (x2), 1 (x4); Sigma31 = Y / sqrt(8)
    expected = np.sqrt([15, 7, 3, 3, 1, 1, 1, 1]) / np.sqrt(8)
    np.testing.assert_allclose(s, expected, atol=1e-9)
    assert [len(g) for g in dm.groups(s)] == [1, 1, 2, 4]
    np.testing.assert_allclose(abs(v[:, 0]), np.full(8, 1 / np.sqrt(8)))  # the root: all items
    np.testing.assert_allclose(abs(v[:, 1]), np.full(8, 1 / np.sqrt(8)))  # the first split
    assert np.sign(v[:4, 1]).tolist() == [np.sign(v[0, 1])] * 4


def test_group_strength_does_not_depend_on_the_basis_inside_a_group():
    domain = dm.node_feature_domain(3)
    s, u, v = dm.modes(domain)
    rng = np.random.default_rng(0)
    leaves = dm.groups(s)[-1]
    rotation = np.linalg.qr(rng.standard_normal((len(leaves), len(leaves))))[0]
    u2, v2 = u.copy(), v.copy()
    u2[:, leaves], v2[:, leaves] = u[:, leaves] @ rotation, v[:, leaves] @ rotation
    w = rng.standard_normal((15, 8))
    a = dm.group_strength(w, u, v, dm.groups(s))
    b = dm.group_strength(w, u2, v2, dm.groups(s))
    np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(
        dm.group_strength(domain.sigma31, u, v, dm.groups(s)), [s[g[0]] for g in dm.groups(s)]
    )


def test_diffusion_without_flips_copies_the_root_and_with_flips_varies():
    rng = np.random.default_rng(0)
    parents, leaves = dm.random_tree(rng, 3, (2, 3))
    assert all(parents[p] < p for p in range(1, len(parents)))
    fixed = dm.diffusion_domain(rng, parents, leaves, 30, 0.0)
    assert (fixed.features == fixed.features[:, :1]).all()
    varied = dm.diffusion_domain(rng, parents, leaves, 30, 0.2)
    assert np.linalg.matrix_rank(varied.features) > 1


def test_cross_half_time_interpolates():
    times = np.array([0.0, 1.0, 2.0])
    assert dm.cross_half_time(times, np.array([0.0, 0.4, 0.8]), 0.6) == pytest.approx(1.5)
    assert np.isnan(dm.cross_half_time(times, np.array([0.0, 0.1, 0.2]), 0.6))
