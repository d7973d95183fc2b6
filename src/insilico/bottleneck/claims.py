"""Lindsey et al.'s claims, each decided by a t interval over training seeds (claims.csv).

A seed is one network; its units are not independent replicates (they share the network), so
each network's measure is first averaged over its units and the interval is over seeds
(:func:`insilico.core.claims.decide`). Comparisons between two widths or depths pair the
networks of the same seed (same initial weight stream and image order). Claims at the deepest
ventral stream of the sweep, as in the paper's figures:

- a narrow bottleneck's outputs are less oriented than a wide one's;
- a narrow bottleneck's outputs are more centre-surround than a wide one's;
- behind a narrow bottleneck the first ventral layer is more oriented than the bottleneck;
- per width, a deeper ventral stream makes the bottleneck more linear.

numpy/xarray only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from insilico.core.claims import decide

COLUMNS = ["claim", "model", "value", "ci_low", "ci_high", "n", "verdict", "holds"]


def per_network(measures: xr.Dataset, name: str) -> xr.DataArray:
    """A unit measure averaged over each network's measured units (dead units, nan, left out)."""
    return measures[name].mean("unit", skipna=True)


def _row(claim: str, model: str, values: xr.DataArray, direction: str, **context) -> dict:
    values = np.asarray(values.values, float)
    return {
        "claim": claim,
        "model": model,
        **decide(values, direction),
        "replicates": "seeds",
        **context,
    }


def claims_table(measures: xr.Dataset) -> pd.DataFrame:
    """The claims above from :func:`insilico.bottleneck.summary.collect`'s Dataset."""
    orientedness = per_network(measures, "orientedness_gradient")
    centre_surround = per_network(measures, "centre_surround_gradient")
    linearity = per_network(measures, "linearity")
    deep = int(measures["d_vvs"].max())
    narrow, wide = int(measures["n_bn"].min()), int(measures["n_bn"].max())
    at_deep = {"d_vvs": deep}
    bottleneck = {**at_deep, "stage": "bottleneck"}
    label = f"n_bn {narrow} vs {wide}, d_vvs {deep}"
    rows = [
        _row(
            "narrow bottleneck less oriented than wide",
            label,
            orientedness.sel(n_bn=narrow, **bottleneck) - orientedness.sel(n_bn=wide, **bottleneck),
            "less",
            measure="orientedness_gradient",
        ),
        _row(
            "narrow bottleneck more centre-surround than wide",
            label,
            centre_surround.sel(n_bn=narrow, **bottleneck)
            - centre_surround.sel(n_bn=wide, **bottleneck),
            "greater",
            measure="centre_surround_gradient",
        ),
        _row(
            "v1 more oriented than the bottleneck",
            f"n_bn {narrow}, d_vvs {deep}",
            orientedness.sel(n_bn=narrow, stage="v1", **at_deep)
            - orientedness.sel(n_bn=narrow, **bottleneck),
            "greater",
            measure="orientedness_gradient",
        ),
    ]
    shallow = int(measures["d_vvs"].min())
    if deep > shallow:
        rows += [
            _row(
                "deeper ventral stream, more linear bottleneck",
                f"n_bn {int(n_bn)}, d_vvs {shallow} vs {deep}",
                linearity.sel(n_bn=n_bn, d_vvs=deep) - linearity.sel(n_bn=n_bn, d_vvs=shallow),
                "greater",
                measure="linearity",
            )
            for n_bn in measures["n_bn"].values
        ]
    frame = pd.DataFrame(rows)
    return frame[COLUMNS + [c for c in frame.columns if c not in COLUMNS]]
