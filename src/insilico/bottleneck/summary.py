"""The measures of every network and of the simulated retina in one Dataset, and the table.

Indices (:mod:`insilico.bottleneck.analysis`) are computed on both receptive fields of every
unit: the gradient field (noise-free; the one the table and figures report) and the STA field
(white noise; its agreement with the gradient field is the check). A dead unit (no gradient at
the blank image and no response to noise) has nan indices and is left out of the means.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from insilico.bottleneck import analysis

REFERENCE_STAGE = "simulated_retina"
# Per-unit measures the table averages (the figures use the gradient-field indices).
MEASURES = (
    "orientedness_gradient",
    "centre_surround_gradient",
    "orientedness_sta",
    "centre_surround_sta",
    "rf_agreement",
)


def _number(value) -> float | None:
    """A float for JSON: None where the value is missing (no unit measured)."""
    value = float(value)
    return value if np.isfinite(value) else None


def _indices(fields: xr.DataArray) -> dict[str, xr.DataArray]:
    def index(function):
        return xr.apply_ufunc(function, fields, input_core_dims=[["row", "col"]], dask="forbidden")

    return {
        "orientedness": index(analysis.orientedness),
        "centre_surround": index(analysis.centre_surround),
    }


def collect(groups: list[xr.Dataset]) -> xr.Dataset:
    """Stack the per-width probe Datasets along ``n_bn`` and add the indices per unit."""
    stacked = xr.concat(
        [
            group.expand_dims(n_bn=[group.attrs["n_bn"]]).assign_coords(
                unit=np.arange(group.sizes["unit"])  # widths pad to the widest stage: nan
            )
            for group in groups
        ],
        dim="n_bn",
        join="outer",
        combine_attrs="drop",
    )
    out = stacked.copy()
    for kind in ("gradient", "sta"):
        for name, values in _indices(stacked[f"{kind}_rf"]).items():
            out[f"{name}_{kind}"] = values
    out["rf_agreement"] = xr.apply_ufunc(
        analysis.field_agreement,
        stacked["gradient_rf"],
        stacked["sta_rf"],
        input_core_dims=[["row", "col"], ["row", "col"]],
    )
    return out


def reference_indices(reference: xr.Dataset) -> xr.Dataset:
    """Indices of the simulated ganglion cells' spatial fields (per cell)."""
    return reference.assign(**_indices(reference["rf"]))


def _per_contrast(name: str, values: xr.DataArray):
    """(column, values) per STA contrast (``<name>_c<contrast>``), or just ``name``."""
    if "contrast" not in values.dims:
        return [(name, values.values)]
    return [
        (f"{name}_c{float(contrast):g}", values.sel(contrast=contrast).values)
        for contrast in values["contrast"].values
    ]


def _mean_sem(values: np.ndarray) -> tuple[float, float, int]:
    values = np.asarray(values, float).ravel()
    values = values[np.isfinite(values)]
    if not len(values):
        return np.nan, np.nan, 0
    sem = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else np.nan
    return float(values.mean()), float(sem), len(values)


def table(measures: xr.Dataset, reference: xr.Dataset) -> pd.DataFrame:
    """One row per (n_bn, d_vvs, stage) and per ganglion cell type: the indices (of the gradient
    and the STA fields, ``_c<contrast>`` per noise contrast; the simulated retina has STA fields
    only, ``_sta``), the gradient-STA agreement, the linearity (bottleneck units), the
    separability and test accuracy. A network's units share it, so they are averaged per network
    first; means and SEMs are over seeds (networks). The simulated retina's rows are over its
    cells, which are independent."""
    rows = []
    for n_bn in measures["n_bn"].values:
        for d_vvs in measures["d_vvs"].values:
            network = measures.sel(n_bn=n_bn, d_vvs=d_vvs)
            for stage in measures["stage"].values:
                if stage == "v1" and d_vvs == 0:
                    continue
                row = {"n_bn": int(n_bn), "d_vvs": int(d_vvs), "stage": str(stage)}
                at = network.sel(stage=stage)
                for name in MEASURES:
                    per_seed = at[name].mean("unit", skipna=True)  # one value per network
                    for column, values in _per_contrast(name, per_seed):
                        row[column], row[f"{column}_sem"], _ = _mean_sem(values)
                    # units with a gradient field
                    row.setdefault("n_units", int(np.isfinite(at[name]).sum()))
                if stage == "bottleneck":
                    row["linearity"], row["linearity_sem"], _ = _mean_sem(
                        network["linearity"].mean("unit", skipna=True)
                    )
                row["separability"], row["separability_sem"], _ = _mean_sem(network["separability"])
                row["test_accuracy"], row["test_accuracy_sem"], _ = _mean_sem(
                    network["test_accuracy"]
                )
                row["n_seeds"] = network.sizes["seed"]
                rows.append(row)
    cell_types = ["all", *dict.fromkeys(reference["cell_type"].values.tolist())]
    for cell_type in cell_types:
        cells = (
            reference
            if cell_type == "all"
            else reference.where(reference.cell_type == cell_type, drop=True)
        )
        row = {"stage": f"{REFERENCE_STAGE}:{cell_type}"}
        for name in ("orientedness", "centre_surround"):
            row[f"{name}_sta"], row[f"{name}_sta_sem"], row["n_units"] = _mean_sem(
                cells[name].values
            )
        rows.append(row)
    return pd.DataFrame(rows)


def trends(frame: pd.DataFrame) -> dict:
    """The paper's three claims as numbers from the table (means over seeds of per-network means;
    the decisions, with intervals over seeds, are in :mod:`insilico.bottleneck.claims`):
    bottleneck and v1 orientedness and bottleneck centre-surround at the narrowest and widest
    bottleneck (deepest ventral stream), and the bottleneck's linearity against d_vvs per n_bn."""
    networks = frame[frame["n_bn"].notna()]
    deepest = networks[networks["d_vvs"] == networks["d_vvs"].max()]
    out = {}
    for label, n_bn in (("narrow", deepest["n_bn"].min()), ("wide", deepest["n_bn"].max())):
        rows = deepest[deepest["n_bn"] == n_bn].set_index("stage")
        out[label] = {
            "n_bn": int(n_bn),
            **{
                f"{stage}_{name}": _number(rows.loc[stage, f"{name}_gradient"])
                for stage in rows.index
                for name in ("orientedness", "centre_surround")
            },
        }
    bottleneck = networks[networks["stage"] == "bottleneck"]
    out["linearity"] = {
        str(int(n_bn)): dict(
            zip(rows["d_vvs"].astype(int).astype(str), rows["linearity"], strict=True)
        )
        for n_bn, rows in bottleneck.groupby("n_bn")
    }
    reference = frame[frame["stage"] == f"{REFERENCE_STAGE}:all"].iloc[0]
    out["simulated_retina"] = {
        "orientedness": _number(reference["orientedness_sta"]),
        "centre_surround": _number(reference["centre_surround_sta"]),
    }
    return out
