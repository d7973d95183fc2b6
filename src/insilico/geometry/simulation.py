"""Theory against simulation for manifold capacity: synthetic manifolds and one model layer.

For each case the replica capacity (:func:`insilico.geometry.capacity.manifold_analysis`) and the
simulated one (:func:`insilico.geometry.separability.simulated_capacity`, on the same
centre-corrected points) are stored with the fractions separable that the bisection measured, the
relative difference, and whether it is within the configured tolerance. The synthetic case is a
positive control (random sphere manifolds: the theory's assumptions hold by construction); the
model layer is the real test (its manifolds are neither random nor spheres).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from insilico.geometry.capacity import manifold_analysis, remove_centre_correlations
from insilico.geometry.separability import simulated_capacity


def compare(manifolds: list[np.ndarray], n_t: int, max_k: int, n_reps: int, seed: int) -> dict:
    """Theory and simulated capacity of one set of manifolds, and the bisection's record."""
    theory = manifold_analysis(manifolds, 0.0, n_t, seed, max_k)
    corrected, *_ = remove_centre_correlations(manifolds, max_k)
    record = {
        "theory_capacity": theory.capacity,
        "n_features": manifolds[0].shape[0],
        "n_manifolds": len(manifolds),
    }
    try:
        simulation = simulated_capacity(corrected, n_reps, seed)
    except ValueError:  # fewer neurons than N_c: nothing to bisect; stated, not hidden
        nan = np.array([np.nan])
        return {
            **record,
            "simulated_capacity": np.nan,
            "n_critical": np.nan,
            "tried_n": nan,
            "fraction_separable": nan,
        }
    return {
        **record,
        "simulated_capacity": simulation.capacity,
        "n_critical": simulation.n_critical,
        "tried_n": simulation.tried_n,
        "fraction_separable": simulation.fraction_separable,
    }


def subset(manifolds: list[np.ndarray], n_manifolds: int, seed: int) -> list[np.ndarray]:
    """A seeded random subset of at most ``n_manifolds`` manifolds (kept in their order).

    Capacity is intensive (P / N_c), so fewer manifolds need proportionally fewer neurons: this
    keeps N_c below the layer's feature count, where the bisection can bracket it.
    """
    if n_manifolds >= len(manifolds):
        return manifolds
    chosen = np.sort(np.random.default_rng(seed).choice(len(manifolds), n_manifolds, replace=False))
    return [manifolds[i] for i in chosen]


def comparison_dataset(cases: dict[str, dict], tolerance: float) -> xr.Dataset:
    """One row per case; the bisection records padded with nan to a common length."""
    names = list(cases)
    length = max(len(c["tried_n"]) for c in cases.values())

    def padded(key):
        return np.array(
            [
                np.pad(c[key].astype(float), (0, length - len(c[key])), constant_values=np.nan)
                for c in cases.values()
            ]
        )

    scalars = ("theory_capacity", "simulated_capacity", "n_critical", "n_features", "n_manifolds")
    data = {key: (("case",), np.array([cases[n][key] for n in names])) for key in scalars}
    data["tried_n"] = (("case", "trial"), padded("tried_n"))
    data["fraction_separable"] = (("case", "trial"), padded("fraction_separable"))
    theory, simulated = data["theory_capacity"][1], data["simulated_capacity"][1]
    relative = np.abs(simulated - theory) / theory
    data["relative_difference"] = (("case",), relative)
    data["within_tolerance"] = (("case",), relative <= tolerance)
    return xr.Dataset(data, {"case": names}, attrs={"tolerance": tolerance})
