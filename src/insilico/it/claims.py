"""Nayebi et al. (2018)'s and Kar et al. (2019)'s claims as numbers with their uncertainty.

Reads the summary of :func:`insilico.it.protocol.score.summarize` and, optionally, the recordings'
solution times (:mod:`insilico.it.solution_times`); numpy and xarray only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr


def _over_seeds(values: np.ndarray) -> tuple[float, float]:
    """Mean and s.e.m. over seeds (axis 0); the s.e.m. is nan for one seed."""
    values = np.asarray(values, float)
    values = values[~np.isnan(values)]
    if not len(values):
        return np.nan, np.nan
    sem = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else np.nan
    return float(values.mean()), float(sem)


def paper_claims(
    summary: xr.Dataset,
    late_start_ms: int,
    fraction_of_ceiling: float = 0.6,
    times: xr.Dataset | None = None,
):
    """Nayebi et al.'s claims measured on one summary (:func:`summarize`), one row per claim and
    model/region: ``value`` and ``sem`` over training seeds, and whether it ``holds``.

    - ``trained_minus_untrained``: best-layer raw r, trained minus untrained (> 0 holds);
    - ``v4_layer_before_it``: depth of the V4 best layer minus the IT one (< 0 holds);
    - ``fraction_of_ceiling``: best-layer raw r / ceiling c of the best trained model per region
      (>= ``fraction_of_ceiling`` holds);
    - ``late_over_peak``: a trained model's mean per-bin score in bins from ``late_start_ms`` over
      its peak in the earlier bins; ``late_convrnn_minus_cnn``: the late mean score of the trained
      ConvRNN minus the CNN's (> 0 holds: the recurrent model holds its predictivity late).

    With ``times`` (:func:`insilico.it.solution_times.solution_time_dataset`, from the
    recordings, no model involved): ``decoding_rises``, mean per-image category performance in
    the late bins minus the early ones (> 0 holds); where images have an ``image_kind``,
    ``hard_solved_later``, median solution time of hard minus clean images, unsolved images
    counted as solved after the last bin (> 0 holds), and ``solved_share`` per kind.
    """
    layers = [str(layer) for layer in summary["layer"].values]
    models = [str(m) for m in summary["model"].values]
    states = [str(s) for s in summary["state"].values]
    rows = []

    def add(claim, model, region, values, holds):
        mean, sem = _over_seeds(values)
        rows.append(
            {
                "claim": claim,
                "model": model,
                "region": region,
                "value": mean,
                "sem": sem,
                "n_seeds": int(np.isfinite(np.asarray(values, float)).sum()),
                "holds": bool(holds(mean)) if np.isfinite(mean) else False,
            }
        )

    best = summary["best_score"]
    starts = summary["time_bin_start"].values
    late = starts >= late_start_ms
    early = (starts < late_start_ms) & (starts >= int(summary.attrs["window_start_ms"]))
    for model in models:
        if {"trained", "untrained"} <= set(states):
            for region in summary["region"].values:
                gain = best.sel(model=model, region=region)
                add(
                    "trained_minus_untrained",
                    model,
                    str(region),
                    (gain.sel(state="trained") - gain.sel(state="untrained")).values,
                    lambda v: v > 0,
                )
        if "trained" not in states:
            continue
        chosen = summary["best_layer"].sel(model=model, state="trained")
        if {"V4", "IT"} <= set(summary["region"].values):
            depth = {
                r: [layers.index(str(x)) for x in chosen.sel(region=r).values] for r in ("V4", "IT")
            }
            add(
                "v4_layer_before_it",
                model,
                "V4-IT",
                np.subtract(depth["V4"], depth["IT"]),
                lambda v: v < 0,
            )
        curve = summary["best_score_t"].sel(model=model, state="trained")
        for region in summary["region"].values:
            per_seed = curve.sel(region=region).values  # (seed, bin)
            ratio = np.nanmean(per_seed[:, late], 1) / np.nanmax(per_seed[:, early], 1)
            add("late_over_peak", model, str(region), ratio, lambda v: True)
    if "trained" in states:
        for region in summary["region"].values:
            c = float(summary["ceiling"].sel(region=region))
            scores = best.sel(state="trained", region=region)  # (model, seed)
            top = str(scores["model"].values[int(np.nanargmax(scores.mean("seed").values))])
            add(
                "fraction_of_ceiling",
                top,
                str(region),
                scores.sel(model=top).values / c,
                lambda v: v >= fraction_of_ceiling,
            )
        if {"cnn", "convrnn"} <= set(models):
            curve = summary["best_score_t"].sel(state="trained")
            for region in summary["region"].values:
                late_mean = np.nanmean(
                    curve.sel(region=region).values[..., late], -1
                )  # (model, seed)
                difference = late_mean[models.index("convrnn")] - late_mean[models.index("cnn")]
                add(
                    "late_convrnn_minus_cnn",
                    "convrnn-cnn",
                    str(region),
                    difference,
                    lambda v: v > 0,
                )
    if times is not None:
        rows += _decoding_claims(times, late_start_ms, int(summary.attrs["window_start_ms"]))
    return pd.DataFrame(rows)


def _decoding_claims(times: xr.Dataset, late_start_ms: int, window_start_ms: int) -> list[dict]:
    """Rows of :func:`paper_claims` measured on the recordings' solution times."""
    region = str(times.attrs["region"])
    starts = times["time_bin_start"].values
    performance = times["performance"].values
    late = starts >= late_start_ms
    early = (starts < late_start_ms) & (starts >= window_start_ms)
    rise = float(performance[:, late].mean() - performance[:, early].mean())

    def row(claim, model, value, holds):
        return {
            "claim": claim,
            "model": model,
            "region": region,
            "value": value,
            "sem": np.nan,
            "n_seeds": 0,
            "holds": bool(holds),
        }

    rows = [row("decoding_rises", "recordings", rise, rise > 0)]
    if "image_kind" not in times.coords:
        return rows
    kinds = times["image_kind"].values.astype(str)
    last = float(times["time_bin_end"].values[-1])
    solved = np.nan_to_num(times["solution_time_ms"].values, nan=last)
    delay = float(np.median(solved[kinds != "clean"]) - np.median(solved[kinds == "clean"]))
    rows.append(row("hard_solved_later", "recordings", delay, delay > 0))
    for kind in np.unique(kinds):
        share = float(np.isfinite(times["solution_time_ms"].values[kinds == kind]).mean())
        rows.append(row(f"solved_share_{kind}", "recordings", share, True))
    return rows
