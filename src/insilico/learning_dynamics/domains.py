"""Hierarchically structured domains of items and features (Saxe, McClelland & Ganguli 2019) and
their modes: the 8-item binary tree with one feature per node, and a larger random tree whose
features come from a branching diffusion down the tree.

Items are one-hot inputs scaled by sqrt(P), so Sigma11 = I and Sigma31 = Y / sqrt(P) (features x
items); its singular value decomposition gives the modes the network learns one by one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Domain:
    features: np.ndarray  # Y, features x items
    parents: np.ndarray  # parent of each tree node (-1 for the root); leaves are the items
    leaves: np.ndarray  # node index of each item

    @property
    def items(self) -> int:
        return self.features.shape[1]

    @property
    def sigma31(self) -> np.ndarray:
        return self.features / np.sqrt(self.items)

    @property
    def inputs(self) -> np.ndarray:
        return np.sqrt(self.items) * np.eye(self.items)


def binary_tree(levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Parents of a full binary tree with ``levels`` levels below the root, and its leaves."""
    parents = np.array([-1] + [(i - 1) // 2 for i in range(1, 2 ** (levels + 1) - 1)])
    return parents, np.arange(2**levels - 1, 2 ** (levels + 1) - 1)


def ancestors(parents: np.ndarray, node: int) -> list[int]:
    """The node and every node above it."""
    out = [node]
    while parents[out[-1]] >= 0:
        out.append(int(parents[out[-1]]))
    return out


def node_feature_domain(levels: int = 3) -> Domain:
    """Saxe et al.'s tree: 2^levels items, one feature per node, present in the items below it."""
    parents, leaves = binary_tree(levels)
    y = np.zeros((len(parents), len(leaves)))
    for item, leaf in enumerate(leaves):
        y[ancestors(parents, leaf), item] = 1.0
    return Domain(y, parents, leaves)


def random_tree(rng, depth: int, branching: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A tree of ``depth`` levels whose nodes have between branching[0] and branching[1] children."""
    parents, level = [-1], [0]
    for _ in range(depth):
        nxt = []
        for node in level:
            for _ in range(rng.integers(branching[0], branching[1] + 1)):
                parents.append(node)
                nxt.append(len(parents) - 1)
        level = nxt
    return np.array(parents), np.array(level)


def diffusion_domain(rng, parents, leaves, n_features: int, flip: float) -> Domain:
    """Features by branching diffusion on a tree: each feature's +-1 value at the root is copied
    down every edge and flipped with probability ``flip``; the items are the leaves."""
    values = np.empty((n_features, len(parents)))
    values[:, 0] = rng.choice([-1.0, 1.0], n_features)
    for node in range(1, len(parents)):  # parents come before their children
        flips = rng.random(n_features) < flip
        values[:, node] = np.where(flips, -1, 1) * values[:, parents[node]]
    return Domain(values[:, leaves], parents, leaves)


def modes(domain: Domain, count: int | None = None):
    """Singular values, output (feature) and input (item) vectors of Sigma31, largest first, signs
    fixed so each item vector sums to >= 0."""
    u, s, vt = np.linalg.svd(domain.sigma31, full_matrices=False)
    keep = s > 1e-9 * s[0]
    u, s, v = u[:, keep], s[keep], vt[keep].T
    sign = np.where(v.sum(0) < -1e-9, -1.0, 1.0)
    u, v = u * sign, v * sign
    if count is not None:
        u, s, v = u[:, :count], s[:count], v[:, :count]
    return s, u, v


def groups(s: np.ndarray, tol: float = 1e-6) -> list[np.ndarray]:
    """Indices of modes with equal singular values (a degenerate subspace is learnt as one)."""
    out, start = [], 0
    for i in range(1, len(s) + 1):
        if i == len(s) or s[i] < s[start] * (1 - tol):
            out.append(np.arange(start, i))
            start = i
    return out


def group_strength(maps: np.ndarray, u: np.ndarray, v: np.ndarray, members) -> np.ndarray:
    """Mean strength tr(U_g^T W V_g) / |g| of each group of modes in input-output maps (..., out,
    in): basis-free inside a degenerate subspace. Returns (..., groups)."""
    diag = np.einsum("ok,...oi,ik->...k", u, maps, v)
    return np.stack([diag[..., g].mean(-1) for g in members], axis=-1)


def cross_half_time(times: np.ndarray, curve: np.ndarray, target: float) -> float:
    """First time a rising curve crosses ``target`` (linear interpolation); nan if it never does."""
    above = np.nonzero(curve >= target)[0]
    if len(above) == 0 or above[0] == 0:
        return np.nan
    i = above[0]
    frac = (target - curve[i - 1]) / (curve[i] - curve[i - 1])
    return float(times[i - 1] + frac * (times[i] - times[i - 1]))
