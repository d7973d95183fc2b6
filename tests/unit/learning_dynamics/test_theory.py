"""The theory against direct simulation: s(t), the effective start, the noisy spectrum."""

from __future__ import annotations

import numpy as np
import pytest

from insilico.learning_dynamics import simulate as sim
from insilico.learning_dynamics import theory as th


def _decoupled_run(s, s0, depth, lr, horizon, dim=6, hidden=5, seed=0):
    """A network started on one mode of singular value s; returns times, simulated and exact s(t)."""
    rng = np.random.default_rng(seed)
    u = np.linalg.qr(rng.standard_normal((1, dim, 1)))[0]
    v = np.linalg.qr(rng.standard_normal((1, dim, 1)))[0]
    weights = sim.decoupled_init(rng, u, v, np.array([s0]), hidden, depth)
    steps, every, times = sim.clock(horizon, lr, 200)
    run = sim.train_linear(
        weights,
        s * u @ np.swapaxes(v, -1, -2),
        lr,
        steps,
        every,
        lambda w: {"s": np.einsum("bok,boi,bik->bk", u, sim.product(w), v)},
    )
    return times, run["s"][0, :, 0], th.mode_strength(times, s, s0, depth)


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_one_mode_follows_s_of_t_within_one_percent(depth):
    times, simulated, exact = _decoupled_run(1.5, 0.01, depth, lr=0.002, horizon=8)
    assert exact[-1] > 0.99 * 1.5  # the run covers the whole sigmoid
    assert np.max(abs(simulated - exact)) / 1.5 < 0.01


def test_a_large_learning_rate_leaves_s_of_t():
    """The guard can fail: gradient descent with lr * s near 0.5 is far from the flow."""
    _, simulated, exact = _decoupled_run(1.5, 0.01, 2, lr=0.3, horizon=8)
    assert np.max(abs(simulated - exact)) / 1.5 > 0.05


def test_closed_form_solves_the_depth_two_flow():
    t = np.linspace(0, 6, 601)
    u = th.mode_strength(t, 2.0, 1e-3, 2)
    rate = np.gradient(u, t)
    np.testing.assert_allclose(rate[1:-1], (2 * u * (2.0 - u))[1:-1], atol=2e-3 * 2.0**2)
    assert th.half_time(2.0, 1e-3) == pytest.approx(t[np.argmax(u >= 1.0)], abs=0.011)


def test_random_start_follows_s_of_t_with_its_effective_s0():
    rng = np.random.default_rng(3)
    s, dim, hidden = np.array([2.0, 1.0]), 6, 40
    u, v = (np.linalg.qr(rng.standard_normal((dim, 2)))[0] for _ in range(2))
    weights = sim.random_init(rng, (dim, hidden, dim), 4, 0.01)
    steps, every, times = sim.clock(10, 0.01, 100)
    run = sim.train_linear(
        weights,
        np.broadcast_to((u * s) @ v.T, (4, dim, dim)),
        0.01,
        steps,
        every,
        lambda w: {"s": np.einsum("ok,boi,ik->bk", u, sim.product(w), v)},
    )
    s0 = th.random_start_s0(weights[0], weights[1], u, v)
    for b in range(4):
        exact = th.strengths(times, s, s0[b]).T
        assert np.max(abs(run["s"][b] - exact) / s) < 0.05
        wrong = th.strengths(times, s, 10 * s0[b]).T  # a wrong start is visibly off
        assert np.max(abs(run["s"][b] - wrong) / s) > 0.1


@pytest.mark.parametrize("n, m, s", [(300, 300, 2.0), (200, 400, 1.5), (400, 200, 1.5)])
def test_noisy_singular_value_and_overlaps_match_a_simulated_spectrum(n, m, s):
    rng = np.random.default_rng(1)
    noise_var = 1.0 / 300
    u, v = rng.standard_normal(n), rng.standard_normal(m)
    u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
    found = []
    for _ in range(4):
        a = s * np.outer(u, v) + np.sqrt(noise_var) * rng.standard_normal((n, m))
        left, values, right = np.linalg.svd(a)
        found.append([values[0], (left[:, 0] @ u) ** 2, (right[0] @ v) ** 2])
    value, out_side, in_side = th.noisy_spectrum([s], n, m, noise_var)
    measured = np.mean(found, axis=0)
    assert measured[0] == pytest.approx(value[0], rel=0.03)
    assert measured[1] == pytest.approx(out_side[0], abs=0.08)
    assert measured[2] == pytest.approx(in_side[0], abs=0.08)


def test_square_case_is_lampinen_and_ganguli_formula():
    sigma, n = 0.7, 100
    for s in (0.8, 1.4, 3.0):
        value = th.noisy_spectrum([s], n, n, sigma**2 / n)[0][0]
        expected = (sigma**2 + s**2) / s if s > sigma else 2 * sigma
        assert value == pytest.approx(expected)


def test_below_threshold_the_top_value_is_the_bulk_edge():
    rng = np.random.default_rng(2)
    n, sigma = 400, 1.0
    u, v = rng.standard_normal(n), rng.standard_normal(n)
    a = 0.5 * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))
    values = np.linalg.svd(a + sigma / np.sqrt(n) * rng.standard_normal((n, n)), compute_uv=False)
    assert values[0] == pytest.approx(2 * sigma, rel=0.03)
    bulk = th.marchenko_pastur_values(n, n, sigma**2 / n, n)
    assert np.mean(abs(np.sort(values)[::-1] - bulk)) < 0.03


def test_learning_curves_without_noise_are_the_teachers_modes():
    """Vanishing noise: test error = sum (s - s(t))^2, training error likewise."""
    times = np.linspace(0, 8, 50)
    s = np.array([2.0, 1.0])
    test, train = th.learning_curves(np.diag(s), np.ones(2, bool), 1.0, 20, 20, 1e-12, 1e-3, times)
    expected = ((s[:, None] - th.strengths(times, s, 1e-3)) ** 2).sum(0)
    np.testing.assert_allclose(test, expected, atol=1e-3)
    np.testing.assert_allclose(train, expected, atol=1e-3)
