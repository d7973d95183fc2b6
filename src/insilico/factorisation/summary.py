"""One table of the branch's measured numbers next to the theory's (the summary CSV)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def crossing(snr, m, level):
    """First snr at which m rises through ``level`` (log-linear interpolation); nan if never."""
    snr, m = np.asarray(snr, float), np.asarray(m, float)
    above = np.flatnonzero(m >= level)
    if above.size == 0:
        return float("nan")
    i = above[0]
    if i == 0:
        return float(snr[0])
    frac = (level - m[i - 1]) / (m[i] - m[i - 1])
    return float(np.exp(np.log(snr[i - 1]) + frac * (np.log(snr[i]) - np.log(snr[i - 1]))))


def overlap_rows(ds, level):
    """Theory thresholds, and the snr where theory and AMP (largest N) cross ``level``."""
    order = ds.attrs["order"]
    n = int(ds["n"].values.max())
    rows = [
        (f"order{order}_threshold_{k}", ds.attrs[f"threshold_{k}"], "state evolution", "")
        for k in ("spinodal", "information", "algorithmic")
    ]
    for start, theory in (("uninformative", "theory_uninformed"), ("informed", "theory_informed")):
        amp = ds["amp_overlap"].sel(start=start, n=n).mean(("trial", "mode"))
        th = ds[theory].mean("mode").interp(snr_theory=ds["snr"].values)
        rows += [
            (
                f"order{order}_snr_at_m{level}_{start}",
                crossing(ds["snr"], amp, level),
                crossing(ds["snr_theory"], ds[theory].mean("mode"), level),
                f"AMP at N={n} vs state evolution",
            ),
            (
                f"order{order}_mean_abs_amp_minus_se_{start}",
                float(np.abs(amp.values - th.values).mean()),
                0.0,
                f"N={n}, mean over snr points",
            ),
        ]
    return rows


def amp_als_rows(ds):
    rows = []
    for snr, gap in zip(ds["snr"].values, ds["mse_gap"].values, strict=True):
        amp = float(ds["mse"].sel(algorithm="amp", snr=snr).mean())
        als = float(ds["mse"].sel(algorithm="als", snr=snr).mean())
        rows.append(
            (f"mse_als_minus_amp_snr{snr:.3g}", float(gap), "", f"AMP {amp:.3f}, ALS {als:.3f}")
        )
    return rows


def cnmf_rows(ds):
    rows = [("cnmf_truth_loss", ds.attrs["truth_loss"], "", "planted W, H on the noisy data")]
    for method in map(str, ds["algorithm"].values):
        sel = ds.sel(algorithm=method)
        rows += [
            (f"cnmf_{method}_final_loss", float(sel["final_loss"]), "", ""),
            (f"cnmf_{method}_seconds_to_mu_final_loss", float(sel["time_to_mu_final"]), "", ""),
            (
                f"cnmf_{method}_speedup_vs_mu",
                float(sel["speedup_vs_mu"]),
                "",
                "MU time / method time",
            ),
            (
                f"cnmf_{method}_motif_similarity",
                float(sel["motif_similarity"].mean()),
                1.0,
                "mean over matched motifs",
            ),
        ]
    return rows


def application_rows(name, ds, truth_rank=""):
    rows = [
        (f"{name}_selected_rank", ds.attrs["selected_rank"], truth_rank, "held-out entry error"),
    ]
    if ds.attrs["chance"] < 1:  # a single label (the control) has nothing to decode
        rows.append(
            (
                f"{name}_label_decoding",
                ds.attrs["decoding_accuracy"],
                ds.attrs["chance"],
                "chance in reference column",
            )
        )
    return rows


def table(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["quantity", "measured", "reference", "note"])
