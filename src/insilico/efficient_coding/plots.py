"""The branch's figures: movie spectrum and fit, error against budget, learned filters, type ratio."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from insilico.efficient_coding.summary import type_ratio  # noqa: E402


def spectrum_fit(theory: xr.Dataset):
    """Measured C(k, w) of the first seed against w, one line per k band, with the fitted law."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    first = theory.isel(seed=0)
    a, b, amplitude = (float(first[n]) for n in ("fit_a", "fit_b", "fit_amplitude"))
    w = theory["w"].values
    colours = plt.cm.viridis(np.linspace(0, 1, theory.sizes["k"]))
    for colour, k in zip(colours, theory["k"].values, strict=True):
        ax.loglog(w, first["power"].sel(k=k), color=colour, label=f"k = {k:.2f}")
        ax.loglog(w, amplitude / (k**a * w**b), color=colour, linestyle="--", linewidth=0.8)
    ax.set(xlabel="temporal frequency w (Hz)", ylabel="power C(k, w)")
    ax.set_title(
        f"fit 1/(k^a w^b): a = {theory['fit_a'].mean():.2f}, b = {theory['fit_b'].mean():.2f} "
        f"(mean of {theory.sizes['seed']} movies)",
        fontsize=9,
    )
    ax.legend(fontsize=6, ncol=2, title="k (cycles/px); dashed: fit", title_fontsize=6)
    return fig


def error_budget(theory: xr.Dataset, trained: xr.Dataset):
    """Relative error against budget: water-filling one type, best pair, and trained encoders."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    budget = theory["budget"].values
    for name, label, colour in (("one_error", "one type", "C0"), ("pair_error", "best pair", "C1")):
        mean, sem = (
            theory[name].mean("seed"),
            theory[name].std("seed") / np.sqrt(theory.sizes["seed"]),
        )
        ax.plot(budget, mean, color=colour, label=f"{label}, water-filling")
        ax.fill_between(budget, mean - sem, mean + sem, color=colour, alpha=0.2)
    for kind, colour in (("one", "C0"), ("two", "C1")):
        error = trained["error"].sel(kind=kind)
        ax.errorbar(
            trained["budget"],
            error.mean("seed"),
            error.std("seed") / np.sqrt(error.sizes["seed"]),
            color=colour,
            marker="o",
            linestyle="none",
            label=f"{kind} trained",
        )
    ax.set(
        xscale="log", xlabel="firing budget (summed rate std per pixel)", ylabel="relative error"
    )
    ax.legend(fontsize=7)
    return fig


def _centred(kernel: np.ndarray) -> np.ndarray:
    """The periodic filter rolled so its largest value sits in the middle, sign made positive."""
    peak = np.unravel_index(np.abs(kernel).argmax(), kernel.shape)
    kernel = np.roll(
        kernel, [s // 2 - p for s, p in zip(kernel.shape, peak, strict=True)], axis=(0, 1)
    )
    return kernel * np.sign(kernel[kernel.shape[0] // 2, kernel.shape[1] // 2])


def learned_filters(trained: xr.Dataset):
    """The trained pair of the first seed: space-time filter, spatial and temporal profiles."""
    pair = trained.isel(seed=0, budget=-1).sel(kind="two")
    fig, axes = plt.subplots(2, 2, figsize=(7, 5.5))
    for row, name in enumerate(("coarse", "fine")):
        kernel = _centred(pair["filter"].values[row])
        limit = np.abs(kernel).max()
        axes[row, 0].imshow(
            kernel.T, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto", origin="lower"
        )
        axes[row, 0].set(
            xlabel="space (px)",
            ylabel="time (frames)",
            title=f"{name}, stride {int(pair['stride'][row])}",
        )
        centre = np.array(kernel.shape) // 2
        axes[row, 1].plot(
            np.arange(kernel.shape[0]) - centre[0], kernel[:, centre[1]] / limit, label="space"
        )
        axes[row, 1].plot(
            np.arange(kernel.shape[1]) - centre[1], kernel[centre[0]] / limit, label="time"
        )
        axes[row, 1].set(xlabel="offset (px or frames of 10 ms)", ylabel="filter / peak")
        axes[row, 1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def ratio_budget(theory: xr.Dataset):
    """Fine cells per coarse cell of the optimal pair against budget, per tilt of the spectrum."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ratio = type_ratio(theory, "tilt_")
    colours = plt.cm.plasma(np.linspace(0, 0.8, theory.sizes["tilt"]))
    for colour, tilt in zip(colours, theory["tilt"].values, strict=True):
        values = ratio.sel(tilt=tilt)
        ax.errorbar(
            theory["budget"],
            values.mean("seed"),
            values.std("seed") / np.sqrt(values.sizes["seed"]),
            color=colour,
            marker="o",
            label=f"spatial tilt {tilt:+.1f}",
        )
    ax.plot(
        theory["budget"],
        type_ratio(theory, "toy_").isel(slope=-1),
        "k--",
        label="toy 1/(k^a w^b), largest a",
    )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="firing budget (per pixel)",
        ylabel="fine cells per coarse cell",
    )
    ax.legend(fontsize=7)
    return fig
