"""Maheswaranathan et al.'s claims on the trained population, decided by t intervals (claims.csv).

- *Universal topology, architecture-specific geometry*: within a task, architectures separate
  more under a representational-geometry distance (SVCCA, CKA, Procrustes) than under the
  fixed-point-topology distance. Per task, silhouette of the architecture labels under the
  geometry distance minus under the topology distance; the interval is over tasks (each task is a
  separate population of networks), one row per geometry measure.
- *Flip-flop memories*: every trained 3-bit flip-flop network holds its 2^bits memories as stable
  fixed points. Per network |stable fixed points - 2^bits|; the claim is that its mean is below
  one half (an exact count), interval over networks.

numpy/pandas/xarray only: the job runs no network.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from insilico.core.claims import decide
from insilico.dynamics.similarity import silhouette

COLUMNS = ["claim", "model", "value", "ci_low", "ci_high", "n", "verdict", "holds"]
GEOMETRY_MEASURES = ("svcca", "cka", "procrustes")


def topology_silhouette(topology: xr.Dataset, task: str) -> float:
    """Silhouette of the architectures among one task's networks under the graph distance."""
    same = topology["task"].values == task
    distances = topology["distance"].values[np.ix_(same, same)]
    return silhouette(distances, topology["arch"].values[same])


def geometry_rows(geometry: Mapping[str, xr.Dataset], topology: xr.Dataset) -> list[dict]:
    """One row per geometry measure: silhouette (geometry) - silhouette (topology), over tasks."""
    tasks = list(geometry)
    if not tasks:
        return []
    topo = np.array([topology_silhouette(topology, task) for task in tasks])
    rows = []
    for measure in GEOMETRY_MEASURES:
        key = f"silhouette_arch_{measure}"
        if not all(key in ds.attrs for ds in geometry.values()):
            continue
        values = np.array([float(geometry[task].attrs[key]) for task in tasks]) - topo
        rows.append(
            {
                "claim": "architectures separate more by geometry than by topology",
                "model": f"{measure} vs fixed-point graphs",
                **decide(values, "greater"),
                "replicates": "tasks",
                "tasks": " ".join(tasks),
            }
        )
    return rows


def flipflop_row(summary: pd.DataFrame, bits: int) -> dict:
    """Whether the flip-flop networks hold 2^bits stable fixed points (mean deviation < 0.5)."""
    networks = summary[summary["task"] == "flipflop"]
    deviation = np.abs(networks["n_stable_fixed"].to_numpy(float) - 2**bits)
    return {
        "claim": f"flip-flop networks hold 2^{bits} stable fixed points",
        "model": "all architectures",
        **decide(deviation, "less", threshold=0.5),
        "replicates": "networks",
        "measure": "|stable fixed points - 2^bits|",
    }


def claims_table(
    geometry: Mapping[str, xr.Dataset],
    topology: xr.Dataset,
    summary: pd.DataFrame,
    flipflop_bits: int | None,
) -> pd.DataFrame:
    """The rows above (the flip-flop row only when the population has flip-flop networks)."""
    rows = geometry_rows(geometry, topology)
    if flipflop_bits is not None and (summary["task"] == "flipflop").any():
        rows.append(flipflop_row(summary, flipflop_bits))
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    return frame[COLUMNS + [c for c in frame.columns if c not in COLUMNS]]
