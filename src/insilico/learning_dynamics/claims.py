"""The branch's claims.csv: each claim of Saxe et al. (2019) and Lampinen & Ganguli (2019) decided
over seeds by insilico.core.claims.decide, with the measured deviation of simulation from theory.

Per-seed numbers are computed here from the studies' datasets; tolerances come from the config
(``learning_dynamics.tolerances``), set once and not tuned per run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from insilico.core.claims import decide
from insilico.learning_dynamics.domains import cross_half_time

COLUMNS = [
    "claim",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "direction",
    "threshold",
    "verdict",
    "holds",
    "deviation",
    "measure",
]


def row(claim: str, values, direction: str, threshold: float, deviation: float, measure: str):
    """One claims.csv row."""
    return {
        "claim": claim,
        **decide(values, direction, threshold),
        "deviation": float(deviation),
        "measure": measure,
    }


def trajectory_error(sim: xr.DataArray, theory: xr.DataArray, value: xr.DataArray, over):
    """Per-seed largest |simulation - theory| over time and modes, relative to each mode's s."""
    return (abs(sim - theory) / value).max(over).values


def half_times(curves: np.ndarray, times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Time each (seed, group) curve (seed, time, group) first reaches half its singular value."""
    seeds, _, count = curves.shape
    return np.array(
        [
            [cross_half_time(times, curves[b, :, g], values[b, g] / 2) for g in range(count)]
            for b in range(seeds)
        ]
    )


def decoupled_rows(ds: xr.Dataset, tol: float) -> list[dict]:
    out = []
    for depth in ds.depth.values:
        sel = ds.sel(depth=depth)
        err = trajectory_error(sel.simulation, sel.theory, ds.singular_value, ("frac", "mode"))
        out.append(
            row(
                f"decoupled_s(t)_depth{depth}",
                err,
                "less",
                tol,
                err.mean(),
                "max |s_sim - s(t)| / s over time and modes (decoupled start)",
            )
        )
    return out


def _relative_similarity_error(ds: xr.Dataset) -> np.ndarray:
    """Per-seed mean over the learning period (theory's similarity at >= 10 % of its final norm)
    of |hidden similarity_sim - theory|_F / |theory|_F."""
    norm = np.sqrt((ds.theory_similarity**2).sum(("item", "item2")))
    diff = np.sqrt(((ds.similarity - ds.theory_similarity) ** 2).sum(("item", "item2")))
    learning = norm >= 0.1 * norm.isel(time=-1)
    return ((diff / norm).where(learning)).mean("time").values


def hierarchy_rows(ds: xr.Dataset, tol: dict) -> list[dict]:
    """Random start, progressive differentiation, hidden similarity, illusory correlation, ReLU."""
    times, values = ds.time.values, ds.value.values
    err = trajectory_error(ds.strength, ds.theory, ds.value, ("time", "group"))
    sim_half = half_times(ds.strength.values, times, values)
    th_half = half_times(ds.theory.values, times, values)
    timing = np.nanmean(abs(sim_half - th_half) / th_half)
    f, i = ds.attrs["illusory_feature"], ds.attrs["illusory_item"]
    pred = ds["map"].isel(feature=f, item=i) * np.sqrt(ds.sizes["item"])
    theory = ds.theory_map.isel(feature=f, item=i) * np.sqrt(ds.sizes["item"])
    peak, theory_peak = pred.max("time").values, theory.max("time").values
    relu_err = trajectory_error(ds.relu_strength, ds.theory, ds.value, ("time", "group"))
    relu_half = half_times(ds.relu_strength.values, times, values)
    order = [stats.kendalltau(a, b).statistic for a, b in zip(th_half, relu_half, strict=True)]
    similarity = _relative_similarity_error(ds)
    return [
        row(
            "random_start_s(t)",
            err,
            "less",
            tol["random_start"],
            err.mean(),
            "max |strength_sim - s(t; s0 of the seed's start)| / s, 8-item tree",
        ),
        row(
            "progressive_differentiation",
            sim_half[:, 1] - sim_half[:, -1],
            "less",
            0.0,
            timing,
            "half-time of the first split minus that of the items (deviation: relative |t_sim - "
            "t_theory| of all half-times)",
        ),
        row(
            "hidden_similarity_over_time",
            similarity,
            "less",
            tol["similarity"],
            similarity.mean(),
            "mean over learning of |RSM_sim - RSM_theory|_F / |RSM_theory|_F",
        ),
        row(
            "illusory_correlation",
            peak - pred.isel(time=-1).values,
            "greater",
            0.0,
            np.mean(abs(peak - theory_peak) / theory_peak),
            f"peak minus final output of absent feature {f} on item {i} (deviation: relative "
            "|peak_sim - peak_theory|)",
        ),
        row(
            "relu_stage_order",
            order,
            "greater",
            0.0,
            np.nanmean(abs(relu_half - th_half) / th_half),
            "Kendall tau of ReLU half-times with the linear theory's (deviation: relative timing)",
        ),
        row(
            "relu_departs_from_linear_s(t)",
            relu_err - err,
            "greater",
            0.0,
            relu_err.mean(),
            "ReLU minus linear max |strength - s(t)| / s (deviation: ReLU's)",
        ),
    ]


def typicality(ds: xr.Dataset, maps: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    """Per seed: each item's typicality for its top-level category (its centred features projected
    on the category prototype) and the network's readout of the same at the time the mean readout
    is half its final value. maps (seed, time, feature, item)."""
    typical, readout = [], []
    category = ds.category.values
    for b in range(ds.sizes["seed"]):
        y = ds.features.values[b]
        y = y - y.mean(1, keepdims=True)
        protos = {c: y[:, category == c].mean(1) for c in np.unique(category)}
        proj = np.stack([protos[c] / (protos[c] @ protos[c]) for c in category], 1)  # feature, item
        typical.append((proj * y).sum(0))
        out = maps.values[b] - maps.values[b].mean(-1, keepdims=True)
        reads = np.einsum("fi,tfi->ti", proj, out) * np.sqrt(ds.sizes["item"])
        mean = reads.mean(1)
        t = np.argmax(mean >= mean[-1] / 2)
        readout.append(reads[t])
    return np.array(typical), np.array(readout)


def random_tree_rows(ds: xr.Dataset, tol: dict) -> list[dict]:
    err = trajectory_error(ds.strength, ds.theory, ds.value, ("time", "group"))
    typical, readout = typicality(ds, ds["map"])
    _, theory_readout = typicality(ds, ds.theory_map)
    r_sim = np.array(
        [stats.pearsonr(a, b).statistic for a, b in zip(typical, readout, strict=True)]
    )
    r_th = np.array(
        [stats.pearsonr(a, b).statistic for a, b in zip(typical, theory_readout, strict=True)]
    )
    return [
        row(
            "random_tree_s(t)",
            err,
            "less",
            tol["random_start"],
            err.mean(),
            "max |strength_sim - s(t)| / s over the top modes, random tree, random start",
        ),
        row(
            "typicality",
            r_sim,
            "greater",
            0.0,
            np.mean(abs(r_sim - r_th)),
            "Pearson r over items of typicality and category readout at half-learning "
            "(deviation: |r_sim - r_theory|)",
        ),
    ]


def _relative_l1(sim: xr.DataArray, theory: xr.DataArray) -> xr.DataArray:
    return abs(sim - theory).mean("time") / abs(theory).mean("time")


def teacher_rows(curves, spectra, widths, transfer, tol: dict) -> list[dict]:
    """Learning curves, noisy singular values, width, transfer."""
    conditions = ("rank", "snr", "examples")
    test = _relative_l1(curves.test, curves.theory_test).max(conditions).values
    train = _relative_l1(curves.train, curves.theory_train).max(conditions).values
    above = spectra.snr > 1.0
    rel = abs(spectra.top - spectra.theory_top) / spectra.theory_top
    best = widths.test.min("time")
    doublings = np.log2(widths.width.values)
    slope = np.array(
        [
            np.polyfit(doublings, best.values[:, b], 1)[0] / best.values[:, b].mean()
            for b in range(widths.sizes["seed"])
        ]
    )
    theory_best = float(widths.theory_test.min())
    benefit = transfer.alone.min("time") - transfer.joint.min("time")
    theory_benefit = transfer.theory_alone.min("time") - transfer.theory_joint.min("time")
    return [
        row(
            "test_error_curves",
            test,
            "less",
            tol["curves"],
            test.mean(),
            "worst condition's mean |E_test,sim - E_test,theory| / mean E_test,theory",
        ),
        row(
            "training_error_curves",
            train,
            "less",
            tol["curves"],
            train.mean(),
            "worst condition's mean |E_train,sim - E_train,theory| / mean E_train,theory",
        ),
        row(
            "noisy_singular_value_above_threshold",
            rel.where(above).max("snr").values,
            "less",
            tol["spectrum"],
            float(rel.where(above).mean()),
            "max over s/sigma > 1 of |top singular value - (sigma^2 + s^2)/s| relative",
        ),
        row(
            "noisy_singular_value_below_threshold",
            rel.where(~above).max("snr").values,
            "less",
            tol["spectrum"],
            float(rel.where(~above).mean()),
            "max over s/sigma <= 1 of |top singular value - 2 sigma (MP edge)| relative",
        ),
        row(
            "early_stopped_error_flat_in_width",
            abs(slope),
            "less",
            tol["width_slope"],
            float(abs(best.mean() - theory_best) / theory_best),
            "|slope| of best test error per doubling of width / its mean (deviation: relative "
            "|mean E*_sim - E*_theory|)",
        ),
        row(
            "transfer_grows_with_alignment",
            (benefit.isel(alignment=-1) - benefit.isel(alignment=0)).values,
            "greater",
            0.0,
            float(abs(benefit.mean("seed") - theory_benefit).mean()),
            "transfer benefit (best test error alone - with source) at the largest minus the "
            "smallest alignment (deviation: mean over alignments of |mean benefit_sim - "
            "benefit_theory|)",
        ),
    ]


def table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows)[COLUMNS]
