"""Gradient descent steps against finite differences of the losses."""

from __future__ import annotations

import numpy as np

from insilico.learning_dynamics import simulate as sim


def _numeric_grad(loss, weights, i, eps=1e-6):
    grad = np.zeros_like(weights[i])
    for idx in np.ndindex(weights[i].shape):
        w = [a.copy() for a in weights]
        w[i][idx] += eps
        up = loss(w)
        w[i][idx] -= 2 * eps
        grad[idx] = (up - loss(w)) / (2 * eps)
    return grad


def _stepped(loss, weights, lr):
    return [w - lr * _numeric_grad(loss, weights, i) for i, w in enumerate(weights)]


def test_one_linear_step_is_minus_lr_times_the_gradient():
    rng = np.random.default_rng(0)
    weights = sim.random_init(rng, (3, 4, 4, 2), 1, 0.5)
    sigma31, a = rng.standard_normal((1, 2, 3)), rng.standard_normal((3, 3))
    sigma11 = (a @ a.T)[None]

    def loss(w):
        m = sim.product(w)[0]
        return 0.5 * np.trace(m @ sigma11[0] @ m.T) - np.trace(m @ sigma31[0].T)

    lr = 0.01
    run = sim.train_linear(weights, sigma31, lr, 1, 1, lambda w: {"m": sim.product(w)}, sigma11)
    expected = sim.product(_stepped(loss, weights, lr))
    np.testing.assert_allclose(run["m"][:, 1], expected, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(run["m"][:, 0], sim.product(weights))


def test_one_relu_step_is_minus_lr_times_the_gradient():
    rng = np.random.default_rng(1)
    weights = sim.random_init(rng, (4, 6, 3), 1, 0.7)
    x, y = rng.standard_normal((4, 5)), rng.standard_normal((1, 3, 5))

    def loss(w):
        return 0.5 / 5 * ((y - w[1] @ np.maximum(w[0] @ x, 0)) ** 2).sum()

    lr = 0.05
    outputs = sim.train_relu(weights, x, y, lr, 1, 1)
    w1, w2 = _stepped(loss, weights, lr)
    np.testing.assert_allclose(outputs[:, 1], w2 @ np.maximum(w1 @ x, 0), rtol=1e-6, atol=1e-9)


def test_decoupled_start_puts_each_mode_at_its_strength_and_nothing_else():
    rng = np.random.default_rng(2)
    u = np.linalg.qr(rng.standard_normal((2, 5, 3)))[0]
    v = np.linalg.qr(rng.standard_normal((2, 4, 3)))[0]
    a0 = np.array([0.1, 0.02, 0.003])
    for depth in (2, 3, 4):
        w = sim.decoupled_init(rng, u, v, a0, 6, depth)
        expected = (u * a0) @ np.swapaxes(v, -1, -2)
        np.testing.assert_allclose(sim.product(w), expected, atol=1e-12)
        # balanced: W_{l+1}^T W_{l+1} = W_l W_l^T
        np.testing.assert_allclose(
            np.swapaxes(w[1], -1, -2) @ w[1], w[0] @ np.swapaxes(w[0], -1, -2), atol=1e-12
        )
