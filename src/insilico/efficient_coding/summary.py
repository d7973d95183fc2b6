"""The branch's claims (Ocko et al. 2018), each decided over movie seeds by core.claims.decide.

Replicates are the independently rendered movies (seeds): each gives its own measured spectrum,
its own water-filling optimum and its own trained encoders. numpy only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from insilico.core.claims import decide
from insilico.efficient_coding.measures import (
    on_off_index,
    rms_radius,
    spatial_size,
    temporal_width,
)


def _slope(x, y) -> float:
    """Least-squares slope of y on x over the finite points (nan with fewer than two)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    use = np.isfinite(x) & np.isfinite(y)
    # rounded: a flat line of discrete ratios must read 0, not a float's last bit
    return round(float(np.polyfit(x[use], y[use], 1)[0]), 9) if use.sum() >= 2 else np.nan


def type_ratio(sweep: xr.Dataset, prefix: str = "") -> xr.DataArray:
    """Fine cells per coarse cell of the best pair (1-D mosaics: coarse stride / fine stride)."""
    return sweep[f"{prefix}coarse_stride"] / sweep[f"{prefix}fine_stride"]


def claims(theory: xr.Dataset, trained: xr.Dataset) -> pd.DataFrame:
    """One row per claim: value, interval, n, verdict and holds (core.claims.decide)."""
    gain = theory["one_error"] - theory["two_error"]
    budget_slope = [
        _slope(np.log(theory["budget"]), np.log(type_ratio(theory).sel(seed=s)))
        for s in theory["seed"]
    ]
    tilt_ratio = np.log(type_ratio(theory, "tilt_")).mean("budget")
    tilt_slope = [_slope(theory["tilt"], tilt_ratio.sel(seed=s)) for s in theory["seed"]]
    train = trained.isel(budget=-1)
    two = train.sel(kind="two")
    sizes = np.array(
        [
            [spatial_size(two["filter"].values[s, t]) for t in (0, 1)]
            for s in range(train.sizes["seed"])
        ]
    )
    rows = {
        "two types beat one at every budget (theory, min over budgets of the error gain)": decide(
            gain.min("budget"), "greater"
        ),
        "two types beat one (trained, error one minus two)": decide(
            train["error"].sel(kind="one") - train["error"].sel(kind="two"), "greater"
        ),
        "trained linear encoder within 5 % of water-filling (one type, relative gap)": decide(
            train["error"].sel(kind="one") / train["theory_one"] - 1, "less", 0.05
        ),
        "trained linear encoder within 5 % of water-filling (pair, relative gap)": decide(
            train["error"].sel(kind="two") / train["theory_pair"] - 1, "less", 0.05
        ),
        "optimal spacing ratio coarse / fine above 1 (theory, last budget)": decide(
            type_ratio(theory).isel(budget=-1), "greater", 1.0
        ),
        "receptive-field size ratio coarse / fine above 1 (trained pair)": decide(
            sizes[:, 0] / sizes[:, 1], "greater", 1.0
        ),
        "type ratio (fine per coarse) rises with budget (slope of log ratio on log budget)": decide(
            budget_slope, "greater"
        ),
        "type ratio (fine per coarse) falls with a steeper spatial spectrum (slope on tilt)": decide(
            tilt_slope, "less"
        ),
        "rectified encoder splits into ON and OFF (ON/OFF index)": decide(
            [
                on_off_index(train["filter"].sel(kind="rectified").values[s])
                for s in range(train.sizes["seed"])
            ],
            "greater",
        ),
        "negative control: linear encoder with two filters per stride (ON/OFF index)": decide(
            [
                on_off_index(train["filter"].sel(kind="control").values[s])
                for s in range(train.sizes["seed"])
            ],
            "greater",
        ),
    }
    table = pd.DataFrame([{"claim": name, **row} for name, row in rows.items()])
    return table[
        ["claim", "value", "ci_low", "ci_high", "n", "verdict", "holds", "direction", "threshold"]
    ]


def types_table(trained: xr.Dataset, retina: xr.Dataset) -> pd.DataFrame:
    """Learned coarse and fine types (trained pair, mean over seeds) against the simulated
    retina's ganglion types (median over cells): spatial RMS radius (px), temporal RMS width
    (frames of 10 ms) and spacing (px; a mosaic's stride, a simulated type's nearest neighbour)."""
    pair = trained.isel(budget=-1).sel(kind="two")
    rows = []
    for index, name in enumerate(("learned coarse", "learned fine")):
        kernels = pair["filter"].values[:, index]
        rows.append(
            {
                "type": name,
                "size_px": np.mean([spatial_size(k) for k in kernels]),
                "temporal_width_frames": np.mean([temporal_width(k) for k in kernels]),
                "spacing_px": float(pair["stride"].values[:, index].mean()),
                "n": len(kernels),
            }
        )
    for kind in dict.fromkeys(retina["cell_type"].values):
        cells = retina.where(retina["cell_type"] == kind, drop=True)
        rows.append(
            {
                "type": f"simulated {kind}",
                "size_px": float(np.median(cells["size"])),
                "temporal_width_frames": float(
                    np.median([rms_radius(t) for t in cells["temporal"].values])
                ),
                "spacing_px": float(np.nanmedian(cells["spacing"])),
                "n": cells.sizes["cell"],
            }
        )
    return pd.DataFrame(rows)
