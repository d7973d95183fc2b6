"""Known answers for DSA: geometry and dynamics can disagree, and DSA sees the dynamics."""

import numpy as np
import pytest
import torch

from insilico.dynamics.dsa import dsa_distances, population_dsa, within_group_silhouette
from insilico.dynamics.similarity import pairwise_distances, represent

SETTINGS = {"n_delays": 1, "rank": 6, "score_method": "wasserstein", "iters": 100, "lr": 0.01}


def _rotation(decay: float, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return decay * np.array([[c, -s], [s, c]])


def _operator(planes) -> np.ndarray:
    """Block-diagonal operator of damped rotations, one 2-D plane each."""
    a = np.zeros((2 * len(planes), 2 * len(planes)))
    for i, (decay, angle) in enumerate(planes):
        a[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = _rotation(decay, angle)
    return a


def _trajectories(a: np.ndarray, seed: int, trials: int = 24, steps: int = 40, noise=1e-3):
    """``(trials, steps, units)`` states of x_{t+1} = A x_t from random starts, small noise."""
    rng = np.random.default_rng(seed)
    x = np.zeros((trials, steps, a.shape[0]))
    x[:, 0] = rng.standard_normal((trials, a.shape[0]))
    for t in range(1, steps):
        x[:, t] = x[:, t - 1] @ a.T
    return x + noise * rng.standard_normal(x.shape)


def _procrustes(x: np.ndarray, y: np.ndarray) -> float:
    reps = represent([torch.from_numpy(m.reshape(-1, m.shape[-1])) for m in (x, y)], 1.0)
    return float(pairwise_distances(reps)["procrustes"][0, 1])


@pytest.fixture(scope="module")
def systems():
    base = _trajectories(_operator([(0.95, 0.3), (0.9, 0.7), (0.85, 1.1)]), seed=0)
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((6, 6)))
    return {
        "base": base,
        # the same states visited backwards: identical geometry, inverse eigenvalues
        "reversed": base[:, ::-1].copy(),
        # the same dynamics in rotated coordinates (a conjugate system)
        "conjugate": base @ q.T,
        # an unrelated system, for the scale of a large distance
        "other": _trajectories(_operator([(0.6, 0.2), (0.7, 1.5), (0.99, 0.05)]), seed=2),
    }


def test_same_geometry_different_eigenvalues_is_far_under_dsa_and_close_under_procrustes(systems):
    base, reversed_ = systems["base"], systems["reversed"]
    # geometry: the reversed system's states, listed state by state as the base system's
    same_states = reversed_[:, ::-1]
    assert _procrustes(base, same_states) < 1e-6
    d = dsa_distances([base, reversed_, systems["conjugate"], systems["other"]], SETTINGS)
    assert d[0, 1] > 20 * d[0, 2]
    assert d[0, 1] > 0.2 * d[0, 3]


def test_conjugate_systems_are_close_under_dsa(systems):
    d = dsa_distances([systems["base"], systems["conjugate"], systems["other"]], SETTINGS)
    assert d[0, 1] < 0.02 * d[0, 2]
    assert np.allclose(d, d.T) and np.all(np.diag(d) == 0)


def test_the_negative_control_of_independent_runs_of_one_system_stays_near_zero(systems):
    a = _operator([(0.95, 0.3), (0.9, 0.7), (0.85, 1.1)])
    runs = [_trajectories(a, seed=s) for s in range(3)]
    d = dsa_distances([*runs, systems["other"]], SETTINGS)
    assert d[:3, :3].max() < 0.05 * d[:3, 3].min()


def test_population_silhouettes_separate_planted_groups():
    fast = _operator([(0.95, 0.3), (0.9, 0.7), (0.85, 1.1)])
    slow = _operator([(0.6, 0.2), (0.7, 1.5), (0.99, 0.05)])
    trajectories = [_trajectories(m, seed=s) for m in (fast, slow) for s in range(3)] * 2
    names = [f"n{i}" for i in range(12)]
    coords = {
        "network": names,
        "task": ("network", ["a"] * 6 + ["b"] * 6),
        "arch": ("network", (["fast"] * 3 + ["slow"] * 3) * 2),
    }
    ds = population_dsa(trajectories, coords, SETTINGS)
    assert ds.attrs["silhouette_arch_within_task"] > 0.9
    # tasks hold the same two dynamics: DSA must not invent a task separation
    assert ds.attrs["silhouette_task"] < 0.1
    assert ds["mds_dsa"].shape == (12, 2)


def test_within_group_silhouette_ignores_groups_with_one_label():
    d = np.array([[0, 1, 5], [1, 0, 5], [5, 5, 0.0]])
    assert np.isnan(within_group_silhouette(d, ["a", "a", "b"], ["x", "x", "y"]))
