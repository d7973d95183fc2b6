"""The branch's claims (Yerxa et al. 2023; Ligeralde et al. 2023; Kuoch et al. 2024), each decided
over training seeds by :func:`insilico.core.claims.decide`, and the wave design checks (numpy,
pandas and scipy only)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from insilico.core.claims import decide


def _at(measures: xr.Dataset, variable: str, run: str, **where) -> np.ndarray:
    return measures[variable].sel(run=run, **where).values


def _geometry(measures, run, layer, manifold, measure):
    return measures["geometry"].sel(run=run, layer=layer, manifold=manifold, measure=measure).values


def objective_claims(measures: xr.Dataset, settings: dict) -> dict[str, tuple[str, dict]]:
    """Claim -> (model, decided row) for the objectives (MMCR against SimCLR and supervised)."""
    layer, margin = settings["claims_layer"], settings["comparable_margin"]
    eps = settings["pgd"]["claim_epsilon"]
    acc = {run: _at(measures, "probe_accuracy", run, layer=layer) for run in measures.run.values}
    pgd = {run: _at(measures, "pgd_accuracy", run, epsilon=eps) for run in measures.run.values}
    cap = {r: _geometry(measures, r, layer, "category", "capacity") for r in measures.run.values}
    rad = {r: _geometry(measures, r, layer, "category", "radius") for r in measures.run.values}
    it = {
        run: measures["predictivity"].sel(run=run, region="IT").max("layer").values
        for run in measures.run.values
    }
    return {
        f"MMCR probe accuracy comparable to SimCLR (MMCR - SimCLR > -{margin})": (
            "mmcr",
            decide(acc["mmcr"] - acc["simclr"], "greater", threshold=-margin),
        ),
        "MMCR probe accuracy above random initialisation (difference)": (
            "mmcr",
            decide(acc["mmcr"] - acc["untrained"], "greater"),
        ),
        f"MMCR more robust than SimCLR (PGD accuracy difference at eps {eps})": (
            "mmcr",
            decide(pgd["mmcr"] - pgd["simclr"], "greater"),
        ),
        f"MMCR more robust than supervised (PGD accuracy difference at eps {eps})": (
            "mmcr",
            decide(pgd["mmcr"] - pgd["supervised"], "greater"),
        ),
        "MMCR category-manifold capacity above random initialisation (difference)": (
            "mmcr",
            decide(cap["mmcr"] - cap["untrained"], "greater"),
        ),
        "MMCR compresses category manifolds: radius below random initialisation": (
            "mmcr",
            decide(rad["mmcr"] - rad["untrained"], "less"),
        ),
        "MMCR IT predictivity (best layer) above random initialisation (difference)": (
            "mmcr",
            decide(it["mmcr"] - it["untrained"], "greater"),
        ),
        "category capacity tracks decodability across objectives (Spearman rho per seed)": (
            "all",
            decide(_capacity_decodability(measures, layer), "greater"),
        ),
    }


def _capacity_decodability(measures: xr.Dataset, layer: str) -> np.ndarray:
    capacity = measures["geometry"].sel(layer=layer, manifold="category", measure="capacity")
    accuracy = measures["probe_accuracy"].sel(layer=layer)
    return np.asarray(
        [
            stats.spearmanr(capacity.sel(seed=s).values, accuracy.sel(seed=s).values)[0]
            for s in measures.seed.values
        ]
    )


def wave_claims(measures: xr.Dataset, settings: dict) -> dict[str, tuple[str, dict]]:
    """Wave pre-training against random initialisation and temporally shuffled waves."""
    layer = settings["claims_layer"]
    inv = {r: _at(measures, "invariance", r, layer=layer) for r in measures.run.values}
    cap = {r: _geometry(measures, r, layer, "translation", "capacity") for r in measures.run.values}
    acc = {r: _at(measures, "probe_accuracy", r, layer=layer) for r in measures.run.values}
    rows = {}
    for control, label in (
        ("untrained", "random initialisation"),
        ("shuffled_waves", "shuffled waves"),
    ):
        rows[f"waves raise translation invariance over {label} (difference)"] = (
            "waves",
            decide(inv["waves"] - inv[control], "greater"),
        )
        rows[f"waves raise translation-manifold capacity over {label} (difference)"] = (
            "waves",
            decide(cap["waves"] - cap[control], "greater"),
        )
    rows["waves help classification over random initialisation (probe accuracy difference)"] = (
        "waves",
        decide(acc["waves"] - acc["untrained"], "greater"),
    )
    return rows


def design_checks(measures: xr.Dataset, waves: xr.Dataset, settings: dict) -> dict:
    """The PGD attack reaches chance at its largest budget; wave statistics within a decade of the
    measured values (|log10(simulated / measured)| < 1 per movie seed)."""
    chance = float(measures.attrs["chance"])
    largest = measures["pgd_accuracy"].isel(epsilon=-1).mean("run").values
    rows = {
        f"design check: PGD at eps {float(measures.epsilon[-1])} drives accuracy to chance or below": (
            "all",
            decide(largest, "less", threshold=chance + 1e-9),
        ),
    }
    for name, (variable, reference, unit) in {
        "speed": ("speed_um_s", settings["waves"]["measured"]["speed_um_s"], "um/s"),
        "inter-wave interval": ("interval_s", settings["waves"]["measured"]["interval_s"], "s"),
        "size": ("size_mm2", settings["waves"]["measured"]["size_mm2"], "mm2"),
    }.items():
        ratio = np.abs(np.log10(waves[variable].values / reference))
        rows[f"design check: wave {name} within a decade of {reference} {unit} (|log10 ratio|)"] = (
            "waves",
            decide(ratio, "less", threshold=1.0),
        )
    return rows


def claims(measures: xr.Dataset, waves: xr.Dataset, settings: dict) -> pd.DataFrame:
    """One row per claim: claim, model, value, interval, n, direction, threshold, verdict, holds."""
    rows = {
        **objective_claims(measures, settings),
        **wave_claims(measures, settings),
        **design_checks(measures, waves, settings),
    }
    return pd.DataFrame(
        [{"claim": claim, "model": model, **row} for claim, (model, row) in rows.items()]
    )


def measures_table(measures: xr.Dataset) -> pd.DataFrame:
    """Mean and 95 % interval over seeds of every per-layer measure, per run and layer."""
    from insilico.core.claims import t_interval

    rows = []
    for run in measures.run.values:
        for layer in measures.layer.values:
            values = {
                "probe_accuracy": _at(measures, "probe_accuracy", run, layer=layer),
                "invariance": _at(measures, "invariance", run, layer=layer),
                **{
                    f"{region}_predictivity": measures["predictivity"]
                    .sel(run=run, layer=layer, region=region)
                    .values
                    for region in measures.region.values
                },
                **{
                    f"{manifold}_{measure}": _geometry(measures, run, layer, manifold, measure)
                    for manifold in measures.manifold.values
                    for measure in measures.measure.values
                },
            }
            for name, value in values.items():
                mean, low, high, n = t_interval(value)
                rows.append(
                    {
                        "run": run,
                        "layer": layer,
                        "measure": name,
                        "value": mean,
                        "ci_low": low,
                        "ci_high": high,
                        "n": n,
                    }
                )
    return pd.DataFrame(rows)
