"""The learning-rules claims table (numpy/pandas only), every row through
:func:`insilico.core.claims.decide`.

Inputs are per-seed numbers of the population (``rule x seed``: test accuracy, V4 and IT
best-layer predictivity) and of the Hessian analysis (``rule x seed``: outlier count, gradient
share). Paired designs: a rule and backprop at the same seed (same initial forward weights, same
batches) give one difference per seed.

A "match" with backprop is an equivalence claim: the interval of the difference must lie inside
``[-margin, +margin]``. Two one-sided decisions: both bounds inside -> ``reproduced``; the
interval entirely beyond one bound -> ``not reproduced``; anything else ``not resolved``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insilico.core.claims import decide

LOCAL_RULES = ("feedback_alignment", "sign_symmetry", "weight_mirror", "information_alignment")
ESTIMATION_RULES = ("kolen_pollack", "symmetric_alignment", "activation_alignment")


def equivalence(values, margin: float, confidence: float) -> dict:
    """The interval of ``values`` against ``[-margin, margin]`` (see the module docstring)."""
    above = decide(values, "greater", threshold=-margin, confidence=confidence)
    below = decide(values, "less", threshold=margin, confidence=confidence)
    if above["verdict"] == "reproduced" and below["verdict"] == "reproduced":
        verdict = "reproduced"
    elif "not reproduced" in (above["verdict"], below["verdict"]):
        verdict = "not reproduced"
    else:
        verdict = "not resolved"
    return {
        **above,
        "direction": "within",
        "threshold": margin,
        "verdict": verdict,
        "holds": verdict == "reproduced",
    }


def paired(table: pd.DataFrame, column: str, rule: str) -> np.ndarray:
    """``rule`` minus backprop per seed (seeds both have)."""
    wide = table.pivot(index="seed", columns="rule", values=column)
    return (wide[rule] - wide["backprop"]).dropna().to_numpy()


def population_claims(population: pd.DataFrame, margin: float, confidence: float) -> list[dict]:
    """Accuracy and predictivity of each rule against backprop (Kunin et al.'s two routes)."""
    rows = []
    rules = set(population["rule"])
    for rule in (r for r in LOCAL_RULES if r in rules):
        rows.append(
            {
                "claim": "a local rule's test accuracy is below backprop's (Kunin et al. 2020)",
                "model": rule,
                "quantity": "accuracy(rule) - accuracy(backprop), paired by seed",
                **decide(paired(population, "test_accuracy", rule), "less", 0.0, confidence),
            }
        )
    for rule in (r for r in ESTIMATION_RULES if r in rules):
        rows.append(
            {
                "claim": f"a weight-estimation rule matches backprop's accuracy (within +-{margin:g})",
                "model": rule,
                "quantity": "accuracy(rule) - accuracy(backprop), paired by seed",
                **equivalence(paired(population, "test_accuracy", rule), margin, confidence),
            }
        )
    for region in ("V4", "IT"):
        column = f"predictivity_{region}"
        if column not in population:
            continue
        for rule in sorted(rules - {"backprop"}):
            rows.append(
                {
                    "claim": f"{region} predictivity against backprop's (a measurement: the "
                    "papers make no claim; direction: less)",
                    "model": rule,
                    "quantity": f"best-layer {region} r(rule) - r(backprop), paired by seed",
                    **decide(paired(population, column, rule), "less", 0.0, confidence),
                }
            )
    return rows


def hessian_claims(hessian: pd.DataFrame, n_classes: int, confidence: float) -> list[dict]:
    """Fort & Ganguli's outliers at the trained weights of each analysed rule."""
    rows = []
    trained = hessian[hessian["state"] == "trained"]
    for rule, group in trained.groupby("rule", sort=False):
        rows.append(
            {
                "claim": f"the Hessian has about C = {n_classes} outliers (count within C +- 2)",
                "model": rule,
                "quantity": "outliers (largest gap of the top Ritz values) - C",
                **equivalence(group["outliers"].to_numpy() - n_classes, 2.0, confidence),
            }
        )
        rows.append(
            {
                "claim": "the gradient lies mostly in the top-C subspace (share above 0.5)",
                "model": rule,
                "quantity": "|P_C g|^2 / |g|^2 on the full-batch loss",
                **decide(group["gradient_share"].to_numpy(), "greater", 0.5, confidence),
            }
        )
    return rows
