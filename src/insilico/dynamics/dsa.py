"""Dynamical Similarity Analysis (Ostrow et al. 2023) between every pair of networks.

SVCCA, CKA and Procrustes (:mod:`insilico.dynamics.similarity`) compare where the states lie;
DSA compares how they move. Each network's hidden trajectories ``(trials, steps, units)`` are
delay-embedded and fitted with one linear operator (HAVOK-style DMD, ``dsa-metric``'s
:class:`DSA.DMD`), and two networks are as far apart as their operators are up to a change of
basis. The comparison (``score_method``) is ``dsa-metric``'s:

- ``wasserstein`` (default): optimal-transport distance between the operators' eigenvalues,
  invariant to any invertible change of basis, in closed form (fast and deterministic);
- ``angular``: the 2023 paper's angle after the best orthogonal alignment, found by gradient
  descent (``iters`` steps per pair: slow, and an under-converged fit overstates the distance).

DSA needs no matched samples, so networks of different tasks are compared too: the whole
population gives one distance matrix, whose silhouettes say whether DSA separates architectures
(within each task, as the geometry measures are computed) and tasks (as topology does).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from insilico.dynamics.similarity import mds, silhouette


def dsa_distances(trajectories: list[np.ndarray], settings: dict) -> np.ndarray:
    """Symmetric ``(N, N)`` DSA distances between ``(trials, steps, units)`` trajectories.

    One ``dsa-metric`` call fits every network's operator once and scores every pair.
    """
    from DSA import DSA  # dsa-metric imports torch: only the DSA job pays for it

    if len(trajectories) < 2:
        raise ValueError("DSA needs at least two networks")
    model = DSA(
        [np.asarray(t, np.float64) for t in trajectories],
        n_delays=settings["n_delays"],
        rank=settings["rank"],
        score_method=settings["score_method"],
        iters=settings["iters"],
        lr=settings["lr"],
        device="cpu",
        verbose=False,
    )
    distances = np.asarray(model.fit_score(), float)
    distances = 0.5 * (distances + distances.T)
    np.fill_diagonal(distances, 0.0)
    return np.clip(distances, 0.0, None)


def within_group_silhouette(distances: np.ndarray, groups, labels) -> float:
    """Mean over ``groups`` of the silhouette of ``labels`` inside each group (nan if none)."""
    groups, labels = np.asarray(groups), np.asarray(labels)
    values = [
        silhouette(distances[np.ix_(groups == g, groups == g)], labels[groups == g])
        for g in np.unique(groups)
    ]
    values = [v for v in values if np.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def population_dsa(trajectories: list[np.ndarray], coords: dict, settings: dict) -> xr.Dataset:
    """DSA distances, their MDS embedding and silhouettes for the whole population.

    ``coords`` are :func:`insilico.dynamics.train.network_coords` of the networks, in the order of
    ``trajectories``. Attrs: ``silhouette_arch_within_task`` (architectures inside each task,
    averaged over tasks), ``silhouette_task`` (tasks, over the whole population).
    """
    distances = dsa_distances(trajectories, settings)
    tasks = np.asarray(coords["task"][1])
    archs = np.asarray(coords["arch"][1])
    return xr.Dataset(
        {
            "dsa": (("network", "other"), distances),
            "mds_dsa": (("network", "component"), mds(distances)),
        },
        coords={**coords, "other": coords["network"], "component": [1, 2]},
        attrs={
            "silhouette_arch_within_task": within_group_silhouette(distances, tasks, archs),
            "silhouette_task": silhouette(distances, tasks),
            **{f"dsa_{key}": value for key, value in settings.items()},
        },
    )


def separation_table(
    dsa: xr.Dataset, geometries: list[xr.Dataset], topology: xr.Dataset
) -> pd.DataFrame:
    """How well each measure separates architectures (within a task) and tasks: one row each.

    The geometry measures are computed per task (they need matched samples), so they give no
    task separation; topology and DSA compare across tasks.
    """
    measures = sorted(
        key.removeprefix("silhouette_arch_")
        for key in geometries[0].attrs
        if key.startswith("silhouette_arch_")
    )
    rows = [
        {
            "measure": measure,
            "kind": "geometry",
            "silhouette_arch_within_task": float(
                np.nanmean([g.attrs[f"silhouette_arch_{measure}"] for g in geometries])
            ),
            "silhouette_task": float("nan"),
        }
        for measure in measures
    ]
    for measure, kind, ds in (("topology", "topology", topology), ("dsa", "dynamics", dsa)):
        rows.append(
            {
                "measure": measure,
                "kind": kind,
                "silhouette_arch_within_task": float(ds.attrs["silhouette_arch_within_task"]),
                "silhouette_task": float(ds.attrs["silhouette_task"]),
            }
        )
    return pd.DataFrame(rows)
