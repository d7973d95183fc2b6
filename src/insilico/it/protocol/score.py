"""Neural predictivity with the Brain-Score protocol (the score of one model, and the summary), vectorised over splits, time bins and layers.

Protocol (Brain-Score's ``CrossRegressedCorrelation`` with ``pls_regression`` and
``pearsonr_correlation``; ``InternalConsistency`` ceiling):

- targets: responses averaged over repetitions, per stimulus and neuroid (and time bin);
- cross-validation: ``n_splits`` (10) stratified shuffle splits of the *stimuli* on
  ``object_name``, ``train_fraction`` (0.9) to fit, the rest held out; one fixed seed;
- regression: partial least squares with 25 components, no scaling (scikit-learn's
  ``PLSRegression(n_components=25, scale=False)``, NIPALS), fitted on the training stimuli;
- score per split: Pearson r per neuroid between prediction and data on the held-out stimuli,
  median over the neuroids of a region; score = mean over splits, error = standard error over splits;
- ceiling: split-half consistency over repetitions, Spearman-Brown corrected, median over neuroids,
  mean over splits (:func:`insilico.it.assembly.split_half_consistency`);
- ceiled score: one of :data:`CEILING_FORMULAS` (Brain-Score changed it over the years), always
  reported next to the raw r and the ceiling.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from insilico.core.splits import stratified_shuffle_splits
from insilico.core.units import IT_BIN_MS
from insilico.it.protocol.ceiling import (
    CEILING_FORMULAS,
    ceiled_score,
    ceilings,
    mean_sem,
    ordered_regions,
    region_medians,
)
from insilico.it.protocol.pls import (
    N_COMPONENTS,
    cross_validated_r,
    cross_validated_r_by_group,
    effective_components,
)


def select_layer_held_out(per_split: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best layer chosen on held-out splits: for every split s, the layer with the highest mean
    score over the *other* splits; returns (chosen layer index per split, its score on split s).

    ``per_split`` is ``(n_layers, n_splits)``. The reported best-layer score is the mean of the
    returned scores, so no split's own score picks the layer it is scored with.
    """
    n_layers, n_splits = per_split.shape
    if n_splits < 2:
        raise ValueError("held-out layer selection needs at least 2 splits")
    totals = np.nansum(per_split, axis=1, keepdims=True)
    others = (totals - np.nan_to_num(per_split)) / (n_splits - 1)
    others = np.where(np.isnan(per_split).all(axis=1, keepdims=True), -np.inf, others)
    chosen = others.argmax(axis=0)
    return chosen, per_split[chosen, np.arange(n_splits)]


# --- scoring one model ---------------------------------------------------------------------------


def _steps_for(start_ms: int, end_ms: int, n_steps: int) -> np.ndarray:
    from insilico.it.activations import window_steps

    if end_ms > n_steps * IT_BIN_MS:
        raise ValueError(
            f"time bin {start_ms}-{end_ms} ms lies beyond the model's {n_steps} steps of 10 ms; "
            "raise it.temporal.n_steps"
        )
    return window_steps((start_ms, end_ms), n_steps)


def _layer_features(path: str, ids: np.ndarray, window, bins):
    """(static (1, N, k), per-bin (bins or 1, N, k), attrs) of one activation file, stimuli aligned."""
    from insilico.it.activations import read_activations

    acts = read_activations(path)
    order = pd.Index(acts["stimulus_id"].values.astype(str)).get_indexer(ids)
    if (order < 0).any():
        raise ValueError(
            f"{path} lacks {int((order < 0).sum())} recorded stimuli, e.g. {list(ids[order < 0][:3])}"
        )
    values = acts["activations"].values[order]  # (N, steps, k)
    if not int(acts.attrs["temporal"]):
        return values[:, 0][None], values[:, 0][None], acts.attrs
    n_steps = values.shape[1]
    static = values[:, _steps_for(*window, n_steps)].mean(1)[None]
    per_bin = [values[:, _steps_for(s, e, n_steps)].mean(1) for s, e in bins]
    return static, np.stack(per_bin) if per_bin else None, acts.attrs


def score_model(
    neural: xr.Dataset,
    activation_paths: dict[str, str],
    *,
    n_splits: int,
    train_fraction: float,
    seed: int,
    n_components: int = N_COMPONENTS,
    device: str = "cpu",
    temporal_layers: str = "all",
    solved: np.ndarray | None = None,
) -> xr.Dataset:
    """Held-out Pearson r per neuroid for every layer, split and time bin, plus region medians.

    The static benchmark regresses on the window of the time-averaged assembly; a ConvRNN's
    features there are the mean over its steps inside the window (step t covers [10 t, 10 t + 10)
    ms). The temporal benchmark fits every 10 ms bin separately: a ConvRNN's step t is mapped to
    the bin starting at 10 t ms, a feedforward model gives the same features to every bin.
    ``temporal_layers="best"`` fits the bins only for each region's best static layer (highest
    mean over splits), the layer whose curve is plotted; the other layers' bins stay nan.
    ``solved`` (per stimulus, ``early``/``late``/``unsolved``, from
    :mod:`insilico.it.solution_times`): the best layer's static and per-bin scores are also
    computed on the early- and late-solved held-out images apart, and category decoding from it
    (the same decoder as the solution times) is averaged per group and bin. Without
    time bins (only a time-averaged assembly) the temporal benchmark is left out: no bins, no fits.
    """
    if temporal_layers not in ("all", "best"):
        raise ValueError(f"temporal_layers must be 'all' or 'best', got {temporal_layers!r}")
    masks = stratified_shuffle_splits(neural["object_name"].values, n_splits, train_fraction, seed)
    ids = neural["stimulus_id"].values.astype(str)
    region_of = neural["region"].values.astype(str)
    regions = ordered_regions(region_of)
    bins = list(zip(neural["time_bin_start"].values, neural["time_bin_end"].values, strict=True))
    window = (int(neural.attrs["window_start_ms"]), int(neural.attrs["window_end_ms"]))
    layers = list(activation_paths)
    n_train = int(masks[0].sum())
    r_window = np.full((len(layers), n_splits, neural.sizes["neuroid"]), np.nan)
    r_bins = np.full((len(layers), len(bins), n_splits, neural.sizes["neuroid"]), np.nan)
    components, keys, attrs = [], {}, {}
    targets_t = {
        region: np.moveaxis(neural["rates"].values[:, region_of == region], 2, 0)
        for region in regions
    }  # (bins, N, q) per region

    def fit_bins(i, per_bin, region):
        cols = region_of == region
        r_bins[i][:, :, cols] = cross_validated_r(
            per_bin, targets_t[region], masks, n_components, device
        )

    for i, layer in enumerate(layers):
        static, per_bin, attrs = _layer_features(activation_paths[layer], ids, window, bins)
        keys[layer] = attrs["cache_key"]
        components.append(effective_components(n_components, n_train, static.shape[-1]))
        for region in regions:
            cols = region_of == region
            target = neural["rates_window"].values[:, cols][None]
            r_window[i, :, cols] = cross_validated_r(static, target, masks, n_components, device)[
                0
            ].T
            if temporal_layers == "all" and bins:
                fit_bins(i, per_bin, region)
    if temporal_layers == "best" and bins:
        static_scores = np.nanmean(region_medians(r_window, region_of, regions), axis=1)  # (L, R)
        for r, region in enumerate(regions):
            i = int(np.nanargmax(static_scores[:, r]))
            _, per_bin, _ = _layer_features(activation_paths[layers[i]], ids, window, bins)
            fit_bins(i, per_bin, region)
    score_window = region_medians(r_window, region_of, regions)  # (L, S, R)
    score_bins = region_medians(r_bins, region_of, regions)  # (L, bins, S, R)
    grouped = {}
    if solved is not None:
        grouped = _scores_by_group(
            neural,
            activation_paths,
            masks,
            np.asarray(solved).astype(str),
            score_window,
            n_components=n_components,
            device=device,
        )
    result = xr.Dataset(
        {
            "r_window": (("layer", "split", "neuroid"), r_window),
            "r": (("layer", "time_bin", "split", "neuroid"), r_bins),
            "score_window": (("layer", "split", "region"), score_window),
            "score": (("layer", "time_bin", "split", "region"), score_bins),
            "n_components": ("layer", np.asarray(components)),
        },
        coords={
            "layer": layers,
            "split": np.arange(n_splits),
            "region": regions,
            "neuroid_id": ("neuroid", neural["neuroid_id"].values),
            "neuroid_region": ("neuroid", region_of),
            "time_bin_start": ("time_bin", neural["time_bin_start"].values),
            "time_bin_end": ("time_bin", neural["time_bin_end"].values),
        },
        attrs={
            "kind": attrs.get("kind", ""),
            "temporal": int(attrs.get("temporal", 0)),
            "test_accuracy": float(attrs.get("test_accuracy", np.nan)),
            "steps_trained": int(attrs.get("steps_trained", 0)),
            "window_start_ms": window[0],
            "window_end_ms": window[1],
            "cache_keys": str(keys),
            "temporal_layers": temporal_layers,
            "protocol": (
                f"PLS {n_components} components (no scaling), {n_splits} stratified (object_name) "
                f"shuffle splits, train fraction {train_fraction}, seed {seed}; Pearson r per neuroid "
                "on held-out stimuli, median over neuroids"
            ),
        },
    )
    for name, (dims, values) in grouped.items():
        result[name] = (dims, values)
    if grouped:
        result = result.assign_coords(solved_group=list(SOLVED_GROUPS))
    return result


SOLVED_GROUPS = ("early", "late")


def _scores_by_group(
    neural, activation_paths, masks, solved, score_window, *, n_components, device
):
    """Static and per-bin scores of each region's best layer on early/late-solved images apart,
    and category decoding from that layer per group and bin (:func:`score_model`)."""
    from insilico.it.solution_times import image_performance

    ids = neural["stimulus_id"].values.astype(str)
    region_of = neural["region"].values.astype(str)
    regions = ordered_regions(region_of)
    bins = list(zip(neural["time_bin_start"].values, neural["time_bin_end"].values, strict=True))
    window = (int(neural.attrs["window_start_ms"]), int(neural.attrs["window_end_ms"]))
    layers = list(activation_paths)
    best = np.nanmean(score_window, axis=1).argmax(0)  # (R,)
    n_groups, n_bins, n_splits = len(SOLVED_GROUPS), len(bins), masks.shape[0]
    window_scores = np.full((n_groups, n_splits, len(regions)), np.nan)
    bin_scores = np.full((n_groups, n_bins, n_splits, len(regions)), np.nan)
    decoding = np.full((n_groups, n_bins, len(regions)), np.nan)
    labels = neural["category_name"].values.astype(str)
    for r, region in enumerate(regions):
        static, per_bin, _ = _layer_features(activation_paths[layers[best[r]]], ids, window, bins)
        cols = region_of == region
        target = neural["rates_window"].values[:, cols][None]
        target_t = np.moveaxis(neural["rates"].values[:, cols], 2, 0)
        by_group = cross_validated_r_by_group(
            static, target, masks, solved, SOLVED_GROUPS, n_components, device
        )  # (G, 1, S, q)
        window_scores[..., r] = np.nanmedian(by_group[:, 0], axis=-1)
        by_group_t = cross_validated_r_by_group(
            per_bin, target_t, masks, solved, SOLVED_GROUPS, n_components, device
        )  # (G, bins or 1, S, q)
        bin_scores[..., r] = np.nanmedian(by_group_t, axis=-1)
        performance = image_performance(np.moveaxis(per_bin, 0, -1), labels)  # (N, bins or 1)
        for g, name in enumerate(SOLVED_GROUPS):
            decoding[g, :, r] = performance[solved == name].mean(0)
    return {
        "score_window_group": (("solved_group", "split", "region"), window_scores),
        "score_group": (("solved_group", "time_bin", "split", "region"), bin_scores),
        "decoding_group": (("solved_group", "time_bin", "region"), decoding),
        "group_layer": ("region", np.asarray([layers[i] for i in best])),
    }


# --- summary over models ---------------------------------------------------------------------------


def summarize(scores: dict[tuple[str, str, int], xr.Dataset], neural: xr.Dataset, formula: str):
    """All runs in one Dataset plus the best-layer table (pandas) with raw r, ceiling, ceiled score.

    The best layer per run and region is chosen on held-out splits
    (:func:`select_layer_held_out`); the temporal curve (``best_score_t``) is that of the layer
    with the best mean static score among the layers fitted per bin (``temporal_layer``).
    """
    if formula not in CEILING_FORMULAS:
        raise ValueError(
            f"unknown ceiling formula {formula!r}; use one of {sorted(CEILING_FORMULAS)}"
        )
    ceiling = ceilings(neural)
    regions = list(ceiling["region"].values)
    models = list(dict.fromkeys(key[0] for key in scores))
    states = list(dict.fromkeys(key[1] for key in scores))
    seeds = sorted({key[2] for key in scores})
    layers = list(dict.fromkeys(layer for ds in scores.values() for layer in ds["layer"].values))
    n_splits = next(iter(scores.values())).sizes["split"]
    n_bins = neural.sizes["time_bin"]
    shape = (len(models), len(states), len(seeds))
    score = np.full((*shape, len(layers), len(regions), n_splits), np.nan)
    score_t = np.full((*shape, len(layers), len(regions), n_bins, n_splits), np.nan)
    accuracy = np.full(shape, np.nan)
    for (model, state, seed), ds in scores.items():
        at = (models.index(model), states.index(state), seeds.index(seed))
        for layer in ds["layer"].values:
            j = layers.index(layer)
            score[(*at, j)] = (
                ds["score_window"]
                .sel(layer=layer)
                .transpose("region", "split")
                .sel(region=regions)
                .values
            )
            score_t[(*at, j)] = (
                ds["score"]
                .sel(layer=layer)
                .transpose("region", "time_bin", "split")
                .sel(region=regions)
                .values
            )
        accuracy[at] = ds.attrs["test_accuracy"]
    mean, sem = mean_sem(score)
    mean_t, sem_t = mean_sem(score_t)
    best = np.full((*shape, len(regions)), np.nan)
    best_sem = np.full_like(best, np.nan)
    best_layer = np.full((*shape, len(regions)), "", dtype=object)
    agreement = np.full_like(best, np.nan)
    temporal_layer = np.full((*shape, len(regions)), "", dtype=object)
    best_t = np.full((*shape, len(regions), n_bins), np.nan)
    best_t_sem = np.full_like(best_t, np.nan)
    rows = []
    for index in np.ndindex(*shape):
        if np.isnan(score[index]).all():
            continue
        model, state, seed = models[index[0]], states[index[1]], seeds[index[2]]
        for r, region in enumerate(regions):
            chosen, held_out = select_layer_held_out(score[index][:, r])
            counts = np.bincount(chosen, minlength=len(layers))
            mode = int(counts.argmax())
            best[(*index, r)], best_sem[(*index, r)] = mean_sem(held_out)
            best_layer[(*index, r)] = layers[mode]
            agreement[(*index, r)] = counts[mode] / n_splits
            # the temporal curve: the best static layer among those fitted per bin
            fitted = ~np.isnan(mean_t[index][:, r]).all(axis=-1)
            static_mean = np.where(fitted, np.nan_to_num(mean[index][:, r], nan=-np.inf), -np.inf)
            curve = int(np.argmax(static_mean)) if fitted.any() else mode
            temporal_layer[(*index, r)] = layers[curve]
            best_t[(*index, r)] = mean_t[index][curve, r]
            best_t_sem[(*index, r)] = sem_t[index][curve, r]
            c = float(ceiling["ceiling"].sel(region=region))
            row = {
                "model": model,
                "state": state,
                "seed": seed,
                "region": region,
                "best_layer": layers[mode],
                "layer_choice_agreement": agreement[(*index, r)],
                "raw_r": best[(*index, r)],
                "raw_r_sem": best_sem[(*index, r)],
                "ceiling": c,
                "ceiling_sem": float(ceiling["ceiling_sem"].sel(region=region)),
                "ceiled_score": float(ceiled_score(best[(*index, r)], c, formula)),
                "ceiled_formula": CEILING_FORMULAS[formula],
                "test_accuracy": accuracy[index],
            }
            if "true_ceiling" in ceiling:
                row["true_ceiling"] = float(ceiling["true_ceiling"].sel(region=region))
            rows.append(row)
    dims = ("model", "state", "seed")
    grouped = _grouped_summary(scores, models, states, seeds, regions)
    summary = xr.Dataset(
        {
            "score": ((*dims, "layer", "region"), mean),
            "score_sem": ((*dims, "layer", "region"), sem),
            "score_split": ((*dims, "layer", "region", "split"), score),
            "score_t": ((*dims, "layer", "region", "time_bin"), mean_t),
            "score_t_sem": ((*dims, "layer", "region", "time_bin"), sem_t),
            "best_score": ((*dims, "region"), best),
            "best_score_sem": ((*dims, "region"), best_sem),
            "best_layer": ((*dims, "region"), best_layer.astype(str)),
            "layer_choice_agreement": ((*dims, "region"), agreement),
            "temporal_layer": ((*dims, "region"), temporal_layer.astype(str)),
            "best_score_t": ((*dims, "region", "time_bin"), best_t),
            "best_score_t_sem": ((*dims, "region", "time_bin"), best_t_sem),
            "ceiled_score": (
                (*dims, "region"),
                ceiled_score(best, ceiling["ceiling"].values, formula),
            ),
            "test_accuracy": (dims, accuracy),
            **{name: ceiling[name] for name in ceiling.data_vars},
        },
        coords={
            "model": models,
            "state": states,
            "seed": seeds,
            "layer": layers,
            "region": regions,
            "split": np.arange(n_splits),
            "time_bin_start": ("time_bin", neural["time_bin_start"].values),
            "time_bin_end": ("time_bin", neural["time_bin_end"].values),
        },
        attrs={
            "ceiled_formula": CEILING_FORMULAS[formula],
            "formula_key": formula,
            "window_start_ms": neural.attrs["window_start_ms"],
            "window_end_ms": neural.attrs["window_end_ms"],
            "n_categories": int(len(np.unique(neural["category_name"].values))),
            "layer_selection": "per split, the layer with the best mean score over the other splits",
            "protocol": next(iter(scores.values())).attrs["protocol"],
        },
    )
    if grouped:
        summary = summary.assign_coords(solved_group=list(SOLVED_GROUPS))
        for name, (dims_, values) in grouped.items():
            summary[name] = (dims_, values)
    return summary, pd.DataFrame(rows)


def _grouped_summary(scores, models, states, seeds, regions) -> dict:
    """Early/late-solved scores and decoding of every run (mean and s.e.m. over splits)."""
    first = next(iter(scores.values()))
    if "score_group" not in first:
        return {}
    n_bins = first.sizes["time_bin"]
    shape = (len(models), len(states), len(seeds), len(SOLVED_GROUPS), len(regions))
    out = {
        "score_window_group": np.full(shape, np.nan),
        "score_window_group_sem": np.full(shape, np.nan),
        "score_group": np.full((*shape, n_bins), np.nan),
        "score_group_sem": np.full((*shape, n_bins), np.nan),
        "decoding_group": np.full((*shape, n_bins), np.nan),
    }
    for (model, state, seed), ds in scores.items():
        at = (models.index(model), states.index(state), seeds.index(seed))
        window = (
            ds["score_window_group"]
            .sel(region=regions)
            .transpose("solved_group", "region", "split")
        )
        out["score_window_group"][at], out["score_window_group_sem"][at] = mean_sem(window.values)
        per_bin = (
            ds["score_group"]
            .sel(region=regions)
            .transpose("solved_group", "region", "time_bin", "split")
        )
        out["score_group"][at], out["score_group_sem"][at] = mean_sem(per_bin.values)
        decoding = (
            ds["decoding_group"].sel(region=regions).transpose("solved_group", "region", "time_bin")
        )
        out["decoding_group"][at] = decoding.values
    dims = ("model", "state", "seed", "solved_group", "region")
    return {
        name: ((*dims, "time_bin") if values.ndim == 6 else dims, values)
        for name, values in out.items()
    }
