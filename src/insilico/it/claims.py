"""Nayebi et al. (2018, 2022)'s and Kar et al. (2019)'s claims as numbers with 95 % intervals.

Every row of ``results/it/claims.csv`` is decided by :func:`insilico.core.claims.decide`: a t
interval over independent replicates (training seeds for model claims, each seed with its own
draw of the cross-validation splits, so the interval includes split variability; images or
objects for claims on the recordings), ``holds`` only when it excludes zero in the claimed
direction. ``kind`` says what a row is: a ``reproduction`` of a published claim, or a ``design
check`` (the simulated recordings were built to show it, so it checks the simulator, not the
brain). A claim that needs time bins, asked of data without a temporal assembly, gets the verdict
``needs the temporal assembly``. Reads the summary of :func:`insilico.it.protocol.score.summarize`
and the recordings' solution times (:mod:`insilico.it.solution_times`); numpy, scipy and xarray.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from insilico.core.claims import decide
from insilico.it.models import model_kind
from insilico.it.solution_times import solution_times

NEEDS_TIME = "needs the temporal assembly"
COLUMNS = [
    "claim",
    "kind",
    "model",
    "region",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "replicates",
    "direction",
    "threshold",
    "verdict",
    "holds",
]


class _Table:
    """Rows of the claims table, each decided by :func:`decide` (or marked as needing time)."""

    def __init__(self, confidence: float, design_checks: bool):
        self.rows, self.confidence, self.design_checks = [], confidence, design_checks

    def add(self, claim, model, region, values, direction, threshold=0.0, **extra):
        decided = decide(values, direction, threshold, self.confidence)
        kind = extra.pop("kind", "reproduction")
        self.rows.append(
            {"claim": claim, "kind": kind, "model": model, "region": region, **decided, **extra}
        )

    def needs_time(self, claim, model, region, direction, replicates="seeds"):
        self.rows.append(
            {
                "claim": claim,
                "kind": "reproduction",
                "model": model,
                "region": region,
                "value": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "n": 0,
                "replicates": replicates,
                "direction": direction,
                "threshold": 0.0,
                "verdict": NEEDS_TIME,
                "holds": False,
            }
        )

    def frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows)
        return frame.reindex(columns=COLUMNS + [c for c in frame.columns if c not in COLUMNS])


def paper_claims(
    summary: xr.Dataset,
    late_start_ms: int,
    fraction_of_ceiling: float = 0.6,
    times: xr.Dataset | None = None,
    confidence: float = 0.95,
    simulated: bool = True,
) -> pd.DataFrame:
    """The claims table (see the module docstring), one row per claim and model/region.

    Per model: ``trained_minus_untrained`` (best-layer raw r, paired by seed, > 0) and
    ``v4_layer_before_it`` (depth of V4's best layer minus IT's, < 0). Across models:
    ``fraction_of_ceiling`` (the best trained model's raw r / c, > ``fraction_of_ceiling``),
    ``convrnn_minus_cnn_window`` and ``convrnn_minus_cnn_late`` (best ConvRNN minus best CNN on
    the time-averaged window and on bins from ``late_start_ms``), ``late_<a>_minus_<b>`` for
    every pair of ConvRNN cells, and ``solution_time_correlation`` (Spearman across images between
    a ConvRNN's and the recordings' object solution times). On the recordings (with ``times``):
    ``decoding_rises`` and ``hard_solved_later`` (design checks on simulated data).
    """
    table = _Table(confidence, simulated)
    timed = bool(summary.sizes.get("time_bin", 0))
    _model_claims(table, summary)
    if "trained" in summary["state"].values:
        _ceiling_claims(table, summary, fraction_of_ceiling)
        _recurrence_claims(table, summary, late_start_ms, timed)
        _solution_time_claims(table, summary, times, timed)
    if times is not None:
        _recording_claims(table, times, late_start_ms)
    elif not timed:
        region = _top_region(summary)
        table.needs_time("decoding_rises", "recordings", region, "greater", "images")
        table.needs_time("hard_solved_later", "recordings", region, "greater", "objects")
    return table.frame()


def _top_region(summary: xr.Dataset) -> str:
    """IT where the data have it, else their highest region (V2 of V1/V2 data): the region the
    claims on decoding name when there are no solution times."""
    regions = [str(r) for r in summary["region"].values]
    return "IT" if "IT" in regions else regions[-1]


def _model_claims(table: _Table, summary: xr.Dataset) -> None:
    layers = [str(layer) for layer in summary["layer"].values]
    states = set(summary["state"].values.astype(str))
    regions = [str(r) for r in summary["region"].values]
    for model in summary["model"].values.astype(str):
        best = summary["best_score"].sel(model=model)
        if {"trained", "untrained"} <= states:
            for region in regions:
                gain = best.sel(region=region, state="trained") - best.sel(
                    region=region, state="untrained"
                )
                table.add(
                    "trained_minus_untrained",
                    model,
                    region,
                    gain.values,
                    "greater",
                    replicates="seeds",
                )
        if "trained" in states and {"V4", "IT"} <= set(regions):
            chosen = summary["best_layer"].sel(model=model, state="trained")
            depth = {
                r: np.array([layers.index(str(x)) for x in chosen.sel(region=r).values], float)
                for r in ("V4", "IT")
            }
            table.add(
                "v4_layer_before_it",
                model,
                "V4-IT",
                depth["V4"] - depth["IT"],
                "less",
                replicates="seeds",
            )


def _ceiling_claims(table: _Table, summary: xr.Dataset, fraction: float) -> None:
    best = summary["best_score"].sel(state="trained")
    for region in summary["region"].values.astype(str):
        scores = best.sel(region=region)  # (model, seed)
        top = str(scores["model"].values[int(np.nanargmax(scores.mean("seed").values))])
        c = float(summary["ceiling"].sel(region=region))
        table.add(
            "fraction_of_ceiling",
            top,
            region,
            scores.sel(model=top).values / c,
            "greater",
            fraction,
            replicates="seeds",
        )


def _late_mean(summary: xr.Dataset, late_start_ms: int) -> xr.DataArray:
    """Mean per-bin score from ``late_start_ms`` on, per (model, seed, region), trained."""
    late = summary["time_bin_start"].values >= late_start_ms
    curve = summary["best_score_t"].sel(state="trained").isel(time_bin=np.flatnonzero(late))
    return curve.mean("time_bin")


def _best_of(values: xr.DataArray, models: list[str]) -> str | None:
    """The model of ``models`` with the highest mean over seeds (per region done by caller)."""
    if not models:
        return None
    means = [float(values.sel(model=m).mean("seed")) for m in models]
    return models[int(np.nanargmax(means))]


def _recurrence_claims(table, summary, late_start_ms: int, timed: bool) -> None:
    """Best ConvRNN against best CNN (window and late bins), and the cells' ranking."""
    models = [str(m) for m in summary["model"].values]
    cnns = [m for m in models if model_kind(m) == "cnn"]
    rnns = [m for m in models if model_kind(m) == "convrnn"]
    window = summary["best_score"].sel(state="trained")
    late = _late_mean(summary, late_start_ms) if timed else None
    for region in summary["region"].values.astype(str):
        for claim, values in (("window", window), ("late", late)):
            name = f"convrnn_minus_cnn_{claim}"
            if not (cnns and rnns):
                continue
            if values is None:
                table.needs_time(name, "convrnn-cnn", region, "greater")
                continue
            per_region = values.sel(region=region)
            a, b = _best_of(per_region, rnns), _best_of(per_region, cnns)
            table.add(
                name,
                f"{a}-{b}",
                region,
                (per_region.sel(model=a) - per_region.sel(model=b)).values,
                "greater",
                replicates="seeds",
            )
        for i, a in enumerate(rnns):
            for b in rnns[i + 1 :]:
                name = f"late_{a}_minus_{b}"
                if late is None:
                    table.needs_time(name, f"{a}-{b}", region, "greater")
                    continue
                diff = late.sel(model=a, region=region) - late.sel(model=b, region=region)
                table.add(name, f"{a}-{b}", region, diff.values, "greater", replicates="seeds")


def _solution_time_claims(table, summary, times, timed: bool) -> None:
    """Spearman r across images between each ConvRNN's object solution times and IT's."""
    rnns = [str(m) for m in summary["model"].values if model_kind(str(m)) == "convrnn"]
    region = str(times.attrs["region"]) if times is not None else _top_region(summary)
    for model in rnns:
        if not timed or times is None or "image_performance" not in summary:
            table.needs_time("solution_time_correlation", model, region, "greater")
            continue
        table.add(
            "solution_time_correlation",
            model,
            region,
            model_solution_time_correlation(summary, times, model),
            "greater",
            replicates="seeds",
        )


def model_solution_time_correlation(summary: xr.Dataset, times: xr.Dataset, model: str):
    """Per trained seed: Spearman r between the model's and the recordings' solution times over
    the images both solve (the model's from its best layer for the region, same decoder and
    criterion, its bins at its fitted latency); nan with fewer than 5 such images."""
    region = str(times.attrs["region"])
    centres = (times["time_bin_start"].values + times["time_bin_end"].values) / 2.0
    brain = times["solution_time_ms"].values
    performance = summary["image_performance"].sel(model=model, state="trained", region=region)
    out = []
    for seed_curves in performance.transpose("seed", "stimulus", "time_bin").values:
        own = solution_times(seed_curves, centres, float(times.attrs["criterion"]))
        both = np.isfinite(own) & np.isfinite(brain)
        varied = both.sum() >= 5 and np.ptp(own[both]) > 0 and np.ptp(brain[both]) > 0
        out.append(stats.spearmanr(own[both], brain[both])[0] if varied else np.nan)
    return np.asarray(out, float)


def recording_claims(
    times: xr.Dataset, late_start_ms: int, confidence: float = 0.95, simulated: bool = True
) -> pd.DataFrame:
    """The rows of :func:`paper_claims` measured on the recordings alone (no model)."""
    table = _Table(confidence, simulated)
    _recording_claims(table, times, late_start_ms)
    return table.frame()


def recordings_onset_bin(performance: np.ndarray) -> int:
    """First bin whose mean decoding reaches halfway from chance (0.5) to its peak: where IT has
    responded (bins before it are at chance by construction, never a baseline)."""
    curve = performance.mean(0)
    return int(np.flatnonzero(curve >= 0.5 + (curve.max() - 0.5) / 2)[0])


def _recording_claims(table: _Table, times: xr.Dataset, late_start_ms: int) -> None:
    """``decoding_rises``: per image, mean late decoding minus decoding in the post-onset bin
    where the population's early decoding peaks (bins after the onset only); ``hard_solved_later``:
    per object, mean solution time of its solved hard images minus its solved clean ones."""
    kind = "design check" if table.design_checks else "reproduction"
    region = str(times.attrs["region"])
    starts = times["time_bin_start"].values
    performance = times["performance"].values
    onset = recordings_onset_bin(performance)
    early = np.flatnonzero((np.arange(len(starts)) >= onset) & (starts < late_start_ms))
    late = starts >= late_start_ms
    if len(early) and late.any():
        peak = early[int(np.argmax(performance[:, early].mean(0)))]
        rise = performance[:, late].mean(1) - performance[:, peak]
        table.add(
            "decoding_rises",
            "recordings",
            region,
            rise,
            "greater",
            kind=kind,
            replicates="images",
            onset_ms=int(starts[onset]),
        )
    if "image_kind" not in times.coords:
        return
    kinds = times["image_kind"].values.astype(str)
    solved = times["solution_time_ms"].values
    frame = pd.DataFrame(
        {"object": times["object_name"].values.astype(str), "hard": kinds != "clean", "t": solved}
    ).dropna()
    per_object = frame.groupby(["object", "hard"])["t"].mean().unstack()
    if not {True, False} <= set(per_object.columns):
        return
    delay = (per_object[True] - per_object[False]).to_numpy(float)
    table.add(
        "hard_solved_later",
        "recordings",
        region,
        delay,
        "greater",
        kind=kind,
        replicates="objects",
        solved_share_hard=float(np.isfinite(solved[kinds != "clean"]).mean()),
        solved_share_clean=float(np.isfinite(solved[kinds == "clean"]).mean()),
    )
