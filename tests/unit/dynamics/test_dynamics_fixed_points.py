"""Fixed points on cases with known answers: an analytic tanh network and a trained flip-flop."""

from __future__ import annotations

import logging
import math

import pytest
import torch

from insilico.dynamics import cells
from insilico.dynamics.fixed_points import (
    FixedPointOptions,
    find_fixed_points,
    jacobians,
    optimize,
    time_constants,
    unique_mask,
)
from insilico.dynamics.population import NetworkSpec
from insilico.dynamics.tasks import generator, make_task
from insilico.dynamics.train import train_stack

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# h' = tanh(2 h): per unit the fixed points solve h = tanh(2h): 0 (unstable, slope 2) and
# +-H_STAR (stable, slope 2 (1 - H_STAR^2)); a 3-unit network has 3^3 = 27 fixed points, 8 stable.
GAIN = 2.0


def _h_star() -> float:
    h = 1.0
    for _ in range(100):
        h = math.tanh(GAIN * h)
    return h


H_STAR = _h_star()


def _cube_network(size=3, n_networks=1):
    """Uncoupled units with self-excitation GAIN: the analytic flip-flop."""
    params = {
        "W_x": torch.eye(size).expand(n_networks, size, size),
        "W_h": GAIN * torch.eye(size).expand(n_networks, size, size),
        "b": torch.zeros(n_networks, size),
        "W_out": torch.eye(size).expand(n_networks, size, size),
        "b_out": torch.zeros(n_networks, size),
    }
    params = {k: v.double().contiguous() for k, v in params.items()}
    return lambda h, x: cells.step("vanilla", params, h, x)


def _uniform_states(n_networks, k, size, seed=0):
    g = generator(seed)
    return torch.rand(n_networks, k, size, generator=g, dtype=torch.float64) * 2.2 - 1.1


def test_analytic_network_has_27_fixed_points_of_known_type():
    step = _cube_network()
    states = _uniform_states(1, 400, 3)
    points = find_fixed_points(
        step, states, torch.zeros(1, 400, 3, dtype=torch.float64), FixedPointOptions()
    )
    assert len(points) == 27
    assert (points.q < 1e-20).all()
    values = points.states.abs()
    expected = torch.where(values > 0.5, torch.full_like(values, H_STAR), torch.zeros_like(values))
    assert torch.allclose(values, expected, atol=1e-8)
    # Unstable modes: one per unit sitting at 0 (slope 2 > 1).
    assert torch.equal(points.n_unstable, (points.states.abs() < 0.5).sum(1))
    assert int(points.stable.sum()) == 8
    stable_slope = GAIN * (1 - H_STAR**2)
    expected_jacobians = torch.diag_embed(GAIN * (1 - points.states**2))
    assert torch.allclose(points.jacobians, expected_jacobians, atol=1e-10)
    assert torch.allclose(
        points.max_abs_eigenvalue[points.stable],
        torch.full((8,), stable_slope, dtype=torch.float64),
    )
    tau = time_constants(points.eigenvalues[points.stable])
    assert torch.allclose(tau, torch.full_like(tau, -1 / math.log(stable_slope)))


def test_batched_search_equals_one_state_at_a_time():
    """Every point keeps its own optimiser state: a batch gives what each state gives alone."""
    step = _cube_network(n_networks=2)
    states = _uniform_states(2, 5, 3, seed=1)
    inputs = torch.zeros(2, 5, 3, dtype=torch.float64)
    options = FixedPointOptions(max_iters=200)
    together = optimize(step, states, inputs, options)
    single = _cube_network(n_networks=1)
    for g in range(2):
        for k in range(5):
            alone = optimize(single, states[g : g + 1, k : k + 1], inputs[:1, :1], options)
            assert torch.allclose(together.states[g, k], alone.states[0, 0], atol=1e-12)
            assert int(together.n_iters[g, k]) == int(alone.n_iters[0, 0])
    # One initial state alone has no spread, so it is never an outlier.
    assert len(find_fixed_points(single, states[:1, :1], inputs[:1, :1], options)) == 1


def test_inputs_move_the_fixed_points():
    step = _cube_network(size=1)
    # h = tanh(2h + 0.5): the input shifts and removes fixed points; the stable ones solve it.
    x = torch.full((1, 50, 1), 0.5, dtype=torch.float64)
    points = find_fixed_points(step, _uniform_states(1, 50, 1), x, FixedPointOptions())
    stable = points.states[points.stable].flatten()
    assert len(stable) >= 1
    assert torch.allclose(torch.tanh(2 * stable + 0.5), stable, atol=1e-10)


def test_duplicates_merge_and_outliers_are_dropped():
    states = torch.tensor([[[0.0, 0.0], [1e-4, 0.0], [1.0, 0.0], [1.0, 5e-4]]], dtype=torch.float64)
    q = torch.tensor([[1e-13, 1e-14, 1e-14, 1e-13]], dtype=torch.float64)
    same = torch.ones(1, 4, 4, dtype=torch.bool)
    assert unique_mask(states, q, same, 1e-3).tolist() == [[False, True, True, False]]
    different_conditions = torch.tensor(
        [[[True, False, True, True], [False, True, True, True], [True] * 4, [True] * 4]]
    )
    assert unique_mask(states, q, different_conditions, 1e-3).tolist() == [
        [True, True, True, False]
    ]
    # A single initial state far from the others converges outside the cloud: an outlier.
    step = _cube_network(size=1)
    start = torch.tensor([[[0.9], [0.95], [1.0], [0.97]]], dtype=torch.float64)
    kept = find_fixed_points(
        step,
        start,
        torch.zeros(1, 4, 1, dtype=torch.float64),
        FixedPointOptions(outlier_scale=1e-6),
    )
    assert len(kept) == 0


def test_jacobians_of_a_gru_match_finite_differences():
    params = cells.stack([cells.init_parameters("gru", 2, 4, 1, generator(0))])
    params = {k: v.double() for k, v in params.items()}
    step = lambda h, x: cells.step("gru", params, h, x)  # noqa: E731
    h = torch.randn(1, 3, 4, dtype=torch.float64)
    x = torch.randn(1, 3, 2, dtype=torch.float64)
    jac = jacobians(step, h, x)
    eps = 1e-6
    for j in range(4):
        shift = torch.zeros(4, dtype=torch.float64)
        shift[j] = eps
        column = (step(h + shift, x) - step(h - shift, x)) / (2 * eps)
        assert torch.allclose(jac[..., j], column, atol=1e-8)


@pytest.fixture(scope="module")
def trained_flipflop():
    """A small vanilla network trained on the 3-bit flip-flop (a few seconds on a CPU)."""
    torch.manual_seed(0)
    task = make_task("flipflop", {"steps": 25})
    spec = NetworkSpec("flipflop", "vanilla", 12, 0.03, 0.0, 0)
    stack, history = train_stack(
        task,
        "vanilla",
        12,
        [spec],
        {"steps": 120, "batch_size": 32, "grad_clip": 1.0},
        torch.device("cpu"),
        logging.getLogger("test"),
    )
    return task, stack.to("cpu", torch.float64), history


def test_trained_flipflop_has_eight_stable_fixed_points(trained_flipflop):
    task, stack, history = trained_flipflop
    assert history[0, -10:].mean() < 0.05
    probe = task.sample(16, generator(5))
    with torch.no_grad():
        trajectories = stack.run(probe.inputs.double()).reshape(1, -1, 12)
    g = generator(1)
    picks = torch.randint(trajectories.shape[1], (64,), generator=g)
    states = trajectories[:, picks] + 0.02 * torch.randn(
        1, 64, 12, generator=g, dtype=torch.float64
    )
    points = find_fixed_points(
        stack.step,
        states,
        torch.zeros(1, 64, 3, dtype=torch.float64),
        FixedPointOptions(max_iters=200),
    )
    fixed = points.q < 1e-12
    assert int((points.stable & fixed).sum()) == 8
    # The 8 stable points are the 8 memories: their readouts have the 8 sign patterns.
    outputs = stack.outputs(points.states[points.stable & fixed].unsqueeze(0))[0]
    patterns = {tuple(row) for row in torch.sign(outputs).int().tolist()}
    assert len(patterns) == 8
