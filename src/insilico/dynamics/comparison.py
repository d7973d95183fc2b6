"""The population compared by the topology of its networks' dynamics: graph distances between all
networks, their MDS embedding, how well tasks or architectures separate (silhouettes), and the
table of the whole population.

Apart from :mod:`insilico.dynamics.topology` (one graph per network, from its fixed points and
transitions) because only the population job needs it: the per-chunk fixed-point jobs, which build
the transitions, then do not depend on the similarity measures. It runs no network, and imports
nothing that imports torch (the population job starts in a fraction of a second).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import xarray as xr

from insilico.dynamics.similarity import mds, silhouette
from insilico.dynamics.topology import (
    TransitionOptions,
    chunk_graphs,
    feature_distances,
    wl_features,
)


def population_topology(datasets: list[xr.Dataset], settings: dict) -> xr.Dataset:
    """Graph features, pairwise graph distances, MDS and silhouettes for the whole population.

    ``node_fraction (network, node_type)``: fraction of each network's nodes of each linear type
    (the first Weisfeiler-Lehman level); attrs ``silhouette_task`` and ``silhouette_arch`` say how
    well tasks, or architectures, separate under the graph distance (``silhouette_arch_within_task``:
    architectures within each task, averaged over tasks).
    """
    options = TransitionOptions.from_config(settings)
    graphs = [g for ds in datasets for g in chunk_graphs(ds, options.slow_time_constant)]
    names = [str(name) for ds in datasets for name in ds["network"].values]
    coords = {
        key: ("network", np.concatenate([ds[key].values for ds in datasets]))
        for key in ("task", "arch", "hidden", "learning_rate", "l2", "seed")
    }
    features = wl_features(graphs, options.iterations)
    distances = feature_distances(features)
    node_types = sorted({label for graph in graphs for label in graph.labels})
    fractions = np.zeros((len(graphs), len(node_types)))
    for row, graph in enumerate(graphs):
        for label, count in Counter(graph.labels).items():
            fractions[row, node_types.index(label)] = count / len(graph.labels)
    tasks, archs = coords["task"][1], coords["arch"][1]
    within = [
        silhouette(distances[np.ix_(tasks == t, tasks == t)], archs[tasks == t])
        for t in np.unique(tasks)
    ]
    within = [value for value in within if np.isfinite(value)]
    return xr.Dataset(
        {
            "distance": (("network", "other"), distances),
            "mds": (("network", "component"), mds(distances)),
            "features": (("network", "feature"), features),
            "node_fraction": (("network", "node_type"), fractions),
            "n_nodes": ("network", np.array([len(g.labels) for g in graphs])),
            "n_edges": ("network", np.array([len(g.edges) for g in graphs])),
        },
        coords={
            "network": names,
            **coords,
            "other": names,
            "component": [1, 2],
            "node_type": node_types,
        },
        attrs={
            "silhouette_task": silhouette(distances, tasks),
            "silhouette_arch": silhouette(distances, archs),
            "silhouette_arch_within_task": float(np.mean(within)) if within else float("nan"),
            "iterations": options.iterations,
        },
    )


SUMMARY_COLUMNS = ["val_loss", "val_nmse", "n_fixed", "n_stable_fixed", "n_slow"]


def summary_table(datasets: list[xr.Dataset]) -> pd.DataFrame:
    """One row per network of the population: hyperparameters, validation loss, point counts."""
    frames = [
        ds[SUMMARY_COLUMNS]
        .reset_coords()[["task", "arch", "hidden", "learning_rate", "l2", "seed", *SUMMARY_COLUMNS]]
        .to_dataframe()
        for ds in datasets
    ]
    return pd.concat(frames).reset_index()
