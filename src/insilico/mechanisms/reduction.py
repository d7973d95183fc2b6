"""Model reduction (Tanaka et al. 2019): the fewest hidden channels that still show the phenomenon.

For each cell, the first layer's channels are removed one by one in order of increasing attribution
(``importance``: summed |integrated gradients| over the phenomenon's stimulus) for as long as the
reduced model's response to that stimulus stays within ``tolerance`` of the full model's; then the
same for the second layer, with the first layer's reduction in place. A removed channel is clamped
to its activity on the grey screen (masked through a hook, the network is not copied), so it no
longer carries any stimulus-driven signal and the grey-screen rate is unchanged.

"Within tolerance": the fraction of the full model's response variance that the reduced model
explains, ``1 - sum (r_reduced - r_full)^2 / sum (r_full - mean r_full)^2`` over all conditions
and time bins, is at least ``1 - tolerance``. A cell that hardly responds has its variance floored
at ``min_response^2`` per bin, so it is not held to reproducing noise-level wiggles.

All candidate masks of a step are evaluated together, batched with the windows on the device.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
import xarray as xr

from insilico.mechanisms.attribution import (
    HIDDEN_LAYERS,
    Windows,
    frozen,
    grey_activity,
    probe,
)


@torch.no_grad()
def masked_rates(
    model: torch.nn.Module,
    windows: Windows,
    index: np.ndarray,
    keep: dict[int, torch.Tensor],
    fill: dict[int, torch.Tensor],
    batch_size: int,
) -> torch.Tensor:
    """Rates ``(masks, len(index), cells)`` of the model under each of ``M`` channel masks.

    ``keep[layer]`` is ``(M, channels)`` (1 keep, 0 clamp to ``fill[layer]``). The first layer
    runs once per window; a hook repeats its output for every mask.
    """
    n_masks = next(iter(keep.values())).shape[0]
    per_batch = max(1, batch_size // n_masks)
    out = []
    for first in range(0, len(index), per_batch):
        chunk = index[first : first + per_batch]
        n = len(chunk)
        masks = {layer: (k.repeat_interleave(n, dim=0), fill[layer]) for layer, k in keep.items()}

        def expand(conv_out: torch.Tensor) -> torch.Tensor:
            return conv_out.repeat(n_masks, 1, 1, 1)

        with probe(model, expand=expand, masks=masks):
            rates = model(windows(chunk))
        out.append(rates.reshape(n_masks, n, -1))
    return torch.cat(out, dim=1)


def explained(reduced: torch.Tensor, full: torch.Tensor, floor: float) -> torch.Tensor:
    """Fraction of the variance of ``full (..., bins)`` that ``reduced`` explains (floored)."""
    error = (reduced - full).square().sum(-1)
    variance = (full - full.mean(-1, keepdim=True)).square().sum(-1)
    return 1 - error / variance.clamp(min=floor * full.shape[-1])


def _prune_layer(
    model, windows, index, layer, order, keep, fill, full, tolerance, floor, batch_size
) -> tuple[torch.Tensor, np.ndarray]:
    """Prune one layer for every cell; return the new keep (cells, channels) and the curves.

    ``order (cells, channels)``: the layer's channels from least to most important per cell.
    ``curve[cell, k]``: explained variance with the ``k`` least important channels removed.
    """
    n_cells, n_channels = order.shape
    candidates = {
        other: k[:, None].expand(-1, n_channels, -1).reshape(n_cells * n_channels, -1)
        for other, k in keep.items()
    }
    removed = torch.ones(n_cells, n_channels, n_channels, device=full.device)
    for k in range(n_channels):
        removed[torch.arange(n_cells), k, :] = 1.0
        rows = torch.arange(n_cells)[:, None]
        removed[rows, k, torch.as_tensor(order[:, :k], device=full.device)] = 0.0
    candidates[layer] = removed.reshape(n_cells * n_channels, n_channels)
    rates = masked_rates(model, windows, index, candidates, fill, batch_size)
    rates = rates.reshape(n_cells, n_channels, len(index), -1)
    own = rates[torch.arange(n_cells), :, :, torch.arange(n_cells)]  # (cells, k, windows)
    curve = explained(own, full.T[:, None, :], floor).cpu().numpy()
    ok = curve >= 1 - tolerance
    n_removed = np.array([np.argmin(row) if not row.all() else len(row) for row in ok]) - 1
    n_removed = np.maximum(n_removed, 0)
    new_keep = removed[torch.arange(n_cells), torch.as_tensor(n_removed)]
    return new_keep, curve


def _full_rate(reduced: torch.Tensor, baseline: np.ndarray, index: np.ndarray, shape) -> np.ndarray:
    """The reduced model's rate ``(condition, cell, time)``: grey windows at the baseline rate."""
    n_conditions, n_time = shape
    n_cells = len(baseline)
    rate = np.broadcast_to(baseline[:, None], (n_cells, n_conditions * n_time)).copy()
    rate[:, index] = reduced.cpu().double().numpy()
    return rate.reshape(n_cells, n_conditions, n_time).transpose(1, 0, 2)


def _padded_curves(curves: dict, n_cells: int) -> np.ndarray:
    """Pruning curves ``(cell, layer, n_removed)``, NaN past a layer's channel count."""
    width = max(curve.shape[1] for curve in curves.values())
    curve = np.full((n_cells, len(HIDDEN_LAYERS), width), np.nan)
    for i, layer in enumerate(HIDDEN_LAYERS):
        curve[:, i, : curves[layer].shape[1]] = curves[layer]
    return curve


def _reduction_dataset(
    keep_all, n_kept, final, curve, rate, cells, attribution, stimulus, tolerance, min_response
) -> xr.Dataset:
    """The reduction of one phenomenon as a labelled Dataset (see :func:`reduce`)."""
    layer_of, width = attribution["channel_layer"].values, curve.shape[2]
    return xr.Dataset(
        {
            "keep": (("cell", "channel"), keep_all),
            "n_kept": (("cell", "layer"), n_kept.astype(np.int64)),
            "explained_variance": ("cell", final.astype(np.float64)),
            "pruning_curve": (("cell", "layer", "n_removed"), curve),
            "reduced_rate": (("condition", "cell", "time"), rate, {"units": "Hz"}),
        },
        coords={
            "cell": cells,
            "channel": attribution["channel"].values,
            "channel_layer": ("channel", layer_of),
            "channel_index": ("channel", attribution["channel_index"].values),
            "layer": list(HIDDEN_LAYERS),
            "n_removed": np.arange(width),
            "condition": attribution["condition"].values,
            "time": attribution["time"].values,
        },
        attrs={
            "phenomenon": stimulus.attrs["phenomenon"],
            "tolerance": tolerance,
            "min_response": min_response,
            "criterion": "explained variance of the full model's response >= 1 - tolerance",
        },
    )


def reduce(
    model: torch.nn.Module,
    meta: dict,
    stimulus: xr.Dataset,
    attribution: xr.Dataset,
    *,
    tolerance: float,
    min_response: float,
    batch_size: int,
    device: torch.device,
    log: logging.Logger | None = None,
) -> xr.Dataset:
    """Reduced model per cell for one phenomenon; its responses and the pruning curves.

    Variables: ``keep (cell, channel)`` (bool), ``n_kept (cell, layer)``, ``explained_variance
    (cell)`` of the final reduced model, ``pruning_curve (cell, layer, n_removed)`` (NaN past a
    layer's channel count) and ``reduced_rate (condition, cell, time)``.
    """
    if not 0 <= tolerance < 1:
        raise ValueError(f"tolerance must be in [0, 1), got {tolerance}")
    model = model.to(device)
    windows = Windows(stimulus, meta, device)
    index = np.flatnonzero(~windows.grey)
    layer_of = attribution["channel_layer"].values
    importance = attribution["importance"].values
    cells = list(meta["cell_names"])
    n_cells = len(cells)
    floor = min_response**2
    with frozen(model):
        fill = grey_activity(model, windows)
        keep = {
            layer: torch.ones(n_cells, int((layer_of == layer).sum()), device=device)
            for layer in HIDDEN_LAYERS
        }
        full = masked_rates(model, windows, index, {1: keep[1][:1]}, fill, batch_size)[0]
        curves = {}
        for layer in HIDDEN_LAYERS:
            columns = np.flatnonzero(layer_of == layer)
            order = np.argsort(importance[:, columns], axis=1, kind="stable")
            keep[layer], curves[layer] = _prune_layer(
                model, windows, index, layer, order, keep, fill, full, tolerance, floor, batch_size
            )
        reduced = masked_rates(model, windows, index, keep, fill, batch_size)
        reduced = reduced[torch.arange(n_cells), :, torch.arange(n_cells)]  # (cells, windows)
        final = explained(reduced, full.T, floor).cpu().numpy()
    rate = _full_rate(reduced, attribution["baseline_rate"].values, index, windows.shape)
    keep_all = np.concatenate([keep[layer].cpu().numpy() > 0.5 for layer in HIDDEN_LAYERS], axis=1)
    n_kept = np.stack([keep[layer].sum(1).cpu().numpy() for layer in HIDDEN_LAYERS], axis=1)
    curve = _padded_curves(curves, n_cells)
    if log is not None:
        log.info(
            "%s: kept channels per cell (layer 1, layer 2): %s; explained variance %s",
            stimulus.attrs["phenomenon"],
            [tuple(int(v) for v in row) for row in n_kept],
            np.round(final, 3).tolist(),
        )
    return _reduction_dataset(
        keep_all, n_kept, final, curve, rate, cells, attribution, stimulus, tolerance, min_response
    )
