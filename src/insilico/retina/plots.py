"""Figures for the retina branch: model comparison against the ceiling, predictions, CNN filters."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from insilico.core.io import load_torch, save_figure  # noqa: E402
from insilico.core.units import BIN_MS  # noqa: E402


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
    lag_ms = (history - 1 - np.arange(history)) * BIN_MS  # input frame j is history-1-j bins back
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
        f"({history} frames of {BIN_MS:g} ms)"
    )
    save_figure(fig, path)


STIMULUS_NAMES = {"whitenoise": "white noise", "naturalscene": "natural scenes"}


def _stimulus_name(stimulus: str) -> str:
    return STIMULUS_NAMES.get(str(stimulus), str(stimulus))


def _seed_spread(correlation: xr.DataArray) -> float:
    """Std over seeds of the mean over cells (nan with one seed): how much a refit changes."""
    per_seed = correlation.mean("cell", skipna=True).values
    per_seed = per_seed[np.isfinite(per_seed)]
    return float(per_seed.std(ddof=1)) if per_seed.size > 1 else math.nan


def model_comparison_classes(performances: dict[str, xr.Dataset], path) -> None:
    """One panel per stimulus class: every model's test correlation against the ceiling.

    Bars are the mean over cells of the seed-averaged correlation; thick error bars the s.e.m.
    over cells, thin ones (offset to the right) the std over seeds of the cell mean. Dots are
    cells; the dashed line and band the mean +- s.e.m. of the split-half ceiling. The tick label
    gives the mean and the fraction of the ceiling (the mean of per-cell ratios against
    :func:`insilico.retina.evaluate.reference_ceiling`, the exact one on simulated data).
    """
    from insilico.retina.evaluate import fraction_of_ceiling, reference_ceiling

    if not performances:
        raise ValueError("model_comparison_classes needs at least one stimulus class")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, axes = plt.subplots(
        1,
        len(performances),
        figsize=(4.6 * len(performances) + 0.6, 4.4),
        layout="constrained",
        squeeze=False,
        sharey=True,
    )
    for ax, (stimulus, performance) in zip(axes[0], performances.items(), strict=True):
        models = [str(model) for model in performance["model"].values]
        per_cell = performance["correlation"].mean("seed", skipna=True).transpose("model", "cell")
        ceiling_mean, ceiling_sem = _mean_sem(performance["ceiling"].values)
        reference = reference_ceiling(performance)[1].values
        n_cells = performance.sizes["cell"]
        jitter = np.linspace(-0.18, 0.18, n_cells) if n_cells > 1 else np.zeros(1)
        labels = []
        for i, model in enumerate(models):
            color = colors[i % len(colors)]
            mean, sem = _mean_sem(per_cell.values[i])
            ax.bar(i, mean, width=0.6, color=color, alpha=0.35)
            ax.errorbar(i, mean, yerr=sem, fmt="none", ecolor=color, elinewidth=2.2, capsize=5)
            spread = _seed_spread(performance["correlation"].sel(model=model))
            if np.isfinite(spread):
                ax.errorbar(
                    i + 0.24, mean, yerr=spread, fmt="none", ecolor="k", elinewidth=0.9, capsize=3
                )
            ax.scatter(i + jitter, per_cell.values[i], s=14, color=color, zorder=3)
            fraction = fraction_of_ceiling(per_cell.values[i], reference)
            labels.append(f"{model.upper()}\n{mean:.2f} ({fraction:.0%})")
        ax.axhline(ceiling_mean, color="k", ls="--", lw=1.2, label=f"ceiling {ceiling_mean:.2f}")
        if np.isfinite(ceiling_sem):
            ax.axhspan(
                ceiling_mean - ceiling_sem, ceiling_mean + ceiling_sem, color="k", alpha=0.1, lw=0
            )
        ax.set_xticks(range(len(models)), labels)
        ax.set_ylim(0, 1)
        ax.set_title(
            f"{_stimulus_name(stimulus)}\n({n_cells} cells, {performance.sizes['seed']} seed(s))"
        )
        ax.legend(loc="upper left", fontsize="small")
    axes[0, 0].set_ylabel("Pearson r with trial-averaged test rate")
    fig.suptitle("Held-out test correlation per model against the retinal reliability ceiling")
    save_figure(fig, path)


def data_efficiency(datasets: dict[str, xr.Dataset], path) -> None:
    """Held-out correlation and overfitting against the amount of training data, per class.

    Top row: test correlation (mean over cells, error bars s.e.m. over seeds of that mean).
    Bottom row: training minus validation correlation (both on the single-trial training rate),
    the generalisation gap; it grows where a model overfits.
    """
    if not datasets:
        raise ValueError("data_efficiency needs at least one stimulus class")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, axes = plt.subplots(
        2,
        len(datasets),
        figsize=(4.8 * len(datasets) + 0.6, 7.0),
        layout="constrained",
        squeeze=False,
        sharex="col",
    )
    for col, (stimulus, dataset) in enumerate(datasets.items()):
        minutes = dataset["train_minutes"].values
        for i, model in enumerate(dataset["model"].values):
            color = colors[i % len(colors)]
            run = dataset.sel(model=model)
            for row, values in enumerate(
                (run["test_correlation"], run["train_correlation"] - run["val_correlation"])
            ):
                per_seed = values.mean("cell", skipna=True)  # (fraction, seed)
                mean = per_seed.mean("seed", skipna=True).values
                count = np.isfinite(per_seed).sum("seed").values
                sem = per_seed.std("seed", ddof=1, skipna=True).values / np.sqrt(
                    np.maximum(count, 1)
                )
                sem = np.where(count > 1, sem, np.nan)
                axes[row, col].errorbar(
                    minutes,
                    mean,
                    yerr=sem,
                    marker="o",
                    color=color,
                    capsize=3,
                    label=str(model).upper(),
                )
        ax_test, ax_gap = axes[0, col], axes[1, col]
        ax_test.set_title(f"{_stimulus_name(stimulus)} ({dataset.sizes['seed']} seed(s))")
        ax_test.set_ylabel("test correlation (trial average)")
        ax_test.legend(loc="lower right", fontsize="small")
        ax_gap.axhline(0, color="0.6", lw=0.8)
        ax_gap.set_ylabel("train - validation correlation")
        ax_gap.set_xlabel("training data (minutes, log scale)")
        ax_gap.set_xscale("log")
        ax_gap.set_xticks(minutes, [f"{m:.2g}" for m in minutes])
        ax_gap.minorticks_off()
    fig.suptitle("Data efficiency: held-out performance and overfitting vs amount of training data")
    save_figure(fig, path)


def generalization(dataset: xr.Dataset, path) -> None:
    """Per model, the train x test stimulus-class matrix of mean test correlation, and the loss
    on transfer of every model to each class it was not trained on.

    Each matrix entry is the mean over cells of the seed-averaged correlation, +- s.e.m. over
    cells, and its fraction of the test recording's mean ceiling. The last panel shows the
    ``transfer_loss`` (r of the model trained on the test class minus r of the transferred model,
    same cells and test movie), mean +- s.e.m. over cells of the seed-averaged values.
    """
    models = [str(model) for model in dataset["model"].values]
    train = [str(s) for s in dataset["train_stimulus"].values]
    test = [str(s) for s in dataset["test_stimulus"].values]
    per_cell = dataset["correlation"].mean("seed", skipna=True)
    ceiling = dataset["ceiling"].mean("cell").values
    fig, axes = plt.subplots(
        1,
        len(models) + 1,
        figsize=(3.6 * len(models) + 4.4, 3.8),
        layout="constrained",
        squeeze=False,
    )
    _transfer_losses(axes[0, -1], dataset["transfer_loss"].mean("seed", skipna=True))
    image = None
    for ax, model in zip(axes[0, :-1], models, strict=True):
        matrix = np.full((len(train), len(test)), np.nan)
        for i, train_stimulus in enumerate(train):
            for j, test_stimulus in enumerate(test):
                values = per_cell.sel(
                    model=model, train_stimulus=train_stimulus, test_stimulus=test_stimulus
                ).values
                mean, sem = _mean_sem(values)
                matrix[i, j] = mean
                ax.text(
                    j,
                    i,
                    f"{mean:.2f} ± {sem:.2f}\n({mean / ceiling[j]:.0%} of ceiling)",
                    ha="center",
                    va="center",
                    fontsize="small",
                )
        image = ax.imshow(matrix, cmap="viridis", vmin=0, vmax=1)
        ax.set_xticks(range(len(test)), [_stimulus_name(s) for s in test])
        ax.set_yticks(range(len(train)), [_stimulus_name(s) for s in train])
        ax.set_xlabel("tested on")
        ax.set_ylabel("trained on")
        ax.set_title(model.upper())
    fig.colorbar(image, ax=axes[0, :-1].tolist(), shrink=0.8, label="mean test correlation")
    fig.suptitle("Generalisation across stimulus classes")
    save_figure(fig, path)


def _transfer_losses(ax, per_cell: xr.DataArray) -> None:
    """Grouped bars: per model, the loss on each off-diagonal (train -> test) transfer."""
    pairs = [
        (str(train), str(test))
        for train in per_cell["train_stimulus"].values
        for test in per_cell["test_stimulus"].values
        if train != test
    ]
    models = [str(model) for model in per_cell["model"].values]
    width = 0.8 / max(1, len(pairs))
    for k, (train, test) in enumerate(pairs):
        stats = [
            _mean_sem(per_cell.sel(model=m, train_stimulus=train, test_stimulus=test).values)
            for m in models
        ]
        ax.bar(
            np.arange(len(models)) + (k - (len(pairs) - 1) / 2) * width,
            [mean for mean, _ in stats],
            width,
            yerr=[sem for _, sem in stats],
            capsize=3,
            label=f"{_stimulus_name(train)} \u2192 {_stimulus_name(test)}",
        )
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xticks(np.arange(len(models)), [m.upper() for m in models])
    ax.set_ylabel("\u0394r vs trained on the test class")
    ax.set_title("Loss on transfer (lower: generalises)")
    ax.set_ylim(top=ax.get_ylim()[1] * 1.3)  # room for the legend above the bars
    ax.legend(fontsize="small", frameon=False, loc="upper left")


def receptive_fields(dataset: xr.Dataset, path, n_cells: int = 6) -> None:
    """Data STA against model STAs on the same white noise, for the first ``n_cells`` cells.

    For each cell, the peak of the data STA (largest absolute value over lags and pixels) fixes
    one lag and one pixel. Columns: the spatial map of the data STA and of every (model,
    training class) STA at that lag (each on its own symmetric colour scale, red positive), then
    all their temporal profiles at that pixel, each scaled to unit maximum magnitude. Titles give
    the Pearson r of the model STA with the data STA over all lags and pixels.
    """
    cells = list(dataset["cell"].values[:n_cells])
    sources = [("data", None, None)] + [
        (f"{str(model).upper()} ({_stimulus_name(stimulus)})", str(model), str(stimulus))
        for model in dataset["model"].values
        for stimulus in dataset["train_stimulus"].values
    ]
    lag_ms = dataset["lag"].values * 1000
    colors = ["k", *plt.rcParams["axes.prop_cycle"].by_key()["color"]]
    fig, axes = plt.subplots(
        len(cells),
        len(sources) + 1,
        figsize=(1.9 * (len(sources) + 1) + 1.6, 1.9 * len(cells) + 0.8),
        layout="constrained",
        squeeze=False,
    )
    for row, cell in enumerate(cells):
        data = dataset["data_sta"].sel(cell=cell).values
        peak_lag, peak_row, peak_col = np.unravel_index(np.abs(data).argmax(), data.shape)
        for col, (label, model, stimulus) in enumerate(sources):
            if model is None:
                sta, title = data, f"data (peak {lag_ms[peak_lag]:.0f} ms)"
            else:
                selected = dict(model=model, train_stimulus=stimulus, cell=cell)
                sta = dataset["model_sta"].sel(selected).values
                title = f"{label}\nr = {float(dataset['similarity'].sel(selected)):.2f}"
            frame = sta[peak_lag]
            vmax = float(np.abs(frame).max()) or 1.0
            ax = axes[row, col]
            ax.imshow(frame, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            ax.plot(peak_col, peak_row, marker="+", color="0.3", ms=6)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(title, fontsize="x-small")
            if col == 0:
                ax.set_ylabel(str(cell), fontsize="small")
            profile = sta[:, peak_row, peak_col]
            scale = np.abs(profile).max() or 1.0
            axes[row, -1].plot(
                lag_ms, profile / scale, color=colors[col % len(colors)], lw=1.2, label=label
            )
        ax_time = axes[row, -1]
        ax_time.axhline(0, color="0.6", lw=0.8)
        ax_time.invert_xaxis()
        ax_time.tick_params(labelsize="x-small")
    axes[-1, -1].set_xlabel("time before response (ms)", fontsize="small")
    axes[0, -1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="x-small")
    fig.suptitle(
        "Receptive fields: spike-triggered averages of data and models on the same white noise"
    )
    save_figure(fig, path)


def ablation(datasets: dict[str, xr.Dataset], path) -> None:
    """Fraction of the ceiling per ablation variant, one panel per stimulus class.

    One row per variant (baseline on top, then the factors in config order; the tick label gives
    the variant and its training time): the mean over cells of test r over the cell's ceiling,
    error bar s.e.m. over cells, each cell a grey dot; the dashed line is the baseline's mean, so
    a bar to its right is a factor whose change improves the fit.
    """
    if not datasets:
        raise ValueError("ablation needs at least one stimulus class")
    n_variants = max(d.sizes["variant"] for d in datasets.values())
    fig, axes = plt.subplots(
        1,
        len(datasets),
        figsize=(5.4 * len(datasets) + 0.8, 0.32 * n_variants + 1.6),
        layout="constrained",
        squeeze=False,
    )
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (stimulus, dataset) in zip(axes[0], datasets.items(), strict=True):
        factors = list(dict.fromkeys(str(f) for f in dataset["factor"].values))
        values = dataset["fraction_of_ceiling"].transpose("variant", "cell").values
        rows = np.arange(len(values))
        stats = np.array([_mean_sem(v) for v in values])
        color = [colors[factors.index(str(f)) % len(colors)] for f in dataset["factor"].values]
        ax.barh(rows, stats[:, 0], xerr=stats[:, 1], color=color, alpha=0.75, capsize=3)
        jitter = np.linspace(-0.2, 0.2, values.shape[1]) if values.shape[1] > 1 else np.zeros(1)
        ax.scatter(values.ravel(), (rows[:, None] + jitter[None]).ravel(), s=6, color="0.35")
        ax.axvline(stats[0, 0], color="0.3", ls="--", lw=0.9)
        seconds = dataset["train_seconds"].values
        ax.set_yticks(
            rows,
            [f"{v} ({s:.0f} s)" for v, s in zip(dataset["variant"].values, seconds, strict=True)],
        )
        ax.invert_yaxis()
        reference = "exact" if dataset.attrs.get("ceiling") == "true_ceiling" else "split-half"
        ax.set_xlabel(f"test r / {reference} ceiling (mean over cells, s.e.m.)")
        ax.set_title(f"{_stimulus_name(stimulus)} ({dataset.sizes['cell']} cells)")
    fig.suptitle("Ablation: the default CNN with one factor changed at a time")
    save_figure(fig, path)
