"""Figures of the geometry branch; each function returns the Figure so tests can read its data.

Lines are one model x state (colour: model, dashes: untrained); the recordings' own values are
horizontal reference lines in the region's colour. Layers are drawn in depth order (the
``depth`` variable), at the scoring-window step for ConvRNNs.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402

from insilico.geometry.layers import WINDOW_STEP  # noqa: E402

MODEL_COLORS = {"cnn": "tab:purple", "convrnn": "tab:orange"}
REGION_COLORS = {"V1": "tab:green", "V2": "tab:olive", "V4": "tab:blue", "IT": "tab:red"}
STATE_STYLES = {"trained": "-", "untrained": "--"}
GEOMETRY_LABELS = {
    "capacity": "capacity alpha_M",
    "radius": "radius R_M",
    "dimension": "dimension D_M",
}


def _runs(geometry: xr.Dataset):
    """(label, colour, style, run) per model x state x seed that has any layer."""
    for model in geometry["model"].values:
        for state in geometry["state"].values:
            for seed in geometry["seed"].values:
                run = geometry.sel(model=model, state=state, seed=seed)
                depth = run["depth"].values
                if np.isnan(depth).all():
                    continue
                run = run.isel(layer=np.argsort(np.where(np.isnan(depth), np.inf, depth)))
                run = run.isel(layer=~np.isnan(run["depth"].values))
                label = f"{model} {state}" + (f" seed {seed}" if geometry.sizes["seed"] > 1 else "")
                yield label, MODEL_COLORS.get(model, "tab:gray"), STATE_STYLES.get(state, ":"), run


def layer_geometry(geometry: xr.Dataset, neural: xr.Dataset):
    """Capacity, radius, dimension against layer; object and category manifolds; recordings."""
    fig, axes = plt.subplots(3, 2, figsize=(10, 9), sharex=True, squeeze=False)
    window = geometry.sel(step=WINDOW_STEP)
    for col, kind in enumerate(geometry["manifold"].values):
        for row, name in enumerate(GEOMETRY_LABELS):
            ax = axes[row, col]
            for label, color, style, run in _runs(window):
                values = run[name].sel(manifold=kind).values
                ax.plot(np.arange(len(values)), values, style, color=color, marker="o", label=label)
            for region in neural["region"].values:
                value = float(neural[name].sel(region=region, manifold=kind))
                ax.axhline(
                    value,
                    color=REGION_COLORS.get(str(region), "gray"),
                    ls=":",
                    label=f"{region} recording",
                )
            ax.set_ylabel(GEOMETRY_LABELS[name])
            if row == 0:
                ax.set_title(f"{kind} manifolds")
        layers = list(next(_runs(window))[3]["layer"].values)
        axes[-1, col].set_xticks(range(len(layers)), layers, rotation=30)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def capacity_against_predictivity(frame: pd.DataFrame, rho: float, p: float):
    """Object-manifold capacity against IT PLS predictivity, every model x state x layer."""
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    models = frame[frame["model"] != "recording"]
    for (model, state), group in models.groupby(["model", "state"]):
        ax.scatter(
            group["capacity_object"],
            group["pls_r_IT"],
            color=MODEL_COLORS.get(model, "tab:gray"),
            marker="o" if state == "trained" else "x",
            label=f"{model} {state}",
        )
    ax.set_xlabel("object-manifold capacity alpha_M")
    ax.set_ylabel("IT predictivity (PLS, median r)")
    ax.set_title(f"Spearman rho = {rho:.2f} (p = {p:.2g}, n = {len(models)})")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def learning_curves(geometry: xr.Dataset):
    """Theory (lines) and empirical ridge error (points, sem) for each run's best layer per region."""
    regions = list(geometry["region"].values)
    fig, axes = plt.subplots(1, len(regions), figsize=(5 * len(regions), 4), squeeze=False)
    window = geometry.sel(step=WINDOW_STEP)
    sizes = geometry["size"].values
    for ax, region in zip(axes[0], regions, strict=True):
        for label, color, style, run in _runs(window):
            r = run["ridge_r"].sel(region=region)
            best = run.isel(layer=int(np.nanargmax(r.values))).sel(region=region)
            ax.plot(
                sizes,
                best["theory_error"],
                style,
                color=color,
                label=f"{label} {best['layer'].item()} theory",
            )
            ax.errorbar(
                sizes,
                best["empirical_error"],
                best["empirical_error_sem"],
                fmt="o",
                color=color,
                mfc="none" if style != "-" else color,
            )
        ax.set_xscale("log")
        ax.set_xlabel("training stimuli p")
        ax.set_ylabel("normalised ridge error E_g(p)")
        ax.set_title(
            f"{region}: best ridge layer per run (line theory, points empirical)", fontsize=9
        )
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def error_mode_geometry(geometry: xr.Dataset):
    """Error-mode radius and dimension against layer, per region."""
    regions = list(geometry["region"].values)
    fig, axes = plt.subplots(
        2, len(regions), figsize=(5 * len(regions), 6.5), sharex=True, squeeze=False
    )
    window = geometry.sel(step=WINDOW_STEP)
    for col, region in enumerate(regions):
        for row, name in enumerate(("error_mode_radius", "error_mode_dimension")):
            ax = axes[row, col]
            for label, color, style, run in _runs(window):
                values = run[name].sel(region=region).values
                ax.plot(np.arange(len(values)), values, style, color=color, marker="o", label=label)
            ax.set_ylabel(name.replace("_", " "))
            if row == 0:
                ax.set_title(region)
        layers = list(next(_runs(window))[3]["layer"].values)
        axes[-1, col].set_xticks(range(len(layers)), layers, rotation=30)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def theory_against_simulation(comparison: xr.Dataset):
    """Fraction of separable dichotomies against neurons; theory and simulated N_c as lines."""
    cases = list(comparison["case"].values)
    fig, axes = plt.subplots(1, len(cases), figsize=(5 * len(cases), 4), squeeze=False)
    for ax, case in zip(axes[0], cases, strict=True):
        row = comparison.sel(case=case)
        tried, fraction = row["tried_n"].values, row["fraction_separable"].values
        keep = ~np.isnan(tried)
        order = np.argsort(tried[keep])
        ax.plot(tried[keep][order], fraction[keep][order], "o-", color="k", label="simulation")
        n_theory = float(row["n_manifolds"]) / float(row["theory_capacity"])
        ax.axvline(n_theory, color="tab:red", label=f"theory N_c = {n_theory:.1f}")
        if np.isfinite(float(row["n_critical"])):
            n_sim = int(row["n_critical"])
            ax.axvline(n_sim, color="k", ls="--", label=f"simulated N_c = {n_sim}")
        else:
            features = int(row["n_features"])
            ax.set_xlim(0, 1.2 * max(n_theory, features))
            ax.set_title(f"{case}: N_c above the {features} features, not simulated")
        ax.axhline(0.5, color="gray", ls=":")
        ax.set_xlabel("neurons N")
        ax.set_ylabel("fraction of dichotomies separable")
        if np.isfinite(float(row["n_critical"])):
            ax.set_title(f"{case}: relative difference {float(row['relative_difference']):.1%}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
