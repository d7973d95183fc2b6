"""Figures of the dynamics branch: training, fixed points, geometry, topology, line attractor."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import xarray as xr  # noqa: E402

from insilico.core.io import save_figure  # noqa: E402

ARCH_COLORS = {"vanilla": "tab:blue", "gru": "tab:orange", "lstm": "tab:green", "ugrnn": "tab:red"}
TASK_COLORS = {"flipflop": "tab:purple", "sine": "tab:olive", "context": "tab:cyan"}
ARCH_MARKERS = {"vanilla": "o", "gru": "s", "lstm": "^", "ugrnn": "D"}
MEASURE_TITLES = {
    "svcca": "SVCCA distance (1 - mean CC)",
    "cka": "linear CKA distance (1 - CKA)",
    "procrustes": "angular Procrustes distance",
}


def _color(mapping: dict[str, str], key: str) -> str:
    return mapping.get(key, "0.4")


def training(histories: list[xr.Dataset], path) -> None:
    """Training loss curves per task (one line per network, coloured by architecture).

    Titles give the median validation NMSE (validation MSE over the variance of the targets) per
    architecture; 0 is perfect, 1 is no better than a constant output.
    """
    by_task: dict[str, list[xr.Dataset]] = {}
    for history in histories:
        by_task.setdefault(history.attrs["task"], []).append(history)
    fig, axes = plt.subplots(
        1, len(by_task), figsize=(4.6 * len(by_task), 3.8), layout="constrained", squeeze=False
    )
    for ax, (task, parts) in zip(axes[0], by_task.items(), strict=True):
        history = xr.concat(parts, dim="network")
        variance = parts[0].attrs["target_variance"]
        for name in history["network"].values:
            run = history.sel(network=name)
            arch = str(run["arch"].values)
            ax.plot(
                run["step"], run["train_loss"] / variance, color=_color(ARCH_COLORS, arch), lw=0.8
            )
        medians = [
            f"{arch} {float(np.median(history['val_nmse'].values[history['arch'].values == arch])):.3f}"
            for arch in dict.fromkeys(history["arch"].values)
        ]
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel("training loss / target variance")
        ax.set_title(
            f"{task} ({history.sizes['network']} networks)\nval NMSE: " + ", ".join(medians),
            fontsize="small",
        )
        for arch in dict.fromkeys(history["arch"].values):
            ax.plot([], [], color=_color(ARCH_COLORS, arch), label=arch)
        ax.legend(fontsize="small")
    save_figure(fig, path)


def _load_networks(model_paths) -> dict:
    """Network name -> (stack, index in the stack, task), from the training checkpoints."""
    from insilico.dynamics.tasks import make_task
    from insilico.dynamics.train import load_chunk

    lookup = {}
    for path in model_paths:
        stacks, meta = load_chunk(path)
        task = make_task(meta["task"], meta["task_params"])
        for stack in stacks:
            for index, spec in enumerate(stack.networks):
                lookup[spec.name] = (stack, index, task)
    return lookup


def _trajectories(stack, index: int, task, trials: int, seed: int) -> np.ndarray:
    """States ``(B, T, S)`` of one network on probe trials of its task (float64)."""
    from insilico.dynamics import cells
    from insilico.dynamics.tasks import generator

    probe = task.sample(trials, generator(seed))
    params = {k: v.double() for k, v in cells.unstack(stack.params, index).items()}
    with torch.no_grad():
        states = cells.run(stack.arch, params, probe.inputs.double().unsqueeze(0))[0]
    return states.numpy()


def _best_per_arch(points: xr.Dataset) -> list[str]:
    """Per architecture, the network with the lowest validation loss."""
    chosen = []
    for arch in dict.fromkeys(points["arch"].values):
        of_arch = points["val_loss"].where(points["arch"] == arch, drop=True)
        chosen.append(str(of_arch["network"].values[int(np.argmin(of_arch.values))]))
    return chosen


def _per_network(datasets: list[xr.Dataset]) -> xr.Dataset:
    """Network-level variables of all fixed-point files as one dataset."""
    return xr.concat(
        [ds[["val_loss", "val_nmse", "n_fixed", "n_stable_fixed", "n_slow"]] for ds in datasets],
        dim="network",
    )


def _points_of(datasets: list[xr.Dataset], name: str) -> xr.Dataset:
    """The points of network ``name`` (padding of the state dimension removed)."""
    for ds in datasets:
        names = [str(n) for n in ds["network"].values]
        if name in names:
            index = names.index(name)
            points = ds.isel(point=np.flatnonzero(ds["point_network"].values == index))
            width = (
                int(np.isfinite(points["xstar"].values).all(axis=0).sum())
                if points.sizes["point"]
                else 0
            )
            return points.isel(state=slice(0, width), mode=slice(0, width))
    raise KeyError(name)


def _pca(states: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, principal axes ``(n_components, S)`` and explained variance fractions."""
    mean = states.mean(axis=0)
    _, s, vt = np.linalg.svd(states - mean, full_matrices=False)
    return mean, vt[:n_components], (s**2 / (s**2).sum())[:n_components]


def fixed_points(model_paths, datasets: list[xr.Dataset], settings: dict, path) -> None:
    """Per task (rows), the fixed points of the best network of each architecture (columns).

    Each panel is the top-3 PC space of that network's states. Grey: trajectories on probe
    trials. Points: fixed points coloured by the number of unstable modes (black = stable), slow
    points (tol_q <= q < keep_q) as small grey plus signs.
    """
    lookup = _load_networks(model_paths)
    by_task: dict[str, list[xr.Dataset]] = {}
    for ds in datasets:
        by_task.setdefault(ds.attrs["task"], []).append(ds)
    n_columns = max(len(set(ds["arch"].values.tolist())) for ds in datasets)
    fig = plt.figure(figsize=(4.0 * n_columns, 4.2 * len(by_task)), layout="constrained")
    for row, (task, parts) in enumerate(by_task.items()):
        _fixed_point_row(fig, row, len(by_task), n_columns, task, parts, lookup, settings)
    fig.suptitle("Fixed points of the best network (lowest validation loss) of each architecture")
    save_figure(fig, path)


def _fixed_point_row(fig, row, n_rows, n_columns, task_name, datasets, lookup, settings) -> None:
    per_network = _per_network(datasets)
    chosen = _best_per_arch(per_network)
    unstable_colors = ["k", "tab:red", "tab:orange", "gold"]
    for column, name in enumerate(chosen):
        ax = fig.add_subplot(n_rows, n_columns, row * n_columns + column + 1, projection="3d")
        stack, index, task = lookup[name]
        states = _trajectories(stack, index, task, settings["probe_trials"], settings["seed"])
        mean, axes, explained = _pca(states.reshape(-1, states.shape[-1]), 3)
        for trial in states[: min(8, len(states))]:
            projected = (trial - mean) @ axes.T
            ax.plot(*projected.T, color="0.75", lw=0.6)
        points = _points_of(datasets, name)
        xstar = points["xstar"].values
        projected = (xstar - mean) @ axes.T if len(xstar) else np.zeros((0, 3))
        fixed = points["fixed"].values.astype(bool)
        n_unstable = points["n_unstable"].values
        for k in range(4):
            chosen_points = fixed & (np.minimum(n_unstable, 3) == k)
            if chosen_points.any():
                label = "stable" if k == 0 else f"{k}{'+' if k == 3 else ''} unstable"
                ax.scatter(
                    *projected[chosen_points].T,
                    s=28 if k == 0 else 18,
                    color=unstable_colors[k],
                    marker="o" if k == 0 else "x",
                    label=label,
                    depthshade=False,
                )
        if (~fixed).any():
            ax.scatter(*projected[~fixed].T, s=6, color="0.5", marker="+", label="slow point")
        counts = per_network.sel(network=name)
        arch = str(counts["arch"].values)
        ax.set_title(
            f"{task_name}, {arch}: {int(counts['n_stable_fixed'])} stable of "
            f"{int(counts['n_fixed'])} fixed, {int(counts['n_slow'])} slow\n"
            f"val NMSE {float(counts['val_nmse']):.3f}",
            fontsize="small",
        )
        ax.set_xlabel(f"PC1 ({explained[0]:.0%})", fontsize="small")
        ax.set_ylabel(f"PC2 ({explained[1]:.0%})", fontsize="small")
        ax.set_zlabel(
            f"PC3 ({explained[2]:.0%})" if len(explained) > 2 else "PC3", fontsize="small"
        )
        ax.tick_params(labelsize="x-small")
        if column == 0:
            ax.legend(fontsize="x-small", loc="upper left")


def geometry(datasets: list[xr.Dataset], path) -> None:
    """MDS of each distance (rows) for each task (columns), networks coloured by architecture."""
    measures = [m for m in MEASURE_TITLES if m in datasets[0]]
    fig, axes = plt.subplots(
        len(measures),
        len(datasets),
        figsize=(3.8 * len(datasets), 3.4 * len(measures)),
        layout="constrained",
        squeeze=False,
    )
    for column, ds in enumerate(datasets):
        archs = ds["arch"].values
        for row, measure in enumerate(measures):
            ax = axes[row, column]
            coords = ds[f"mds_{measure}"].values
            for arch in dict.fromkeys(archs):
                chosen = archs == arch
                ax.scatter(
                    coords[chosen, 0],
                    coords[chosen, 1],
                    color=_color(ARCH_COLORS, arch),
                    marker=ARCH_MARKERS.get(arch, "o"),
                    label=arch,
                    s=30,
                )
            score = ds.attrs[f"silhouette_arch_{measure}"]
            ax.set_title(
                f"{ds.attrs['task']}: {MEASURE_TITLES[measure]}\nsilhouette by architecture {score:.2f}",
                fontsize="small",
            )
            ax.set_xlabel("MDS 1", fontsize="small")
            ax.set_ylabel("MDS 2", fontsize="small")
            ax.tick_params(labelsize="x-small")
            if row == 0 and column == 0:
                ax.legend(fontsize="x-small")
    save_figure(fig, path)


def topology(ds: xr.Dataset, path) -> None:
    """MDS of the graph distance coloured by task and by architecture; node-type mix per task."""
    coords = ds["mds"].values
    tasks, archs = ds["task"].values, ds["arch"].values
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), layout="constrained")
    for ax, labels, colors, title in (
        (
            axes[0],
            tasks,
            TASK_COLORS,
            f"coloured by task (silhouette {ds.attrs['silhouette_task']:.2f})",
        ),
        (
            axes[1],
            archs,
            ARCH_COLORS,
            f"coloured by architecture (silhouette {ds.attrs['silhouette_arch']:.2f})",
        ),
    ):
        for task in dict.fromkeys(tasks):
            for arch in dict.fromkeys(archs):
                chosen = (tasks == task) & (archs == arch)
                if chosen.any():
                    key = task if labels is tasks else arch
                    ax.scatter(
                        coords[chosen, 0],
                        coords[chosen, 1],
                        color=_color(colors, key),
                        marker=ARCH_MARKERS.get(arch, "o"),
                        s=30,
                        alpha=0.8,
                    )
        for key in dict.fromkeys(labels):
            ax.scatter([], [], color=_color(colors, key), label=key)
        ax.legend(fontsize="x-small")
        ax.set_title(f"Fixed-point topology MDS, {title}", fontsize="small")
        ax.set_xlabel("MDS 1")
        ax.set_ylabel("MDS 2")
    ax = axes[2]
    node_types = [str(t) for t in ds["node_type"].values]
    unique_tasks = list(dict.fromkeys(tasks))
    bottom = np.zeros(len(unique_tasks))
    cmap = plt.get_cmap("tab20")
    for i, node_type in enumerate(node_types):
        share = np.array([ds["node_fraction"].values[tasks == t, i].mean() for t in unique_tasks])
        ax.bar(unique_tasks, share, bottom=bottom, color=cmap(i % 20), label=node_type)
        bottom += share
    ax.set_ylabel("mean fraction of graph nodes")
    ax.set_title(
        "Node types (u<k>: unstable modes, s<m>: slow modes, o: oscillatory)\n"
        f"silhouette of architectures within a task {ds.attrs['silhouette_arch_within_task']:.2f}",
        fontsize="small",
    )
    ax.legend(fontsize="xx-small", ncols=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    save_figure(fig, path)


def line_attractor(
    model_paths, datasets: list[xr.Dataset], settings: dict, topology_settings: dict, path
) -> None:
    """The approximate line attractors of the context task, best network of each architecture.

    Columns 1-2, one per context: the network's states on the probe trials of that context (grey)
    and its fixed and slow points found under that context's input, in the top-2 PC plane of those
    states; points coloured by the time constant of their slowest mode, with a segment along that
    mode's eigenvector. Column 3: the moduli of the 8 largest Jacobian eigenvalues of every point
    (one line per point); a line attractor has one mode near 1 and a gap below it. Column 4: the
    time constant ``tau_k = -1 / log|lambda_k|`` of the slowest (k = 1) and second (k = 2) mode
    against the point's position along the principal axis of its context's points.
    """
    from matplotlib.colors import LogNorm

    lookup = _load_networks(model_paths)
    per_network = _per_network(datasets)
    chosen = _best_per_arch(per_network)
    fig, axes = plt.subplots(
        len(chosen), 4, figsize=(17, 3.7 * len(chosen)), layout="constrained", squeeze=False
    )
    norm = LogNorm(vmin=1, vmax=1e3)
    context_colors = ["tab:blue", "tab:red"]
    for row, name in enumerate(chosen):
        stack, index, task = lookup[name]
        states = _trajectories(stack, index, task, settings["probe_trials"], settings["seed"])
        probe = task.sample(settings["probe_trials"], _generator(settings["seed"]))
        trial_context = probe.inputs[:, 0, 2:].argmax(-1).numpy()
        points = _points_of(datasets, name)
        xstar = points["xstar"].values
        eig = points["eig_real"].values + 1j * points["eig_imag"].values
        modulus = np.sort(np.abs(eig), axis=1)[:, ::-1]
        with np.errstate(divide="ignore"):  # tau is undefined (not shown) where |lambda| >= 1
            tau = np.where(modulus < 1, -1.0 / np.log(np.clip(modulus, 1e-300, None)), np.nan)
        condition = points["condition"].values
        lead = points["lead_vector"].values
        info = per_network.sel(network=name)
        arch = str(info["arch"].values)
        for c in range(2):
            ax = axes[row, c]
            of_context = states[trial_context == c]
            if not len(of_context):
                continue
            mean, pcs, explained = _pca(of_context.reshape(-1, states.shape[-1]), 2)
            for trial in of_context[:10]:
                ax.plot(*((trial - mean) @ pcs.T).T, color="0.8", lw=0.6)
            here = condition == c
            if here.any():
                projected = (xstar[here] - mean) @ pcs.T
                direction = lead[here] @ pcs.T * 0.15
                for (x, y), (dx, dy) in zip(projected, direction, strict=True):
                    ax.plot([x - dx, x + dx], [y - dy, y + dy], color="0.3", lw=0.7)
                scatter = ax.scatter(
                    *projected.T, c=tau[here, 0], cmap="viridis", norm=norm, s=16, zorder=3
                )
                fixed = points["fixed"].values[here]
                ax.scatter(
                    *projected[fixed].T,
                    s=60,
                    facecolors="none",
                    edgecolors="k",
                    zorder=4,
                    label="fixed point (q < tol_q)",
                )
            ax.set_xlabel(f"PC1 ({explained[0]:.0%})")
            ax.set_ylabel(f"PC2 ({explained[1]:.0%})")
            ax.set_title(
                f"{arch}, context {c + 1}: {int(here.sum())} fixed/slow points\n"
                f"(val NMSE {float(info['val_nmse']):.3f})",
                fontsize="small",
            )
            if row == 0 and c == 0:
                ax.legend(fontsize="x-small", loc="best")
        if len(xstar):
            fig.colorbar(scatter, ax=axes[row, 1], label="tau_1 (steps)")
        ax = axes[row, 2]
        for k_row, c in zip(modulus[:, :8], condition, strict=True):
            ax.plot(
                np.arange(1, len(k_row) + 1),
                k_row,
                color=context_colors[int(c) % 2],
                lw=0.5,
                alpha=0.5,
            )
        ax.axhline(1.0, color="k", ls="--", lw=0.8)
        ax.set_xlabel("mode k (by decreasing |lambda|)")
        ax.set_ylabel("|lambda_k|")
        if len(modulus):
            gap = np.median(modulus[:, 0] - modulus[:, 1]) if modulus.shape[1] > 1 else np.nan
            ax.set_title(
                f"median |lambda_1| {np.median(modulus[:, 0]):.3f}, "
                f"median gap to |lambda_2| {gap:.3f}",
                fontsize="small",
            )
        ax = axes[row, 3]
        for c in range(2):
            here = condition == c
            if here.sum() < 2:
                continue
            centred = xstar[here] - xstar[here].mean(0)
            axis = np.linalg.svd(centred, full_matrices=False)[2][0]
            position = centred @ axis
            ax.scatter(
                position,
                tau[here, 0],
                s=12,
                color=context_colors[c],
                label=f"tau_1, context {c + 1}",
            )
            ax.scatter(
                position,
                tau[here, 1],
                s=8,
                color=context_colors[c],
                marker="x",
                alpha=0.5,
                label=f"tau_2, context {c + 1}",
            )
        ax.axhline(
            task.n_steps, color="0.4", ls=":", lw=1, label=f"trial length ({task.n_steps} steps)"
        )
        ax.set_yscale("log")
        ax.set_xlabel("position along the line (PC1 of the context's points)")
        ax.set_ylabel("tau (steps)")
        if len(modulus):
            ax.set_title(
                f"median tau_1 {np.nanmedian(tau[:, 0]):.0f} steps, tau_2 "
                f"{np.nanmedian(tau[:, 1]):.1f} steps\n"
                f"({int((modulus[:, 0] >= 1).sum())} of {len(modulus)} points with |lambda_1| >= 1 "
                "not shown)",
                fontsize="small",
            )
        if row == 0:
            ax.legend(fontsize="x-small")
    fig.suptitle(
        "Approximate line attractors, context-dependent integration (best network of each architecture)"
    )
    save_figure(fig, path)


def _generator(seed: int):
    from insilico.dynamics.tasks import generator

    return generator(seed)


def dsa(ds: xr.Dataset, table, path) -> None:
    """MDS of the DSA distances (colour: architecture, marker: task) and each measure's
    silhouettes by architecture (within a task) and by task."""
    fig, (embedding, bars) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    coords = ds["mds_dsa"].values
    archs, tasks = ds["arch"].values, ds["task"].values
    markers = dict(zip(dict.fromkeys(tasks), "osD^v<>", strict=False))
    for arch in dict.fromkeys(archs):
        for task in dict.fromkeys(tasks):
            chosen = (archs == arch) & (tasks == task)
            embedding.scatter(
                coords[chosen, 0],
                coords[chosen, 1],
                color=_color(ARCH_COLORS, arch),
                marker=markers[task],
                s=30,
                label=f"{task} / {arch}",
            )
    embedding.set_title("DSA distances, classical MDS", fontsize="small")
    embedding.set_xlabel("MDS 1", fontsize="small")
    embedding.set_ylabel("MDS 2", fontsize="small")
    embedding.legend(fontsize="xx-small", ncols=2)
    positions = np.arange(len(table))
    bars.bar(positions - 0.2, table["silhouette_arch_within_task"], 0.4, label="architecture")
    bars.bar(positions + 0.2, table["silhouette_task"].fillna(0.0), 0.4, label="task")
    bars.set_xticks(positions, table["measure"], fontsize="small")
    bars.axhline(0.0, color="black", linewidth=0.8)
    bars.set_ylabel("silhouette", fontsize="small")
    bars.set_title("separation under each measure (geometry: per task only)", fontsize="small")
    bars.legend(fontsize="x-small")
    save_figure(fig, path)
