"""The topology of a network's dynamics: a graph of its fixed points, and a distance between graphs.

Maheswaranathan et al. (2019) compare networks by *what* their fixed points are and how the
dynamics move between them, regardless of where the points lie in state space. Here that becomes
a labelled directed graph per network:

- nodes: the fixed (and slow) points under each constant input condition of the task, labelled
  by their linear type: ``u<k>`` unstable modes (|lambda| > 1), ``s<m>`` slow stable modes
  (time constant above ``slow_time_constant`` steps), ``o`` when an unstable mode oscillates
  (complex eigenvalue); plus one ``orbit`` node per condition that stands for "the trajectory did
  not come to rest at a found fixed point" (a limit cycle, typically);
- ``relax`` edges: from each unstable point, the state is nudged by ``+-perturbation`` along the
  leading eigenvector and run under the condition's input until it settles; the edge goes to the
  fixed point it settles on (the heteroclinic connections of saddles to attractors);
- ``pulse`` edges: from each point without unstable modes, each of the task's input pulses is
  applied for the task's ``pulse_steps`` and the state is let settle (how inputs move the network
  between its memories: the flip-flop cube, steps along a line attractor).

All trajectories of all networks of a stack run as one batch.

The distance between two graphs is a Weisfeiler-Lehman subtree distance: labels are refined
``iterations`` times by hashing each node's label with the multiset of (edge kind, direction,
neighbour label); per iteration the label histogram is normalised to proportions, and the distance
is the root mean square over iterations of the Euclidean distance between proportion vectors. It is
invariant to node order (isomorphic graphs are at distance 0), symmetric, satisfies the triangle
inequality, and compares graphs of different sizes by the *mix* of node and neighbourhood types,
which makes it insensitive to how densely a continuous attractor happened to be sampled.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from scipy.spatial.distance import cdist

if TYPE_CHECKING:
    import torch

    from insilico.dynamics.fixed_points import FixedPoints, StepFunction

ORBIT = "orbit"


@dataclass(frozen=True)
class TransitionOptions:
    """Settings of the transition runs (config ``dynamics.topology``)."""

    settle_steps: int = 200  # steps a trajectory runs to come to rest
    perturbation: float = 0.05  # nudge off an unstable point along its leading eigenvector
    match_distance: float = (
        0.2  # a settled state farther than this from every point: no edge target
    )
    settle_tolerance: float = 1e-3  # ||F(h) - h|| below which a trajectory counts as settled
    slow_time_constant: float = 20.0  # stable modes slower than this (steps) are "slow"
    iterations: int = 1  # Weisfeiler-Lehman refinements

    @classmethod
    def from_config(cls, settings: dict) -> TransitionOptions:
        names = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in settings.items() if key in names})


@dataclass
class Transitions:
    """Edges ``source -> target`` between rows of a :class:`FixedPoints` (target -1: no point)."""

    source: np.ndarray
    target: np.ndarray
    kind: np.ndarray  # "relax" or "pulse"
    pulse: np.ndarray  # pulse index, -1 for relax edges


def transitions(
    step: StepFunction,
    points: FixedPoints,
    conditions: torch.Tensor,
    pulses: torch.Tensor,
    pulse_steps: int,
    n_networks: int,
    options: TransitionOptions,
) -> Transitions:
    """Run every relax and pulse trajectory of every network as one batch and match the endpoints.

    ``points.key`` must index ``conditions`` (the constant input of each point's search).
    """
    import torch  # here, not at the top: the population job imports this module without torch

    starts: list[list[tuple[int, torch.Tensor, torch.Tensor, int, str]]] = [
        [] for _ in range(n_networks)
    ]
    unstable = points.n_unstable > 0
    for i in range(len(points)):
        network, condition = int(points.group[i]), int(points.key[i])
        hold = conditions[condition]
        if unstable[i]:
            for sign in (1.0, -1.0):
                nudged = points.states[i] + sign * options.perturbation * points.lead_vectors[i]
                starts[network].append((i, nudged, hold, -1, "relax"))
        else:
            for p, pulse in enumerate(pulses):
                starts[network].append((i, points.states[i], hold + pulse, p, "pulse"))
    width = max((len(s) for s in starts), default=0)
    if width == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Transitions(empty, empty, np.zeros(0, dtype=str), empty)
    dtype, device = points.states.dtype, points.states.device
    size, n_in = points.states.shape[-1], conditions.shape[-1]
    state = torch.zeros(n_networks, width, size, dtype=dtype, device=device)
    kick = torch.zeros(n_networks, width, n_in, dtype=dtype, device=device)
    hold = torch.zeros_like(kick)
    for network, entries in enumerate(starts):
        for r, (i, start, drive, _, _) in enumerate(entries):
            state[network, r] = start
            kick[network, r] = drive
            hold[network, r] = conditions[int(points.key[i])]
    with torch.no_grad():
        for _ in range(pulse_steps):
            state = step(state, kick)
        for _ in range(options.settle_steps):
            state = step(state, hold)
        speed = (step(state, hold) - state).norm(dim=-1)
    source, target, kind, pulse_index = [], [], [], []
    for network, entries in enumerate(starts):
        for r, (i, _, _, p, edge_kind) in enumerate(entries):
            same = (points.group == network) & (points.key == points.key[i])
            candidates = torch.nonzero(same).flatten()
            distance = (points.states[candidates] - state[network, r]).norm(dim=-1)
            nearest = int(distance.argmin())
            settled = float(speed[network, r]) < options.settle_tolerance
            close = float(distance[nearest]) < options.match_distance
            source.append(i)
            target.append(int(candidates[nearest]) if settled and close else -1)
            kind.append(edge_kind)
            pulse_index.append(p)
    return Transitions(
        np.array(source, dtype=np.int64),
        np.array(target, dtype=np.int64),
        np.array(kind),
        np.array(pulse_index, dtype=np.int64),
    )


def node_label(eigenvalues: np.ndarray, slow_time_constant: float) -> str:
    """Linear type of a fixed point from its Jacobian's eigenvalues (any order)."""
    modulus = np.abs(eigenvalues)
    unstable = modulus > 1
    slow = (~unstable) & (modulus > math.exp(-1.0 / slow_time_constant))
    oscillates = bool(np.any(np.abs(eigenvalues[unstable].imag) > 1e-9))
    return f"u{min(int(unstable.sum()), 3)}s{min(int(slow.sum()), 2)}{'o' if oscillates else ''}"


@dataclass
class Graph:
    """Node labels and directed, labelled edges ``(source, target, kind)``."""

    labels: list[str]
    edges: list[tuple[int, int, str]] = field(default_factory=list)


def network_graph(
    labels: list[str],
    conditions: list[int],
    source: np.ndarray,
    target: np.ndarray,
    kind: np.ndarray,
) -> Graph:
    """The graph of one network: ``labels``/``conditions`` per point, edges with local indices.

    Edges whose target is -1 go to the ``orbit`` node of the source's condition (added on demand).
    """
    nodes = list(labels)
    orbit: dict[int, int] = {}
    edges = []
    for s, t, k in zip(source, target, kind, strict=True):
        if t < 0:
            condition = conditions[int(s)]
            if condition not in orbit:
                orbit[condition] = len(nodes)
                nodes.append(ORBIT)
            t = orbit[condition]
        edges.append((int(s), int(t), str(k)))
    return Graph(nodes, edges)


def _compress(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def wl_histograms(graph: Graph, iterations: int) -> list[Counter]:
    """Label counts of the graph after 0..``iterations`` Weisfeiler-Lehman refinements."""
    labels = list(graph.labels)
    neighbours: list[list[tuple[str, str, int]]] = [[] for _ in labels]
    for s, t, kind in graph.edges:
        neighbours[s].append((kind, "out", t))
        neighbours[t].append((kind, "in", s))
    histograms = [Counter(labels)]
    for _ in range(iterations):
        labels = [
            _compress(
                labels[v]
                + "|"
                + ",".join(sorted(f"{kind}:{way}:{labels[u]}" for kind, way, u in neighbours[v]))
            )
            for v in range(len(labels))
        ]
        histograms.append(Counter(labels))
    return histograms


def wl_features(graphs: list[Graph], iterations: int) -> np.ndarray:
    """Per graph, the concatenated label proportions of every refinement: ``(n_graphs, n_labels)``.

    Scaled by ``1/sqrt(iterations + 1)`` so that Euclidean distances between rows are the
    root mean square over refinements.
    """
    histograms = [wl_histograms(graph, iterations) for graph in graphs]
    vocabulary: dict[tuple[int, str], int] = {}
    for per_graph in histograms:
        for level, counts in enumerate(per_graph):
            for label in sorted(counts):
                vocabulary.setdefault((level, label), len(vocabulary))
    features = np.zeros((len(graphs), len(vocabulary)))
    for row, per_graph in enumerate(histograms):
        for level, counts in enumerate(per_graph):
            total = sum(counts.values())
            for label, count in counts.items():
                features[row, vocabulary[(level, label)]] = count / total
    return features / math.sqrt(iterations + 1)


def graph_distances(graphs: list[Graph], iterations: int) -> np.ndarray:
    """Weisfeiler-Lehman distance between every pair of graphs: ``(n, n)``."""
    return feature_distances(wl_features(graphs, iterations))


def feature_distances(features: np.ndarray) -> np.ndarray:
    """Euclidean distance between every pair of rows of ``features`` (WL proportion vectors)."""
    return cdist(features, features)


def chunk_graphs(dataset: xr.Dataset, slow_time_constant: float) -> list[Graph]:
    """The graph of every network of one fixed-point file (:mod:`insilico.dynamics.analysis`)."""
    eigenvalues = dataset["eig_real"].values + 1j * dataset["eig_imag"].values
    point_network = dataset["point_network"].values
    edge_network = dataset["edge_network"].values
    graphs = []
    for index in range(dataset.sizes["network"]):
        points = np.flatnonzero(point_network == index)
        local = {int(p): i for i, p in enumerate(points)}
        labels = [
            node_label(row[np.isfinite(row)], slow_time_constant) for row in eigenvalues[points]
        ]
        edges = np.flatnonzero(edge_network == index)
        source = np.array([local[int(s)] for s in dataset["edge_source"].values[edges]], dtype=int)
        target = np.array(
            [local[int(t)] if t >= 0 else -1 for t in dataset["edge_target"].values[edges]],
            dtype=int,
        )
        graphs.append(
            network_graph(
                labels,
                list(dataset["condition"].values[points]),
                source,
                target,
                dataset["edge_kind"].values[edges],
            )
        )
    return graphs
