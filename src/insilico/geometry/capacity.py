"""Replica mean-field theory of manifold capacity (MFTMA), written from the papers.

Chung, Lee & Sompolinsky 2018 (Phys. Rev. X 8, 031003) give the capacity alpha_M = P / N_c of P
manifolds at margin kappa: the largest load at which random dichotomies stay linearly separable,

    1 / alpha_M = < F(t) >_t,   F(t) = min_v { ||v - t||^2 : x . v >= kappa for all x in M },

t a standard Gaussian vector in the manifold's span (centre direction + axes), each manifold
scaled so that its centre has unit norm. The minimiser defines the *anchor point*
s~(t) = (s0, s), the point of the manifold that supports v (a convex combination of touched points,
weights the KKT multipliers; the point minimising t . x when no constraint binds). From the anchor
points come the manifold radius R_M^2 = < ||s||^2 > and dimension D_M = < (t_vec . s_hat)^2 >
(t_vec the part of t along the axes, s_hat the unit vector of s). Mixtures of manifolds add in
1 / alpha (the average capacity is 1 / mean(1 / alpha_i)).

Cohen, Chung, Lee & Sompolinsky 2020 (Nat. Commun. 11, 746) remove correlations between manifold
centres before the analysis, since the theory assumes randomly oriented manifolds: subtract the
global mean of the centres, then project out from every point the K-dimensional subspace of the
centres' shared low-rank structure. Here that subspace is spanned by the top K principal axes of
the centres, K (<= ``max_k``) chosen to minimise the mean absolute cosine between residual centres
(the published code optimises the subspace on the Stiefel manifold instead; for independent
centres both leave residual correlations at the noise floor). The reported centre correlation is
that mean absolute cosine before the projection; the residual one after it is kept too.

Geometry is exact for real data: each point is expressed in an orthonormal basis of (centre
direction, axes orthogonal to it), so an axis component along the centre enters the centre
coordinate instead of being assumed away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from insilico.geometry import qp

SOLVERS = {"batched": qp.solve_batched, "reference": qp.solve_reference}


@dataclass(frozen=True)
class ManifoldGeometry:
    """Capacity, radius and dimension of each manifold and their averages over manifolds."""

    capacity_per_manifold: np.ndarray  # (P,)
    radius_per_manifold: np.ndarray  # (P,)
    dimension_per_manifold: np.ndarray  # (P,)
    centre_correlation: float  # mean |cos| between centres, before the low-rank projection
    residual_correlation: float  # the same after it
    n_projected: int  # K, dimensions of shared centre structure projected out
    n_fallback: int  # anchor problems re-solved by the one-sample reference solver

    @property
    def capacity(self) -> float:
        """Capacity of the whole set: 1 / mean(1 / alpha_i) (the theory's mixture rule)."""
        return float(1.0 / np.mean(1.0 / self.capacity_per_manifold))

    @property
    def radius(self) -> float:
        return float(np.mean(self.radius_per_manifold))

    @property
    def dimension(self) -> float:
        return float(np.mean(self.dimension_per_manifold))


def mean_abs_cosine(vectors: np.ndarray) -> float:
    """Mean absolute cosine between the columns of ``vectors`` (N, P), off the diagonal."""
    unit = vectors / np.linalg.norm(vectors, axis=0, keepdims=True)
    cosine = unit.T @ unit
    return float(np.abs(cosine[~np.eye(len(cosine), dtype=bool)]).mean())


def centre_subspace(centres: np.ndarray, max_k: int) -> tuple[np.ndarray, float, float]:
    """Orthonormal basis (N, K) of the centres' shared structure, and correlations before/after.

    ``centres`` (N, P) with the global mean already removed. K in 0..max_k minimises the mean
    absolute cosine between residual centres, and K <= (P - 1) / 2 so that at least half of the
    centres' P - 1 dimensions stay (with few manifolds, projecting more would leave residual
    centres near zero and the capacity undefined).
    """
    axes, _, _ = np.linalg.svd(centres, full_matrices=False)
    before = mean_abs_cosine(centres)
    scores = [before]
    for k in range(1, min(max_k, (centres.shape[1] - 1) // 2) + 1):
        basis = axes[:, :k]
        scores.append(mean_abs_cosine(centres - basis @ (basis.T @ centres)))
    k = int(np.argmin(scores))
    return axes[:, :k], before, float(scores[k])


def manifold_coordinates(points: np.ndarray) -> np.ndarray:
    """Points (N, M) of one manifold as (M, 1 + D) coordinates, centre norm scaled to 1.

    Column 0 is along the unit centre direction, the rest along an orthonormal basis of the
    deviations' span orthogonal to the centre (only its D nonzero directions are kept).
    """
    centre = points.mean(axis=1)
    norm = np.linalg.norm(centre)
    if not norm > 1e-12 * max(np.abs(points).max(), 1e-300):
        raise ValueError("a manifold's centre is zero after the centre correction: no capacity")
    unit = centre / norm
    scaled = points / norm
    along = unit @ scaled
    rest = scaled - np.outer(unit, along)
    # the Gram matrix (M, M) gives the same coordinates as an SVD of rest, up to a rotation that
    # the isotropic samples t do not see, at a fraction of the cost when N >> M
    eigenvalues, eigenvectors = np.linalg.eigh(rest.T @ rest)
    keep = eigenvalues > 1e-12 * max(eigenvalues[-1], 1.0)
    return np.column_stack([along, eigenvectors[:, keep] * np.sqrt(eigenvalues[keep])])


def anchor_geometry(coords: np.ndarray, samples: np.ndarray, kappa: float, solver: str):
    """Capacity, radius, dimension of one manifold from its anchor points; and fallbacks used."""
    solution = SOLVERS[solver](coords, samples, kappa)
    f = np.sum((solution.v - samples) ** 2, axis=1)
    weights = solution.multipliers.sum(axis=1, keepdims=True)
    touched = weights[:, 0] > 0
    anchors = np.empty_like(samples)
    anchors[touched] = solution.multipliers[touched] @ coords / weights[touched]
    support = np.argmin(samples[~touched] @ coords.T, axis=1)
    anchors[~touched] = coords[support]
    # in units of the centre norm; not divided by s0, which is 1 in the theory's model but may
    # approach 0 for real manifolds whose spread along the centre is as large as the centre
    axes_part = anchors[:, 1:]
    radius = np.sqrt(np.mean(np.sum(axes_part**2, axis=1)))
    norms = np.linalg.norm(axes_part, axis=1)
    unit = np.divide(
        axes_part, norms[:, None], out=np.zeros_like(axes_part), where=norms[:, None] > 0
    )
    dimension = np.mean(np.sum(samples[:, 1:] * unit, axis=1) ** 2)
    return 1.0 / np.mean(f), radius, dimension, solution.n_fallback


def manifold_analysis(
    manifolds: list[np.ndarray],
    kappa: float = 0.0,
    n_t: int = 200,
    seed: int = 0,
    max_k: int = 10,
    solver: str = "batched",
) -> ManifoldGeometry:
    """MFTMA of P manifolds, each an (N, M_i) array of M_i points in N dimensions.

    ``n_t`` Gaussian samples per manifold from a generator seeded by ``seed`` (the same samples
    for every solver, so batched and reference runs agree to the KKT tolerance).
    """
    rng = np.random.default_rng(seed)
    corrected, k, before, after = remove_centre_correlations(manifolds, max_k)
    results = []
    for points in corrected:
        coords = manifold_coordinates(points)
        samples = rng.standard_normal((n_t, coords.shape[1]))
        results.append(anchor_geometry(coords, samples, kappa, solver))
    capacity, radius, dimension, fallbacks = (
        np.array(column) for column in zip(*results, strict=True)
    )
    return ManifoldGeometry(capacity, radius, dimension, before, after, k, int(fallbacks.sum()))


def remove_centre_correlations(manifolds: list[np.ndarray], max_k: int):
    """Manifolds with the global centre removed and the shared centre subspace projected out.

    Returns the corrected manifolds, K, and the centre correlation before and after; the
    simulated capacity (:mod:`insilico.geometry.separability`) runs on the same corrected points.
    """
    centres = np.column_stack([m.mean(axis=1) for m in manifolds])
    origin = centres.mean(axis=1, keepdims=True)
    basis, before, after = centre_subspace(centres - origin, max_k)
    corrected = []
    for points in manifolds:
        shifted = points - origin
        corrected.append(shifted - basis @ (basis.T @ shifted))
    return corrected, basis.shape[1], before, after
