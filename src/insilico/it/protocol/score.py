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

from insilico.core.units import IT_BIN_MS
from insilico.it.protocol.ceiling import (
    CEILING_FORMULAS,
    ceiled_score,
    ceilings,
    mean_sem,
    ordered_regions,
    region_medians,
)
from insilico.it.protocol.latency import features_at, fit_latency, step_of_bins
from insilico.it.protocol.pls import (
    N_COMPONENTS,
    cross_validated_r,
    cross_validated_r_by_group,
    effective_components,
)
from insilico.it.protocol.splits import training_masks

# Leading PCA components the latency is fitted on (the ridge fits stay small and fast).
LATENCY_FEATURES = 50


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


def _read_values(path: str, ids: np.ndarray) -> tuple[np.ndarray, dict]:
    """``(N, steps, k)`` activations of one file in the order of ``ids``, and its attributes."""
    from insilico.it.activations import read_activations

    acts = read_activations(path)
    order = pd.Index(acts["stimulus_id"].values.astype(str)).get_indexer(ids)
    if (order < 0).any():
        raise ValueError(
            f"{path} lacks {int((order < 0).sum())} recorded stimuli, e.g. {list(ids[order < 0][:3])}"
        )
    return acts["activations"].values[order], dict(acts.attrs)


def window_features(values: np.ndarray, window, latency_ms: int) -> np.ndarray:
    """``(1, N, k)``: a temporal model's mean over the steps whose bins (``latency + 10 t``) lie
    in ``window``; a feedforward model's only step."""
    if values.shape[1] == 1:
        return values[:, 0][None]
    starts = latency_ms + IT_BIN_MS * np.arange(values.shape[1])
    inside = (starts >= window[0]) & (starts + IT_BIN_MS <= window[1])
    if not inside.any():
        raise ValueError(
            f"no model step falls in the window {list(window)} ms with latency {latency_ms} ms "
            f"({values.shape[1]} steps of {IT_BIN_MS} ms): raise it.temporal.n_steps"
        )
    return values[:, inside].mean(1)[None]


def bin_features(values: np.ndarray, bin_starts, latency_ms: int) -> np.ndarray:
    """``(bins or 1, N, k)``: a temporal model's step ``(start - latency) / 10`` per bin (silent
    before the latency); a feedforward model's only step, shared by every bin."""
    if values.shape[1] == 1:
        return values[:, 0][None]
    return features_at(values, step_of_bins(bin_starts, latency_ms, values.shape[1]))


def _latencies(values, targets_t, masks, bin_starts, labels, grid, n_features):
    """Latency per split fitted on that split's training stimuli
    (:func:`insilico.it.protocol.latency.fit_latency`, the first ``n_features`` components)."""
    if values.shape[1] == 1 or len(grid) == 1 or not len(bin_starts):
        return np.full(len(masks), int(grid[0]))
    reduced = values[..., :n_features]
    return np.asarray(
        [
            fit_latency(reduced[train], targets_t[:, train], bin_starts, grid, labels[train])
            for train in masks
        ]
    )


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
    split_source: str = "brainscore",
    latency_grid_ms=(0,),
) -> xr.Dataset:
    """Held-out Pearson r per neuroid for every layer, split and time bin, plus region medians.

    The static benchmark regresses on the window of the time-averaged assembly; the temporal one
    fits every 10 ms bin separately. A ConvRNN's step t stands for the bin starting at
    ``latency + 10 t`` ms (its window features: the mean over the steps inside the window), the
    latency fitted per layer, region and split on that split's training stimuli from
    ``latency_grid_ms`` (:mod:`insilico.it.protocol.latency`; without time bins the first grid
    value); a feedforward model gives the same features to every bin.
    ``temporal_layers="best"`` fits the bins only for each region's best static layer (highest
    mean over splits), the layer whose curve is plotted; the other layers' bins stay nan.
    ``solved`` (per stimulus, ``early``/``late``/``unsolved``, from
    :mod:`insilico.it.solution_times`): the best layer's scores on early- and late-solved images
    apart, and its per-image category decoding per bin (the solution-time decoder).
    """
    if temporal_layers not in ("all", "best"):
        raise ValueError(f"temporal_layers must be 'all' or 'best', got {temporal_layers!r}")
    objects = neural["object_name"].values.astype(str)
    masks = training_masks(objects, n_splits, train_fraction, seed, split_source)
    ids = neural["stimulus_id"].values.astype(str)
    region_of = neural["region"].values.astype(str)
    regions = ordered_regions(region_of)
    bin_starts = neural["time_bin_start"].values.astype(int)
    window = (int(neural.attrs["window_start_ms"]), int(neural.attrs["window_end_ms"]))
    layers = list(activation_paths)
    shape = (len(layers), n_splits, neural.sizes["neuroid"])
    r_window, r_bins = (
        np.full(shape, np.nan),
        np.full((len(layers), len(bin_starts), *shape[1:]), np.nan),
    )
    latency = np.zeros((len(layers), n_splits, len(regions)), int)
    targets_t = {
        region: np.moveaxis(neural["rates"].values[:, region_of == region], 2, 0)
        for region in regions
    }  # (bins, N, q) per region
    values, attrs = {}, {}
    for i, layer in enumerate(layers):
        values[layer], attrs[layer] = _read_values(activation_paths[layer], ids)
        for r, region in enumerate(regions):
            latency[i, :, r] = _latencies(
                values[layer],
                targets_t[region],
                masks,
                bin_starts,
                objects,
                latency_grid_ms,
                LATENCY_FEATURES,
            )
    fit = _Fitter(neural, masks, latency, n_components, device, region_of, regions, targets_t)
    for i, layer in enumerate(layers):
        for r in range(len(regions)):
            fit.window(r_window, i, values[layer], r)
            if temporal_layers == "all" and len(bin_starts):
                fit.bins(r_bins, i, values[layer], r)
    if temporal_layers == "best" and len(bin_starts):
        static_scores = np.nanmean(region_medians(r_window, region_of, regions), axis=1)  # (L, R)
        for r in range(len(regions)):
            i = int(np.nanargmax(static_scores[:, r]))
            fit.bins(r_bins, i, values[layers[i]], r)
    score_window = region_medians(r_window, region_of, regions)  # (L, S, R)
    result = _score_dataset(neural, layers, regions, r_window, r_bins, latency, score_window)
    last = attrs[layers[-1]]
    result.attrs.update(
        {
            "kind": last.get("kind", ""),
            "temporal": int(last.get("temporal", 0)),
            "test_accuracy": float(last.get("test_accuracy", np.nan)),
            "steps_trained": int(last.get("steps_trained", 0)),
            "n_parameters": int(last.get("n_parameters", 0)),
            "window_start_ms": window[0],
            "window_end_ms": window[1],
            "cache_keys": str({layer: attrs[layer]["cache_key"] for layer in layers}),
            "temporal_layers": temporal_layers,
            "latency_grid_ms": str(list(latency_grid_ms)),
            "protocol": (
                f"PLS {n_components} components (no scaling), {n_splits} stratified (object_name) "
                f"shuffle splits ({split_source} draw, seed {seed}), train fraction "
                f"{train_fraction}; Pearson r per neuroid on held-out stimuli, median over neuroids"
            ),
        }
    )
    result["n_components"] = (
        "layer",
        np.asarray(
            [
                effective_components(n_components, int(masks[0].sum()), values[layer].shape[-1])
                for layer in layers
            ]
        ),
    )
    if solved is not None:
        grouped = _scores_by_group(
            neural,
            values,
            masks,
            latency,
            np.asarray(solved).astype(str),
            score_window,
            n_components=n_components,
            device=device,
        )
        for name, (dims, array) in grouped.items():
            result[name] = (dims, array)
        result = result.assign_coords(solved_group=list(SOLVED_GROUPS))
    return result


class _Fitter:
    """Cross-validated PLS fits of one layer for one region, splits grouped by their latency."""

    def __init__(self, neural, masks, latency, n_components, device, region_of, regions, targets_t):
        self.neural, self.masks, self.latency = neural, masks, latency
        self.n_components, self.device = n_components, device
        self.region_of, self.regions, self.targets_t = region_of, regions, targets_t
        self.window_ms = (int(neural.attrs["window_start_ms"]), int(neural.attrs["window_end_ms"]))
        self.bin_starts = neural["time_bin_start"].values.astype(int)

    def _groups(self, i, r):
        lat = self.latency[i, :, r]
        return [(int(value), np.flatnonzero(lat == value)) for value in np.unique(lat)]

    def window(self, out, i, values, r):
        """``out[i, splits, cols]``: r of the time-averaged window."""
        cols = self.region_of == self.regions[r]
        target = self.neural["rates_window"].values[:, cols][None]
        for latency, splits in self._groups(i, r):
            x = window_features(values, self.window_ms, latency)
            r_split = cross_validated_r(
                x, target, self.masks[splits], self.n_components, self.device
            )
            out[i][np.ix_(splits, np.flatnonzero(cols))] = r_split[0]

    def bins(self, out, i, values, r):
        """``out[i, bins, splits, cols]``: r per time bin."""
        cols = np.flatnonzero(self.region_of == self.regions[r])
        for latency, splits in self._groups(i, r):
            x = bin_features(values, self.bin_starts, latency)
            r_split = cross_validated_r(
                x,
                self.targets_t[self.regions[r]],
                self.masks[splits],
                self.n_components,
                self.device,
            )  # (bins, splits, q)
            out[i][:, splits[:, None], cols[None]] = r_split


def _score_dataset(neural, layers, regions, r_window, r_bins, latency, score_window):
    region_of = neural["region"].values.astype(str)
    return xr.Dataset(
        {
            "r_window": (("layer", "split", "neuroid"), r_window),
            "r": (("layer", "time_bin", "split", "neuroid"), r_bins),
            "score_window": (("layer", "split", "region"), score_window),
            "score": (
                ("layer", "time_bin", "split", "region"),
                region_medians(r_bins, region_of, regions),
            ),
            "latency_ms": (("layer", "split", "region"), latency),
        },
        coords={
            "layer": layers,
            "split": np.arange(r_window.shape[1]),
            "region": regions,
            "neuroid_id": ("neuroid", neural["neuroid_id"].values),
            "neuroid_region": ("neuroid", region_of),
            "time_bin_start": ("time_bin", neural["time_bin_start"].values),
            "time_bin_end": ("time_bin", neural["time_bin_end"].values),
        },
    )


SOLVED_GROUPS = ("early", "late")


def _scores_by_group(neural, values, masks, latency, solved, score_window, *, n_components, device):
    """Static and per-bin scores of each region's best layer on early/late-solved images apart,
    its category decoding per group and bin, and its per-image decoding ``performance`` (the
    solution-time decoder, :func:`score_model`); features at the layer's median latency."""
    from insilico.it.solution_times import image_performance

    region_of = neural["region"].values.astype(str)
    regions = ordered_regions(region_of)
    bin_starts = neural["time_bin_start"].values.astype(int)
    window = (int(neural.attrs["window_start_ms"]), int(neural.attrs["window_end_ms"]))
    layers = list(values)
    best = np.nanmean(score_window, axis=1).argmax(0)  # (R,)
    n_groups, n_bins, n_splits = len(SOLVED_GROUPS), len(bin_starts), masks.shape[0]
    window_scores = np.full((n_groups, n_splits, len(regions)), np.nan)
    bin_scores = np.full((n_groups, n_bins, n_splits, len(regions)), np.nan)
    decoding = np.full((n_groups, n_bins, len(regions)), np.nan)
    performance = np.full((len(regions), len(solved), n_bins), np.nan)
    labels = neural["category_name"].values.astype(str)
    for r, region in enumerate(regions):
        lat = int(np.median(latency[best[r], :, r]))
        static = window_features(values[layers[best[r]]], window, lat)
        per_bin = bin_features(values[layers[best[r]]], bin_starts, lat)
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
        performance[r] = np.broadcast_to(
            image_performance(np.moveaxis(per_bin, 0, -1), labels), performance[r].shape
        )  # (N, bins or 1)
        for g, name in enumerate(SOLVED_GROUPS):
            decoding[g, :, r] = performance[r][solved == name].mean(0)
    return {
        "score_window_group": (("solved_group", "split", "region"), window_scores),
        "score_group": (("solved_group", "time_bin", "split", "region"), bin_scores),
        "decoding_group": (("solved_group", "time_bin", "region"), decoding),
        "group_layer": ("region", np.asarray([layers[i] for i in best])),
        "performance": (("region", "stimulus", "time_bin"), performance),
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
