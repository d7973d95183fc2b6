"""Figures of the learning-dynamics branch: theory as lines, simulation as markers (mean over
seeds, error bars the standard error) on the same axes; each function returns one figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from insilico.learning_dynamics import claims as cl  # noqa: E402
from insilico.learning_dynamics import theory as th  # noqa: E402


def _sim(ax, x, values, axis, color, label=None, every=1):
    """Mean and standard error over ``axis`` as markers, every ``every``-th point."""
    values = np.asarray(values)
    mean = values.mean(axis)
    err = values.std(axis) / np.sqrt(values.shape[axis])
    ax.errorbar(
        x[::every],
        mean[::every],
        yerr=err[::every],
        fmt="o",
        ms=3,
        color=color,
        ls="none",
        label=label,
    )


def mode_trajectories(dec, hier):
    """Decoupled starts at each depth (normalised strengths) and the 8-item tree from a random
    start."""
    fig, axes = plt.subplots(1, len(dec.depth) + 1, figsize=(4 * (len(dec.depth) + 1), 3.4))
    for ax, depth in zip(axes[:-1], dec.depth.values, strict=True):
        sel = dec.sel(depth=depth)
        t = sel.frac.values * float(sel.horizon)
        for k in range(dec.sizes["mode"]):  # seed 0: each seed has its own singular values
            norm = float(dec.singular_value.isel(seed=0, mode=k))
            ax.plot(t, sel.theory.isel(seed=0, mode=k) / norm, color=f"C{k}")
            ax.plot(
                t[::4],
                sel.simulation.isel(seed=0, mode=k)[::4] / norm,
                "o",
                ms=3,
                color=f"C{k}",
                label=f"s = {norm:.2f}",
            )
        ax.set_title(f"{depth - 1} hidden layer(s), decoupled start")
        ax.legend(fontsize=7)
        ax.set_xlabel("time t (steps x lr)")
    axes[0].set_ylabel("strength / s")
    ax = axes[-1]
    _groups_against_theory(ax, hier, hier.strength, "")
    ax.set_title("8-item tree, small random start")
    ax.set_xlabel("time t")
    ax.set_ylabel("mode strength")
    ax.legend(fontsize=7)
    return fig


def hierarchy(hier):
    """The domain and its spectrum, hidden similarity at three times (simulation above, theory
    below), the illusory correlation and the half-times of the levels."""
    fig, axes = plt.subplots(2, 5, figsize=(18, 7))
    axes[0, 0].imshow(hier.features.isel(seed=0), cmap="Greys", aspect="auto")
    axes[0, 0].set(title="features x items (Y)", xlabel="item", ylabel="feature")
    axes[1, 0].bar(range(hier.sizes["group"]), hier.value.isel(seed=0), color="0.5")
    axes[1, 0].set(title="singular values (one per level)", xlabel="group (root .. items)")
    final = float(hier.theory_similarity.isel(time=-1).mean("seed").max())
    grid = hier.time.values
    picks = [int(np.argmin(abs(grid - x))) for x in np.quantile(grid[grid > 0], [0.15, 0.3, 0.9])]
    for col, t in enumerate(picks, start=1):
        for r, name in enumerate(("similarity", "theory_similarity")):
            axes[r, col].imshow(
                hier[name].isel(seed=0, time=t), vmin=-final, vmax=final, cmap="RdBu_r"
            )
            axes[r, col].set_title(f"{'simulation' if r == 0 else 'theory'}, t = {grid[t]:.1f}")
    f, i = hier.attrs["illusory_feature"], hier.attrs["illusory_item"]
    scale = np.sqrt(hier.sizes["item"])
    ax = axes[0, 4]
    ax.plot(
        grid, hier.theory_map.isel(feature=f, item=i).mean("seed") * scale, "k-", label="theory"
    )
    _sim(ax, grid, hier["map"].isel(feature=f, item=i).values * scale, 0, "C3", "simulation", 5)
    ax.axhline(0, color="0.6", lw=0.5)
    ax.set(title=f"illusory: feature {f} on item {i}", xlabel="time t", ylabel="output")
    ax.legend(fontsize=7)
    values = hier.value.values
    sim_half = cl.half_times(hier.strength.values, grid, values)
    th_half = cl.half_times(hier.theory.values, grid, values)
    ax = axes[1, 4]
    ax.plot(range(len(values[0])), th_half.mean(0), "k-", label="theory")
    _sim(ax, np.arange(len(values[0])), sim_half, 0, "C0", "simulation")
    ax.set(title="progressive differentiation", xlabel="group (root .. items)", ylabel="half-time")
    ax.legend(fontsize=7)
    return fig


def _groups_against_theory(ax, hier, strength, prefix: str) -> None:
    """Each degenerate group's theory curve (mean over seeds) and its simulated strengths."""
    for g in range(hier.sizes["group"]):
        ax.plot(hier.time, hier.theory.isel(group=g).mean("seed"), color=f"C{g}")
        _sim(
            ax,
            hier.time.values,
            strength.isel(group=g).values,
            0,
            f"C{g}",
            f"{prefix}s = {float(hier.value.isel(seed=0, group=g)):.2f}",
            every=5,
        )


def relu(hier):
    """ReLU network on the same tree and from the same weights against the linear theory."""
    fig, ax = plt.subplots(figsize=(6, 4))
    _groups_against_theory(ax, hier, hier.relu_strength, "ReLU, ")
    ax.set(
        xlabel="time t",
        ylabel="mode strength u^T W v",
        title="ReLU network (markers) vs linear theory (lines)",
    )
    ax.legend(fontsize=7)
    return fig


def random_tree(tree):
    """Top modes of the random tree against s(t), and typicality against the category readout."""
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
    for g in range(tree.sizes["group"]):
        norm = tree.value.isel(group=g)
        ax.plot(tree.time, (tree.theory.isel(group=g) / norm).mean("seed"), color=f"C{g}")
        _sim(ax, tree.time.values, (tree.strength.isel(group=g) / norm).values, 0, f"C{g}", every=5)
    ax.set(xlabel="time t", ylabel="strength / s", title="random tree: top modes")
    typical, readout = cl.typicality(tree, tree["map"])
    for b in range(len(typical)):
        bx.plot(typical[b], readout[b], "o", ms=3, color=f"C{b}", label=f"seed {b}")
    bx.set(
        xlabel="typicality (features on category prototype)",
        ylabel="network's category readout at half-learning",
        title="typicality",
    )
    bx.legend(fontsize=7)
    return fig


def teacher_curves(curves):
    """Test (top) and training (bottom) error over time, theory lines, simulation markers."""
    conds = [
        (r, s, e)
        for r in curves["rank"].values
        for s in curves.snr.values
        for e in curves.examples.values
    ]
    fig, axes = plt.subplots(
        2, len(curves["rank"]), figsize=(5 * len(curves["rank"]), 7), squeeze=False
    )
    for col, rank in enumerate(curves["rank"].values):
        for k, (r, s, e) in enumerate(c for c in conds if c[0] == rank):
            sel = curves.sel(rank=r, snr=s, examples=e)
            for row, name in enumerate(("test", "train")):
                ax = axes[row, col]
                ax.plot(sel.time, sel[f"theory_{name}"], color=f"C{k}")
                _sim(
                    ax,
                    sel.time.values,
                    sel[name].values,
                    0,
                    f"C{k}",
                    f"snr {s:g}, P/N {e:g}",
                    every=3,
                )
                ax.set_yscale("log")
                ax.set(xlabel="time t", ylabel=f"{name} error / |W|^2", title=f"rank {rank}")
    axes[0, 0].legend(fontsize=7)
    return fig


def spectra(spec):
    """Top singular value against s / sigma, and the bulk against Marchenko-Pastur."""
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
    n, sigma = spec.attrs["n"], spec.attrs["sigma"]
    fine = np.linspace(0.05, float(spec.snr.max()) * 1.1, 200)
    ax.plot(
        fine,
        th.noisy_spectrum(fine * sigma, n, n, sigma**2 / n)[0],
        "k-",
        label="(sigma^2 + s^2)/s above threshold, 2 sigma below",
    )
    ax.plot(fine, fine * sigma, "k:", lw=0.8, label="teacher s")
    _sim(ax, spec.snr.values, spec.top.values, 1, "C3", f"top singular value, n = {n}")
    ax.axvline(1, color="0.6", ls="--", lw=0.8)
    ax.set(xlabel="s / sigma", ylabel="singular value", title="noisy teacher's top mode")
    ax.legend(fontsize=7)
    bx.hist(spec.bulk, bins=30, density=True, color="0.7", label="pure noise spectrum")
    x = np.linspace(1e-3, float(spec.bulk.max()) * 1.05, 300)
    bx.plot(x, th.marchenko_pastur_density(x, n, n, sigma**2 / n), "k-", label="Marchenko-Pastur")
    bx.set(xlabel="singular value", ylabel="density", title="bulk")
    bx.legend(fontsize=7)
    return fig


def width(widths):
    """Early-stopped test error against width with the theory's width-free value."""
    fig, ax = plt.subplots(figsize=(5, 4))
    best = widths.test.min("time")
    _sim(ax, widths.width.values, best.values, 1, "C0", "simulation (best over time)")
    ax.axhline(float(widths.theory_test.min()), color="k", label="theory")
    ax.set_xscale("log", base=2)
    ax.set(
        xlabel="hidden units",
        ylabel="early-stopped test error / |W|^2",
        title="early stopping against width",
    )
    ax.legend(fontsize=7)
    return fig


def transfer(tr):
    """Transfer benefit (best error alone - with source) against alignment."""
    fig, ax = plt.subplots(figsize=(5, 4))
    benefit = tr.alone.min("time") - tr.joint.min("time")
    theory = tr.theory_alone.min("time") - tr.theory_joint.min("time")
    ax.plot(tr.alignment, theory, "k-o", mfc="none", label="theory")
    _sim(ax, tr.alignment.values, benefit.values, 1, "C1", "simulation")
    ax.axhline(0, color="0.6", lw=0.5)
    ax.set(
        xlabel="alignment of the teachers' input vectors",
        ylabel="transfer benefit",
        title="transfer from a source task",
    )
    ax.legend(fontsize=7)
    return fig
