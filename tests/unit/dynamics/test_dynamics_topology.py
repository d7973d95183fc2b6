from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
import torch

from insilico.dynamics import cells
from insilico.dynamics.fixed_points import FixedPointOptions, find_fixed_points
from insilico.dynamics.topology import (
    ORBIT,
    Graph,
    TransitionOptions,
    graph_distances,
    network_graph,
    node_label,
    transitions,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _cube_graph() -> Graph:
    """The flip-flop's graph: 8 stable corners, pulses flip one bit (6 pulses per corner)."""
    corners = list(itertools.product((0, 1), repeat=3))
    edges = []
    for i, corner in enumerate(corners):
        for bit, value in itertools.product(range(3), (0, 1)):
            target = list(corner)
            target[bit] = value
            edges.append((i, corners.index(tuple(target)), "pulse"))
    return Graph(["u0s0"] * 8, edges)


def _chain_graph(n: int) -> Graph:
    """A line attractor: slow points in a row, pulses step along the line."""
    edges = [(i, i + 1, "pulse") for i in range(n - 1)]
    edges += [(i + 1, i, "pulse") for i in range(n - 1)]
    return Graph(["u0s1"] * n, edges)


def _permuted(graph: Graph, seed: int) -> Graph:
    order = list(range(len(graph.labels)))
    random.Random(seed).shuffle(order)
    labels = [None] * len(order)
    for old, new in enumerate(order):
        labels[new] = graph.labels[old]
    edges = [(order[s], order[t], kind) for s, t, kind in graph.edges]
    random.Random(seed + 1).shuffle(edges)
    return Graph(labels, edges)


def test_isomorphic_graphs_are_at_distance_zero():
    cube = _cube_graph()
    distances = graph_distances([cube, _permuted(cube, 0), _permuted(cube, 1)], iterations=3)
    assert np.allclose(distances, 0.0)


def test_graph_distance_is_a_symmetric_metric_separating_structures():
    graphs = [
        _cube_graph(),
        _chain_graph(5),
        _chain_graph(9),
        Graph(["u2s0o", ORBIT], [(0, 1, "relax")] * 2),
    ]
    distances = graph_distances(graphs, iterations=3)
    assert np.allclose(distances, distances.T)
    assert np.all(np.diag(distances) == 0)
    off_diagonal = distances[~np.eye(4, dtype=bool)]
    assert (off_diagonal > 0).all()
    for i, j, k in itertools.product(range(4), repeat=3):
        assert distances[i, k] <= distances[i, j] + distances[j, k] + 1e-12
    # Two line attractors sampled at different densities are closer than a line and a cube.
    assert distances[1, 2] < distances[0, 1]


def test_refinement_sees_structure_that_labels_alone_miss():
    triangle = Graph(["a"] * 3, [(0, 1, "relax"), (1, 2, "relax"), (2, 0, "relax")])
    path = Graph(["a"] * 3, [(0, 1, "relax"), (1, 2, "relax")])
    assert graph_distances([triangle, path], iterations=0)[0, 1] == 0
    assert graph_distances([triangle, path], iterations=2)[0, 1] > 0


def test_node_labels_count_unstable_slow_and_oscillating_modes():
    assert node_label(np.array([0.5, 0.1]), 20) == "u0s0"
    assert node_label(np.array([0.99, 0.5]), 20) == "u0s1"
    assert node_label(np.array([1.5, 0.99, 0.2]), 20) == "u1s1"
    assert node_label(np.array([1.1 + 0.3j, 1.1 - 0.3j, 0.1]), 20) == "u2s0o"


def test_unsettled_trajectories_go_to_an_orbit_node_per_condition():
    graph = network_graph(
        ["u2s0o", "u2s0o"],
        [0, 1],
        np.array([0, 0, 1]),
        np.array([-1, 0, -1]),
        np.array(["relax"] * 3),
    )
    assert graph.labels == ["u2s0o", "u2s0o", ORBIT, ORBIT]
    assert graph.edges == [(0, 2, "relax"), (0, 0, "relax"), (1, 3, "relax")]


@pytest.mark.parametrize("n_networks", [1, 2])
def test_transitions_of_the_analytic_flipflop_form_the_cube(n_networks):
    """h' = tanh(2h + x): pulses x = +-2 e_k set bit k; saddles relax to neighbouring corners."""
    size = 3
    params = {
        "W_x": 2 * torch.eye(size).expand(n_networks, size, size),
        "W_h": 2 * torch.eye(size).expand(n_networks, size, size),
        "b": torch.zeros(n_networks, size),
        "W_out": torch.eye(size).expand(n_networks, size, size),
        "b_out": torch.zeros(n_networks, size),
    }
    params = {k: v.double().contiguous() for k, v in params.items()}

    def step(h, x):
        return cells.step("vanilla", params, h, x)

    g = torch.Generator().manual_seed(0)
    states = torch.rand(n_networks, 300, size, generator=g, dtype=torch.float64) * 2.2 - 1.1
    points = find_fixed_points(
        step, states, torch.zeros(n_networks, 300, size, dtype=torch.float64), FixedPointOptions()
    )
    assert len(points) == 27 * n_networks
    pulses = torch.cat([torch.eye(size), -torch.eye(size)]).double()
    moves = transitions(
        step,
        points,
        torch.zeros(1, size, dtype=torch.float64),
        pulses,
        1,
        n_networks,
        TransitionOptions(),
    )
    assert (moves.target >= 0).all()
    sign = torch.sign(points.states.round(decimals=6)).numpy()
    for s, t, kind, p in zip(moves.source, moves.target, moves.kind, moves.pulse, strict=True):
        assert points.group[s] == points.group[t]
        if kind == "pulse":
            expected = sign[s].copy()
            expected[p % size] = 1 if p < size else -1
            assert (sign[t] == expected).all()
        else:  # a saddle relaxes along one unstable unit to a fixed point with that unit set
            assert points.n_unstable[t] < points.n_unstable[s]
    n_pulse = int((moves.kind == "pulse").sum())
    assert n_pulse == 8 * 6 * n_networks
