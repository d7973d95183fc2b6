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

from insilico.core.splits import training_masks
from insilico.core.units import IT_BIN_MS
from insilico.it.protocol.ceiling import (
    CEILING_FORMULAS,
    ceiled_score,
    ceilings,
    mean_sem,
    ordered_regions,
    region_medians,
)
from insilico.it.protocol.latency import features_at, fit_latency, onset_latency, step_of_bins
from insilico.it.protocol.pls import (
    N_COMPONENTS,
    cross_validated_r,
    cross_validated_r_by_group,
    effective_components,
)

# Leading PCA components the latency is fitted on (the ridge fits stay small and fast).
LATENCY_FEATURES = 20


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


def _latencies(values, targets_t, masks, bin_starts, labels, grid, regions, region_of):
    """Latency ``(splits, regions)`` fitted on each split's training stimuli
    (:func:`insilico.it.protocol.latency.fit_latency`, the leading ``LATENCY_FEATURES``
    components), all regions at once."""
    if values.shape[1] == 1 or len(grid) == 1 or not len(bin_starts):
        return np.full((len(masks), len(regions)), int(grid[0]))
    reduced = values[..., :LATENCY_FEATURES]
    order = [list(np.unique(region_of)).index(region) for region in regions]
    return np.stack(
        [
            fit_latency(
                reduced[train], targets_t[:, train], bin_starts, grid, labels[train], region_of
            )[order]
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
    latency: str = "fit",
) -> xr.Dataset:
    """Held-out Pearson r per neuroid for every layer, split and time bin, plus region medians.

    Static benchmark: the window of the time-averaged assembly; temporal: every 10 ms bin fitted
    apart. A ConvRNN's step t stands for the bin at ``latency + 10 t`` ms (window features: the
    mean over its steps inside the window), the latency (``latency``) fitted per layer, region and
    split on the split's training stimuli from ``latency_grid_ms``, or the region's response onset
    (:mod:`insilico.it.protocol.latency`; the first grid value without bins); a feedforward model
    gives the same features to every bin.
    ``temporal_layers="best"`` fits bins only for each region's best static layer (the plotted
    curve). ``solved`` (``early``/``late``/``unsolved`` per stimulus): the best layer's scores on
    early- and late-solved images apart and its per-image decoding per bin.
    """
    if temporal_layers not in ("all", "best"):
        raise ValueError(f"temporal_layers must be 'all' or 'best', got {temporal_layers!r}")
    method = latency
    objects = neural["object_name"].values.astype(str)
    masks = training_masks(objects, n_splits, train_fraction, seed, split_source)
    ids = neural["stimulus_id"].values.astype(str)
    region_of = neural["region"].values.astype(str)
    regions = ordered_regions(region_of)
    window = (int(neural.attrs["window_start_ms"]), int(neural.attrs["window_end_ms"]))
    layers = list(activation_paths)
    values, attrs = {}, {}
    for layer in layers:
        values[layer], attrs[layer] = _read_values(activation_paths[layer], ids)
    latency = _layer_latencies(
        neural, values, masks, method, latency_grid_ms, regions, region_of, objects
    )  # (layers, splits, regions)
    fit = _Fitter(neural, masks, latency, n_components, device, region_of, regions)
    r_window, r_bins = fit.all_layers(values, temporal_layers)
    score_window = region_medians(r_window, region_of, regions)  # (L, S, R)
    result = _score_dataset(neural, layers, regions, r_window, r_bins, latency, score_window)
    result.attrs.update(_run_attrs(attrs, window, temporal_layers, latency_grid_ms))
    result.attrs["latency"] = method
    result.attrs["protocol"] = (
        f"PLS {n_components} components (no scaling), {n_splits} stratified (object_name) "
        f"shuffle splits ({split_source} draw, seed {seed}), train fraction "
        f"{train_fraction}; Pearson r per neuroid on held-out stimuli, median over neuroids"
    )
    n_train = int(masks[0].sum())
    result["n_components"] = (
        "layer",
        np.asarray(
            [effective_components(n_components, n_train, values[x].shape[-1]) for x in layers]
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


def _layer_latencies(
    neural, values, masks, method: str, latency_grid_ms, regions, region_of, objects
) -> np.ndarray:
    """Each layer's latency per split and region ``(layers, splits, regions)``: fitted on the
    split's training stimuli from the grid (``fit``) or the region's response onset (``onset``;
    the first grid value without time bins)."""
    bin_starts = neural["time_bin_start"].values.astype(int)
    if method == "onset" and len(bin_starts):
        onset = [onset_latency(c, bin_starts) for c in ceilings(neural)["ceiling_t"].values.T]
        return np.broadcast_to(np.asarray(onset), (len(values), len(masks), len(regions)))
    if method not in ("fit", "onset"):
        raise ValueError(f"latency must be 'fit' or 'onset', got {method!r}")
    targets = np.moveaxis(neural["rates"].values, 2, 0)  # (bins, N, neuroids)
    grid = latency_grid_ms if method == "fit" else latency_grid_ms[:1]
    return np.stack(
        [
            _latencies(v, targets, masks, bin_starts, objects, grid, regions, region_of)
            for v in values.values()
        ]
    )


def _run_attrs(attrs: dict, window, temporal_layers: str, latency_grid_ms) -> dict:
    """The model's own attributes (from its top layer's file) and the scoring settings."""
    last = attrs[list(attrs)[-1]]
    return {
        "kind": last.get("kind", ""),
        "temporal": int(last.get("temporal", 0)),
        "test_accuracy": float(last.get("test_accuracy", np.nan)),
        "steps_trained": int(last.get("steps_trained", 0)),
        "n_parameters": int(last.get("n_parameters", 0)),
        "multiply_adds": int(last.get("multiply_adds", 0)),
        "window_start_ms": window[0],
        "window_end_ms": window[1],
        "cache_keys": str({layer: attrs[layer]["cache_key"] for layer in attrs}),
        "temporal_layers": temporal_layers,
        "latency_grid_ms": str(list(latency_grid_ms)),
    }


class _Fitter:
    """Cross-validated PLS fits of one layer for one region, splits grouped by their latency."""

    def __init__(self, neural, masks, latency, n_components, device, region_of, regions):
        self.neural, self.masks, self.latency = neural, masks, latency
        self.n_components, self.device = n_components, device
        self.region_of, self.regions = region_of, regions
        self.targets_t = {
            region: np.moveaxis(neural["rates"].values[:, region_of == region], 2, 0)
            for region in regions
        }  # (bins, N, q) per region
        self.window_ms = (int(neural.attrs["window_start_ms"]), int(neural.attrs["window_end_ms"]))
        self.bin_starts = neural["time_bin_start"].values.astype(int)

    def all_layers(self, values: dict, temporal_layers: str):
        """``r_window`` ``(layers, splits, neuroids)`` and ``r_bins`` ``(layers, bins, splits,
        neuroids)``; bins for every layer or only each region's best static layer."""
        layers, n_bins = list(values), len(self.bin_starts)
        shape = (len(layers), len(self.masks), len(self.region_of))
        r_window = np.full(shape, np.nan)
        r_bins = np.full((len(layers), n_bins, *shape[1:]), np.nan)
        for i, layer in enumerate(layers):
            for r in range(len(self.regions)):
                self.window(r_window, i, values[layer], r)
                if temporal_layers == "all" and n_bins:
                    self.bins(r_bins, i, values[layer], r)
        if temporal_layers == "best" and n_bins:
            static = np.nanmean(region_medians(r_window, self.region_of, self.regions), axis=1)
            for r in range(len(self.regions)):
                i = int(np.nanargmax(static[:, r]))
                self.bins(r_bins, i, values[layers[i]], r)
        return r_window, r_bins

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
    with the best mean static score among the layers fitted per bin (``temporal_layer``), with
    that layer's fitted latency (median over splits).
    """
    if formula not in CEILING_FORMULAS:
        raise ValueError(
            f"unknown ceiling formula {formula!r}; use one of {sorted(CEILING_FORMULAS)}"
        )
    ceiling = ceilings(neural)
    runs = _Runs(scores, list(ceiling["region"].values), neural.sizes["time_bin"])
    best = _best_layers(runs)
    rows = _table_rows(runs, best, ceiling, formula)
    dims = ("model", "state", "seed")
    summary = xr.Dataset(
        {
            "score": ((*dims, "layer", "region"), runs.mean),
            "score_sem": ((*dims, "layer", "region"), runs.sem),
            "score_split": ((*dims, "layer", "region", "split"), runs.score),
            "score_t": ((*dims, "layer", "region", "time_bin"), runs.mean_t),
            "score_t_sem": ((*dims, "layer", "region", "time_bin"), runs.sem_t),
            **{name: ((*dims, "region", *extra), best[name]) for name, extra in _BEST_DIMS.items()},
            "ceiled_score": (
                (*dims, "region"),
                ceiled_score(best["best_score"], ceiling["ceiling"].values, formula),
            ),
            **{name: (dims, values) for name, values in runs.per_run.items()},
            **{name: ceiling[name] for name in ceiling.data_vars},
        },
        coords={
            "model": runs.models,
            "state": runs.states,
            "seed": runs.seeds,
            "layer": runs.layers,
            "region": runs.regions,
            "split": np.arange(runs.n_splits),
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
            "latency": next(iter(scores.values())).attrs.get("latency", "fit"),
        },
    )
    grouped = _grouped_summary(scores, runs.models, runs.states, runs.seeds, runs.regions)
    if grouped:
        summary = summary.assign_coords(solved_group=list(SOLVED_GROUPS))
        for name, (dims_, values) in grouped.items():
            summary[name] = (dims_, values)
    return summary, pd.DataFrame(rows)


# name -> dims after (model, state, seed, region) of the best-layer arrays of :func:`summarize`
_BEST_DIMS = {
    "best_score": (),
    "best_score_sem": (),
    "best_layer": (),
    "layer_choice_agreement": (),
    "temporal_layer": (),
    "latency_ms": (),
    "best_score_t": ("time_bin",),
    "best_score_t_sem": ("time_bin",),
}
_RUN_ATTRS = {"test_accuracy": float, "n_parameters": int, "multiply_adds": int}


class _Runs:
    """Every run's split scores on one grid ``(model, state, seed, layer, region, ...)``."""

    def __init__(self, scores, regions, n_bins):
        self.regions = regions
        self.models = list(dict.fromkeys(key[0] for key in scores))
        self.states = list(dict.fromkeys(key[1] for key in scores))
        self.seeds = sorted({key[2] for key in scores})
        self.layers = list(
            dict.fromkeys(layer for ds in scores.values() for layer in ds["layer"].values)
        )
        self.n_splits, self.n_bins = next(iter(scores.values())).sizes["split"], n_bins
        self.shape = (len(self.models), len(self.states), len(self.seeds))
        grid = (*self.shape, len(self.layers), len(regions))
        self.score = np.full((*grid, self.n_splits), np.nan)
        self.score_t = np.full((*grid, n_bins, self.n_splits), np.nan)
        self.latency = np.zeros(grid)
        self.per_run = {name: np.full(self.shape, np.nan) for name in _RUN_ATTRS}
        for key, ds in scores.items():
            self._add(key, ds)
        self.mean, self.sem = mean_sem(self.score)
        self.mean_t, self.sem_t = mean_sem(self.score_t)

    def _add(self, key, ds):
        at = (self.models.index(key[0]), self.states.index(key[1]), self.seeds.index(key[2]))
        for layer in ds["layer"].values:
            where = (*at, self.layers.index(layer))
            one = ds.sel(layer=layer, region=self.regions)
            self.score[where] = one["score_window"].transpose("region", "split").values
            self.score_t[where] = one["score"].transpose("region", "time_bin", "split").values
            if "latency_ms" in one:
                self.latency[where] = one["latency_ms"].median("split").values
        for name, cast in _RUN_ATTRS.items():
            self.per_run[name][at] = cast(ds.attrs.get(name, np.nan))


def _best_layers(runs: _Runs) -> dict[str, np.ndarray]:
    """Best layer per run and region (held-out choice) and the temporal curve's layer."""
    shape = (*runs.shape, len(runs.regions))
    out = {
        name: np.full((*shape, *([runs.n_bins] * len(extra))), np.nan)
        for name, extra in _BEST_DIMS.items()
    }
    for name in ("best_layer", "temporal_layer"):
        out[name] = np.full(shape, "", dtype=object)
    for index in np.ndindex(*runs.shape):
        if np.isnan(runs.score[index]).all():
            continue
        for r in range(len(runs.regions)):
            at = (*index, r)
            chosen, held_out = select_layer_held_out(runs.score[index][:, r])
            counts = np.bincount(chosen, minlength=len(runs.layers))
            mode = int(counts.argmax())
            out["best_score"][at], out["best_score_sem"][at] = mean_sem(held_out)
            out["best_layer"][at] = runs.layers[mode]
            out["layer_choice_agreement"][at] = counts[mode] / runs.n_splits
            # the temporal curve: the best static layer among those fitted per bin
            fitted = ~np.isnan(runs.mean_t[index][:, r]).all(axis=-1)
            static = np.where(fitted, np.nan_to_num(runs.mean[index][:, r], nan=-np.inf), -np.inf)
            curve = int(np.argmax(static)) if fitted.any() else mode
            out["temporal_layer"][at] = runs.layers[curve]
            out["latency_ms"][at] = runs.latency[index][curve, r]
            out["best_score_t"][at] = runs.mean_t[index][curve, r]
            out["best_score_t_sem"][at] = runs.sem_t[index][curve, r]
    out["best_layer"] = out["best_layer"].astype(str)
    out["temporal_layer"] = out["temporal_layer"].astype(str)
    return out


def _table_rows(runs: _Runs, best: dict, ceiling: xr.Dataset, formula: str) -> list[dict]:
    """One row of results/it/summary.csv per run and region."""
    rows = []
    for index in np.ndindex(*runs.shape):
        if np.isnan(runs.score[index]).all():
            continue
        for r, region in enumerate(runs.regions):
            at = (*index, r)
            c = float(ceiling["ceiling"].sel(region=region))
            row = {
                "model": runs.models[index[0]],
                "state": runs.states[index[1]],
                "seed": runs.seeds[index[2]],
                "region": region,
                "best_layer": best["best_layer"][at],
                "layer_choice_agreement": best["layer_choice_agreement"][at],
                "raw_r": best["best_score"][at],
                "raw_r_sem": best["best_score_sem"][at],
                "ceiling": c,
                "ceiling_sem": float(ceiling["ceiling_sem"].sel(region=region)),
                "ceiled_score": float(ceiled_score(best["best_score"][at], c, formula)),
                "ceiled_formula": CEILING_FORMULAS[formula],
                "latency_ms": best["latency_ms"][at],
                **{name: values[index] for name, values in runs.per_run.items()},
            }
            if "true_ceiling" in ceiling:
                row["true_ceiling"] = float(ceiling["true_ceiling"].sel(region=region))
            rows.append(row)
    return rows


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
    n_stimuli = first.sizes["stimulus"]
    performance = np.full((*shape[:3], len(regions), n_stimuli, n_bins), np.nan)
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
        performance[at] = ds["performance"].sel(region=regions).values
    dims = ("model", "state", "seed", "solved_group", "region")
    return {
        **{
            name: ((*dims, "time_bin") if values.ndim == 6 else dims, values)
            for name, values in out.items()
        },
        # per-image category decoding of each region's best layer (the solution-time decoder)
        "image_performance": (
            ("model", "state", "seed", "region", "stimulus", "time_bin"),
            performance,
        ),
    }
