"""Figures of the bottleneck branch; each function returns the Figure so tests can read its data.

The simulated retina's ganglion cells, measured with the same STA code and indices, are the grey
reference lines (mean over cells, band: +- SEM).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402

from insilico.bottleneck.summary import REFERENCE_STAGE  # noqa: E402

STAGE_COLORS = {"bottleneck": "tab:blue", "v1": "tab:red"}
INDEX_LABELS = {
    "orientedness_gradient": "orientedness index",
    "centre_surround_gradient": "centre-surround index",
}
EXAMPLE_UNITS = 4  # fields per stage and width in the example figure


def _reference(ax, frame: pd.DataFrame, name: str) -> None:
    """The simulated ganglion cells' value of index ``name`` (from their STA fields)."""
    row = frame[frame["stage"] == f"{REFERENCE_STAGE}:all"].iloc[0]
    name = name.replace("_gradient", "_sta")
    mean, sem = row[name], row[f"{name}_sem"]
    ax.axhline(mean, color="gray", lw=1.5, label="simulated retina (ganglion cells)")
    if np.isfinite(sem):
        ax.axhspan(mean - sem, mean + sem, color="gray", alpha=0.2, lw=0)


def _strongest(fields: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` fields of largest energy (dead and padded units last)."""
    energy = np.nan_to_num(np.square(fields).sum(axis=(-2, -1)), nan=-1.0)
    return np.argsort(-energy)[:n]


def example_fields(measures: xr.Dataset, reference: xr.Dataset):
    """Gradient fields of the strongest units per stage across widths (deepest ventral stream,
    first seed), with simulated ganglion-cell fields in the last row."""
    d_vvs = int(measures["d_vvs"].max())
    widths = measures["n_bn"].values
    stages = [str(s) for s in measures["stage"].values if d_vvs or s == "bottleneck"]
    n_cols = EXAMPLE_UNITS * len(stages)
    fig, axes = plt.subplots(
        len(widths) + 1, n_cols, figsize=(1.3 * n_cols, 1.4 * (len(widths) + 1)), squeeze=False
    )
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_frame_on(False)
    for row, n_bn in enumerate(widths):
        network = measures.sel(n_bn=n_bn, d_vvs=d_vvs).isel(seed=0)
        for s, stage in enumerate(stages):
            fields = network["gradient_rf"].sel(stage=stage).values
            for k, unit in enumerate(_strongest(fields, EXAMPLE_UNITS)):
                ax = axes[row, s * EXAMPLE_UNITS + k]
                field = fields[unit]
                if not np.isfinite(field).all() or not np.abs(field).max() > 0:
                    continue
                limit = np.abs(field).max()
                ax.imshow(field, cmap="RdBu_r", vmin=-limit, vmax=limit)
                ax.set_frame_on(True)
                ax.set_title(f"{stage} {unit}", fontsize=7)
        axes[row, 0].set_ylabel(f"N_BN={int(n_bn)}", fontsize=8)
    cells = reference["rf"].values
    for k, cell in enumerate(_strongest(cells, min(n_cols, len(cells)))):
        ax = axes[-1, k]
        limit = np.abs(cells[cell]).max()
        ax.imshow(cells[cell], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_frame_on(True)
        ax.set_title(str(reference["cell_type"].values[cell]), fontsize=7)
    axes[-1, 0].set_ylabel("sim. retina", fontsize=8)
    fig.suptitle(f"gradient receptive fields at the blank image (D_VVS={d_vvs}, seed 0)")
    fig.tight_layout()
    return fig


def indices_against_width(frame: pd.DataFrame):
    """Orientedness and centre-surround index against N_BN, per stage (colour) and D_VVS
    (marker), mean +- SEM over seeds of per-network means; the simulated retina as reference."""
    networks = frame[frame["n_bn"].notna()]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), squeeze=False)
    markers = dict(zip(sorted(networks["d_vvs"].unique()), "osD^v", strict=False))
    for ax, (name, label) in zip(axes[0], INDEX_LABELS.items(), strict=True):
        for (stage, d_vvs), rows in networks.groupby(["stage", "d_vvs"]):
            rows = rows.sort_values("n_bn")
            ax.errorbar(
                rows["n_bn"],
                rows[name],
                yerr=rows[f"{name}_sem"],
                color=STAGE_COLORS.get(stage, "k"),
                marker=markers[d_vvs],
                capsize=2,
                label=f"{stage}, D_VVS={int(d_vvs)}",
            )
        _reference(ax, frame, name)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("bottleneck width N_BN")
        ax.set_ylabel(label)
        ax.set_ylim(0, 1)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def linearity_against_depth(frame: pd.DataFrame):
    """Linearity of the bottleneck units and linear separability of the categories from the
    bottleneck output against D_VVS, one line per N_BN (mean +- SEM)."""
    bottleneck = frame[frame["stage"] == "bottleneck"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), squeeze=False)
    colors = plt.cm.viridis(np.linspace(0, 0.9, bottleneck["n_bn"].nunique()))
    for color, (n_bn, rows) in zip(colors, bottleneck.groupby("n_bn"), strict=True):
        rows = rows.sort_values("d_vvs")
        for ax, name in zip(axes[0], ("linearity", "separability"), strict=True):
            ax.errorbar(
                rows["d_vvs"],
                rows[name],
                yerr=rows[f"{name}_sem"],
                color=color,
                marker="o",
                capsize=2,
                label=f"N_BN={int(n_bn)}",
            )
    axes[0, 0].set_ylabel("linearity (held-out R^2 of ridge on pixels)")
    axes[0, 1].set_ylabel("separability (ridge classifier test accuracy)")
    for ax in axes[0]:
        ax.set_xlabel("ventral stream depth D_VVS")
        ax.set_xticks(sorted(bottleneck["d_vvs"].unique()))
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig
