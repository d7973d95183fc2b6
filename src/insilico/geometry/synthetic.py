"""Manifolds whose geometry is known by construction: positive controls for the theory.

Random centres and random axis directions in N dimensions are the theory's own assumptions
(randomly oriented manifolds), so on these the replica capacity must agree with the simulated one.
"""

from __future__ import annotations

import numpy as np


def sphere_manifolds(
    n_features: int, n_manifolds: int, n_points: int, dim: int, radius: float, seed: int = 0
) -> list[np.ndarray]:
    """P point clouds (N, M): unit-norm random centre + M points on a radius-R sphere in D dims.

    Each manifold's D axes are random orthonormal directions; its points are random directions
    of that subspace scaled to ``radius`` (relative to the centre norm). ``radius=0`` gives points.
    """
    rng = np.random.default_rng(seed)
    manifolds = []
    for _ in range(n_manifolds):
        centre = rng.standard_normal(n_features)
        centre /= np.linalg.norm(centre)
        axes, _ = np.linalg.qr(rng.standard_normal((n_features, dim)))
        coefficients = rng.standard_normal((dim, n_points))
        coefficients *= radius / np.linalg.norm(coefficients, axis=0, keepdims=True)
        manifolds.append(centre[:, None] + axes @ coefficients)
    return manifolds
