"""Why the retina CNN falls short: one factor of the default CNN changed at a time.

Every variant is the default CNN (its history, hyperparameters and training settings, with the
ablation's own short-training overrides on top: the *baseline*) with exactly one setting
replaced. The factors and their values come from the config (``retina.ablation.factors``); each
value is one variant, labelled ``<factor>-<value>`` (``history-40``, ``channels-16-16``,
``data-4x``). A factor is one of

- ``data``: the amount of training data, as a multiple of the default amount. Above 1 it needs
  more data than the default recording holds, so on simulated data the ablation trains on its own
  longer recording of the same retina (same seed, cells and test movie) and every variant,
  baseline included, uses only the part it needs; the validation block keeps the default's length;
- ``history``: frames per window;
- a CNN hyperparameter (:data:`MODEL_FACTORS`) or a training setting (:data:`TRAIN_FACTORS`).

This module only builds settings and tables (no torch): the Snakefile calls it when it parses,
and the table and figure jobs use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

BASELINE = "baseline"
SPECIAL_FACTORS = ("data", "history")
# The CNN's hyperparameters (insilico.retina.models.cnn.RetinaCNN.DEFAULT_HPARAMS; a unit test
# keeps the two in step without importing torch here).
MODEL_FACTORS = ("channels", "kernels", "noise_std", "batchnorm", "l2", "l1_activity")
# Training settings a variant may change (insilico.retina.train; seed, validation block and data
# fraction belong to the ablation itself).
TRAIN_FACTORS = (
    "epochs",
    "batch_size",
    "learning_rate",
    "weight_decay",
    "patience",
    "lr_plateau_factor",
    "output_lr_factor",
    "loss",
)
FACTORS = SPECIAL_FACTORS + MODEL_FACTORS + TRAIN_FACTORS


def value_label(value: Any) -> str:
    """A factor value as it appears in a variant label and a path: [16, 8] -> "16-8"."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return "-".join(value_label(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def variants(factors: Mapping[str, Sequence[Any]]) -> dict[str, tuple[str, Any]]:
    """``{label: (factor, value)}`` of every variant, the baseline first (factor and value None).

    Labels are ``<factor>-<value>`` (``data-<value>x`` for data multiples), in the order of the
    config; two values with the same label, or an unknown factor, are errors.
    """
    unknown = sorted(set(factors) - set(FACTORS))
    if unknown:
        raise ValueError(f"unknown ablation factor(s) {unknown}; allowed: {list(FACTORS)}")
    result: dict[str, tuple[str | None, Any]] = {BASELINE: (None, None)}
    for factor, values in factors.items():
        for value in values:
            label = f"{factor}-{value_label(value)}" + ("x" if factor == "data" else "")
            if label in result:
                raise ValueError(f"ablation factor {factor!r} lists {value!r} twice ({label})")
            result[label] = (factor, value)
    return result


def recording_multiple(factors: Mapping[str, Sequence[Any]]) -> float:
    """How many times the default training data the ablation's recording must hold (>= 1)."""
    return float(max([1.0, *factors.get("data", [])]))


def variant_settings(
    variant: tuple[str | None, Any],
    *,
    history: int,
    model_params: Mapping[str, Any],
    train_params: Mapping[str, Any],
    multiple: float = 1.0,
) -> dict[str, Any]:
    """``{"history", "model", "train"}`` of one variant, trained on a recording holding
    ``multiple`` times the default training data.

    ``train_params`` are the baseline's (the default CNN's, with the ablation's overrides). The
    validation block is shrunk to the default's length (``val_fraction / multiple``) and the
    training part to the variant's amount of data: ``data`` x the default's, which is
    ``(1 - val_fraction)`` of a default recording.
    """
    factor, value = variant
    if factor is not None and factor not in FACTORS:
        raise ValueError(f"unknown ablation factor {factor!r}; allowed: {list(FACTORS)}")
    data = float(value) if factor == "data" else 1.0
    if not 0 < data <= multiple:
        raise ValueError(
            f"ablation data multiple {data} must be in (0, {multiple}] (the recording holds "
            f"{multiple} times the default training data)"
        )
    model = dict(model_params)
    train = dict(train_params)
    if factor in MODEL_FACTORS:
        model[factor] = value
    elif factor in TRAIN_FACTORS:
        train[factor] = value
    val = float(train_params["val_fraction"])
    train["val_fraction"] = val / multiple
    train["train_fraction"] = data * (1 - val) / (multiple - val)
    return {
        "history": int(value) if factor == "history" else int(history),
        "model": model,
        "train": train,
    }


def collect(
    evaluations: Mapping[str, xr.Dataset],
    curves: Mapping[str, xr.Dataset],
    ceiling: xr.Dataset,
    labels: Mapping[str, tuple[str | None, Any]],
) -> xr.Dataset:
    """One Dataset ``(variant, cell)`` from each variant's evaluation and training curves.

    ``fraction_of_ceiling`` is the test r over the cell's ceiling
    (:func:`insilico.retina.evaluate.reference_ceiling`: the exact one where the truth is known).
    Per variant also the validation r at the best epoch (``val_correlation``, mean over cells on
    the validation block: what the variants are ranked on, so no choice sees the test movie),
    the validation loss at that epoch (``val_loss``, the training loss on the validation block:
    unlike r it sees the output's gain and offset, so choices of the output side are made on it),
    the training time (sum of the epochs' seconds), the epochs run and the best epoch.
    """
    from insilico.retina.evaluate import reference_ceiling

    names = list(labels)
    cells = list(ceiling["cell"].values)
    reference, _ = reference_ceiling(ceiling)
    correlation = np.stack([evaluations[v]["correlation"].values for v in names])
    fev = np.stack([evaluations[v]["fev"].values for v in names])
    factor = [labels[v][0] or "" for v in names]
    value = [value_label(labels[v][1]) if labels[v][0] else "" for v in names]
    per_variant = {
        "val_correlation": [float(curves[v]["val_corr"].max()) for v in names],
        "val_loss": [_at_best_epoch(curves[v], "val_loss") for v in names],
        "train_seconds": [float(curves[v]["seconds"].sum()) for v in names],
        "epochs_run": [int(curves[v].sizes["epoch"]) for v in names],
        "best_epoch": [int(curves[v].attrs["best_epoch"]) for v in names],
    }
    return xr.Dataset(
        {
            "correlation": (("variant", "cell"), correlation),
            "fev": (("variant", "cell"), fev),
            "fraction_of_ceiling": (
                ("variant", "cell"),
                correlation / ceiling[reference].values[None],
            ),
            "ceiling": ("cell", ceiling[reference].values),
            **{name: ("variant", values) for name, values in per_variant.items()},
        },
        coords={
            "variant": names,
            "cell": cells,
            "factor": ("variant", factor),
            "value": ("variant", value),
        },
        attrs={
            "ceiling": reference,
            "description": "one factor of the default CNN changed at a time; test r with the "
            "trial-averaged held-out rate, and that r over the cell's "
            + ("exact" if reference.startswith("true_") else "split-half")
            + " ceiling; variants ranked on the validation block",
        },
    )


def _at_best_epoch(curves: xr.Dataset, name: str) -> float:
    """A curve's value at the epoch whose weights the run kept."""
    return float(curves[name].sel(epoch=int(curves.attrs["best_epoch"])))


def _loss_ranks(data: xr.Dataset) -> dict[str, float]:
    """Each variant's rank by validation loss (1: lowest) among the variants trained with the
    baseline's loss; NaN for a ``loss`` variant, whose validation loss is in other units."""
    comparable = [str(v) for v in data["variant"].values[data["factor"].values != "loss"]]
    order = np.argsort(data["val_loss"].sel(variant=comparable).values, kind="stable")
    ranks = {variant: np.nan for variant in map(str, data["variant"].values)}
    ranks.update({comparable[i]: float(rank) for rank, i in enumerate(order, start=1)})
    return ranks


def _mean_sem(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size < 2:
        return (float(finite.mean()) if finite.size else np.nan), np.nan
    return float(finite.mean()), float(finite.std(ddof=1) / np.sqrt(finite.size))


def table(results: Mapping[tuple[str, str], xr.Dataset]) -> pd.DataFrame:
    """One row per (experiment, stimulus, variant): means over cells with their s.e.m.

    ``delta_fraction`` is the variant's mean fraction of the ceiling minus the baseline's, with
    the s.e.m. of the paired per-cell difference, so a factor's effect is read in one column.
    ``rank`` orders the variants by ``delta_val`` (validation r minus the baseline's): the
    ablation's ranking is decided on the validation block, the test numbers only report it.
    ``rank_val_loss`` orders them by validation loss, the ranking that decides the output side
    (``output_lr_factor``: r is blind to an output gain, the Poisson loss is not).
    """
    rows = []
    for (experiment, stimulus), data in results.items():
        base = data["fraction_of_ceiling"].sel(variant=BASELINE).values
        delta_val = data["val_correlation"] - data["val_correlation"].sel(variant=BASELINE)
        rank = delta_val.copy(data=np.empty(delta_val.size, int))
        rank.values[np.argsort(-delta_val.values, kind="stable")] = np.arange(1, rank.size + 1)
        loss_ranks = _loss_ranks(data)
        for variant in data["variant"].values:
            d = data.sel(variant=variant)
            r, r_sem = _mean_sem(d["correlation"].values)
            frac, frac_sem = _mean_sem(d["fraction_of_ceiling"].values)
            delta, delta_sem = _mean_sem(d["fraction_of_ceiling"].values - base)
            rows.append(
                {
                    "experiment": experiment,
                    "stimulus": stimulus,
                    "variant": str(variant),
                    "factor": str(d["factor"].values),
                    "value": str(d["value"].values),
                    "n_cells": data.sizes["cell"],
                    "correlation": r,
                    "correlation_sem": r_sem,
                    "fraction_of_ceiling": frac,
                    "fraction_of_ceiling_sem": frac_sem,
                    "delta_fraction": delta,
                    "delta_fraction_sem": delta_sem,
                    "val_correlation": float(d["val_correlation"]),
                    "delta_val": float(delta_val.sel(variant=variant)),
                    "rank": int(rank.sel(variant=variant)),
                    "val_loss": float(d["val_loss"]),
                    "rank_val_loss": loss_ranks[str(variant)],
                    "fev": float(np.nanmean(d["fev"].values)),
                    "fev_limit": float((data["ceiling"] ** 2).mean()),
                    "ceiling": float(data["ceiling"].mean()),
                    "train_seconds": float(d["train_seconds"]),
                    "epochs_run": int(d["epochs_run"]),
                    "best_epoch": int(d["best_epoch"]),
                }
            )
    return pd.DataFrame(rows)
