"""Figures of the IT branch: predictivity by layer, task performance vs predictivity, predictivity
over time, example stimuli. Every number plotted comes from ``results/it/scores.nc``.

Ceiling lines: ``c`` is the split-half consistency of the recorded neuroids (Spearman-Brown
corrected, median over neuroids, mean over splits), Brain-Score's ceiling; a prediction's r with
the repetition average can reach at most ``sqrt(c)``, the value at which the ``r^2 / c`` score is 1.
Both are drawn (dashed ``c``, dotted ``sqrt(c)``) in the region's colour.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from insilico.core.claims import t_interval  # noqa: E402
from insilico.core.io import save_figure  # noqa: E402
from insilico.core.stats import pearson  # noqa: E402
from insilico.it.models import model_kind  # noqa: E402

REGION_COLORS = {"V1": "tab:green", "V2": "tab:olive", "V4": "tab:blue", "IT": "tab:red"}
MODEL_MARKERS = {
    "cnn": "o",
    "cnn_deep": "^",
    "cnn_deeper": "v",
    "convrnn": "s",
    "convrnn_lstm": "D",
    "convrnn_vanilla": "P",
}
MODEL_LABELS = {
    "cnn": "CNN (4 conv)",
    "cnn_deep": "CNN deep",
    "cnn_deeper": "CNN deeper",
    "convrnn": "ConvRNN, reciprocal gated",
    "convrnn_lstm": "ConvRNN, LSTM cell",
    "convrnn_vanilla": "ConvRNN, vanilla cell",
}
MODEL_COLORS = {
    "cnn": "tab:purple",
    "cnn_deep": "mediumorchid",
    "cnn_deeper": "indigo",
    "convrnn": "tab:orange",
    "convrnn_lstm": "tab:green",
    "convrnn_vanilla": "tab:brown",
}
STATE_STYLES = {"trained": "-", "untrained": "--"}


def _color(region: str) -> str:
    return REGION_COLORS.get(region, "tab:gray")


def _ceiling_lines(ax, scores: xr.Dataset, region: str, label: bool = True) -> None:
    c = float(scores["ceiling"].sel(region=region))
    color = _color(region)
    ax.axhline(
        c,
        color=color,
        ls="--",
        lw=1,
        alpha=0.8,
        label=f"{region} ceiling c = {c:.2f}" if label else None,
    )
    ax.axhline(
        math.sqrt(max(c, 0)),
        color=color,
        ls=":",
        lw=1,
        alpha=0.8,
        label=f"{region} max r = sqrt(c) = {math.sqrt(max(c, 0)):.2f}" if label else None,
    )


def predictivity_by_layer(scores: xr.Dataset, path) -> None:
    """One panel per model: median r per layer and region (mean +- s.e.m. over splits), trained
    (solid) and untrained (dashed), seeds averaged; a star marks the best layer of the trained
    model chosen on held-out splits; ceiling lines per region."""
    models = [str(m) for m in scores["model"].values]
    regions = [str(r) for r in scores["region"].values]
    layers = [str(layer) for layer in scores["layer"].values]
    fig, axes = plt.subplots(
        1,
        len(models),
        figsize=(4.6 * len(models), 4.0),
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    x = np.arange(len(layers))
    for ax, model in zip(axes[0], models, strict=True):
        for region in regions:
            for state in [str(s) for s in scores["state"].values]:
                values = scores["score"].sel(model=model, state=state, region=region).mean("seed")
                errors = (
                    scores["score_sem"].sel(model=model, state=state, region=region).mean("seed")
                )
                if np.isnan(values.values).all():
                    continue
                ax.errorbar(
                    x,
                    values,
                    yerr=errors,
                    color=_color(region),
                    ls=STATE_STYLES.get(state, "-"),
                    marker="o",
                    ms=4,
                    capsize=3,
                    label=f"{region}, {state}",
                )
                if state == "trained" or "trained" not in scores["state"].values:
                    best = str(
                        scores["best_layer"]
                        .sel(model=model, state=state, region=region)
                        .values.flat[0]
                    )
                    if best in layers:
                        ax.plot(
                            layers.index(best),
                            float(values.sel(layer=best)),
                            marker="*",
                            ms=15,
                            color=_color(region),
                            mec="k",
                            zorder=5,
                        )
            _ceiling_lines(ax, scores, region, label=ax is axes[0, 0])
        ax.set_xticks(x, layers)
        ax.set_xlabel("layer (bottom to top)")
        ax.set_title(MODEL_LABELS.get(model, model))
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("neural predictivity: median Pearson r\n(PLS-25, 10 held-out splits)")
    axes[0, -1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")
    fig.suptitle(
        f"Predictivity by layer ({int(scores.attrs['window_start_ms'])}-{int(scores.attrs['window_end_ms'])} ms average); "
        "star: best layer chosen on held-out splits"
    )
    save_figure(fig, path)


def performance_vs_predictivity(scores: xr.Dataset, path) -> None:
    """Categorisation accuracy on held-out task images against best-layer predictivity, per run;
    one panel per region (IT first), error bars s.e.m. over splits, ceiling lines."""
    regions = [str(r) for r in scores["region"].values]
    regions = sorted(regions, key=lambda r: r != "IT")
    fig, axes = plt.subplots(
        1, len(regions), figsize=(4.6 * len(regions), 4.0), squeeze=False, layout="constrained"
    )
    for ax, region in zip(axes[0], regions, strict=True):
        accuracies, predictivities = [], []
        for model in [str(m) for m in scores["model"].values]:
            for state in [str(s) for s in scores["state"].values]:
                for seed in scores["seed"].values:
                    at = {"model": model, "state": state, "seed": seed}
                    accuracy = float(scores["test_accuracy"].sel(at))
                    r = float(scores["best_score"].sel(at | {"region": region}))
                    if not np.isfinite(r):
                        continue
                    err = float(scores["best_score_sem"].sel(at | {"region": region}))
                    filled = state == "trained"
                    ax.errorbar(
                        accuracy,
                        r,
                        yerr=err,
                        marker=MODEL_MARKERS.get(model, "D"),
                        ms=8,
                        capsize=3,
                        color=_color(region),
                        mfc=_color(region) if filled else "white",
                        ls="none",
                        label=f"{MODEL_LABELS.get(model, model)}, {state}"
                        if seed == scores["seed"].values[0]
                        else None,
                    )
                    accuracies.append(accuracy)
                    predictivities.append(r)
        _ceiling_lines(ax, scores, region)
        n_categories = scores.attrs.get("n_categories")
        if n_categories:
            ax.axvline(1 / n_categories, color="0.5", ls="-.", lw=1, label="chance")
        if len(accuracies) > 2:
            rho = float(pearson(accuracies, predictivities))
            ax.set_title(f"{region}: Pearson r(performance, predictivity) = {rho:.2f}")
        else:
            ax.set_title(region)
        ax.set_xlabel("categorisation accuracy on held-out task images")
        ax.set_ylabel(f"{region} predictivity of the best layer (median r)")
        ax.set_xlim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small", loc="best")
    fig.suptitle("Task performance vs neural predictivity (best layer chosen on held-out splits)")
    save_figure(fig, path)


def temporal_predictivity(scores: xr.Dataset, path) -> None:
    """Per region: predictivity in each 10 ms bin of the layer that best predicts the time-averaged
    responses, for each model; trained solid, untrained dashed; band s.e.m. over splits; per-bin
    ceilings c (dashed) and sqrt(c) (dotted) in black."""
    regions = [str(r) for r in scores["region"].values]
    centers = (scores["time_bin_start"].values + scores["time_bin_end"].values) / 2
    fig, axes = plt.subplots(
        1,
        len(regions),
        figsize=(5.0 * len(regions), 4.0),
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    for ax, region in zip(axes[0], regions, strict=True):
        for model in [str(m) for m in scores["model"].values]:
            for state in [str(s) for s in scores["state"].values]:
                curve = (
                    scores["best_score_t"]
                    .sel(model=model, state=state, region=region)
                    .mean("seed")
                    .values
                )
                band = (
                    scores["best_score_t_sem"]
                    .sel(model=model, state=state, region=region)
                    .mean("seed")
                    .values
                )
                if np.isnan(curve).all():
                    continue
                at = {"model": model, "state": state, "region": region}
                layer = str(scores["temporal_layer"].sel(at).values.flat[0])
                color = MODEL_COLORS.get(model, "tab:gray")
                latency = ""
                if "latency_ms" in scores and model_kind(model) == "convrnn":
                    latency = f", latency {float(scores['latency_ms'].sel(at).median()):.0f} ms"
                ax.plot(
                    centers,
                    curve,
                    color=color,
                    ls=STATE_STYLES.get(state, "-"),
                    marker="o" if state == "trained" else None,
                    ms=3,
                    label=f"{MODEL_LABELS.get(model, model)}, {state} ({layer}{latency})",
                )
                ax.fill_between(centers, curve - band, curve + band, color=color, alpha=0.15, lw=0)
        c = scores["ceiling_t"].sel(region=region).values
        ax.plot(centers, c, color="k", ls="--", lw=1, label="ceiling c per bin")
        ax.plot(
            centers, np.sqrt(np.clip(c, 0, None)), color="k", ls=":", lw=1, label="max r = sqrt(c)"
        )
        ax.set_title(f"{region}")
        ax.set_xlabel("time after image onset (ms, 10 ms bins)")
        ax.grid(alpha=0.3)
        ax.legend(
            loc="best",
            fontsize="x-small",
            title="model, state (layer)",
            title_fontsize="x-small",
        )
    axes[0, 0].set_ylabel("median Pearson r (PLS-25 per bin, held-out)")
    fig.suptitle(
        "Predictivity over time: ConvRNN step t mapped to the bin starting at latency + 10 t ms "
        f"(latency: {scores.attrs.get('latency', 'fit')}); a CNN gives the same features to every bin"
    )
    save_figure(fig, path)


def _interval_bar(ax, x, values, color, label=None) -> tuple[float, float, float]:
    """A bar at the mean of ``values`` (one per seed) with its 95 % t interval and the seeds."""
    mean, low, high, _ = t_interval(values)
    yerr = None if not np.isfinite(low) else [[mean - low], [high - mean]]
    ax.bar(x, mean, color=color, alpha=0.75, label=label)
    ax.errorbar(x, mean, yerr=yerr, color="k", capsize=4, ls="none")
    ax.plot(np.full(len(values), x), values, "k.", ms=4)
    return mean, low, high


def late_predictivity(scores: xr.Dataset, late_start_ms: int, path) -> None:
    """Per region: trained models' predictivity on the time-averaged window (left bars) and
    averaged over bins from ``late_start_ms`` (right), mean over seeds with 95 % t intervals
    (dots: seeds); CNN depths and ConvRNN cells side by side, ceilings as lines."""
    regions = [str(r) for r in scores["region"].values]
    models = [str(m) for m in scores["model"].values]
    late = scores["time_bin_start"].values >= late_start_ms
    fig, axes = plt.subplots(
        1,
        len(regions),
        figsize=((1.4 * len(models) + 2) * len(regions) + 2, 4.2),
        squeeze=False,
        layout="constrained",
    )
    for ax, region in zip(axes[0], regions, strict=True):
        at = {"state": "trained", "region": region}
        window = scores["best_score"].sel(at)
        per_bin = scores["best_score_t"].sel(at).isel(time_bin=np.flatnonzero(late))
        late_mean = per_bin.mean("time_bin")
        for i, model in enumerate(models):
            color = MODEL_COLORS.get(model, "tab:gray")
            _interval_bar(ax, 3 * i, window.sel(model=model).values, color)
            _interval_bar(
                ax,
                3 * i + 1,
                late_mean.sel(model=model).values,
                color,
                label=MODEL_LABELS.get(model, model),
            )
        ax.axhline(float(scores["ceiling"].sel(region=region)), color="k", ls="--", lw=1)
        ticks = [3 * i + offset for i in range(len(models)) for offset in (0, 1)]
        ax.set_xticks(
            ticks,
            [f"{part}" for _ in models for part in ("window", "late")],
            rotation=90,
            fontsize="small",
        )
        ax.set_title(region)
        ax.set_xlabel(f"per model: window | bins >= {late_start_ms} ms")
        ax.set_ylabel("median Pearson r (held-out), trained")
        ax.grid(alpha=0.3, axis="y")
    axes[0, -1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")
    fig.suptitle("Predictivity per CNN depth and ConvRNN cell: mean over seeds, 95 % t interval")
    save_figure(fig, path)


def solution_time_scatter(times: xr.Dataset, scores: xr.Dataset, path) -> None:
    """One panel per trained ConvRNN: its object solution time per image (seed 0, the same
    decoder and criterion as the recordings', its bins at its latency) against the
    recordings'; title: Spearman r per seed and its mean with the 95 % t interval."""
    from insilico.it.claims import model_solution_time_correlation
    from insilico.it.solution_times import solution_times

    models = [str(m) for m in scores["model"].values if model_kind(str(m)) == "convrnn"]
    fig, axes = plt.subplots(
        1,
        max(len(models), 1),
        figsize=(4.4 * max(len(models), 1), 4.2),
        squeeze=False,
        layout="constrained",
    )
    region = str(times.attrs["region"])
    centres = (times["time_bin_start"].values + times["time_bin_end"].values) / 2.0
    brain = times["solution_time_ms"].values
    for ax, model in zip(axes[0], models, strict=False):
        curves = scores["image_performance"].sel(model=model, state="trained", region=region)
        own = solution_times(curves.isel(seed=0).values, centres, float(times.attrs["criterion"]))
        ax.plot(brain, own, "o", color=MODEL_COLORS.get(model, "tab:gray"), ms=3, alpha=0.6)
        rho = model_solution_time_correlation(scores, times, model)
        mean, low, high, _ = t_interval(rho)
        ax.set_title(
            f"{MODEL_LABELS.get(model, model)}\nSpearman r = {mean:.2f} [{low:.2f}, {high:.2f}]",
            fontsize="small",
        )
        ax.set_xlabel(f"{region} solution time (ms)")
        ax.set_ylabel("model solution time (ms, seed 0)")
        ax.grid(alpha=0.3)
    fig.suptitle("Object solution times per image: model against recordings (images both solve)")
    save_figure(fig, path)


KIND_COLORS = {
    "clean": "k",
    "occluded": "tab:brown",
    "cluttered": "tab:olive",
    "low_contrast": "tab:cyan",
    "unusual_pose": "tab:pink",
}
GROUP_STYLES = {"early": "-", "late": "--"}


def late_solved(times: xr.Dataset, scores: xr.Dataset, path) -> None:
    """Late-solved images (Kar et al. 2019), three panels.

    (a) Category decoding from the recorded responses of ``times.attrs["region"]`` over time,
    mean per-image performance per image kind (or over all images), with the criterion;
    (b) the cumulative share of images solved by each time, per kind; (c) IT predictivity of each
    trained model's best layer per bin, on early- (solid) and late-solved (dashed) held-out
    images apart, mean over seeds; (d) category decoding from that layer, same split.
    """
    centers = (times["time_bin_start"].values + times["time_bin_end"].values) / 2
    kinds = (
        times["image_kind"].values.astype(str)
        if "image_kind" in times.coords
        else np.full(times.sizes["stimulus"], "all")
    )
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.2), layout="constrained")
    performance, solved = times["performance"].values, times["solution_time_ms"].values
    for kind in dict.fromkeys(kinds):
        color = KIND_COLORS.get(kind, "tab:gray")
        members = kinds == kind
        label = f"{kind} ({members.sum()} images)"
        axes[0].plot(
            centers, performance[members].mean(0), color=color, marker="o", ms=3, label=label
        )
        share = [(solved[members] <= t).mean() for t in centers]
        axes[1].plot(centers, share, color=color, label=label)
    axes[0].axhline(float(times.attrs["criterion"]), color="gray", ls=":", label="criterion")
    axes[0].axhline(0.5, color="gray", ls="-", lw=0.5, label="chance")
    axes[0].set_ylabel(f"{times.attrs['region']} category decoding (share of distractors beaten)")
    axes[1].set_ylabel("share of images solved")
    if "score_group" in scores:
        colors = MODEL_COLORS
        score_centers = (scores["time_bin_start"].values + scores["time_bin_end"].values) / 2
        for model in [str(m) for m in scores["model"].values]:
            for group in [str(g) for g in scores["solved_group"].values]:
                style = {"color": colors.get(model, "tab:gray"), "ls": GROUP_STYLES.get(group, "-")}
                label = f"{MODEL_LABELS.get(model, model)}, {group}-solved"
                curve = scores["score_group"].sel(model=model, state="trained", solved_group=group)
                axes[2].plot(
                    score_centers, curve.sel(region="IT").mean("seed"), **style, label=label
                )
                decoding = scores["decoding_group"].sel(
                    model=model, state="trained", solved_group=group
                )
                axes[3].plot(
                    score_centers, decoding.sel(region="IT").mean("seed"), **style, label=label
                )
        axes[2].set_ylabel("IT median r, best layer (PLS-25 per bin, held-out)")
        axes[3].set_ylabel("category decoding from the IT-best layer")
        axes[3].axhline(0.5, color="gray", ls="-", lw=0.5)
    titles = (
        "(a) decoding from the recordings",
        "(b) object solution times",
        "(c) predictivity, early vs late images",
        "(d) model decoding, early vs late images",
    )
    for ax, title in zip(axes, titles, strict=True):
        ax.set_title(title)
        ax.set_xlabel("time after image onset (ms)")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="x-small")
    save_figure(fig, path)


def example_stimuli(stimuli, path, n_columns: int = 8) -> None:
    """One image per category (first object) at each variation level, as in the stimulus set."""
    table = stimuli.metadata
    levels = sorted(table["variation"].unique()) if "variation" in table else [None]
    categories = list(dict.fromkeys(table["category_name"]))[:n_columns]
    fig, axes = plt.subplots(
        len(levels),
        len(categories),
        figsize=(1.3 * len(categories), 1.4 * len(levels)),
        squeeze=False,
    )
    for i, level in enumerate(levels):
        for j, category in enumerate(categories):
            ax = axes[i, j]
            rows = table[table["category_name"] == category]
            if level is not None:
                rows = rows[rows["variation"] == level]
            ax.axis("off")
            if len(rows):
                ax.imshow(stimuli.images[rows.index[0]], cmap="gray", vmin=0, vmax=255)
            if i == 0:
                ax.set_title(category, fontsize="x-small")
        if level is not None:
            axes[i, 0].text(
                -0.1, 0.5, f"var {level}", transform=axes[i, 0].transAxes, ha="right", va="center"
            )
    fig.suptitle(f"Stimulus set: {len(table)} images, {table['object_name'].nunique()} objects")
    save_figure(fig, path)
