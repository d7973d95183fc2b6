"""Sorscher et al.'s claims on this run, each decided by a t interval (grid_cells/claims.csv).

- *Grids emerge*: the base ReLU networks' fraction of grid units is above
  ``grid_network_fraction``, over seeds.
- *ReLU, not the controls*: per seed, the base network's grid fraction minus that of the same
  network with another activation (the nonnegativity the theory needs), paired by seed (same
  initial weights and trajectories); the controls need ``sweep_every_seed: [activation]``.
- *The period the theory predicts*: per base seed |grid period / (2 pi / k*) - 1| below
  ``period_tolerance`` (networks without grid units give no period and are left out).
- *Theory (simulated)*: the nonnegative gradient flow of the place-cell correlation forms
  hexagonal patterns and the unconstrained one does not: per initial pattern (the same start in
  both conditions), gridness with minus without nonnegativity.

pandas/xarray only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from insilico.core.claims import decide

COLUMNS = ["claim", "model", "value", "ci_low", "ci_high", "n", "verdict", "holds"]


def _row(claim, model, values, direction, threshold=0.0, **context) -> dict:
    return {
        "claim": claim,
        "model": model,
        **decide(np.asarray(values, float), direction, threshold),
        **context,
    }


def network_rows(table: pd.DataFrame, config: dict) -> list[dict]:
    """The claims on the trained networks, from :func:`analysis.network_table`'s table."""
    base = table[table["factor"] == "base"].set_index("seed")
    rows = [
        _row(
            "base networks grow grids",
            str(config["base"]["activation"]),
            base["grid_fraction"],
            "greater",
            config["grid_network_fraction"],
            replicates="seeds",
            measure="grid_fraction",
        ),
        _row(
            "the grid period is the theory's 2 pi / k*",
            str(config["base"]["activation"]),
            np.abs(base["period_ratio"] - 1),
            "less",
            config["period_tolerance"],
            replicates="seeds",
            measure="|period_ratio - 1|",
        ),
    ]
    controls = table[table["factor"] == "activation"]
    for activation, group in controls.groupby("activation", sort=False):
        paired = base["grid_fraction"] - group.set_index("seed")["grid_fraction"]
        rows.append(
            _row(
                f"{config['base']['activation']} grows more grid units than {activation}",
                f"{config['base']['activation']} - {activation}",
                paired.dropna(),
                "greater",
                replicates="seeds (paired)",
                measure="grid_fraction",
            )
        )
    return rows


def theory_row(theory: xr.Dataset) -> dict:
    """Nonnegativity against none in the simulated pattern formation, paired by initial pattern."""
    gridness = theory["pattern_gridness"]
    difference = gridness.sel(condition="nonnegative") - gridness.sel(condition="unconstrained")
    return _row(
        "theory (simulated): nonnegativity makes hexagonal patterns",
        "gradient flow",
        difference.values,
        "greater",
        replicates="initial patterns (paired)",
        measure="pattern gridness",
    )


def claims_table(table: pd.DataFrame, theory: xr.Dataset, config: dict) -> pd.DataFrame:
    """Every claim above as one row, the decided columns first."""
    frame = pd.DataFrame([*network_rows(table, config), theory_row(theory)])
    return frame[COLUMNS + [c for c in frame.columns if c not in COLUMNS]]
