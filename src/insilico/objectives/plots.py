"""The branch's figures: capacity and predictivity per objective and layer, robustness curves,
translation geometry for wave pre-training against its controls, and a wave movie strip."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from insilico.core.claims import t_interval  # noqa: E402

OBJECTIVE_RUNS = ("untrained", "supervised", "simclr", "mmcr")
WAVE_RUNS = ("untrained", "shuffled_waves", "waves")


def _interval_line(ax, x, values: np.ndarray, label: str) -> None:
    """Mean over seeds (axis 0) with its 95 % t interval as error bars."""
    bounds = np.array([t_interval(values[:, i])[:3] for i in range(values.shape[1])])
    ax.errorbar(
        x,
        bounds[:, 0],
        yerr=[bounds[:, 0] - bounds[:, 1], bounds[:, 2] - bounds[:, 0]],
        marker="o",
        capsize=3,
        label=label,
    )


def capacity_predictivity(measures: xr.Dataset):
    """Category capacity, probe accuracy and V4/IT predictivity per layer, one line per run."""
    layers = list(measures.layer.values)
    regions = list(measures.region.values)
    fig, axes = plt.subplots(1, 2 + len(regions), figsize=(4 * (2 + len(regions)), 3.6))
    x = np.arange(len(layers))
    runs = [run for run in measures.run.values]
    panels = [
        (measures["geometry"].sel(manifold="category", measure="capacity"), "category capacity"),
        (measures["probe_accuracy"], "linear-probe accuracy"),
    ] + [(measures["predictivity"].sel(region=r), f"{r} predictivity (median r)") for r in regions]
    for ax, (data, title) in zip(axes, panels, strict=True):
        for run in runs:
            _interval_line(ax, x, data.sel(run=run).transpose("seed", "layer").values, run)
        ax.set_xticks(x, layers, fontsize=7)
        ax.set_title(title, fontsize=9)
    axes[1].axhline(measures.attrs["chance"], color="grey", linestyle=":", linewidth=0.8)
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    return fig


def robustness(measures: xr.Dataset):
    """Probe accuracy under PGD against the attack budget, per run, with chance."""
    fig, ax = plt.subplots(figsize=(5, 3.8))
    eps = measures.epsilon.values
    x = np.arange(len(eps))
    for run in measures.run.values:
        _interval_line(ax, x, measures["pgd_accuracy"].sel(run=run).values, run)
    ax.axhline(measures.attrs["chance"], color="grey", linestyle=":", label="chance")
    ax.set_xticks(x, [f"{e:g}" for e in eps])
    ax.set(xlabel="L-inf budget (pixel units)", ylabel="accuracy under PGD (avgpool probe)")
    ax.legend(fontsize=6)
    return fig


def wave_translation(measures: xr.Dataset):
    """Translation-manifold capacity and translation invariance per layer: waves against the
    random initialisation and temporally shuffled waves."""
    layers = list(measures.layer.values)
    x = np.arange(len(layers))
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    panels = (
        (
            measures["geometry"].sel(manifold="translation", measure="capacity"),
            "translation capacity",
        ),
        (measures["invariance"], "translation invariance index"),
        (measures["probe_accuracy"], "linear-probe accuracy"),
    )
    for ax, (data, title) in zip(axes, panels, strict=True):
        for run in WAVE_RUNS:
            _interval_line(ax, x, data.sel(run=run).transpose("seed", "layer").values, run)
        ax.set_xticks(x, layers, fontsize=7)
        ax.set_title(title, fontsize=9)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def wave_strip(waves: xr.Dataset, n_frames: int = 8, every: int = 4):
    """Frames of the first seed's movie around its most active frame, ``every`` steps apart."""
    movie = waves["movie"].isel(seed=0).values
    lit = (movie > 0).mean(axis=(1, 2))
    start = int(np.clip(np.argmax(lit) - n_frames * every // 2, 0, len(movie) - n_frames * every))
    fig, axes = plt.subplots(1, n_frames, figsize=(1.6 * n_frames, 2))
    for i, ax in enumerate(axes):
        frame = start + i * every
        ax.imshow(movie[frame], cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"{frame * waves.attrs['dt_s']:.1f} s", fontsize=7)
        ax.axis("off")
    fig.suptitle(
        f"speed {float(waves['speed_um_s'][0]):.0f} um/s, interval "
        f"{float(waves['interval_s'][0]):.0f} s, size {float(waves['size_mm2'][0]):.2f} mm2 "
        "(median, seed 0)",
        fontsize=8,
    )
    return fig
