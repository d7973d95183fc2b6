"""Full-batch gradient descent of deep linear (and one-hidden-layer ReLU) networks, many seeds at
once as batched matrix products (numpy): the simulations the theory is compared with.

A linear network's loss depends on the data only through Sigma11 = X X^T / P and
Sigma31 = Y X^T / P, so it trains on those (P drops out of every step); the ReLU network trains on
the examples. Weights have a leading seed axis: w[l] has shape (seeds, out_l, in_l).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def clock(horizon: float, lr: float, points: int) -> tuple[int, int, np.ndarray]:
    """Steps, recording interval and recorded times for a run of ``horizon`` time units."""
    every = max(1, int(round(horizon / lr / points)))
    steps = every * points
    return steps, every, np.arange(points + 1) * every * lr


def product(weights: list[np.ndarray]) -> np.ndarray:
    """The input-output map W_D ... W_1 of a linear network (batched)."""
    out = weights[0]
    for w in weights[1:]:
        out = w @ out
    return out


def random_init(rng, sizes, seeds: int, scale: float) -> list[np.ndarray]:
    """Small iid Gaussian weights of standard deviation ``scale``; sizes = (in, hidden..., out)."""
    return [
        scale * rng.standard_normal((seeds, b, a))
        for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]


def decoupled_init(rng, u, v, a0, hidden: int, depth: int) -> list[np.ndarray]:
    """Balanced weights already aligned with the modes: W_l = R_l diag(a0^(1/depth)) R_{l-1}^T with
    R_0 = V, R_depth = U and random orthonormal R_l in between, so each mode starts at a0 and the
    modes never couple. u (seeds, out, k), v (seeds, in, k), a0 (k,) or (seeds, k)."""
    seeds, _, k = u.shape
    root = np.broadcast_to(np.asarray(a0, float) ** (1 / depth), (seeds, k))
    bases = (
        [v]
        + [np.linalg.qr(rng.standard_normal((seeds, hidden, k)))[0] for _ in range(depth - 1)]
        + [u]
    )
    return [(bases[i + 1] * root[:, None, :]) @ np.swapaxes(bases[i], -1, -2) for i in range(depth)]


def train_linear(
    weights: list[np.ndarray],
    sigma31: np.ndarray,
    lr: float,
    steps: int,
    record_every: int,
    record: Callable[[list[np.ndarray]], dict],
    sigma11: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Gradient descent on 1/2 tr(W Sigma11 W^T) - tr(W Sigma31^T); returns what ``record`` gives
    at steps 0, record_every, ..., stacked on a new axis 1 (after seeds). Sigma11 = I if None."""
    weights = [w.copy() for w in weights]
    snapshots: dict[str, list] = {}
    for step in range(steps + 1):
        if step % record_every == 0:
            for key, value in record(weights).items():
                snapshots.setdefault(key, []).append(value)
        if step == steps:
            break
        right = [None] * len(weights)  # W_{l-1} ... W_1
        acc = None
        for i, w in enumerate(weights):
            right[i] = acc
            acc = w if acc is None else w @ acc
        error = acc - sigma31 if sigma11 is None else acc @ sigma11 - sigma31
        left = error  # (W_D ... W_{l+1})^T error, built from the top
        for i in range(len(weights) - 1, -1, -1):
            grad = left if right[i] is None else left @ np.swapaxes(right[i], -1, -2)
            left = np.swapaxes(weights[i], -1, -2) @ left
            weights[i] -= lr * grad
    return {key: np.stack(values, axis=1) for key, values in snapshots.items()}


def train_relu(
    weights: list[np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    lr: float,
    steps: int,
    record_every: int,
) -> np.ndarray:
    """Gradient descent of y = W2 relu(W1 x) on 1/(2P) |Y - W2 relu(W1 X)|^2 (no biases, like the
    linear network); returns the network's outputs on X at the recorded steps (seeds, times,
    out, P)."""
    w1, w2 = (w.copy() for w in weights)
    n = x.shape[-1]
    outputs = []
    for step in range(steps + 1):
        pre = w1 @ x
        hidden = np.maximum(pre, 0)
        out = w2 @ hidden
        if step % record_every == 0:
            outputs.append(out)
        if step == steps:
            break
        error = (out - y) / n
        grad_hidden = (np.swapaxes(w2, -1, -2) @ error) * (pre > 0)
        w2 -= lr * error @ np.swapaxes(hidden, -1, -2)
        w1 -= lr * grad_hidden @ x.T
    return np.stack(outputs, axis=1)
