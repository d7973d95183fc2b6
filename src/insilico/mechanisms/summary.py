"""Tables over all dissected CNNs: phenomena, attribution, reduction and ground-truth scores.

Each function takes ``{(experiment, stimulus, seed): {phenomenon: Dataset}}`` as read from the
per-phenomenon netCDF files and returns one pandas DataFrame, one row per CNN and phenomenon (and
quantity or layer).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from insilico.core import claims
from insilico.mechanisms.experiments import IDENTIFICATION_SCORES, key_numbers

Runs = Mapping[tuple[str, str, int], Mapping[str, xr.Dataset]]


CONTROL = "control"  # the positive control's run is named like a stimulus class
CIRCUIT = {CONTROL: {"model": "control", "strength": 0.0}}
# Models trained at several seeds: recovery.csv pools their counts over seeds (seed "all").
SEEDED_MODELS = ("cnn", "trained_control")


def _key(run: tuple[str, str, int], phenomenon: str, controls: Mapping = CIRCUIT) -> dict:
    """The columns that name a row: which model (a fitted CNN or a control) and phenomenon."""
    experiment, stimulus, seed = run
    return {
        "experiment": experiment,
        "model": controls[stimulus]["model"] if stimulus in controls else "cnn",
        "stimulus": stimulus,
        "seed": seed,
        "phenomenon": phenomenon,
    }


def _null_numbers(responses: Runs) -> dict[tuple[str, str], dict]:
    """The null model's key numbers per (experiment, phenomenon): of the first fitted run that
    has one, so a control (fitted to no data) is held to the same baseline."""
    out: dict[tuple[str, str], dict] = {}
    for (experiment, _, _), per_phenomenon in responses.items():
        for phenomenon, data in per_phenomenon.items():
            numbers = json.loads(data.attrs["key_numbers"])
            if "null" in numbers:
                out.setdefault((experiment, phenomenon), numbers["null"])
    return out


def _element_nulls(responses: Runs) -> dict[tuple[str, str], dict]:
    """Per (experiment, phenomenon) the circuit control's element null: the element's name, the
    key numbers of the control with it removed (``null``) and of the intact control (``intact``)."""
    out: dict[tuple[str, str], dict] = {}
    for (experiment, _, _), per_phenomenon in responses.items():
        for phenomenon, data in per_phenomenon.items():
            numbers = json.loads(data.attrs["key_numbers"])
            if "element_null" in numbers:
                out.setdefault(
                    (experiment, phenomenon),
                    {
                        "element": data.attrs["element"],
                        "null": numbers["element_null"],
                        "intact": numbers["cnn"],
                    },
                )
    return out


def _element_columns(element: dict | None, quantity: str, truth: float, tolerance: float) -> dict:
    """The element null's columns of one key number: the element, the value of the circuit
    control without it, and whether it tests anything (``element_testable``: the null lies more
    than ``tolerance`` from both the truth and the intact control; None where no element)."""
    if element is None:
        return {"element": "", "element_null": np.nan, "element_testable": None}
    null, intact = element["null"].get(quantity, np.nan), element["intact"].get(quantity, np.nan)
    testable = bool(abs(null - truth) > tolerance and abs(null - intact) > tolerance)
    return {"element": element["element"], "element_null": null, "element_testable": testable}


def _passes(value, truth, row: dict, margin: float, has_truth: bool) -> bool | None:
    """Beats the LN null and, where its element null is testable, that null too (the margin
    rule of :func:`_beats_null` for each)."""
    ln = _beats_null(value, truth, row["null"], margin, row["testable"], has_truth)
    if not ln or not row["element_testable"]:
        return ln
    return _beats_null(value, truth, row["element_null"], margin, True, has_truth)


def phenomena_table(
    responses: Runs,
    reductions: Runs,
    tolerances: Mapping[str, Mapping[str, float]],
    margin: float,
    controls: Mapping = CIRCUIT,
) -> pd.DataFrame:
    """Headline numbers per phenomenon: the simulated retina's (truth), the CNN's, the reduced
    CNN's and the null model's (the LN model of the same data and seed; for a control, of the
    experiment's first fitted run).

    A model passes a key number when it is closer to the truth than the null by ``margin`` of
    the truth-null distance, ``|model - truth| <= (1 - margin) |null - truth|``. A key number
    whose null lies within ``tolerances[phenomenon][quantity]`` of the truth (no null, or a
    null that already shows it) is untestable and passes nowhere; ``null_within_tolerance``
    says how many the old rule (within tolerance of the truth) would have let the null pass.
    The second null, where the phenomenon's mechanism has an element in the circuit control
    (``element``, ``element_null``: that control with the element removed, from the control's
    run of the experiment): where it is testable (:func:`_element_columns`) a pass must beat it
    by the same margin too; where it lies within tolerance of the truth or of the intact
    control, ``element_testable`` is False and it decides nothing.
    Without a simulated retina (recorded data) the pass columns are empty.
    """
    nulls, elements = _null_numbers(responses), _element_nulls(responses)
    rows = []
    for run, per_phenomenon in responses.items():
        for phenomenon, data in per_phenomenon.items():
            numbers = json.loads(data.attrs["key_numbers"])
            reduced = key_numbers(reductions[run][phenomenon], data, "reduced")
            null = numbers.get("null", nulls.get((run[0], phenomenon), {}))
            has_truth = "truth" in numbers
            for quantity, value in numbers["cnn"].items():
                truth = numbers.get("truth", {}).get(quantity, np.nan)
                baseline = null.get(quantity, np.nan)
                tolerance = _tolerance(tolerances, phenomenon, quantity)
                testable = bool(abs(baseline - truth) > tolerance)  # NaN: untestable
                element = elements.get((run[0], phenomenon)) if has_truth else None
                row = {
                    **_key(run, phenomenon, controls),
                    "quantity": quantity,
                    "truth": truth,
                    "cnn": value,
                    "reduced_cnn": reduced[quantity],
                    "null": baseline,
                    "tolerance": tolerance,
                    "testable": testable if has_truth else None,
                    **_element_columns(element, quantity, truth, tolerance),
                }
                row["cnn_pass"] = _passes(value, truth, row, margin, has_truth)
                row["reduced_pass"] = _passes(reduced[quantity], truth, row, margin, has_truth)
                row["null_within_tolerance"] = _agrees(baseline, truth, tolerance, has_truth)
                row["element_null_within_tolerance"] = (
                    _agrees(row["element_null"], truth, tolerance, True) if element else None
                )
                rows.append(row)
    return pd.DataFrame(rows)


def _beats_null(value, truth, null, margin, testable, has_truth) -> bool | None:
    """Closer to the truth than the null by ``margin`` of their distance (False when NaN or
    untestable); None without a truth."""
    if not has_truth:
        return None
    return bool(testable and abs(value - truth) <= (1 - margin) * abs(null - truth))


def _tolerance(tolerances: Mapping[str, Mapping[str, float]], phenomenon: str, quantity: str):
    try:
        return float(tolerances[phenomenon][quantity])
    except KeyError:
        raise ValueError(
            f"no agreement tolerance for {phenomenon}.{quantity}: add it under "
            "mechanisms.agreement in the config"
        ) from None


def _agrees(value: float, truth: float, tolerance: float, has_truth: bool) -> bool | None:
    """Within tolerance of the truth (False when either is NaN); None without a truth."""
    if not has_truth:
        return None
    return bool(abs(value - truth) <= tolerance)  # NaN compares False


def _ranking(attribution: xr.Dataset, layer: int, top: int = 3) -> str:
    """The layer's most attributed channels over all cells, most important first."""
    importance = attribution["importance"].sum("cell")
    importance = importance.where(attribution["channel_layer"] == layer, drop=True)
    order = np.argsort(-importance.values, kind="stable")[:top]
    return " > ".join(str(c) for c in importance["channel"].values[order])


def attribution_table(attributions: Runs, controls: Mapping = CIRCUIT) -> pd.DataFrame:
    """Completeness of the integrated gradients and the top channels per phenomenon."""
    rows = []
    for run, per_phenomenon in attributions.items():
        for phenomenon, data in per_phenomenon.items():
            rows.append(
                {
                    **_key(run, phenomenon, controls),
                    "steps": data.attrs["steps"],
                    "max_completeness_error_hz": data.attrs["max_completeness_error"],
                    "relative_completeness_error": data.attrs["relative_completeness_error"],
                    "top_layer1": _ranking(data, 1),
                    "top_layer2": _ranking(data, 2),
                    "path_points_per_s": data.attrs["samples_per_second"],
                }
            )
    return pd.DataFrame(rows)


def reduction_table(reductions: Runs, controls: Mapping = CIRCUIT) -> pd.DataFrame:
    """How few channels suffice: channels kept per layer (median and range over cells)."""
    rows = []
    for run, per_phenomenon in reductions.items():
        for phenomenon, data in per_phenomenon.items():
            row = {**_key(run, phenomenon, controls), "tolerance": data.attrs["tolerance"]}
            for layer in data["layer"].values:
                kept = data["n_kept"].sel(layer=layer).values
                row[f"layer{layer}_channels"] = int((data["channel_layer"] == layer).sum())
                row[f"layer{layer}_kept_median"] = float(np.median(kept))
                row[f"layer{layer}_kept_max"] = int(kept.max())
            row["explained_variance_min"] = float(data["explained_variance"].min())
            rows.append(row)
    return pd.DataFrame(rows)


def groundtruth_table(groundtruths: Runs, controls: Mapping = CIRCUIT) -> pd.DataFrame:
    """Ground-truth scores per phenomenon and layer (means over responsive cells)."""
    rows = []
    for run, per_phenomenon in groundtruths.items():
        for phenomenon, data in per_phenomenon.items():
            for layer in data["layer"].values:
                d = data.sel(layer=layer)
                channels = data["channel_layer"] == layer
                rows.append(
                    {
                        **_key(run, phenomenon, controls),
                        "layer": int(layer),
                        "responsive_cells": data.attrs["n_responsive_cells"],
                        "identity_r": float(data["identity_r"].where(channels).mean()),
                        **{name: float(d[f"mean_{name}"]) for name in IDENTIFICATION_SCORES},
                        "p_precision": float(d["p_precision"]),
                        "p_overlap": float(d["p_overlap"]),
                        "recovered": bool(d["recovered"]),
                        "testable": bool(d["testable"]),
                    }
                )
    return pd.DataFrame(rows)


def _run_recovery(per_phenomenon: Mapping[str, xr.Dataset]) -> dict:
    """One dissected model's recovery over its (phenomenon, layer) cases, with intervals.

    ``excess_precision``: per responsive cell, precision minus chance averaged over the cases,
    its t interval over cells (:func:`insilico.core.claims.decide`, claimed > 0);
    ``shuffled_rate``: the share of testable cases (all cases when none is) recovered with the
    channels' identities shuffled, its t interval over shuffles (the negative control, near
    ``alpha`` when the test holds its level).
    """
    datasets = list(per_phenomenon.values())
    recovered = np.concatenate([d["recovered"].values for d in datasets]).astype(bool)
    testable = np.concatenate([d["testable"].values for d in datasets]).astype(bool)
    shuffled = np.concatenate([d["shuffled_recovered"].values for d in datasets]).astype(bool)
    excess = np.stack([(d["precision"] - d["chance"]).values for d in datasets])  # (p, cell, layer)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a cell that never responds: NaN
        per_cell = np.nanmean(excess.transpose(1, 0, 2).reshape(excess.shape[1], -1), axis=1)
    decided = claims.decide(per_cell, "greater")
    rate, low, high, n = claims.t_interval(
        (shuffled[testable] if testable.any() else shuffled).mean(0)
    )
    return {
        "cases": len(recovered),
        "recovered": int(recovered.sum()),
        "testable": int(testable.sum()),
        "recovered_testable": int((recovered & testable).sum()),
        "fraction": float(recovered.mean()),
        "fraction_testable": float(recovered[testable].mean()) if testable.any() else np.nan,
        "excess_precision": decided["value"],
        "excess_precision_ci_low": decided["ci_low"],
        "excess_precision_ci_high": decided["ci_high"],
        "cells": decided["n"],
        "verdict": decided["verdict"],
        "shuffled_rate": rate,
        "shuffled_rate_ci_low": low,
        "shuffled_rate_ci_high": high,
        "shuffles": n,
    }


def recovery_table(groundtruths: Runs, controls: Mapping = CIRCUIT) -> pd.DataFrame:
    """Per dissected model, how many (phenomenon, layer) cases recover the true pathways, with
    intervals (:func:`_run_recovery`); then per experiment and stimulus class one row over every
    seed's CNN (``seed`` "all": the mean count and its t interval over seeds).

    ``testable`` cases are those where a selection could reach significance at all. The
    controls' rows say what the method finds on known answers: the circuit control and the
    dense controls (``strength``: distractors as a fraction of a fitted CNN's level; the power
    curve), the untrained CNN (a negative control: near ``alpha``); the fitted CNNs' rows are
    read against them. The trained control (``trained_control``, one run per seed) is pooled
    over its seeds like the fitted CNNs.
    """
    rows = []
    for run, per_phenomenon in groundtruths.items():
        key = _key(run, "", controls)
        del key["phenomenon"]
        strength = controls.get(run[1], {}).get("strength")
        rows.append({**key, "strength": strength, **_run_recovery(per_phenomenon)})
    table = pd.DataFrame(rows)
    fitted = table[table["model"].isin(SEEDED_MODELS)]
    pooled = []
    groups = fitted.groupby(["experiment", "model", "stimulus"], sort=False)
    for (experiment, model, stimulus), runs in groups:
        mean, low, high, n = claims.t_interval(runs["recovered"])
        pooled.append(
            {
                "experiment": experiment,
                "model": model,
                "stimulus": stimulus,
                "seed": "all",
                "cases": int(runs["cases"].iloc[0]),
                "recovered": mean,
                "recovered_ci_low": low,
                "recovered_ci_high": high,
                "seeds": n,
                "fraction": float(runs["fraction"].mean()),
            }
        )
    return pd.concat([table, pd.DataFrame(pooled)], ignore_index=True)
