"""Does attribution find the true mechanism? A check that only a simulated retina allows.

The simulator's circuit is known: each ganglion cell type sums given bipolar types and is
inhibited by given amacrine types (``GANGLION_BIPOLARS`` / ``GANGLION_AMACRINES`` in
:mod:`insilico.retina.simulator`). The check has three steps, all on the phenomenon's own stimulus:

1. *Identify* every CNN channel with the true interneuron signal it resembles most: Pearson
   correlation over time and space between the channel's activity and each true signal (3 bipolar
   and 2 amacrine types, 3 with OMS cells) read at the same place, on a seeded white-noise probe at the model's
   geometry. A channel's identity belongs to the model, not to a stimulus, and structured stimuli
   cannot tell the types apart (a full-field flash drives every signal of one polarity alike, and
   the smooth amacrine signals won every channel of the positive control,
   :mod:`~insilico.mechanisms.control`, on it). A bipolar type is matched by its synaptic output
   or by its rectified drive before depression (what a feedforward window can compute),
   whichever correlates better. A unit's place is its receptive-field
   centre in pixels: the centre of mass of the input gradient of the channel's central unit
   (averaged over seeded white-noise windows) plus the unit's offset on the feature map.
2. *Truth*: each cell's pathways (the signal types that reach it, directly or through its
   amacrine inputs, :func:`pathways`) and how much each contributed
   to its drive for this stimulus, ``sum |w . signal|`` with the cell's Gaussian pooling weights
   (centre sigma for bipolar, surround sigma times the mean surround strength for amacrine, the
   polyaxonal annulus times its strength for OMS cells; the
   simulator's small per-synapse jitter is not public and is left out).
3. *Scores* per cell and layer, over cells that respond in both the CNN and the simulator:
   ``precision``: the share of the channels the reduction kept (the top-attributed ones) whose
   identity is one of the cell's true pathways, against ``chance``, the same share over all the
   layer's channels (what keeping channels at random would give); the same at the coarser level
   of polarity (ON / OFF); ``top_hit``: whether the single most attributed channel is a true
   pathway; ``overlap``: sum over signal types of min(attributed share, true share as the
   layer sees it, :func:`projected_share`), where the
   attributed share pools each channel's |attribution| onto its identity; ``overlap_chance``: the
   same with every channel weighted equally. Attribution *recovers* the mechanism of a layer when
   both beat chance significantly: one-sided permutation tests over the responsive cells whose
   exchangeable unit is the channels' identity labels, permuted jointly for every cell (a null
   simulation with gains shared across cells rejects at the nominal rate, the unit tests),
   p < ``alpha``. When it does not, the tables say so. The same test with the identities
   shuffled is the negative control: it must reject in about ``alpha`` of the shuffles.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch
import xarray as xr

from insilico.mechanisms.attribution import HIDDEN_LAYERS, Windows, frozen, probe
from insilico.mechanisms.experiments import (
    IDENTIFICATION_SCORES,
    check_geometry,
    truth_cell_indices,
)
from insilico.mechanisms.signals import interpolation_matrix, signal_names
from insilico.retina import simulator as retina_sim

IDENTIFY_PROBE_FRAMES = 2000  # white-noise frames on which channels are identified
IDENTIFY_PROBE_SEED = 0
RF_PROBE_WINDOWS = 16  # white-noise windows averaged to locate receptive-field centres
RF_PROBE_SEED = 0


def polarity(signal: str) -> str:
    """ON or OFF: the sign of light that drives a signal type."""
    return "ON" if signal.endswith("_on") else "OFF"


def true_signals(retina, stimulus: xr.Dataset) -> np.ndarray:
    """Simulator internals ``(signal, condition, time, rows, cols)`` for the stimulus."""
    pad = stimulus.attrs["pad"]
    per_condition = []
    for movie in stimulus["movie"].values:
        out = retina.respond(movie)
        per_condition.append(np.concatenate([out["bipolar"], out["amacrine"]])[:, pad:])
    return np.stack(per_condition, axis=1)


def identification_probe(meta: dict) -> xr.Dataset:
    """Seeded binary white noise at the model's geometry, in the layout of a rendered stimulus."""
    history, size = meta["history"], meta["size"]
    rng = np.random.default_rng(IDENTIFY_PROBE_SEED)
    movie = np.full((1, history - 1 + IDENTIFY_PROBE_FRAMES, size, size), 128, dtype=np.uint8)
    movie[0, history - 1 :] = retina_sim.white_noise_movie(IDENTIFY_PROBE_FRAMES, size, rng)
    return xr.Dataset(
        {"movie": (("condition", "frame", "y", "x"), movie)},
        attrs={"pad": history - 1, "history": history, "size": size},
    )


def reference_signals(retina, stimulus: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Signals a channel may match ``(reference, condition, time, rows, cols)`` and the index of
    the true signal (:func:`signal_names`) each one stands for: every true signal, then each
    bipolar type's rectified drive before depression and gain control."""
    pad = stimulus.attrs["pad"]
    per_condition = []
    for movie in stimulus["movie"].values:
        out = retina.respond(movie)
        drive = np.maximum(out["bipolar_linear"] - retina_sim.BIPOLAR_THRESHOLD, 0.0)
        per_condition.append(np.concatenate([out["bipolar"], out["amacrine"], drive])[:, pad:])
    n_bipolar = len(retina.bipolar_types)
    owner = np.concatenate([np.arange(len(signal_names(retina))), np.arange(n_bipolar)])
    return np.stack(per_condition, axis=1), owner


def identify_on_probe(model, meta, retina, offsets, batch_size, device) -> np.ndarray:
    """Correlation ``(channel, signal)`` on the white-noise probe, the best reference per signal."""
    probe = identification_probe(meta)
    references, owner = reference_signals(retina, probe)
    windows = Windows(probe, meta, device)
    activity = hidden_activity(model, windows, np.arange(len(windows)), batch_size)
    correlation = identify(activity, offsets, references, retina)
    out = np.full((correlation.shape[0], len(signal_names(retina))), np.nan)
    for s in range(out.shape[1]):
        out[:, s] = np.nanmax(
            np.where(np.isnan(correlation), -np.inf, correlation)[:, owner == s], 1
        )
    return np.where(np.isinf(out), np.nan, out)


def hidden_activity(
    model: torch.nn.Module, windows: Windows, index: np.ndarray, batch_size: int
) -> dict[int, np.ndarray]:
    """Each hidden layer's activity ``(len(index), channels, h, w)`` for the windows ``index``."""
    index = np.asarray(index, dtype=np.int64)
    out: dict[int, list[np.ndarray]] = {layer: [] for layer in HIDDEN_LAYERS}
    with frozen(model), torch.no_grad():
        for first in range(0, len(index), batch_size):
            with probe(model) as activity:
                model(windows(index[first : first + batch_size]))
            for layer in HIDDEN_LAYERS:
                out[layer].append(activity[layer].cpu().numpy())
    return {layer: np.concatenate(values) for layer, values in out.items()}


def receptive_field_offsets(model: torch.nn.Module, meta: dict) -> dict[int, np.ndarray]:
    """Pixel position of unit (0, 0) of every channel, ``{layer: (channels, 2)}`` (row, col).

    Unit (y, x) of a channel sits at that position plus (y, x) (unpadded convolutions, stride 1).
    """
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(RF_PROBE_SEED)
    shape = (RF_PROBE_WINDOWS, meta["history"], meta["size"], meta["size"])
    noise = torch.randn(shape, generator=generator).to(device).requires_grad_(True)
    offsets = {}
    with frozen(model), probe(model) as activity:
        model(noise)
        for layer in HIDDEN_LAYERS:
            h = activity[layer]
            n_channels, height, width = h.shape[1:]
            centre = np.array([height // 2, width // 2])
            nominal = (meta["size"] - np.array([height, width])) / 2
            positions = np.tile(nominal, (n_channels, 1)).astype(float)
            for c in range(n_channels):
                (grad,) = torch.autograd.grad(
                    h[:, c, centre[0], centre[1]].sum(), noise, retain_graph=True
                )
                weight = grad.abs().sum(dim=(0, 1)).cpu().numpy()
                if weight.sum() > 0:
                    rows, cols = np.indices(weight.shape)
                    com = np.array([(rows * weight).sum(), (cols * weight).sum()]) / weight.sum()
                    positions[c] = com - centre
            offsets[layer] = positions
    return offsets


def identify(
    activity: dict[int, np.ndarray],
    offsets: dict[int, np.ndarray],
    signals: np.ndarray,
    retina,
) -> np.ndarray:
    """Correlation ``(channel, signal)`` of every channel's activity with every true signal.

    ``activity[layer]`` is ``(windows, channels, h, w)`` and ``signals`` ``(signal, windows,
    rows, cols)`` (or with separate condition and time axes) for the same windows; both are taken
    at the same time bins and at each unit's receptive-field centre.
    """
    flat = signals.reshape(signals.shape[0], -1, signals.shape[-2] * signals.shape[-1])
    flat = flat.astype(np.float64)
    rows = []
    for layer in HIDDEN_LAYERS:
        act = activity[layer]  # (windows, channels, h, w); windows run over (condition, time)
        height, width = act.shape[2:]
        for c in range(act.shape[1]):
            matrix = interpolation_matrix(
                retina,
                offsets[layer][c, 0] + np.arange(height),
                offsets[layer][c, 1] + np.arange(width),
            )
            channel = act[:, c].reshape(len(act), -1).astype(np.float64)
            rows.append([_sampled_pearson(channel, f, matrix) for f in flat])
    return np.asarray(rows)


def _sampled_pearson(a: np.ndarray, f: np.ndarray, matrix: np.ndarray) -> float:
    """Pearson r between ``a (windows, units)`` and the signal ``f (windows, grid)`` read at the
    units, ``s = f @ matrix.T``, from sums alone: the sampled signal (windows x units, gigabytes
    at paper scale) is never built. Both are centred first (every row of ``matrix`` sums to 1,
    so shifting ``f`` shifts ``s`` by the same constant), which keeps the sums well conditioned.
    The same Pearson r as :func:`insilico.core.stats.pearson` (nan for a constant channel), from
    other sums because the series it correlates is never built.
    """
    n = a.size
    scale = float(np.abs(a).max()) if n else 0.0
    a = a - a.mean()
    f = f - f.sum(0) @ matrix.sum(0) / n  # minus the mean of s
    mean_s = f.sum(0) @ matrix.sum(0) / n  # ~0 after centring, kept for exactness
    var_a = (a * a).sum() / n
    var_s = ((f @ (matrix.T @ matrix)) * f).sum() / n - mean_s**2
    cov = (matrix * (a.T @ f)).sum() / n
    if var_a <= (1e-6 * scale) ** 2 or var_s <= 0:
        return float("nan")  # a constant channel has no correlation (as insilico.core.stats)
    return float(np.clip(cov / np.sqrt(var_a * var_s), -1.0, 1.0))


def true_contributions(retina, signals: np.ndarray, cell_indices: list[int]) -> np.ndarray:
    """Each signal's contribution ``(cell, signal, condition, time)`` to the cells' drives."""
    positions = retina.subunit_positions
    n_bipolar = len(retina.bipolar_types)
    names = signal_names(retina)
    flat = signals.reshape(*signals.shape[:3], -1)  # (signal, cond, time, subunits)
    out = np.zeros((len(cell_indices), len(names), *signals.shape[1:3]))
    surround = float(np.mean(retina_sim.SURROUND_STRENGTH))
    for i, cell in enumerate(cell_indices):
        cell_type = retina.cell_types[cell]
        centre = retina.cell_centres[cell]
        for s, name in enumerate(names):
            kind, signal_type = name.split("_", 1)
            if s < n_bipolar:
                if signal_type not in retina_sim.GANGLION_BIPOLARS[cell_type]:
                    continue
                sigma, sign = retina_sim.CENTRE_SIGMA_PX, 1.0
            else:
                if signal_type not in retina_sim.GANGLION_AMACRINES[cell_type]:
                    continue
                if signal_type == retina_sim.POLYAXONAL:  # the OMS cell's peripheral annulus
                    weight = retina_sim.inhibition_weights(signal_type, positions, centre)
                    strength = retina_sim.inhibition_strength(signal_type)
                    out[i, s] = -strength * flat[s] @ weight
                    continue
                sigma, sign = retina_sim.AMACRINE_SIGMA_PX, -surround
            weight = np.exp(-((positions - centre) ** 2).sum(-1) / (2 * sigma**2))
            out[i, s] = sign * flat[s] @ (weight / weight.sum())
    return out


def pathways(retina, cell_indices: list[int]) -> np.ndarray:
    """``(cell, signal)``: True where the signal type reaches the cell.

    Directly (its bipolar and amacrine inputs) or through one of its amacrine inputs: a bipolar
    type that drives an amacrine cell inhibiting the cell is on its circuit too (the positive
    control's reduction rightly keeps the slow OFF bipolar channel of a fast OFF cell, whose
    OFF amacrine pools both OFF types).
    """
    names = signal_names(retina)
    out = np.zeros((len(cell_indices), len(names)), dtype=bool)
    for i, cell in enumerate(cell_indices):
        cell_type = retina.cell_types[cell]
        amacrines = retina_sim.GANGLION_AMACRINES[cell_type]
        bipolars = set(retina_sim.GANGLION_BIPOLARS[cell_type]).union(
            *(retina_sim.AMACRINE_INPUTS[a] for a in amacrines)
        )
        wired = [f"bipolar_{t}" for t in bipolars] + [f"amacrine_{t}" for t in amacrines]
        out[i] = [name in wired for name in names]
    return out


def projected_share(retina, true_share: np.ndarray, present: np.ndarray) -> np.ndarray:
    """True shares ``(cell, signal)`` seen by a layer whose channels have the identities
    ``present``: an amacrine type no channel stands for passes its share on to its bipolar
    inputs (equally, as it pools them), so a layer of bipolar-like channels is scored against
    the bipolar types that drive the cell directly or through its amacrine cells."""
    names = signal_names(retina)
    out = true_share.copy()
    for s, name in enumerate(names):
        if not name.startswith("amacrine_") or s in present:
            continue
        inputs = retina_sim.AMACRINE_INPUTS[name.removeprefix("amacrine_")]
        for bipolar_type in inputs:
            out[:, names.index(f"bipolar_{bipolar_type}")] += true_share[:, s] / len(inputs)
        out[:, s] = 0.0
    return out


def _share(weights: np.ndarray, identity: np.ndarray, n_signals: int) -> np.ndarray:
    """Pool ``weights (..., channels)`` onto signal types; normalise to sum 1."""
    pooled = np.zeros((*weights.shape[:-1], n_signals))
    for s in range(n_signals):
        pooled[..., s] = weights[..., identity == s].sum(-1)
    total = pooled.sum(-1, keepdims=True)
    return np.divide(pooled, total, out=np.zeros_like(pooled), where=total > 0)


def layer_statistics(
    kept: np.ndarray, importance: np.ndarray, maps: np.ndarray, wired: np.ndarray, seen: np.ndarray
) -> np.ndarray:
    """Mean precision and mean overlap over cells ``(2, maps)`` under each identity map.

    ``kept``, ``importance`` ``(cell, channel)``; ``maps (maps, channel)``: an identity per
    channel (an index past the last signal means "none"); ``wired (cell, signal + 1)``: whether a
    signal type is a pathway of the cell (the "none" column False); ``seen (cell, signal)``: the
    true shares as the layer sees them (:func:`projected_share`). Attribution to unidentified
    channels pools into the "none" bin and counts as missed.
    """
    n_signals = seen.shape[1]
    right = np.moveaxis(wired[:, maps], 1, 0)  # (maps, cell, channel)
    precision = ((right & kept).sum(-1) / kept.sum(1)).mean(-1)
    onehot = (maps[..., None] == np.arange(n_signals)).astype(float)  # (maps, channel, signal)
    total = importance.sum(1)[:, None]
    pooled = np.einsum("ck,mks->mcs", importance, onehot)
    shares = np.divide(pooled, total, out=np.zeros_like(pooled), where=total > 0)
    overlap = np.minimum(shares, seen).sum(-1).mean(-1)
    return np.stack([precision, overlap])


def identity_maps(identity: np.ndarray, permutations: int, rng) -> tuple[np.ndarray, bool]:
    """The null's identity maps ``(maps, channel)``: every permutation of the channels' labels
    when there are at most ``permutations`` of them (an exact test), else as many random ones."""
    n = len(identity)
    if math.factorial(n) <= permutations:
        return identity[np.array(list(itertools.permutations(range(n))))], True
    return identity[rng.random((permutations, n)).argsort(1)], False


def _p_values(null: np.ndarray, observed: np.ndarray, exact: bool, weight) -> np.ndarray:
    """One-sided p-values ``(2, k)`` of ``observed (2, k)`` against ``null (2, maps)``.

    Ties count with ``weight`` (broadcast to ``observed``): uniform random weights break them
    at random, which keeps the level exact: precision takes few values, and counting every tie
    as at least as good made the test reject 2 % of null layers at a nominal 5 %. An exact null
    holds the observed map already; a sampled one counts it once more.
    """
    tolerance = 1e-12
    above = (null[:, None, :] > observed[:, :, None] + tolerance).sum(-1)
    ties = (np.abs(null[:, None, :] - observed[:, :, None]) <= tolerance).sum(-1) + (not exact)
    return (above + weight * ties) / (null.shape[1] + (not exact))


def permutation_test(
    kept: np.ndarray,
    importance: np.ndarray,
    identity: np.ndarray,
    wired: np.ndarray,
    seen: np.ndarray,
    *,
    permutations: int,
    shuffles: int,
    seed: int,
) -> dict[str, np.ndarray]:
    """Permutation test of a layer's mean precision and overlap over cells against chance.

    The exchangeable unit is the channel's identity label: one permutation relabels the layer's
    channels for every cell at once (the same channels dominate every cell, so cells are not
    independent), and the same seed gives every phenomenon the same permutations (the
    phenomena of a layer share one identity map). Returns ``p (2,)`` (precision, overlap),
    ``smallest_p``: the precision p-value of the best map the null holds, ties counted half
    (its median over tie draws; above ``alpha`` even a perfect selection is rejected in fewer
    than half the draws, and the layer is not testable), and ``shuffled_p (2, shuffles)``: the p-values of the same layer with
    its identities shuffled, the negative control (rejections near ``alpha``).
    """
    if len(kept) == 0 or permutations < 1:
        return {
            "p": np.full(2, np.nan),
            "smallest_p": np.nan,
            "shuffled_p": np.full((2, shuffles), np.nan),
        }
    rng = np.random.default_rng(seed)
    maps, exact = identity_maps(identity, permutations, rng)
    shuffled = identity[rng.random((shuffles, len(identity))).argsort(1)]
    null = layer_statistics(kept, importance, maps, wired, seen)
    observed = layer_statistics(kept, importance, np.vstack([identity, shuffled]), wired, seen)
    p = _p_values(null, observed, exact, rng.random(observed.shape))
    best = _p_values(null[:1], null[:1].max(1, keepdims=True), exact, 0.5)[0, 0]
    return {"p": p[:, 0], "smallest_p": float(best), "shuffled_p": p[:, 1:]}


def check(
    model: torch.nn.Module,
    meta: dict,
    responses: xr.Dataset,
    attribution: xr.Dataset,
    reduction: xr.Dataset,
    retina,
    *,
    offsets: dict[int, np.ndarray],
    permutations: int,
    shuffles: int,
    alpha: float,
    seed: int,
    batch_size: int,
    device: torch.device,
) -> xr.Dataset:
    """Identification, truth and scores for one phenomenon (see the module docstring).

    ``responses`` is the output of :func:`insilico.mechanisms.experiments.run_experiment` (the
    stimulus with the CNN's and the simulator's rates), ``attribution`` and ``reduction`` those of
    :mod:`~insilico.mechanisms.attribution` and :mod:`~insilico.mechanisms.reduction`;
    ``offsets`` those of :func:`receptive_field_offsets` (the same for every stimulus). A layer
    counts as ``recovered`` when both permutation p-values (:func:`permutation_test`, over the
    responsive cells) are below ``alpha``, and as ``testable`` when the precision test could reach
    ``alpha`` at all; ``shuffled_recovered (layer, shuffle)`` is the same verdict with the
    channels' identities shuffled (the negative control).
    """
    model = model.to(device)
    names = signal_names(retina)
    n_signals = len(names)
    cells = list(meta["cell_names"])
    indices = truth_cell_indices(cells)
    check_geometry(responses, meta)
    signals = true_signals(retina, responses)
    correlation = identify_on_probe(model, meta, retina, offsets, batch_size, device)
    # A channel that correlates positively with no true signal is identified with none of them.
    best = np.nan_to_num(correlation, nan=-np.inf)
    identity = np.where(best.max(1) > 0, best.argmax(1), n_signals)

    wired, wired_polarity, true_share = _true_pathways(retina, signals, indices, names)
    rate = responses["rate"]
    drive = np.abs(rate - responses["rest_rate"]).max(dim=("condition", "time"))
    responsive = (drive >= responses.attrs["min_response"]).all("source").values
    scores, p_values, smallest, shuffled, attributed = _layer_scores(
        attribution,
        reduction["keep"].values,
        identity,
        (wired, wired_polarity, true_share),
        responsive,
        retina,
        permutations=permutations,
        shuffles=shuffles,
        seed=seed,
    )
    for values in scores.values():
        values[~responsive] = np.nan

    layer_p = {"p": p_values, "smallest": smallest, "shuffled": shuffled, "alpha": alpha}
    return _check_dataset(
        retina, indices, (correlation, identity, names), (wired, true_share, responsive),
        (scores, attributed, layer_p), attribution,
        attrs={
            "phenomenon": responses.attrs["phenomenon"],
            "n_responsive_cells": int(responsive.sum()),
            "permutations": permutations,
            "shuffles": shuffles,
            "alpha": alpha,
        },
        cells=cells,
    )  # fmt: skip


def _check_dataset(
    retina, indices, identified, truth, results, attribution, *, attrs: dict, cells
) -> xr.Dataset:
    """One phenomenon's identification, truth and scores as the Dataset :func:`check` returns."""
    correlation, identity, names = identified
    wired, true_share, responsive = truth
    scores, attributed, layer_p = results
    p_values, smallest, shuffled, alpha = (
        layer_p["p"], layer_p["smallest"], layer_p["shuffled"], layer_p["alpha"]
    )  # fmt: skip
    n_signals = len(names)
    data = {
        "correlation": (("channel", "signal"), correlation),
        "identity": ("channel", np.asarray([*names, "none"])[identity]),
        "identity_r": ("channel", np.nan_to_num(correlation, nan=0.0).max(1)),
        "cell_type": ("cell", [retina.cell_types[i] for i in indices]),
        "pathway": (("cell", "signal"), wired[:, :n_signals]),
        "responsive": ("cell", responsive),
        "true_share": (("cell", "signal"), true_share),
        "attributed_share": (("cell", "layer", "signal"), attributed),
        **{name: (("cell", "layer"), values) for name, values in scores.items()},
        "p_precision": ("layer", p_values[0]),
        "p_overlap": ("layer", p_values[1]),
        "recovered": ("layer", (p_values < alpha).all(0)),
        "testable": ("layer", smallest < alpha),
        "smallest_p": ("layer", smallest),
        "shuffled_recovered": (("layer", "shuffle"), (shuffled < alpha).all(0)),
    }
    summary = {
        f"mean_{name}": ("layer", _mean_over_cells(values)) for name, values in scores.items()
    }
    return xr.Dataset(
        {**data, **summary},
        coords={
            "channel": attribution["channel"].values,
            "channel_layer": ("channel", attribution["channel_layer"].values),
            "signal": names,
            "cell": cells,
            "layer": list(HIDDEN_LAYERS),
        },
        attrs=attrs,
    )


def _true_pathways(retina, signals, indices, names):
    """Per cell, the signals wired to it and those of a polarity it receives (a last "none"
    column, never a true pathway), and each signal's true share of the cell's drive."""
    n_signals = len(names)
    wired = pathways(retina, indices)
    contributions = true_contributions(retina, signals, indices)
    true_share = _share(np.abs(contributions).sum(axis=(2, 3)), np.arange(n_signals), n_signals)
    signal_polarity = np.array([polarity(n) for n in names])
    wired_polarity = np.stack(
        [np.isin(signal_polarity, signal_polarity[row]) for row in wired]
    )  # (cell, signal): signal has a polarity the cell receives
    wired = np.pad(wired, ((0, 0), (0, 1)))
    wired_polarity = np.pad(wired_polarity, ((0, 0), (0, 1)))
    return wired, wired_polarity, true_share


def _layer_scores(
    attribution, keep, identity, truth, responsive, retina, *, permutations, shuffles, seed
):
    """Each hidden layer's identification scores per cell, its permutation p-values, the
    smallest reachable p, the shuffled controls' p-values and the attributed shares."""
    wired, wired_polarity, true_share = truth
    n_signals = true_share.shape[1]
    n_cells = wired.shape[0]
    layer_of = attribution["channel_layer"].values
    importance = attribution["importance"].values
    rank = attribution["rank"].values
    layers = list(HIDDEN_LAYERS)
    scores = {name: np.full((n_cells, len(layers)), np.nan) for name in IDENTIFICATION_SCORES}
    p_values, smallest = np.full((2, len(layers)), np.nan), np.full(len(layers), np.nan)
    shuffled = np.full((2, len(layers), shuffles), np.nan)
    attributed = np.zeros((n_cells, len(layers), n_signals))
    for j, layer in enumerate(layers):
        columns = np.flatnonzero(layer_of == layer)
        ident = identity[columns]
        right = wired[:, ident]  # (cell, channel)
        right_polarity = wired_polarity[:, ident]
        kept = keep[:, columns]
        top = rank[:, columns] == 0
        # Pooled with a "none" bin, so attribution to unidentified channels counts as missed.
        attributed[:, j] = _share(importance[:, columns], ident, n_signals + 1)[:, :n_signals]
        uniform = _share(np.ones((1, len(columns))), ident, n_signals + 1)[0, :n_signals]
        scores["precision"][:, j] = (right & kept).sum(1) / kept.sum(1)
        scores["chance"][:, j] = right.mean(1)
        scores["polarity_precision"][:, j] = (right_polarity & kept).sum(1) / kept.sum(1)
        scores["polarity_chance"][:, j] = right_polarity.mean(1)
        scores["top_hit"][:, j] = (right & top).any(1)
        seen = projected_share(retina, true_share, ident)
        scores["overlap"][:, j] = np.minimum(attributed[:, j], seen).sum(1)
        scores["overlap_chance"][:, j] = np.minimum(uniform[None], seen).sum(1)
        test = permutation_test(
            kept[responsive],
            importance[responsive][:, columns],
            ident,
            wired[responsive],
            seen[responsive],
            permutations=permutations,
            shuffles=shuffles,
            seed=seed,
        )
        p_values[:, j], smallest[j], shuffled[:, j] = (
            test["p"],
            test["smallest_p"],
            test["shuffled_p"],
        )
    return scores, p_values, smallest, shuffled, attributed


def _mean_over_cells(values: np.ndarray) -> np.ndarray:
    finite = np.isfinite(values)
    total = np.where(finite, values, 0.0).sum(0)
    count = finite.sum(0)
    return np.divide(total, count, out=np.full(values.shape[1], np.nan), where=count > 0)
