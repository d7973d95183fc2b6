"""Figures of the mechanisms branch: each phenomenon (CNN vs simulated retina), attribution over
time, model reduction and the ground-truth check.

Every number drawn comes from the pipeline's netCDF outputs (responses, attribution, reduction,
ground truth); nothing is recomputed here except selections (example cell, example condition).
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from insilico.core.io import save_figure  # noqa: E402
from insilico.core.units import BIN_MS  # noqa: E402

SOURCE_STYLE = {
    "cnn": {"color": "C0", "ls": "-", "label": "CNN"},
    "truth": {"color": "k", "ls": "--", "label": "simulated retina (truth)"},
    "reduced": {"color": "C3", "ls": ":", "label": "reduced CNN"},
}
TITLES = {
    "flash": "Flash and step responses",
    "latency": "Latency coding: latency vs intensity of a dark step",
    "omitted_stimulus": "Omitted stimulus response",
    "anticipation": "Motion anticipation: moving vs flashed bars",
    "reversal": "Motion reversal",
    "paired_flash": "Paired-flash recovery",
    "contrast_adaptation": "Contrast adaptation",
    "reversing_grating": "Reversing gratings: frequency doubling",
    "object_motion": "Object vs global motion",
}


def run_label(experiment: str, stimulus: str, seed) -> str:
    """How a figure names the dissected model: a fitted CNN, or the positive control."""
    if stimulus == "control":
        return f"({experiment}, positive control: CNN built from the true circuit)"
    return f"({experiment}, CNN trained on {stimulus}, seed {seed})"


def example_cell(responses: xr.Dataset) -> str:
    """The cell with the largest stimulus-driven response (in the truth when there is one)."""
    source = "truth" if "truth" in responses["source"].values else "cnn"
    drive = np.abs(responses["rate"].sel(source=source) - responses["rest_rate"].sel(source=source))
    return str(drive.max(dim=("condition", "time")).idxmax("cell").values)


def _summary(responses: xr.Dataset, reduction: xr.Dataset | None, name: str) -> xr.DataArray:
    """Summary variable ``name`` with every available source (CNN, truth, reduced CNN)."""
    parts = [responses[f"summary_{name}"]]
    if reduction is not None:
        parts.append(reduction[f"summary_{name}"])
    return xr.concat(parts, dim="source", coords="minimal", compat="override")


def _alignment(responses: xr.Dataset) -> tuple[np.ndarray, str]:
    """Per-condition time offsets (ms) for the trace panels and the x-axis label.

    Omission and reversal responses are compared at the event, which comes at a different time
    in each condition; everything else is shown from the stimulus start.
    """
    n = responses.sizes["condition"]
    if responses.attrs["phenomenon"] == "omitted_stimulus":
        return responses["omitted_frame"].values * BIN_MS, "time from the omitted flash (ms)"
    if responses.attrs["phenomenon"] == "reversal":
        frames = responses["reversal_frame"].values.astype(float)
        frames[frames < 0] = frames.max()  # the control, aligned with the latest reversal
        return frames * BIN_MS, "time from the reversal (ms)"
    return np.zeros(n), "time from stimulus start (ms)"


def _traces(ax, time_ms, rates, labels, title, offsets, xlabel, cmap="viridis") -> None:
    colors = plt.get_cmap(cmap)(np.linspace(0.05, 0.9, max(len(rates), 1)))
    for rate, label, color, offset in zip(rates, labels, colors, offsets, strict=True):
        ax.plot(time_ms - offset, rate, color=color, lw=1.1, label=label)
    ax.set_title(title, fontsize="medium")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("rate (Hz)")


def _curve(ax, x, summary: xr.DataArray, xlabel: str, ylabel: str, per_cell: bool = True) -> None:
    """Mean over cells (thick) and each cell (thin) of ``summary (source, condition-like, cell)``."""
    for source in summary["source"].values:
        style = SOURCE_STYLE[str(source)]
        values = summary.sel(source=source).transpose(..., "cell").values
        if per_cell:
            ax.plot(x, values, color=style["color"], ls=style["ls"], lw=0.6, alpha=0.4)
        finite = np.isfinite(values)
        count = finite.sum(-1)
        total = np.where(finite, values, 0.0).sum(-1)
        mean = np.divide(total, count, out=np.full(count.shape, np.nan), where=count > 0)
        ax.plot(
            x,
            mean,
            color=style["color"],
            ls=style["ls"],
            lw=2,
            marker="o",
            ms=3,
            label=f"{style['label']} (mean over cells)",
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="x-small")


def _per_cell_bars(ax, summary: xr.DataArray, ylabel: str) -> None:
    """Grouped bars per cell of a per-cell summary ``(source, cell)``; NaN (no response) left out."""
    cells = list(summary["cell"].values)
    sources = list(summary["source"].values)
    width = 0.8 / len(sources)
    for i, source in enumerate(sources):
        style = SOURCE_STYLE[str(source)]
        ax.bar(
            np.arange(len(cells)) + i * width,
            summary.sel(source=source).values,
            width,
            color=style["color"],
            alpha=0.8 if source != "truth" else 0.5,
            label=style["label"],
        )
    ax.set_xticks(np.arange(len(cells)) + 0.4 - width / 2, cells, rotation=45, fontsize="x-small")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="x-small")


def _condition_labels(responses: xr.Dataset) -> list[str]:
    phenomenon = responses.attrs["phenomenon"]
    coords = {
        "flash": ("label", "{}"),
        "latency": ("intensity", "contrast -{:.2f}"),
        "omitted_stimulus": ("period", "period {} frames"),
        "reversal": ("reversal_position", "reverse at {:+.0f} px"),
        "paired_flash": ("interval", "interval {} frames"),
        "contrast_adaptation": ("repeat", "repeat {}"),
        "object_motion": ("kind", "{}"),
    }
    if phenomenon in coords:
        name, template = coords[phenomenon]
        labels = []
        for value in responses[name].values:
            text = "control" if isinstance(value, float) and math.isnan(value) else None
            labels.append(text or template.format(value))
        return labels
    if phenomenon == "anticipation":
        return [
            "moving" if k == "moving" else f"flash at {p:.0f} px"
            for k, p in zip(responses["kind"].values, responses["position"].values, strict=True)
        ]
    if phenomenon == "reversing_grating":
        return [
            f"bar {w:g} px, phase {p:.2f}"
            for w, p in zip(responses["bar_width"].values, responses["phase"].values, strict=True)
        ]
    return [str(c) for c in responses["condition"].values]


def _shown_conditions(responses: xr.Dataset, cell: str) -> np.ndarray:
    """Conditions drawn as traces (all, or a readable subset for long condition lists)."""
    phenomenon = responses.attrs["phenomenon"]
    n = responses.sizes["condition"]
    if phenomenon == "anticipation":
        flashes = np.flatnonzero(responses["kind"].values == "flash")
        step = max(1, len(flashes) // 5)
        return np.concatenate([[0], flashes[::step]])
    if phenomenon == "object_motion":
        return np.flatnonzero(responses["trial"].values == 0)
    if n > 8:
        return np.linspace(0, n - 1, 8).round().astype(int)
    return np.arange(n)


def phenomenon_figure(
    responses: xr.Dataset, reduction: xr.Dataset | None, path, label: str = ""
) -> None:
    """Responses of the CNN (left) and the simulated retina (right) for the example cell, and the
    phenomenon's standard summary (bottom) for the CNN, the truth and the reduced CNN."""
    phenomenon = responses.attrs["phenomenon"]
    cell = example_cell(responses)
    sources = [str(s) for s in responses["source"].values]
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), layout="constrained", squeeze=False)
    time_ms = responses["time"].values * 1000
    shown = _shown_conditions(responses, cell)
    labels = np.asarray(_condition_labels(responses))[shown]
    offsets, xlabel = _alignment(responses)
    offsets = offsets[shown]
    trace_axes = axes[0]
    for ax, source in zip(trace_axes, ["cnn", "truth"], strict=True):
        if source not in sources:
            ax.axis("off")
            ax.text(0.5, 0.5, "no ground truth\n(data not simulated)", ha="center", va="center")
            continue
        rates = responses["rate"].sel(source=source, cell=cell).values[shown]
        name = SOURCE_STYLE[source]["label"]
        _traces(ax, time_ms, rates, labels, f"{name}, {cell}", offsets, xlabel)
        if reduction is not None and source == "cnn":
            reduced = reduction["reduced_rate"].sel(cell=cell).values[shown]
            for rate, offset in zip(reduced, offsets, strict=True):
                ax.plot(time_ms - offset, rate, color="C3", lw=0.8, ls=":")
            ax.plot([], [], color="C3", ls=":", label="reduced CNN")
        ax.legend(fontsize="xx-small", ncol=2)
    if "truth" in sources:
        low = min(ax.get_ylim()[0] for ax in trace_axes)
        high = max(ax.get_ylim()[1] for ax in trace_axes)
        for ax in trace_axes:
            ax.set_ylim(low, high)
    SUMMARY_PANELS[phenomenon](axes[1], responses, reduction)
    fig.suptitle(f"{TITLES[phenomenon]} {label}".strip())
    save_figure(fig, path)


def _summary_flash(axes, responses, reduction) -> None:
    latency = _summary(responses, reduction, "latency")
    labels = list(responses["label"].values)
    _curve(axes[0], np.arange(len(labels)), latency, "condition", "peak latency (ms)")
    axes[0].set_xticks(np.arange(len(labels)), labels)
    axes[0].set_title("Onset response latency per condition")
    _per_cell_bars(
        axes[1],
        _summary(responses, reduction, "polarity_index"),
        "polarity index (ON - OFF) / (ON + OFF)",
    )
    axes[1].set_title("Flash polarity per cell (+1 ON, -1 OFF)")


def _summary_latency(axes, responses, reduction) -> None:
    x = responses["intensity"].values
    _curve(
        axes[0],
        x,
        _summary(responses, reduction, "latency"),
        "step intensity (contrast)",
        "latency of peak (ms)",
    )
    axes[0].set_title("Latency vs intensity")
    _curve(
        axes[1],
        x,
        _summary(responses, reduction, "peak"),
        "step intensity (contrast)",
        "peak response (Hz above rest)",
    )
    axes[1].set_title("Response size vs intensity")


def _summary_omitted(axes, responses, reduction) -> None:
    x = responses["period"].values * BIN_MS
    _curve(
        axes[0],
        x,
        _summary(responses, reduction, "burst_latency"),
        "flash period (ms)",
        "burst latency from omitted flash (ms)",
    )
    axes[0].set_title("OSR latency vs period")
    _per_cell_bars(
        axes[1],
        _summary(responses, reduction, "slope"),
        "slope of burst time after last flash vs period",
    )
    axes[1].axhline(1, color="0.3", ls="--", lw=0.8)
    axes[1].set_title("Prediction (slope 1) vs rebound (slope 0)")


def _summary_anticipation(axes, responses, reduction) -> None:
    ax = axes[0]
    cell = example_cell(responses)
    for source in responses["source"].values:
        style = SOURCE_STYLE[str(source)]
        moving = (responses["rate"] - responses["rest_rate"]).sel(source=source, cell=cell)[0]
        bar = responses["bar_position"].values[0]
        ok = np.isfinite(bar)
        ax.plot(
            bar[ok],
            moving.values[ok],
            color=style["color"],
            ls=style["ls"],
            label=f"{style['label']}: moving bar vs its position",
        )
        profile = responses["summary_flash_profile"].sel(source=source, cell=cell)
        ax.plot(
            responses["flash_position"].values,
            profile.values,
            color=style["color"],
            ls=style["ls"],
            marker="o",
            ms=3,
            alpha=0.6,
            label=f"{style['label']}: flashed bar peak",
        )
    ax.set_xlabel("bar centre (px)")
    ax.set_ylabel("rate above rest (Hz)")
    ax.set_title(f"{cell}: response vs bar position")
    ax.legend(fontsize="xx-small")
    lead = _summary(responses, reduction, "lead")
    _per_cell_bars(axes[1], lead, "lead of response peak (px, + = ahead)")
    expected = responses["summary_expected_lead"].sel(source="cnn")
    axes[1].plot(
        np.arange(lead.sizes["cell"]) + 0.1,
        expected.values,
        "v",
        color="C0",
        ms=5,
        label="pure delay (CNN)",
    )
    axes[1].legend(fontsize="x-small")
    axes[1].set_title("Anticipation: lead vs a pure delay")


def _summary_reversal(axes, responses, reduction) -> None:
    x = responses["reversal_position"].values[:-1]
    latency = _summary(responses, reduction, "burst_latency").isel(condition=slice(0, -1))
    amplitude = _summary(responses, reduction, "burst_amplitude").isel(condition=slice(0, -1))
    _curve(axes[0], x, latency, "reversal position from centre (px)", "burst latency (ms)")
    axes[0].set_title("Reversal burst latency")
    _curve(axes[1], x, amplitude, "reversal position from centre (px)", "burst above control (Hz)")
    axes[1].set_title("Reversal burst amplitude")


def _summary_paired(axes, responses, reduction) -> None:
    x = responses["interval"].values[1:] * BIN_MS
    ratio = _summary(responses, reduction, "ratio").isel(condition=slice(1, None))
    _curve(axes[0], x, ratio, "interval between flashes (ms)", "second / first response")
    axes[0].axhline(1, color="0.5", lw=0.8)
    axes[0].set_title("Paired-flash ratio")
    _per_cell_bars(
        axes[1],
        _summary(responses, reduction, "first_peak"),
        "single-flash response (Hz above rest)",
    )
    axes[1].set_title("First response per cell")


def _summary_adaptation(axes, responses, reduction) -> None:
    ax = axes[0]
    cell = example_cell(responses)
    time_ms = responses["time"].values * 1000
    mean = _summary(responses, reduction, "mean_rate")
    for source in mean["source"].values:
        style = SOURCE_STYLE[str(source)]
        ax.plot(
            time_ms,
            mean.sel(source=source, cell=cell).values,
            color=style["color"],
            ls=style["ls"],
            label=style["label"],
        )
    start = responses.attrs["high_start_frame"] * BIN_MS
    stop = responses.attrs["high_stop_frame"] * BIN_MS
    ax.axvspan(start, stop, color="0.9", label="high contrast")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("rate, mean over repeats (Hz)")
    ax.set_title(f"{cell}: rate through the contrast switch")
    ax.legend(fontsize="x-small")
    _per_cell_bars(
        axes[1],
        _summary(responses, reduction, "adaptation_index"),
        "adaptation index (early - late) / (early + late)",
    )
    axes[1].set_title("Adaptation during high contrast")


def _summary_grating(axes, responses, reduction) -> None:
    index = _summary(responses, reduction, "doubling_index")
    widths = responses["width"].values
    _curve(axes[0], widths, index, "bar width (px)", "max F2 / max F1")
    axes[0].set_xscale("log", base=2)
    axes[0].axhline(1, color="0.5", lw=0.8)
    axes[0].set_title("Frequency doubling vs bar width")
    f2 = _summary(responses, reduction, "f2").max("condition")
    _per_cell_bars(axes[1], f2, "largest F2 amplitude (Hz)")
    axes[1].set_title("Second harmonic per cell")


def _summary_object(axes, responses, reduction) -> None:
    rate = _summary(responses, reduction, "motion_rate")
    for i, motion in enumerate(rate["motion"].values):
        for j, source in enumerate(rate["source"].values):
            style = SOURCE_STYLE[str(source)]
            values = rate.sel(source=source, motion=motion).values
            axes[0].scatter(
                np.full(len(values), i + 0.25 * j),
                values,
                color=style["color"],
                label=style["label"] if i == 0 else None,
                s=14,
            )
    axes[0].set_xticks(np.arange(rate.sizes["motion"]) + 0.25, rate["motion"].values)
    axes[0].set_ylabel("mean rate per cell (Hz)")
    axes[0].set_title("Rate for global and differential motion")
    axes[0].legend(fontsize="x-small")
    _per_cell_bars(
        axes[1],
        _summary(responses, reduction, "oms_index"),
        "OMS index (diff - global) / (diff + global)",
    )
    axes[1].set_title("Object motion sensitivity per cell")


SUMMARY_PANELS = {
    "flash": _summary_flash,
    "latency": _summary_latency,
    "omitted_stimulus": _summary_omitted,
    "anticipation": _summary_anticipation,
    "reversal": _summary_reversal,
    "paired_flash": _summary_paired,
    "contrast_adaptation": _summary_adaptation,
    "reversing_grating": _summary_grating,
    "object_motion": _summary_object,
}


def _example_condition(attribution: xr.Dataset, cell: str) -> int:
    drive = np.abs(attribution["rate"].sel(cell=cell) - attribution["baseline_rate"].sel(cell=cell))
    return int(drive.max("time").argmax("condition"))


def attribution_figure(
    attributions: dict[str, xr.Dataset], responses: dict[str, xr.Dataset], path, label: str = ""
) -> None:
    """Per phenomenon (rows): the example cell's rate with the sum of the attributions, and each
    first- and second-layer channel's contribution over time for the example condition."""
    phenomena = list(attributions)
    fig, axes = plt.subplots(
        len(phenomena),
        3,
        figsize=(15, 2.6 * len(phenomena) + 0.8),
        layout="constrained",
        squeeze=False,
    )
    for row, phenomenon in zip(axes, phenomena, strict=True):
        data = attributions[phenomenon]
        cell = example_cell(responses[phenomenon])
        condition = _example_condition(data, cell)
        time_ms = data["time"].values * 1000
        ax = row[0]
        rate = data["rate"].sel(cell=cell).isel(condition=condition)
        baseline = float(data["baseline_rate"].sel(cell=cell))
        ax.plot(time_ms, rate, color="k", lw=1.3, label="CNN rate")
        for layer, ls in ((1, "--"), (2, ":")):
            total = data["attribution"].sel(cell=cell).isel(condition=condition)
            total = total.where(data["channel_layer"] == layer, 0).sum("channel")
            ax.plot(
                time_ms,
                baseline + total,
                ls=ls,
                lw=1.1,
                label=f"grey rate + sum of layer-{layer} attributions",
            )
        ax.set_title(f"{TITLES[phenomenon]}\n{cell}, condition {condition}", fontsize="small")
        ax.set_ylabel("Hz")
        if row is axes[0]:
            ax.legend(fontsize="xx-small")
        for ax, layer in zip(row[1:], (1, 2), strict=True):
            values = data["attribution"].sel(cell=cell).isel(condition=condition)
            values = values.where(data["channel_layer"] == layer, drop=True)
            ranks = data["rank"].sel(cell=cell).sel(channel=values["channel"]).values
            colors = plt.get_cmap("tab10")(np.arange(values.sizes["channel"]) % 10)
            for i, channel in enumerate(values["channel"].values):
                ax.plot(
                    time_ms,
                    values.sel(channel=channel),
                    color=colors[i],
                    lw=2.0 if ranks[i] < 2 else 0.9,
                    label=f"{channel} (rank {ranks[i] + 1})",
                )
            ax.axhline(0, color="0.6", lw=0.7)
            ax.set_title(f"Layer {layer} channel contributions", fontsize="small")
            ax.set_ylabel("attribution (Hz)")
            ax.legend(fontsize="xx-small", ncol=2)
    for ax in axes[-1]:
        ax.set_xlabel("time from stimulus start (ms)")
    steps = attributions[phenomena[0]].attrs["steps"]
    fig.suptitle(f"Integrated gradients from the grey screen ({steps} steps) {label}".strip())
    save_figure(fig, path)


def reduction_figure(
    reductions: dict[str, xr.Dataset], responses: dict[str, xr.Dataset], path, label: str = ""
) -> None:
    """Channels kept per phenomenon (left), pruning curves and reduced responses (right)."""
    phenomena = list(reductions)
    fig = plt.figure(figsize=(15, 2.4 * len(phenomena) + 1.5), layout="constrained")
    grid = fig.add_gridspec(len(phenomena), 3)
    ax = fig.add_subplot(grid[:, 0])
    for j, layer in enumerate((1, 2)):
        kept = [reductions[p]["n_kept"].sel(layer=layer).values for p in phenomena]
        total = [int((reductions[p]["channel_layer"] == layer).sum()) for p in phenomena]
        positions = np.arange(len(phenomena)) + 0.35 * j
        for position, values in zip(positions, kept, strict=True):
            jitter = np.linspace(-0.1, 0.1, len(values)) if len(values) > 1 else np.zeros(1)
            ax.scatter(values, position + jitter, s=12, color=f"C{j}", alpha=0.6)
            ax.plot(
                [np.median(values)] * 2, [position - 0.15, position + 0.15], color=f"C{j}", lw=2.5
            )
        ax.scatter(
            total,
            positions,
            marker="|",
            color=f"C{j}",
            s=200,
            label=f"layer {layer}: all {total[0]} channels",
        )
    ax.set_yticks(np.arange(len(phenomena)) + 0.17, phenomena)
    ax.invert_yaxis()
    ax.set_xlabel("channels kept per cell")
    tolerance = reductions[phenomena[0]].attrs["tolerance"]
    ax.set_title(f"Reduced models (explained variance >= {1 - tolerance:.2f})")
    ax.legend(fontsize="x-small", loc="lower right")
    for i, phenomenon in enumerate(phenomena):
        data = reductions[phenomenon]
        cell = example_cell(responses[phenomenon])
        ax = fig.add_subplot(grid[i, 1])
        for j, layer in enumerate((1, 2)):
            curve = data["pruning_curve"].sel(cell=cell, layer=layer).dropna("n_removed")
            ax.plot(
                curve["n_removed"], curve, marker="o", ms=3, color=f"C{j}", label=f"layer {layer}"
            )
        ax.axhline(1 - tolerance, color="0.4", ls="--", lw=0.8)
        ax.set_ylabel("explained var.")
        ax.set_title(f"{phenomenon}, {cell}: pruning least attributed first", fontsize="small")
        if i == 0:
            ax.legend(fontsize="xx-small")
        if i == len(phenomena) - 1:
            ax.set_xlabel("channels removed")
        ax = fig.add_subplot(grid[i, 2])
        rates = responses[phenomenon]["rate"].sel(cell=cell)
        condition = int(
            np.abs(rates.sel(source="cnn") - rates.sel(source="cnn").mean())
            .max("time")
            .argmax("condition")
        )
        time_ms = data["time"].values * 1000
        for source in rates["source"].values:
            style = SOURCE_STYLE[str(source)]
            ax.plot(
                time_ms,
                rates.sel(source=source).isel(condition=condition),
                color=style["color"],
                ls=style["ls"],
                label=style["label"],
            )
        kept = data["n_kept"].sel(cell=cell).values
        ax.plot(
            time_ms,
            data["reduced_rate"].sel(cell=cell).isel(condition=condition),
            color="C3",
            ls=":",
            lw=1.6,
            label=f"reduced CNN ({kept[0]} + {kept[1]} channels)",
        )
        ax.set_ylabel("Hz")
        ax.legend(fontsize="xx-small")
        if i == len(phenomena) - 1:
            ax.set_xlabel("time (ms)")
    fig.suptitle(f"Model reduction {label}".strip())
    save_figure(fig, path)


def groundtruth_figure(groundtruths: dict[str, xr.Dataset], path, label: str = "") -> None:
    """Channel identification (correlation with the true signals, averaged over phenomena) and the
    per-phenomenon scores of the selected channels against chance."""
    phenomena = list(groundtruths)
    first = groundtruths[phenomena[0]]
    correlation = np.mean([groundtruths[p]["correlation"].values for p in phenomena], axis=0)
    fig = plt.figure(figsize=(15, 6), layout="constrained")
    grid = fig.add_gridspec(2, 3, width_ratios=[1.0, 1.4, 1.4])
    ax = fig.add_subplot(grid[:, 0])
    image = ax.imshow(correlation, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(
        np.arange(first.sizes["signal"]), first["signal"].values, rotation=60, fontsize="x-small"
    )
    ax.set_yticks(np.arange(first.sizes["channel"]), first["channel"].values, fontsize="x-small")
    ax.set_title(
        "Channel activity vs true signals\n(Pearson r, mean over phenomena)", fontsize="small"
    )
    fig.colorbar(image, ax=ax, shrink=0.6)
    x = np.arange(len(phenomena))
    for row, layer in enumerate((1, 2)):
        for col, (score, chance, name) in enumerate(
            (
                ("precision", "chance", "precision of kept channels"),
                ("overlap", "overlap_chance", "attributed vs true pathway share"),
            )
        ):
            ax = fig.add_subplot(grid[row, 1 + col])
            values = [float(groundtruths[p][f"mean_{score}"].sel(layer=layer)) for p in phenomena]
            chances = [float(groundtruths[p][f"mean_{chance}"].sel(layer=layer)) for p in phenomena]
            ax.bar(x - 0.2, values, 0.4, color=f"C{layer - 1}", label="attribution")
            ax.bar(x + 0.2, chances, 0.4, color="0.7", label="chance")
            for i, p in enumerate(phenomena):
                data = groundtruths[p]
                p_value = float(data[f"p_{score}"].sel(layer=layer))
                if p_value < data.attrs["alpha"] and np.isfinite(values[i]):
                    ax.text(i - 0.2, values[i] + 0.02, "*", ha="center", fontsize="large")
            ax.set_xticks(x, phenomena, rotation=45, fontsize="x-small", ha="right")
            ax.set_ylim(0, 1.05)
            ax.set_title(f"Layer {layer}: {name}", fontsize="small")
            ax.legend(fontsize="xx-small")
    fig.suptitle(f"Does attribution recover the true circuit? {label}".strip())
    save_figure(fig, path)


def power_curve_figure(recovery, path) -> None:
    """The method's power curve: recovery of the circuit control (strength 0) and the dense
    controls against the distractor strength, with the fitted CNNs and the untrained CNN drawn
    as levels to read against it (``recovery``: the recovery table)."""
    runs = recovery[recovery["seed"].astype(str) != "all"]
    curve = runs[runs["model"].isin(["control", "dense_control"])].copy()
    curve["strength"] = curve["strength"].astype(float)
    others = runs[runs["model"].isin(["cnn", "untrained", "trained_control"])]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for experiment, rows in curve.groupby("experiment"):
        rows = rows.sort_values("strength")
        x, excess = rows["strength"].to_numpy(float), rows["excess_precision"].to_numpy(float)
        axes[0].plot(x, rows["fraction"].to_numpy(float), "o-", label=f"controls ({experiment})")
        low = excess - rows["excess_precision_ci_low"].to_numpy(float)
        high = rows["excess_precision_ci_high"].to_numpy(float) - excess
        axes[1].errorbar(x, excess, yerr=[low, high], fmt="o-")
    for i, (_, row) in enumerate(others.iterrows()):
        label = f"{row['model']} {row['stimulus']} seed {row['seed']}"
        for ax, value in zip(axes, (row["fraction"], row["excess_precision"]), strict=True):
            ax.axhline(value, color=f"C{i + 1}", ls=":", label=label)
    axes[1].axhline(0.0, color="k", lw=0.5)
    axes[0].set_ylabel("fraction of (phenomenon, layer) cases recovered")
    axes[1].set_ylabel("precision - chance (mean over cells, 95 % t interval)")
    for ax in axes:
        ax.set_xlabel("distractor strength (fraction of the fitted CNN's off-pathway level)")
    axes[0].set_ylim(-0.02, 1.02)
    axes[0].legend(fontsize=7)
    fig.suptitle("Attribution's power curve: recovery as distractor connections grow")
    save_figure(fig, path)
