"""Figures of the factorisation branch; each takes an experiment's Dataset and returns the figure.

Theory is drawn as lines and simulation as markers on the same axes, so a reader sees at once
whether state evolution predicts AMP.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

THRESHOLD_STYLE = {
    "spinodal": ("0.6", ":"),
    "information": ("k", "--"),
    "algorithmic": ("tab:red", "-."),
}


def _thresholds(ax, attrs):
    """Vertical lines at the finite thresholds in ``attrs`` (threshold_<name>)."""
    for name, (colour, style) in THRESHOLD_STYLE.items():
        value = attrs.get(f"threshold_{name}", np.nan)
        if np.isfinite(value):
            ax.axvline(value, color=colour, ls=style, lw=1, label=f"{name} threshold")


def overlap_figure(ds):
    """Overlap (mean over modes) against snr: SE curves and AMP points per N and start."""
    fig, ax = plt.subplots(figsize=(6, 4))
    snr = ds["snr_theory"].values
    ax.plot(snr, ds["theory_uninformed"].mean("mode"), "C0-", lw=2, label="SE, uninformative start")
    ax.plot(snr, ds["theory_informed"].mean("mode"), "C1--", lw=2, label="SE, informed start")
    ax.plot(
        snr, ds["theory_bayes"].mean("mode"), "k:", lw=1.5, label="Bayes-optimal (max free energy)"
    )
    markers = "osD^v"
    for i, n in enumerate(ds["n"].values.tolist()):
        for start, fill in (("uninformative", None), ("informed", "none")):
            m = ds["amp_overlap"].sel(n=n, start=start).mean("mode")
            ax.errorbar(
                ds["snr"].values,
                m.mean("trial"),
                yerr=m.std("trial") / np.sqrt(m.sizes["trial"]),
                fmt=markers[i % len(markers)],
                color="C0" if start == "uninformative" else "C1",
                mfc=fill,
                ms=5,
                ls="none",
                label=f"AMP N={n}, {start}",
            )
    _thresholds(ax, ds.attrs)
    ax.set_xscale("log")
    ax.set_xlabel("SNR")
    ax.set_ylabel("overlap m")
    shape = ", ".join(f"{a:g}" for a in ds["alpha"].values)
    ax.set_title(f"order {ds.attrs['order']}, {ds.attrs['prior']} prior, shape ({shape})")
    ax.legend(fontsize=6, loc="upper left")
    fig.tight_layout()
    return fig


def phase_figure(datasets):
    """One panel per phase-diagram Dataset: phases over (snr, shape) with the threshold lines."""
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 4), squeeze=False)
    cmap = matplotlib.colors.ListedColormap(["#dddddd", "#f4a582", "#92c5de"])
    for ax, ds in zip(axes[0], datasets, strict=True):
        ax.pcolormesh(
            ds["snr"].values, ds["shape"].values, ds["phase"].values, cmap=cmap, vmin=0, vmax=2
        )
        for name, (colour, style) in THRESHOLD_STYLE.items():
            ax.plot(
                ds[f"threshold_{name}"].values,
                ds["shape"].values,
                color=colour,
                ls=style,
                label=f"{name} threshold",
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("SNR")
        ax.set_ylabel("shape alpha_0 (other modes 1)")
        ax.set_title(
            f"order {ds.attrs['order']}, {ds.attrs['prior']} (grey impossible, "
            "orange hard, blue easy)",
            fontsize=8,
        )
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def amp_als_figure(ds):
    """MSE of the signal tensor against snr for AMP and ALS, with the theory and the gap."""
    fig, (ax, gap) = plt.subplots(1, 2, figsize=(9, 3.8))
    snr = ds["snr"].values
    for method, colour in (("amp", "C0"), ("als", "C3")):
        mse = ds["mse"].sel(algorithm=method)
        ax.errorbar(
            snr,
            mse.mean("trial"),
            yerr=mse.std("trial") / np.sqrt(mse.sizes["trial"]),
            fmt="o",
            color=colour,
            label=method.upper(),
        )
    ax.plot(ds["snr_theory"], ds["theory_mse"], "k-", lw=1, label="SE theory (Bayes AMP)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("SNR")
    ax.set_ylabel("relative MSE of the signal tensor")
    ax.set_title(
        f"order {ds.attrs['order']}, {ds.attrs['prior']}, N={ds.attrs['n']}, "
        f"{ds.attrs['n_init']} starts each",
        fontsize=9,
    )
    ax.legend(fontsize=7)
    gap.plot(snr, ds["mse_gap"], "ko-")
    gap.axhline(0, color="0.5", lw=0.8)
    gap.set_xscale("log")
    gap.set_xlabel("SNR")
    gap.set_ylabel("MSE(ALS) - MSE(AMP)")
    fig.tight_layout()
    return fig


def cnmf_figure(ds):
    """Loss against wall-clock time per method, with MU's final loss and each time to reach it."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, method in enumerate(map(str, ds["algorithm"].values)):
        sel = ds.sel(algorithm=method)
        ok = np.isfinite(sel["loss"].values)
        ax.plot(sel["time"].values[ok], sel["loss"].values[ok], f"C{i}-", label=str(method).upper())
        reach = float(sel["time_to_mu_final"])
        if np.isfinite(reach):
            ax.plot(reach, ds.attrs["mu_final_loss"], f"C{i}o")
    ax.axhline(ds.attrs["mu_final_loss"], color="0.5", ls="--", lw=0.8, label="MU final loss")
    ax.axhline(ds.attrs["truth_loss"], color="k", ls=":", lw=0.8, label="planted model's loss")
    ax.set_xscale("symlog", linthresh=0.1)
    ax.set_yscale("log")
    ax.set_xlabel("wall-clock time (s)")
    ax.set_ylabel("||X - X_hat|| / ||X||")
    ax.set_title(
        f"CNMF, N={ds.attrs['n']}, K={ds.attrs['k']}, L={ds.attrs['l']}, T={ds.attrs['t']}",
        fontsize=9,
    )
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
