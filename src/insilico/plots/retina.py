"""Figures for the retina branch: model comparison against the ceiling, predictions, CNN filters."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from insilico.io import load_torch, save_figure  # noqa: E402

FRAME_MS = 10


def _mean_sem(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard error over the finite entries (nan where there are too few)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return math.nan, math.nan
    sem = finite.std(ddof=1) / math.sqrt(finite.size) if finite.size > 1 else math.nan
    return float(finite.mean()), float(sem)


def model_comparison(performance: xr.Dataset, path) -> None:
    """Per-cell test correlation of each model (seeds averaged) against the reliability ceiling.

    Left: points per cell, grey lines pairing the same cell across models, mean +- s.e.m. over
    cells, the mean ceiling as a dashed line with its s.e.m. band (and the true ceiling, dotted,
    for simulated data). Middle: each cell's model correlation against its own ceiling. Right
    (simulated data only): estimated against true ceiling per cell.
    """
    models = [str(model) for model in performance["model"].values]
    per_cell = performance["correlation"].mean("seed", skipna=True).transpose("model", "cell")
    values = per_cell.values
    n_cells = values.shape[1]
    n_seeds = performance.sizes["seed"]
    ceiling = performance["ceiling"].values
    true_ceiling = performance["true_ceiling"].values if "true_ceiling" in performance else None
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]

    n_panels = 3 if true_ceiling is not None else 2
    fig, axes = plt.subplots(
        1, n_panels, figsize=(4.2 * n_panels + 1.0, 4.2), layout="constrained", squeeze=False
    )
    axes = axes[0]

    ax = axes[0]
    positions = np.arange(len(models))
    jitter = np.linspace(-0.12, 0.12, n_cells) if n_cells > 1 else np.zeros(1)
    ax.plot(positions[:, None] + jitter[None, :], values, color="0.8", lw=0.7, zorder=1)
    for i in range(len(models)):
        color = colors[i % len(colors)]
        ax.scatter(i + jitter, values[i], s=18, color=color, alpha=0.7, zorder=2)
        mean, sem = _mean_sem(values[i])
        ax.errorbar(i + 0.3, mean, yerr=sem, fmt="o", color=color, ms=7, capsize=4, zorder=3)
    mean, sem = _mean_sem(ceiling)
    ax.axhline(mean, color="k", ls="--", lw=1.2, label=f"ceiling (split-half), mean {mean:.2f}")
    if np.isfinite(sem):
        ax.axhspan(mean - sem, mean + sem, color="k", alpha=0.1, lw=0)
    if true_ceiling is not None:
        true_mean, _ = _mean_sem(true_ceiling)
        ax.axhline(
            true_mean, color="k", ls=":", lw=1.2, label=f"true ceiling, mean {true_mean:.2f}"
        )
    ax.set_xticks(positions + 0.15, models)
    ax.set_xlim(-0.5, len(models) - 0.2)
    ax.set_xlabel("model")
    ax.set_ylabel("Pearson r with trial-averaged test rate")
    ax.set_title(f"Test correlation per cell\n({n_cells} cells, mean over {n_seeds} seed(s))")
    ax.legend(loc="best", fontsize="small")

    ax = axes[1]
    for i, model in enumerate(models):
        ax.scatter(ceiling, values[i], s=22, color=colors[i % len(colors)], label=model, alpha=0.8)
    _identity(ax, np.concatenate([ceiling, values.ravel()]))
    ax.set_xlabel("ceiling of the cell (split-half, Spearman-Brown)")
    ax.set_ylabel("model Pearson r")
    ax.set_title("Each cell against its own ceiling")
    ax.legend(loc="upper left", fontsize="small")

    if true_ceiling is not None:
        ax = axes[2]
        ax.scatter(true_ceiling, ceiling, s=22, color="k")
        _identity(ax, np.concatenate([ceiling, true_ceiling]))
        ax.set_xlabel("true ceiling: r(noiseless rate, repeat mean)")
        ax.set_ylabel("estimated ceiling (split-half)")
        ax.set_title("Ceiling estimate vs ground truth")
    save_figure(fig, path)


def _identity(ax, values: np.ndarray) -> None:
    """Square axes with the identity line over the range of ``values``."""
    finite = values[np.isfinite(values)]
    low = min(0.0, float(finite.min())) if finite.size else 0.0
    limits = (low, 1.0)
    ax.plot(limits, limits, color="0.5", lw=1, ls="--")
    ax.set_xlim(limits)
    ax.set_ylim(limits)
    ax.set_aspect("equal")


def example_predictions(
    evals: dict[str, xr.Dataset], path, n_cells: int = 4, seconds: float = 10
) -> None:
    """Recorded trial-averaged rate and each model's prediction for the first ``n_cells`` cells.

    Shows the first ``seconds`` of the time span that all models predict; r in the legend is the
    correlation over the whole test movie.
    """
    if not evals:
        raise ValueError("example_predictions needs at least one evaluation")
    names = list(evals)
    reference = evals[names[0]]
    cells = list(reference["cell"].values[:n_cells])
    start = max(float(evaluation["time"].min()) for evaluation in evals.values())
    window = slice(start, start + seconds - 1e-9)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]

    fig, axes = plt.subplots(
        len(cells),
        1,
        figsize=(10, 2.2 * len(cells) + 0.6),
        sharex=True,
        layout="constrained",
        squeeze=False,
    )
    for ax, cell in zip(axes[:, 0], cells, strict=True):
        target = reference["target"].sel(cell=cell, time=window)
        ax.plot(
            target["time"], target, color="k", lw=1.4, zorder=3, label="recorded (trial average)"
        )
        for i, name in enumerate(names):
            evaluation = evals[name]
            prediction = evaluation["prediction"].sel(cell=cell, time=window)
            r = float(evaluation["correlation"].sel(cell=cell))
            ax.plot(
                prediction["time"],
                prediction,
                color=colors[i % len(colors)],
                lw=1.1,
                label=f"{name} (r = {r:.2f})",
            )
        ax.set_ylabel("rate (Hz)")
        ax.set_title(str(cell), loc="left", fontsize="medium")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    axes[-1, 0].set_xlabel("time in test movie (s)")
    fig.suptitle("Held-out test movie: recorded rate vs model predictions")
    save_figure(fig, path)


def rank1_filters(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank-1 SVD of each (history, k, k) filter: spatial maps, temporal profiles, variance fraction.

    The spatial map has unit norm and its largest-magnitude pixel positive, so the temporal
    profile (singular value included) carries the filter's polarity and scale. The fraction is
    s1^2 / sum s_i^2, the share of the filter's sum of squares captured by the rank-1 part.
    """
    n_filters, history, height, width = weight.shape
    spatial = np.empty((n_filters, height, width))
    temporal = np.empty((n_filters, history))
    fraction = np.empty(n_filters)
    for i, filt in enumerate(np.asarray(weight, float)):
        u, s, vt = np.linalg.svd(filt.reshape(history, height * width), full_matrices=False)
        space, time = vt[0], u[:, 0] * s[0]
        sign = np.sign(space[np.argmax(np.abs(space))]) or 1.0
        spatial[i] = (sign * space).reshape(height, width)
        temporal[i] = sign * time
        total = (s**2).sum()
        fraction[i] = s[0] ** 2 / total if total > 0 else math.nan
    return spatial, temporal, fraction


def cnn_filters(model_path, path) -> None:
    """Each first-layer CNN filter as a rank-1 spatial map and temporal profile."""
    checkpoint = load_torch(model_path)
    if checkpoint.get("kind") != "cnn":
        raise ValueError(
            f"{model_path}: cnn_filters needs a CNN model, got kind {checkpoint.get('kind')!r}"
        )
    weight = checkpoint["state_dict"]["conv1.weight"].detach().cpu().numpy()
    spatial, temporal, fraction = rank1_filters(weight)
    n_filters, history = temporal.shape
    lag_ms = (history - 1 - np.arange(history)) * FRAME_MS  # input frame j is history-1-j bins back
    n_cols = min(n_filters, 8)
    n_rows = math.ceil(n_filters / n_cols)
    vmax = float(np.abs(spatial).max()) or 1.0

    fig, axes = plt.subplots(
        2 * n_rows,
        n_cols,
        figsize=(2.0 * n_cols + 1.0, 3.6 * n_rows + 0.6),
        layout="constrained",
        squeeze=False,
    )
    image = None
    for i in range(n_rows * n_cols):
        row, col = divmod(i, n_cols)
        ax_space, ax_time = axes[2 * row, col], axes[2 * row + 1, col]
        if i >= n_filters:
            ax_space.axis("off")
            ax_time.axis("off")
            continue
        image = ax_space.imshow(spatial[i], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax_space.set_title(f"filter {i + 1}\nrank-1: {fraction[i]:.0%} of var.", fontsize="small")
        ax_space.set_xticks([])
        ax_space.set_yticks([])
        ax_time.plot(lag_ms, temporal[i], color="k", lw=1.2)
        ax_time.axhline(0, color="0.6", lw=0.8)
        ax_time.invert_xaxis()
        ax_time.tick_params(labelsize="x-small")
        if row == n_rows - 1 or i + n_cols >= n_filters:
            ax_time.set_xlabel("time before spike (ms)", fontsize="small")
        if col == 0:
            ax_space.set_ylabel(
                f"space ({spatial.shape[1]}x{spatial.shape[2]} px)", fontsize="small"
            )
            ax_time.set_ylabel("weight (a.u.)", fontsize="small")
    fig.colorbar(
        image, ax=axes[0::2, :].ravel().tolist(), shrink=0.6, label="spatial weight (unit norm)"
    )
    fig.suptitle(
        f"First-layer CNN filters: rank-1 SVD into spatial map x temporal profile "
        f"({history} frames of {FRAME_MS} ms)"
    )
    save_figure(fig, path)
