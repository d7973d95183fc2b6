"""Neural targets and their ceilings: trial-averaged responses, split-half consistency over
repetitions (Spearman-Brown corrected) per neuroid, its median per region, and the ceiled score.
"""

from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np
import pandas as pd
import xarray as xr

CEILING_FORMULAS = {
    "r2_over_c": "r^2 / c (Brain-Score since 2026)",
    "r_over_c_squared": "(r / c)^2 (Brain-Score 2019-2026)",
    "r_over_c": "r / c (Brain-Score until 2019)",
}
REGION_ORDER = ("V1", "V2", "V4", "IT")


CEILING_MISSING = (
    "the assembly is averaged over repetitions (no 'repetition' coordinate): no split-half "
    "ceiling can be computed, the ceilings and ceiled scores are nan, the raw r are reported"
)
TEMPORAL_MISSING = (
    "no temporal assembly was given (data.local.it.temporal_assembly): the per-10-ms-bin "
    "predictivity and ceilings are left out, the time-averaged analyses run"
)


def ordered_regions(values) -> list[str]:
    present = list(dict.fromkeys(str(v) for v in values))
    return sorted(
        present,
        key=lambda r: (REGION_ORDER.index(r) if r in REGION_ORDER else len(REGION_ORDER), r),
    )


def region_medians(r: np.ndarray, regions: np.ndarray, region_names) -> np.ndarray:
    """Median over each region's neuroids (last axis) -> ``(..., n_regions)``; nan-safe."""
    with warnings.catch_warnings():  # bins not fitted for a layer are all nan and stay nan
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.stack(
            [np.nanmedian(r[..., regions == name], axis=-1) for name in region_names], -1
        )


def mean_sem(per_split: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Mean over splits and its standard error (ddof 1)."""
    n = per_split.shape[axis]
    with warnings.catch_warnings():  # all-nan entries (a layer a model lacks) stay nan, silently
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(per_split, axis=axis)
        std = np.nanstd(per_split, axis=axis, ddof=1) if n > 1 else np.full_like(mean, np.nan)
    return mean, std / math.sqrt(n)


def ceiled_score(r, ceiling, formula: str):
    """The ceiled score by one of :data:`CEILING_FORMULAS` (``r`` raw score, ``ceiling`` c)."""
    r, ceiling = np.asarray(r, float), np.asarray(ceiling, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if formula == "r2_over_c":
            return np.sign(r) * r**2 / ceiling
        if formula == "r_over_c_squared":
            return np.sign(r) * (r / ceiling) ** 2
        if formula == "r_over_c":
            return r / ceiling
    raise ValueError(f"unknown ceiling formula {formula!r}; use one of {sorted(CEILING_FORMULAS)}")


def neural_targets(
    *,
    assembly_path,
    temporal_path,
    csv_path,
    n_splits: int,
    seed: int,
    groundtruth_path=None,
    stratify_by: str = "object_name",
    window_ms=None,
) -> xr.Dataset:
    """Trial-averaged responses and split-half consistencies of both assemblies, aligned.

    Stimuli are those of the StimulusSet recorded in both assemblies (in csv order); neuroids
    those of the time-averaged assembly found in the temporal one (by ``neuroid_id``).
    ``rates_window`` and ``consistency_window`` come from the time-averaged assembly (mean over its
    time bins, e.g. 70-170 ms), ``rates`` and ``consistency`` from the temporal one, per bin.
    Without a temporal assembly (``temporal_path`` None; many users have only the averaged one)
    there are no time bins: the per-bin variables have length 0 along ``time_bin``, so every
    per-bin analysis downstream is empty, and attr ``temporal_missing`` says why.
    The regions are those of the assembly's ``region`` coordinate (V1, V2, V4, IT...); the
    coordinate ``object_name`` holds the stratification labels, the csv column ``stratify_by``
    (attr ``stratify_by``). An assembly averaged over repetitions has nan consistencies (attr
    ``ceiling_missing``). ``window_ms`` ([start, end]) averages only the time-averaged assembly's
    bins inside it (an assembly in 1 ms bins, e.g. FreemanZiemba2013: 50-200 ms).
    """
    from insilico.it.assembly import (
        open_assembly,
        read_stimulus_metadata,
        trial_average,
    )

    metadata = read_stimulus_metadata(csv_path, stratify_by)
    with contextlib.ExitStack() as files:
        static = _in_window(files.enter_context(open_assembly(assembly_path)), window_ms)
        # Without a temporal assembly, the averaged one stands in for alignment; zero bins are kept.
        temporal = (
            static if temporal_path is None else files.enter_context(open_assembly(temporal_path))
        )
        bins = slice(None) if temporal_path is not None else slice(0, 0)
        stimuli, position = _aligned(
            metadata, static, temporal, (csv_path, assembly_path, temporal_path)
        )
        ids = stimuli["stimulus_id"].to_numpy()
        neuroid_ids = np.asarray(static["neuroid_id"].values).astype(str)
        rates_window = trial_average(static, ids, assembly_path).mean(axis=2)
        with warnings.catch_warnings():  # an averaged assembly's nan ceilings stay nan, silently
            warnings.simplefilter("ignore", RuntimeWarning)
            consistency_window = np.nanmean(
                _consistency(static, ids, n_splits, seed, assembly_path), axis=2
            )
        temporal = temporal.isel(time_bin=bins)
        rates = trial_average(temporal, ids, temporal_path)[:, position]
        consistency = _consistency(temporal, ids, n_splits, seed, temporal_path)[:, position]
        window = (
            int(static["time_bin_start"].values.min()),
            int(static["time_bin_end"].values.max()),
        )
        coords = _coords(stimuli, static, temporal, neuroid_ids, n_splits)
        n_repetitions = int(len(np.unique(static["repetition"].values)))
        identifiers = (
            static.attrs.get("identifier", ""),
            "" if temporal_path is None else temporal.attrs.get("identifier", ""),
        )
    dataset = xr.Dataset(
        {
            "rates_window": (("stimulus", "neuroid"), rates_window),
            "consistency_window": (("split", "neuroid"), consistency_window),
            "rates": (("stimulus", "neuroid", "time_bin"), rates),
            "consistency": (("split", "neuroid", "time_bin"), consistency),
        },
        coords=coords,
        attrs=_attrs(window, n_repetitions, identifiers, stratify_by, temporal_path is None),
    )
    if groundtruth_path is not None:
        _add_true_reliability(dataset, groundtruth_path, neuroid_ids)
    return dataset


def _attrs(window, n_repetitions: int, identifiers, stratify_by: str, no_bins: bool) -> dict:
    """The targets' provenance: window, repetitions, assemblies, and what is missing and why."""
    return {
        "window_start_ms": window[0],
        "window_end_ms": window[1],
        "n_repetitions": n_repetitions,
        "assembly": str(identifiers[0]),
        "temporal_assembly": str(identifiers[1]),
        "ceiling": "split-half over repetitions, Spearman-Brown 2r/(1+r), per neuroid",
        **({"stratify_by": stratify_by} if stratify_by != "object_name" else {}),
        **({"ceiling_missing": CEILING_MISSING} if n_repetitions < 2 else {}),
        **({"temporal_missing": TEMPORAL_MISSING} if no_bins else {}),
    }


def _aligned(metadata, static, temporal, paths) -> tuple[pd.DataFrame, np.ndarray]:
    """The StimulusSet rows recorded in both assemblies (csv order) and, per neuroid of the
    averaged assembly, its position in the temporal one; a misfit names the files."""
    from insilico.it.assembly import AssemblyFormatError

    csv_path, assembly_path, temporal_path = paths
    recorded = set(np.asarray(static["stimulus_id"].values).astype(str)) & set(
        np.asarray(temporal["stimulus_id"].values).astype(str)
    )
    stimuli = metadata[metadata["stimulus_id"].isin(recorded)].reset_index(drop=True)
    if len(stimuli) < 10:
        raise AssemblyFormatError(
            f"only {len(stimuli)} stimuli of {csv_path} are recorded in both {assembly_path} "
            f"and {temporal_path}"
        )
    neuroid_ids = np.asarray(static["neuroid_id"].values).astype(str)
    temporal_ids = pd.Index(np.asarray(temporal["neuroid_id"].values).astype(str))
    position = temporal_ids.get_indexer(neuroid_ids)
    if (position < 0).any():
        raise AssemblyFormatError(
            f"{temporal_path} lacks neuroid(s) {list(neuroid_ids[position < 0][:5])} of {assembly_path}"
        )
    return stimuli, position


def _coords(stimuli, static, temporal, neuroid_ids, n_splits: int) -> dict:
    """The targets' coordinates: stimulus labels, neuroid regions, time bins, splits."""
    coords = {
        "stimulus_id": ("stimulus", stimuli["stimulus_id"].to_numpy().astype(str)),
        "object_name": ("stimulus", stimuli["object_name"].to_numpy().astype(str)),
        "category_name": ("stimulus", stimuli["category_name"].to_numpy().astype(str)),
        "neuroid_id": ("neuroid", neuroid_ids),
        "region": ("neuroid", np.asarray(static["region"].values).astype(str)),
        "time_bin_start": ("time_bin", np.asarray(temporal["time_bin_start"].values, np.int64)),
        "time_bin_end": ("time_bin", np.asarray(temporal["time_bin_end"].values, np.int64)),
        "split": np.arange(n_splits),
    }
    for name in ("variation", "image_kind"):  # image_kind: simulated hard images only
        if name in stimuli:
            coords[name] = ("stimulus", stimuli[name].to_numpy())
    return coords


def _add_true_reliability(dataset: xr.Dataset, groundtruth_path, neuroid_ids) -> None:
    """The simulator's exact reliabilities of the same neuroids, next to the measured ceilings."""
    from insilico.core.io import read_netcdf

    truth = read_netcdf(groundtruth_path).set_index(neuroid="neuroid_id")
    truth = truth.sel(neuroid=neuroid_ids)
    dataset["true_reliability_window"] = ("neuroid", truth["true_reliability_window"].values)
    dataset["true_reliability"] = (("neuroid", "time_bin"), truth["true_reliability"].values)


def _in_window(assembly: xr.DataArray, window_ms) -> xr.DataArray:
    """The assembly's bins inside ``window_ms`` (all of them for None); none inside is an error."""
    if window_ms is None:
        return assembly
    from insilico.it.assembly import AssemblyFormatError

    start, end = window_ms
    inside = (assembly["time_bin_start"].values >= start) & (assembly["time_bin_end"].values <= end)
    if not inside.any():
        raise AssemblyFormatError(
            f"no time bin of {assembly.attrs.get('identifier', 'the assembly')} lies inside the "
            f"window {start}-{end} ms (window_ms of the IT data's config)"
        )
    return assembly.isel(time_bin=np.flatnonzero(inside))


def _consistency(assembly, ids, n_splits: int, seed: int, path) -> np.ndarray:
    """Split-half consistencies, or nan where the assembly holds one repetition (averaged)."""
    from insilico.it.assembly import split_half_consistency

    if len(np.unique(assembly["repetition"].values)) < 2:
        return np.full((n_splits, assembly.sizes["neuroid"], assembly.sizes["time_bin"]), np.nan)
    return split_half_consistency(assembly, ids, n_splits, seed, path)


def ceilings(neural: xr.Dataset) -> xr.Dataset:
    """Per region: the ceiling (median over neuroids, mean over splits) and its s.e.m., static and per bin."""
    regions = ordered_regions(neural["region"].values)
    region_of = neural["region"].values
    window = region_medians(neural["consistency_window"].values, region_of, regions)  # (S, R)
    per_bin = region_medians(
        np.moveaxis(neural["consistency"].values, 1, -1), region_of, regions
    )  # (S, bins, R)
    c, c_sem = mean_sem(window, axis=0)
    ct, ct_sem = mean_sem(per_bin, axis=0)
    out = xr.Dataset(
        {
            "ceiling": ("region", c),
            "ceiling_sem": ("region", c_sem),
            "ceiling_t": (("time_bin", "region"), ct),
            "ceiling_t_sem": (("time_bin", "region"), ct_sem),
        },
        coords={
            "region": regions,
            "time_bin_start": ("time_bin", neural["time_bin_start"].values),
            "time_bin_end": ("time_bin", neural["time_bin_end"].values),
        },
    )
    if "true_reliability_window" in neural:
        out["true_ceiling"] = (
            "region",
            [
                np.nanmedian(neural["true_reliability_window"].values[region_of == r])
                for r in regions
            ],
        )
        out["true_ceiling_t"] = (
            ("time_bin", "region"),
            np.stack(
                [
                    np.nanmedian(neural["true_reliability"].values[region_of == r], axis=0)
                    for r in regions
                ],
                axis=-1,
            ),
        )
    return out
