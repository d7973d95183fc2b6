"""Grid-cell claims: grid fractions over seeds, controls paired by seed, the period, the theory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from insilico.dynamics.gridcells.claims import COLUMNS, claims_table

CONFIG = {
    "base": {"activation": "relu"},
    "grid_network_fraction": 0.1,
    "period_tolerance": 0.15,
}


def _table(relu, tanh, ratios):
    seeds = range(len(relu))
    rows = [
        {"factor": "base", "activation": "relu", "seed": s, "grid_fraction": g, "period_ratio": r}
        for s, g, r in zip(seeds, relu, ratios, strict=True)
    ]
    rows += [
        {"factor": "activation", "activation": "tanh", "seed": s, "grid_fraction": g}
        for s, g in zip(seeds, tanh, strict=True)
    ]
    return pd.DataFrame(rows)


def _theory(nonnegative, unconstrained):
    gridness = np.array([nonnegative, unconstrained])
    return xr.Dataset(
        {"pattern_gridness": (("condition", "map"), gridness)},
        coords={"condition": ["nonnegative", "unconstrained"]},
    )


def test_a_run_like_the_papers_reproduces_every_claim():
    table = claims_table(
        _table([0.18, 0.17, 0.2], [0.02, 0.01, 0.03], [1.02, 0.97, 1.05]),
        _theory([0.9, 0.8, 1.0, 0.85], [-0.4, -0.3, -0.5, -0.2]),
        CONFIG,
    )
    assert list(table.columns[: len(COLUMNS)]) == COLUMNS
    assert (table["verdict"] == "reproduced").all(), table[["claim", "verdict"]]
    assert list(table["n"]) == [3, 3, 3, 4]


def test_a_period_a_quarter_off_is_not_reproduced_and_two_seeds_never_resolve():
    table = claims_table(
        _table([0.18, 0.13, 0.2], [0.02, 0.01, 0.03], [1.24, 1.25, 1.26]),
        _theory([0.9, 0.8], [-0.4, -0.3]),
        CONFIG,
    ).set_index("claim")
    assert table.loc["the grid period is the theory's 2 pi / k*", "verdict"] == "not reproduced"
    assert table.loc["theory (simulated): nonnegativity makes hexagonal patterns", "n"] == 2
    assert not table.loc["theory (simulated): nonnegativity makes hexagonal patterns", "holds"]
    two = claims_table(
        _table([0.3, 0.3], [0.0, 0.0], [1.0, 1.0]), _theory([1.0] * 3, [0.0] * 3), CONFIG
    )
    assert (two[two["replicates"].str.startswith("seeds")]["verdict"] == "not resolved").all()
