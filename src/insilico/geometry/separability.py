"""Simulated manifold capacity: how many neurons make random dichotomies linearly separable.

The replica theory predicts the critical number of neurons N_c = P / alpha_M above which a
random labelling of P manifolds (every point of a manifold gets its manifold's label) is linearly
separable by a plane through the origin. This module measures it directly, the check the papers
run against the theory: for n neurons (a random subset of the features), draw random dichotomies
and test separability exactly as an LP feasibility problem (HiGHS through scipy): find w with
y_i (x . w) >= 1 for every point x of every manifold i. The fraction separable rises with n;
N_c is where it crosses 1/2, found by bisection over n, and the simulated capacity is P / N_c.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog


@dataclass(frozen=True)
class SimulatedCapacity:
    """Critical neuron count, capacity P / N_c, and the fractions measured during bisection."""

    n_critical: int
    capacity: float
    tried_n: np.ndarray  # neuron counts evaluated, in order
    fraction_separable: np.ndarray  # fraction of separable draws at each


def separable(points: np.ndarray, labels: np.ndarray) -> bool:
    """Is there w with labels * (points @ w) >= 1 for every row? (LP feasibility, exact)."""
    constraints = -labels[:, None] * points
    result = linprog(
        np.zeros(points.shape[1]),
        A_ub=constraints,
        b_ub=-np.ones(len(points)),
        bounds=(None, None),
        method="highs",
    )
    return result.status == 0


def fraction_separable(
    manifolds: list[np.ndarray], n_neurons: int, n_reps: int, rng: np.random.Generator
) -> float:
    """Fraction of ``n_reps`` draws (random neuron subset, random dichotomy) that separate."""
    total = manifolds[0].shape[0]
    sizes = [m.shape[1] for m in manifolds]
    stacked = np.concatenate(manifolds, axis=1).T  # (sum M_i, N)
    hits = 0
    for _ in range(n_reps):
        neurons = rng.choice(total, size=n_neurons, replace=False)
        signs = rng.choice([-1.0, 1.0], size=len(manifolds))
        hits += separable(stacked[:, neurons], np.repeat(signs, sizes))
    return hits / n_reps


def simulated_capacity(
    manifolds: list[np.ndarray], n_reps: int = 20, seed: int = 0
) -> SimulatedCapacity:
    """Bracket, then bisect, the neuron count at which the fraction separable reaches 1/2.

    ``manifolds`` as for :func:`insilico.geometry.capacity.manifold_analysis`, already corrected
    for centre correlations where the theory was (pass the corrected manifolds). The search starts
    at P / 2 neurons (capacity cannot exceed 2 at zero margin, Cover's bound for points) and
    doubles until half the draws separate, so the costly large-n LPs are only run when needed.
    Fails if even all N neurons do not separate half the dichotomies.
    """
    rng = np.random.default_rng(seed)
    total = manifolds[0].shape[0]
    tried, fractions = [], []

    def reaches_half(n: int) -> bool:
        tried.append(n)
        fractions.append(fraction_separable(manifolds, n, n_reps, rng))
        return fractions[-1] >= 0.5

    low = max(len(manifolds) // 2 - 1, 0)  # assumed below N_c
    high = min(max(2 * low, 1), total)
    while not reaches_half(high):
        if high == total:
            raise ValueError(
                f"fewer than half of the dichotomies are separable with all {total} neurons: "
                "the simulated capacity cannot be bracketed; use more neurons or fewer manifolds"
            )
        low, high = high, min(2 * high, total)
    while high - low > 1:
        middle = (low + high) // 2
        if reaches_half(middle):
            high = middle
        else:
            low = middle
    return SimulatedCapacity(high, len(manifolds) / high, np.array(tried), np.array(fractions))
