"""Figures of the grid-cell analysis. Each function returns the figure so tests can read the data.

No torch: figures are drawn from the netCDF results and the population table.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402

from insilico.dynamics.gridcells.gridness import autocorrelogram  # noqa: E402

ACTIVATION_COLORS = {"relu": "tab:red", "tanh": "tab:blue", "linear": "tab:gray"}


def theory(ds: xr.Dataset, n_examples: int = 3) -> plt.Figure:
    """Spectrum of the place-cell correlation (analytic and measured on the trained code) with
    k*; the patterns the gradient flow grows with and without nonnegativity and their power."""
    n_examples = min(n_examples, ds.sizes["map"])
    fig = plt.figure(figsize=(13, 6.5), layout="constrained")
    grid = fig.add_gridspec(2, n_examples + 2)
    ax = fig.add_subplot(grid[:, 0])
    k = ds["k"].values
    for name, style in (("analytic_spectrum", "-"), ("measured_spectrum", "o")):
        values = ds[name].values
        ax.plot(k, values / values.max(), style, ms=3, label=name.replace("_", " "))
    ax.axvline(ds.attrs["k_star"], color="k", ls="--", label=f"k* = {ds.attrs['k_star']:.2f} rad/m")
    ax.set(
        xlabel="|k| (rad/m)",
        ylabel="correlation spectrum (normalised)",
        xlim=(0, 4 * ds.attrs["k_star"]),
    )
    ax.set_title(f"place cells: 2 pi / k* = {ds.attrs['predicted_period']:.3f} m")
    ax.legend(fontsize=8)
    extent = [0, ds.attrs["pattern_box"]] * 2
    for row, condition in enumerate(ds["condition"].values):
        sub = ds.sel(condition=condition)
        for col in range(n_examples):
            a = fig.add_subplot(grid[row, col + 1])
            a.imshow(sub["pattern"].isel(map=col).values.T, origin="lower", extent=extent)
            a.set_title(
                f"{condition}: gridness {float(sub['pattern_gridness'][col]):.2f}", fontsize=8
            )
            a.set_xticks([]), a.set_yticks([])
        a = fig.add_subplot(grid[row, -1])
        kk = ds["kx"].values
        a.imshow(
            sub["pattern_power"].mean("map").values.T,
            origin="lower",
            extent=[kk[0], kk[-1], kk[0], kk[-1]],
            cmap="magma",
        )
        circle = plt.Circle((0, 0), ds.attrs["k_star"], fill=False, color="w", ls="--")
        a.add_patch(circle)
        lim = 2 * ds.attrs["k_star"]
        a.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel="kx", ylabel="ky")
        order = float(sub["hexagonal_order"].median())
        a.set_title(f"Fourier power, six-fold order {order:.2f}", fontsize=8)
    return fig


def rate_maps(
    maps: xr.Dataset, scores: xr.Dataset, networks: list[str], n_units: int = 8
) -> plt.Figure:
    """The ``n_units`` most grid-like units of each named network, and the best one's
    autocorrelogram; titles give gridness and period."""
    fig, axes = plt.subplots(
        len(networks),
        n_units + 1,
        figsize=(1.6 * (n_units + 1), 1.8 * len(networks)),
        layout="constrained",
        squeeze=False,
    )
    for row, name in zip(axes, networks, strict=True):
        gridness = scores["gridness"].sel(network=name).values
        order = np.argsort(-np.nan_to_num(gridness, nan=-np.inf))[:n_units]
        box = maps.attrs["box"]
        extent = [-box / 2, box / 2] * 2
        for ax, unit in zip(row, order, strict=False):
            ax.imshow(
                maps["rate_map"].sel(network=name).isel(unit=unit).values.T,
                origin="lower",
                extent=extent,
            )
            period = float(scores["period"].sel(network=name).isel(unit=unit))
            ax.set_title(f"g {gridness[unit]:.2f}, {period:.2f} m", fontsize=7)
            ax.set_xticks([]), ax.set_yticks([])
        row[0].set_ylabel(name.split("_seed")[0], fontsize=6)
        best = maps["rate_map"].sel(network=name).isel(unit=order[0]).values
        row[-1].imshow(autocorrelogram(best).T, origin="lower", cmap="RdBu_r", vmin=-1, vmax=1)
        row[-1].set_title("autocorrelogram", fontsize=7)
        row[-1].set_xticks([]), row[-1].set_yticks([])
    return fig


def gridness_distributions(scores: xr.Dataset, table: pd.DataFrame, threshold: float) -> plt.Figure:
    """Histogram of unit gridness per activation over the base-code networks (same place cells,
    width, surround and decay), with the threshold."""
    base = table[table["factor"].isin(["base", "activation"])]
    fig, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
    bins = np.linspace(-1.0, 1.6, 40)
    for activation, group in base.groupby("activation"):
        values = scores["gridness"].sel(network=list(group["network"])).values.ravel()
        values = values[np.isfinite(values)]
        ax.hist(
            values,
            bins=bins,
            histtype="step",
            density=True,
            lw=1.5,
            color=ACTIVATION_COLORS.get(activation, "k"),
            label=f"{activation} ({len(group)} nets): {100 * group['grid_fraction'].mean():.0f}% grid units",
        )
    ax.axvline(threshold, color="k", ls="--")
    ax.set(xlabel="gridness score", ylabel="density of units", title="gridness of all units")
    ax.legend(fontsize=8)
    return fig


def sweep(table: pd.DataFrame, threshold: float) -> plt.Figure:
    """Fraction of grid units and decoding error for every network of the sweep, grouped by the
    factor it changes from the base network."""
    fig, axes = plt.subplots(
        2, 1, figsize=(max(6, 0.6 * len(table)), 6), layout="constrained", sharex=True
    )
    labels = [_label(row) for _, row in table.iterrows()]
    colors = [ACTIVATION_COLORS.get(a, "k") for a in table["activation"]]
    x = np.arange(len(table))
    axes[0].bar(
        x, table["gridness_only_fraction"], color="none", edgecolor=colors, label="gridness only"
    )
    axes[0].bar(x, table["grid_fraction"], color=colors, label="and coherent map")
    axes[0].set(ylabel=f"fraction gridness > {threshold}", title="grid units per network")
    axes[0].legend(fontsize=8)
    axes[1].bar(x, table["decoding_error"], color=colors, label="network")
    axes[1].plot(x, table["chance_error"], "k_", ms=20, label="chance (shuffled)")
    axes[1].set(ylabel="decoding error (m)")
    axes[1].legend(fontsize=8)
    axes[1].set_xticks(x, labels, rotation=60, ha="right", fontsize=7)
    return fig


def _label(row) -> str:
    """``factor: value`` of a sweep network (the seed for base networks)."""
    if row["factor"] == "base":
        return f"base: seed {row['seed']}"
    return f"{row['factor']}: {row[row['factor']]}"


def period_vs_theory(table: pd.DataFrame) -> plt.Figure:
    """Median period of each network's grid units against the theory's 2 pi / k* for its code."""
    fig, ax = plt.subplots(figsize=(4.5, 4.5), layout="constrained")
    ok = table.dropna(subset=["grid_period"])
    finite = ok[np.isfinite(ok["predicted_period"])]
    ax.scatter(
        finite["predicted_period"],
        finite["grid_period"],
        c=[ACTIVATION_COLORS.get(a, "k") for a in finite["activation"]],
    )
    for _, row in finite.iterrows():
        ax.annotate(_label(row), (row["predicted_period"], row["grid_period"]), fontsize=6)
    limits = (
        [0, 1.3 * max(finite["grid_period"].max(), finite["predicted_period"].max(), 0.1)]
        if len(finite)
        else [0, 1]
    )
    ax.plot(limits, limits, "k--", label="measured = 2 pi / k*")
    ax.set(
        xlim=limits, ylim=limits, xlabel="theory 2 pi / k* (m)", ylabel="measured grid period (m)"
    )
    ax.legend(fontsize=8)
    return fig
