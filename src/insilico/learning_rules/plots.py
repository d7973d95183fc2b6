"""The branch's figures: accuracy per rule, predictivity against accuracy, the Hessian spectrum,
and (reference scale) accuracy against depth and the metaparameter grid."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402


def _short(rule: str) -> str:
    return rule.replace("_", "\n")


def accuracy_per_rule(population: pd.DataFrame, chance: float):
    """Test accuracy of every seed (dots) and the mean per rule (bar)."""
    rules = list(dict.fromkeys(population["rule"]))
    fig, ax = plt.subplots(figsize=(8, 3.4))
    for i, rule in enumerate(rules):
        acc = population.loc[population["rule"] == rule, "test_accuracy"].to_numpy()
        ax.bar(i, acc.mean(), color="0.8")
        ax.plot(np.full(len(acc), i), acc, "k.", ms=6)
    ax.axhline(chance, color="r", ls=":", label="chance")
    ax.set_xticks(range(len(rules)), [_short(r) for r in rules], fontsize=7)
    ax.set_ylabel("held-out test accuracy")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def predictivity_vs_accuracy(population: pd.DataFrame):
    """Best-layer V4 and IT predictivity against test accuracy, one point per rule x seed."""
    regions = [c.removeprefix("predictivity_") for c in population if c.startswith("predictivity_")]
    fig, axes = plt.subplots(1, len(regions), figsize=(4 * len(regions), 3.4), squeeze=False)
    rules = list(dict.fromkeys(population["rule"]))
    colours = plt.cm.tab10(np.linspace(0, 1, 10))
    for ax, region in zip(axes[0], regions, strict=True):
        for i, rule in enumerate(rules):
            part = population[population["rule"] == rule]
            ax.plot(
                part["test_accuracy"],
                part[f"predictivity_{region}"],
                "o",
                color=colours[i % 10],
                label=rule,
                ms=5,
            )
        ax.set_xlabel("test accuracy")
        ax.set_ylabel(f"{region} predictivity (median r)")
        ax.set_title(region)
    axes[0, -1].legend(fontsize=6, frameon=False, loc="best")
    fig.tight_layout()
    return fig


def hessian_spectrum(hessian: xr.Dataset):
    """Top Ritz values per rule (seeds as lines), initial and trained, with the C-th rank marked."""
    states = list(dict.fromkeys(hessian["state"].values.astype(str)))
    rules = list(dict.fromkeys(hessian["rule"].values.astype(str)))
    c = int(hessian.attrs["n_classes"])
    fig, axes = plt.subplots(1, len(states), figsize=(4.2 * len(states), 3.4), squeeze=False)
    colours = plt.cm.tab10(np.linspace(0, 1, 10))
    for ax, state in zip(axes[0], states, strict=True):
        for i, rule in enumerate(rules):
            picked = (hessian["state"].values == state) & (hessian["rule"].values == rule)
            for j, values in enumerate(hessian["eigenvalue"].values[picked]):
                positive = np.where(values > 0, values, np.nan)
                ax.semilogy(
                    np.arange(1, len(values) + 1),
                    positive,
                    ".-",
                    color=colours[i],
                    label=rule if j == 0 else None,
                    lw=0.8,
                )
        ax.axvline(c + 0.5, color="k", ls="--", lw=0.8, label=f"C = {c}")
        ax.set_xlabel("rank")
        ax.set_ylabel("Hessian eigenvalue (Lanczos)")
        ax.set_title(state)
        ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def accuracy_vs_depth(depth: xr.Dataset, population: xr.Dataset):
    """Final test accuracy against convolutions per block, per rule (mean and seeds)."""
    keep = ["test_accuracy"]  # the angle arrays differ in length between depths
    both = xr.concat([population[keep], depth[keep]], dim="variant")
    final = both["test_accuracy"].isel(step=-1)
    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    for rule in dict.fromkeys(depth["rule"].values.astype(str)):
        picked = final.where(both["rule"] == rule, drop=True)
        order = np.argsort(picked["block_convs"].values)
        blocks = picked["block_convs"].values[order]
        ax.errorbar(
            blocks,
            picked.mean("seed").values[order],
            yerr=picked.std("seed").values[order],
            marker="o",
            capsize=2,
            label=rule,
        )
    ax.set_xlabel("convolutions per block")
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def grid_heatmaps(grid: xr.Dataset):
    """Mean test accuracy over the alpha x beta grid, one panel per rule and architecture."""
    final = grid["test_accuracy"].isel(step=-1).mean("seed")
    names = grid["variant"].values.astype(str)
    panels = sorted({(n.split("@")[0], n.split("_b")[-1].partition("@")[2]) for n in names})
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3), squeeze=False)
    for ax, (rule, arch) in zip(axes[0], panels, strict=True):
        cells = {}
        for name, value in zip(names, final.values, strict=True):
            head, _, tail = name.partition("@")
            ab, _, rest = tail.partition("@")
            if head == rule and rest == arch:
                a, b = ab[1:].split("_b")
                cells[float(a), float(b)] = value
        alphas, betas = sorted({a for a, _ in cells}), sorted({b for _, b in cells})
        image = np.array([[cells.get((a, b), np.nan) for b in betas] for a in alphas])
        shown = ax.imshow(image, origin="lower", vmin=0, vmax=1, cmap="viridis")
        ax.set_xticks(range(len(betas)), [f"{b:g}" for b in betas])
        ax.set_yticks(range(len(alphas)), [f"{a:g}" for a in alphas])
        ax.set_xlabel("beta")
        ax.set_ylabel("alpha")
        ax.set_title(f"{rule} {arch or 'default depth'}", fontsize=8)
        fig.colorbar(shown, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig
