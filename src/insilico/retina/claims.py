"""The retina branch's claims and targets, each decided by an interval (results/retina/claims.csv).

McIntosh et al. 2016 claim that the CNN predicts ganglion-cell responses better than the LN model
and the GLM: per recording, the per-cell difference of r (each cell's r averaged over the training
seeds first), CNN minus the other model, paired across cells. The targets ask how close the CNN
comes to a perfect model: the per-cell ratio r / ceiling against ``fraction_of_ceiling`` and
FEV / ceiling^2 (the FEV limit) against ``fev_fraction_of_limit``, with the ceiling of
:func:`insilico.retina.evaluate.reference_ceiling` (the exact one on simulated data). Every row is
:func:`insilico.core.claims.decide`'s t interval over cells; a target reads ``reached`` /
``not reached`` / ``not resolved`` instead of the claim's ``reproduced`` / ... wording. With both
stimulus classes, the generalisation claim: models trained on natural scenes lose less on white
noise than the reverse, per cell (:func:`insilico.retina.evaluate.transfer_loss`, seed-averaged):
the loss of white noise -> natural scenes minus that of natural scenes -> white noise, for every
model (the paper claims it for the CNN).

numpy/xarray only (no torch).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import xarray as xr

from insilico.core.claims import decide
from insilico.retina.evaluate import reference_ceiling

COLUMNS = ["claim", "model", "value", "ci_low", "ci_high", "n", "verdict", "holds"]
TARGET_WORDS = {"reproduced": "reached", "not reproduced": "not reached"}


def _row(claim: str, model: str, values, direction, threshold=0.0, **context) -> dict:
    decided = decide(values, direction, threshold)
    return {"claim": claim, "model": model, **decided, **context}


def recording_claims(
    performance: xr.Dataset,
    targets: Mapping[str, Mapping[str, float]],
    stimulus: str,
    *,
    model: str = "cnn",
    baselines: tuple[str, ...] = ("ln", "glm"),
) -> list[dict]:
    """The rows of one recording: ``model`` against each baseline it was fitted with, and its
    targets for ``stimulus`` (``targets[<name>][<stimulus>]``; missing ones are skipped)."""
    if model not in performance["model"].values:
        return []
    per_cell = performance["correlation"].mean("seed")
    context = {
        "replicates": "cells",
        "n_seeds": int(performance.sizes["seed"]),
        "test_set": performance.attrs.get("test_set", "test"),
    }
    rows = [
        _row(
            f"{model} beats {other}",
            model,
            (per_cell.sel(model=model) - per_cell.sel(model=other)).values,
            "greater",
            compared_with=other,
            kind="claim",
            **context,
        )
        for other in baselines
        if other in performance["model"].values
    ]
    used, ceiling = reference_ceiling(performance)
    ratios = {
        "fraction_of_ceiling": per_cell.sel(model=model) / ceiling,
        "fev_fraction_of_limit": performance["fev"].mean("seed").sel(model=model) / ceiling**2,
    }
    for name, values in ratios.items():
        if stimulus not in targets.get(name, {}):
            continue
        row = _row(
            f"{model} {name.replace('_', ' ')} >= target",
            model,
            values.values,
            "greater",
            float(targets[name][stimulus]),
            compared_with=used,
            kind="target",
            **context,
        )
        row["verdict"] = TARGET_WORDS.get(row["verdict"], row["verdict"])
        rows.append(row)
    return rows


def generalization_claims(generalization: xr.Dataset) -> list[dict]:
    """Per model: transfer loss white noise -> natural scenes minus natural scenes -> white noise,
    per cell (positive: natural scenes generalise better, the paper's claim)."""
    classes = {"whitenoise", "naturalscene"}
    if not classes <= set(generalization["test_stimulus"].values) or not classes <= set(
        generalization["train_stimulus"].values
    ):
        return []
    loss = generalization["transfer_loss"].mean("seed")
    to_natural = loss.sel(train_stimulus="whitenoise", test_stimulus="naturalscene")
    to_noise = loss.sel(train_stimulus="naturalscene", test_stimulus="whitenoise")
    return [
        _row(
            "natural scenes generalise to white noise better than the reverse",
            str(model),
            (to_natural - to_noise).sel(model=model).values,
            "greater",
            stimulus="both",
            compared_with="transfer loss",
            kind="claim",
            replicates="cells",
            n_seeds=int(generalization.sizes["seed"]),
        )
        for model in generalization["model"].values
    ]


def claims_table(
    performances: Mapping[tuple[str, str], xr.Dataset],
    targets: Mapping[str, Mapping[str, float]],
    generalizations: Mapping[str, xr.Dataset] | None = None,
) -> pd.DataFrame:
    """One row per claim and recording (and per experiment's generalisation, ``generalizations``
    keyed by experiment), the decided columns first (:data:`COLUMNS`)."""
    rows = [
        {"experiment": experiment, "stimulus": stimulus, **row}
        for (experiment, stimulus), performance in performances.items()
        for row in recording_claims(performance, targets, stimulus)
    ]
    rows += [
        {"experiment": experiment, **row}
        for experiment, generalization in (generalizations or {}).items()
        for row in generalization_claims(generalization)
    ]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    rest = [c for c in frame.columns if c not in COLUMNS]
    return frame[COLUMNS + rest]
