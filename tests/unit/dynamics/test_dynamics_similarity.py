from __future__ import annotations

import numpy as np
import pytest
import torch

from insilico.dynamics.similarity import mds, pairwise_distances, represent, silhouette

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _activations(n=200, d=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64) @ torch.randn(
        d, d, generator=g, dtype=torch.float64
    )


def _orthogonal(d, seed):
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    return q


def _distances(*activations, variance=1.0, block=64):
    return pairwise_distances(represent(list(activations), variance=variance), block=block)


def test_cca_is_invariant_to_invertible_linear_maps():
    x = _activations()
    g = torch.Generator().manual_seed(5)
    mixing = torch.randn(6, 6, generator=g, dtype=torch.float64) + 3 * torch.eye(6)
    shifted = x @ mixing + 7.0  # any invertible map, plus an offset
    distances = _distances(x, shifted, _activations(seed=1))
    assert distances["svcca"][0, 1] == pytest.approx(0.0, abs=1e-9)
    assert distances["svcca"][0, 2] > 0.05
    # CKA and Procrustes are not invariant to a general linear map.
    assert distances["procrustes"][0, 1] > 1e-3


def test_procrustes_and_cka_are_invariant_to_rotations_and_padding():
    x = _activations()
    rotated = x @ _orthogonal(6, 3)
    wider = torch.cat([x @ _orthogonal(6, 4), torch.zeros(200, 3, dtype=torch.float64)], dim=1)
    scaled = 5.0 * x
    distances = _distances(x, rotated, wider, scaled, _activations(seed=2))
    for measure in ("procrustes", "cka"):
        assert np.allclose(distances[measure][0, 1:4], 0.0, atol=1e-7), measure
        assert distances[measure][0, 4] > 0.05
    assert np.allclose(distances["svcca"][0, 1:4], 0.0, atol=1e-9)


def test_distance_matrices_are_symmetric_metrics_whatever_the_block():
    activations = [_activations(d=4 + i % 3, seed=i) for i in range(7)]
    small = pairwise_distances(represent(activations, variance=0.99), block=2)
    large = pairwise_distances(represent(activations, variance=0.99), block=64)
    for measure, matrix in small.items():
        assert np.allclose(matrix, large[measure], atol=1e-10)
        assert np.allclose(matrix, matrix.T)
        assert np.all(np.diag(matrix) == 0)
    procrustes = small["procrustes"]
    n = len(activations)
    for i in range(n):
        for j in range(n):
            for k in range(n):
                assert procrustes[i, k] <= procrustes[i, j] + procrustes[j, k] + 1e-9


def test_svcca_keeps_the_components_that_explain_the_variance():
    g = torch.Generator().manual_seed(0)
    latent = torch.randn(300, 2, generator=g, dtype=torch.float64)
    x = torch.cat([latent * 10, 1e-3 * torch.randn(300, 3, generator=g, dtype=torch.float64)], 1)
    reps = represent([x], variance=0.99, max_dims=10)
    assert reps.dims.tolist() == [2]
    assert represent([x], variance=0.99, max_dims=1).dims.tolist() == [1]


def test_mds_recovers_a_planar_configuration():
    g = np.random.default_rng(0)
    points = g.normal(size=(9, 2))
    distances = np.linalg.norm(points[:, None] - points[None], axis=-1)
    coords = mds(distances)
    recovered = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    assert np.allclose(recovered, distances, atol=1e-9)


def test_silhouette_of_separated_and_mixed_groups():
    points = np.array([0.0, 0.1, 0.2, 10.0, 10.1, 10.2])
    distances = np.abs(points[:, None] - points[None])
    assert silhouette(distances, ["a", "a", "a", "b", "b", "b"]) > 0.9
    assert silhouette(distances, ["a", "b", "a", "b", "a", "b"]) < 0
    assert np.isnan(silhouette(distances, ["a"] * 6))
