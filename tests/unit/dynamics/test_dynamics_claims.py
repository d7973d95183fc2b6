"""Dynamics claims: geometry vs topology silhouettes over tasks, flip-flop memories over networks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from insilico.dynamics.claims import COLUMNS, claims_table, topology_silhouette

ARCHS = ["vanilla", "gru", "lstm", "ugrnn"]


def _topology(tasks, separated: bool, seeds=3, seed=0):
    """Graph distances of tasks x archs x seeds networks; archs far apart only if ``separated``."""
    rng = np.random.default_rng(seed)
    task = np.repeat(tasks, len(ARCHS) * seeds)
    arch = np.tile(np.repeat(ARCHS, seeds), len(tasks))
    points = rng.normal(size=(len(task), 2))
    if separated:
        points += 10 * np.array([ARCHS.index(a) for a in arch])[:, None]
    distances = np.linalg.norm(points[:, None] - points[None], axis=-1)
    return xr.Dataset(
        {"distance": (("network", "other"), distances)},
        coords={"task": ("network", task), "arch": ("network", arch)},
    )


def _geometry(tasks, silhouettes):
    return {
        task: xr.Dataset(attrs={f"silhouette_arch_{m}": s for m in ("svcca", "cka", "procrustes")})
        for task, s in zip(tasks, silhouettes, strict=True)
    }


def _summary(stable):
    return pd.DataFrame({"task": ["flipflop"] * len(stable), "n_stable_fixed": stable})


def test_topology_silhouette_separates_only_separated_architectures():
    assert topology_silhouette(_topology(["flipflop"], True), "flipflop") > 0.8
    assert abs(topology_silhouette(_topology(["flipflop"], False), "flipflop")) < 0.3


def test_geometry_beating_topology_in_every_task_is_reproduced():
    tasks = ["flipflop", "sine", "context"]
    table = claims_table(
        _geometry(tasks, [0.9, 0.85, 0.88]), _topology(tasks, False), _summary([8] * 12), 3
    )
    assert list(table.columns[: len(COLUMNS)]) == COLUMNS
    geometry = table[table["replicates"] == "tasks"]
    assert len(geometry) == 3 and (geometry["n"] == 3).all()
    assert (geometry["verdict"] == "reproduced").all()
    flipflop = table[table["replicates"] == "networks"].iloc[0]
    assert flipflop["verdict"] == "reproduced" and flipflop["value"] == 0.0


def test_topology_as_separating_as_geometry_is_not_reproduced_and_few_tasks_are_not_resolved():
    tasks = ["flipflop", "sine", "context"]
    table = claims_table(
        _geometry(tasks, [0.0, 0.05, -0.05]), _topology(tasks, True), _summary([8]), 3
    )
    assert (table[table["replicates"] == "tasks"]["verdict"] == "not reproduced").all()
    one_task = claims_table(
        _geometry(["flipflop"], [0.9]), _topology(["flipflop"], False), _summary([8]), 3
    )
    assert (one_task[one_task["replicates"] == "tasks"]["verdict"] == "not resolved").all()


def test_networks_with_the_wrong_number_of_memories_fail_the_flipflop_claim():
    table = claims_table({}, _topology(["flipflop"], False), _summary([4, 5, 3, 6, 2, 4]), 3)
    row = table.iloc[0]
    assert row["verdict"] == "not reproduced" and not row["holds"]
    assert row["value"] == pytest.approx(np.mean([4, 3, 5, 2, 6, 4]))
