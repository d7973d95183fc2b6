"""Integrated gradients from the mean-grey stimulus to each hidden channel (Tanaka et al. 2019).

For a stimulus window ``x`` and the all-grey baseline ``b`` (zero contrast: the background of every
structured stimulus), the path ``x(a) = b + a (x - b)``, ``a`` in 0..1, is cut into ``steps``
intervals. For a hidden layer with activations ``h`` and a cell's rate ``F``, unit ``j`` gets

    A_j = sum_k  (dF/dh_j(a_k) + dF/dh_j(a_{k-1})) / 2  *  (h_j(a_k) - h_j(a_{k-1}))

(the chain rule along the path, trapezoid rule). Summed over all units of a layer it telescopes
to ``F(x) - F(b)`` as the steps get finer: the *completeness* that the tests and logs check.
Attributions are summed over space, giving each channel's contribution to each cell's rate at
each time bin.

The network is not copied: forward hooks on its modules do the work (``FIRST_LAYER`` and
``HIDDEN_LAYERS`` name them in :class:`~insilico.retina.models.cnn.RetinaCNN`). The first
convolution is affine in its input, so the straight path in pixel space is a straight path in its
output: a hook computes it once per window and expands it into all ``steps + 1`` points, and only
the layers after it run at every step. The same hook repeats a window for many channel masks in
:mod:`~insilico.mechanisms.reduction`. Hooks on the hidden activations record them (for the
gradients) and can clamp masked channels to their grey-screen activity.

Everything is batched over windows and steps on the model's device (a GPU when present).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator

import numpy as np
import torch
import xarray as xr

from insilico.core.units import GREY
from insilico.retina.windows import WindowSampler, standardised_on_device

FIRST_LAYER = "conv1"
HIDDEN_LAYERS = {1: "act1", 2: "act2"}


@contextlib.contextmanager
def probe(
    model: torch.nn.Module,
    *,
    expand: Callable[[torch.Tensor], torch.Tensor] | None = None,
    masks: dict[int, tuple[torch.Tensor, torch.Tensor]] | None = None,
) -> Iterator[dict[int, torch.Tensor]]:
    """Hook ``model`` for one forward pass; yield the dict that receives each hidden layer's output.

    ``expand`` replaces the first layer's output (e.g. by the points of an integration path).
    ``masks[layer] = (keep, fill)``: ``keep (batch, channels)`` in [0, 1] and ``fill (channels,
    h, w)``; the layer's output becomes ``keep * output + (1 - keep) * fill``.
    """
    activity: dict[int, torch.Tensor] = {}
    handles = []
    if expand is not None:
        first = getattr(model, FIRST_LAYER)
        handles.append(first.register_forward_hook(lambda module, args, out: expand(out)))
    for layer, name in HIDDEN_LAYERS.items():

        def record(module, args, out, layer=layer):
            if masks is not None and layer in masks:
                keep, fill = masks[layer]
                keep = keep[:, :, None, None]
                out = keep * out + (1 - keep) * fill
            activity[layer] = out
            return out

        handles.append(getattr(model, name).register_forward_hook(record))
    try:
        yield activity
    finally:
        for handle in handles:
            handle.remove()


@contextlib.contextmanager
def frozen(model: torch.nn.Module) -> Iterator[None]:
    """No gradients for the weights (only for activations) and eval mode, restored afterwards."""
    flags = [p.requires_grad for p in model.parameters()]
    was_training = model.training
    model.requires_grad_(False)
    model.eval()
    try:
        yield
    finally:
        for parameter, flag in zip(model.parameters(), flags, strict=True):
            parameter.requires_grad_(flag)
        model.train(was_training)


class Windows:
    """The history windows of every (condition, time bin) of a stimulus, gathered on demand.

    ``index`` runs over conditions then time bins; ``grey[i]`` says that window ``i`` is all mean
    grey (its attribution is zero and its rate the baseline rate, so it is skipped).
    """

    def __init__(self, stimulus: xr.Dataset, meta: dict, device: torch.device) -> None:
        movie = stimulus["movie"].values
        history, pad = meta["history"], stimulus.attrs["pad"]
        if stimulus.attrs["history"] != history or stimulus.attrs["size"] != meta["size"]:
            raise ValueError(
                f"stimulus rendered for history {stimulus.attrs['history']}, size "
                f"{stimulus.attrs['size']}; the model has history {history}, size {meta['size']}"
            )
        n_conditions, n_frames = movie.shape[:2]
        self.shape = (n_conditions, n_frames - pad)
        frames = standardised_on_device(
            movie.reshape(-1, *movie.shape[2:]), meta["stimulus_mean"], meta["stimulus_std"], device
        )
        self.sampler = WindowSampler(frames, history)
        ends = np.arange(n_conditions)[:, None] * n_frames + pad + np.arange(self.shape[1])
        self.ends = torch.from_numpy(ends.ravel()).to(device)
        # A window is grey when none of its frames has a non-grey pixel.
        coloured = (movie != int(GREY)).any(axis=(2, 3)).reshape(-1).astype(np.int64)
        before = np.concatenate([[0], np.cumsum(coloured)])
        self.grey = (before[ends.ravel() + 1] - before[ends.ravel() + 1 - history]) == 0
        self.baseline = torch.full(
            (1, history, meta["size"], meta["size"]),
            (GREY - meta["stimulus_mean"]) / meta["stimulus_std"],
            device=device,
        )

    def __len__(self) -> int:
        return len(self.ends)

    def __call__(self, index: np.ndarray) -> torch.Tensor:
        return self.sampler(self.ends[torch.from_numpy(index).to(self.ends.device)])


def channel_labels(model: torch.nn.Module, meta: dict) -> tuple[list[str], list[int], list[int]]:
    """Labels ``L<layer>C<channel>``, layer and channel index of every hidden channel."""
    grey = torch.zeros(1, meta["history"], meta["size"], meta["size"])
    grey = grey.to(next(model.parameters()).device)
    with frozen(model), torch.no_grad(), probe(model) as activity:
        model(grey)
    labels, layers, channels = [], [], []
    for layer in HIDDEN_LAYERS:
        for channel in range(activity[layer].shape[1]):
            labels.append(f"L{layer}C{channel}")
            layers.append(layer)
            channels.append(channel)
    return labels, layers, channels


def grey_activity(model: torch.nn.Module, windows: Windows) -> dict[int, torch.Tensor]:
    """Each hidden layer's activity ``(channels, h, w)`` on the all-grey window."""
    with frozen(model), torch.no_grad(), probe(model) as activity:
        model(windows.baseline)
    return {layer: value[0] for layer, value in activity.items()}


def _path_ig(
    model: torch.nn.Module, x: torch.Tensor, baseline: torch.Tensor, steps: int
) -> tuple[dict[int, torch.Tensor], torch.Tensor, torch.Tensor]:
    """Attributions ``{layer: (n, cells, channels)}``, rates at x ``(n, cells)`` and at baseline."""
    n = len(x)
    alphas = torch.linspace(0.0, 1.0, steps + 1, device=x.device)

    def expand(out: torch.Tensor) -> torch.Tensor:
        start, delta = out[:1], out[1:] - out[:1]
        path = start[:, None] + alphas[None, :, None, None, None] * delta[:, None]
        return path.reshape(n * (steps + 1), *out.shape[1:]).detach().requires_grad_(True)

    with probe(model, expand=expand) as activity:
        rates = model(torch.cat([baseline, x]))
    hidden = [activity[layer] for layer in HIDDEN_LAYERS]
    # Trapezoid rule rearranged: sum_k (g_k + g_{k-1}) / 2 * dh_k = sum_k g_k * w_k with
    # w_k = (dh_k + dh_{k+1}) / 2, so the weights are shared by all cells.
    weights = []
    for h in hidden:
        h = h.detach().reshape(n, steps + 1, h.shape[1], -1)
        dh = (h[:, 1:] - h[:, :-1]) / 2
        w = torch.zeros_like(h)
        w[:, 1:] += dh
        w[:, :-1] += dh
        weights.append(w)
    n_cells = rates.shape[1]
    attributions = {layer: [] for layer in HIDDEN_LAYERS}
    for cell in range(n_cells):
        grads = torch.autograd.grad(rates[:, cell].sum(), hidden, retain_graph=cell < n_cells - 1)
        for layer, w, g in zip(HIDDEN_LAYERS, weights, grads, strict=True):
            attributions[layer].append((g.reshape(w.shape) * w).sum(dim=(1, 3)))
    rates = rates.detach().reshape(n, steps + 1, n_cells)
    return (
        {layer: torch.stack(values, dim=1) for layer, values in attributions.items()},
        rates[:, -1],
        rates[0, 0],
    )


def integrated_gradients(
    model: torch.nn.Module,
    windows: Windows,
    steps: int,
    batch_size: int,
    log: logging.Logger | None = None,
) -> dict[str, np.ndarray | float]:
    """Integrated gradients of every cell's rate to every hidden channel, for all windows.

    Batches hold ``batch_size`` path points (windows x (steps + 1)). Returns numpy arrays:
    ``layer<k>`` ``(windows, cells, channels)``, ``rate`` ``(windows, cells)``, ``baseline_rate``
    ``(cells,)``, and ``samples_per_second`` (path points through the network per second).
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    active = np.flatnonzero(~windows.grey)
    per_batch = max(1, batch_size // (steps + 1))
    results: dict[int, list[torch.Tensor]] = {layer: [] for layer in HIDDEN_LAYERS}
    rates = []
    baseline_rate = None
    device = windows.baseline.device
    start = time.perf_counter()
    with frozen(model):
        if len(active) == 0:  # nothing but grey: evaluate the baseline alone
            with torch.no_grad():
                baseline_rate = model(windows.baseline)[0]
        for first in range(0, len(active), per_batch):
            chunk = active[first : first + per_batch]
            attributions, rate, baseline_rate = _path_ig(
                model, windows(chunk), windows.baseline, steps
            )
            for layer in HIDDEN_LAYERS:
                results[layer].append(attributions[layer])
            rates.append(rate)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    throughput = len(active) * (steps + 1) / seconds if len(active) else 0.0
    if log is not None:
        log.info(
            "integrated gradients: %d of %d windows (others all grey) x %d steps in %.2f s on %s: "
            "%.0f path points/s",
            len(active),
            len(windows),
            steps,
            seconds,
            device,
            throughput,
        )
    baseline_np = baseline_rate.cpu().double().numpy()
    out: dict[str, np.ndarray | float] = {
        "baseline_rate": baseline_np,
        "samples_per_second": throughput,
    }
    rate_all = np.broadcast_to(baseline_np, (len(windows), len(baseline_np))).copy()
    if len(active):
        rate_all[active] = torch.cat(rates).cpu().double().numpy()
    out["rate"] = rate_all
    for layer in HIDDEN_LAYERS:
        n_channels = results[layer][0].shape[-1] if results[layer] else 0
        values = np.zeros((len(windows), len(baseline_np), n_channels))
        if len(active):
            values[active] = torch.cat(results[layer]).cpu().double().numpy()
        out[f"layer{layer}"] = values
    return out


def _ranks_within_layers(importance: np.ndarray, layer_of: np.ndarray) -> np.ndarray:
    """Rank ``(cell, channel)`` of each channel's importance within its layer (0 = most)."""
    rank = np.empty_like(importance, dtype=np.int64)
    for layer in HIDDEN_LAYERS:
        columns = np.flatnonzero(layer_of == layer)
        order = np.argsort(-importance[:, columns], axis=1, kind="stable")
        rank[np.arange(len(importance))[:, None], columns[order]] = np.arange(len(columns))
    return rank


def _completeness(error: np.ndarray, drive: np.ndarray, phenomenon: str, log) -> float:
    """The largest completeness error relative to the largest |rate - baseline| (logged)."""
    scale = float(np.abs(drive).max())
    relative = float(np.abs(error).max() / scale) if scale > 0 else 0.0
    if log is not None:
        log.info(
            "%s: completeness error max %.3g Hz (%.3g of the largest |rate - baseline| %.3g Hz)",
            phenomenon,
            float(np.abs(error).max()),
            relative,
            scale,
        )
    return relative


def attribute(
    model: torch.nn.Module,
    meta: dict,
    stimulus: xr.Dataset,
    *,
    steps: int,
    batch_size: int,
    device: torch.device,
    log: logging.Logger | None = None,
) -> xr.Dataset:
    """Integrated-gradients attributions of one phenomenon's stimulus, as a labelled Dataset.

    Variables: ``attribution (condition, cell, channel, time)`` (Hz: each channel's share of the
    rate minus the grey-screen rate), ``rate`` and ``baseline_rate``, ``completeness_error (layer,
    condition, cell, time)`` = sum of a layer's attributions minus (rate - baseline rate),
    ``importance (cell, channel)`` = sum over conditions and time of |attribution| and ``rank
    (cell, channel)`` (0 = most important within its layer). ``channel`` is labelled
    ``L<layer>C<index>`` with coordinates ``layer`` and ``channel_index``.
    """
    model = model.to(device)
    windows = Windows(stimulus, meta, device)
    if windows.grey.all() and log is not None:
        log.warning("%s: every window is mean grey", stimulus.attrs["phenomenon"])
    ig = integrated_gradients(model, windows, steps, batch_size, log)
    labels, layers, channels = channel_labels(model, meta)
    n_conditions, n_time = windows.shape
    cells = list(meta["cell_names"])

    def grid(values: np.ndarray) -> np.ndarray:
        """(windows, cells, ...) -> (condition, cells, ..., time)."""
        values = values.reshape(n_conditions, n_time, *values.shape[1:])
        return np.moveaxis(values, 1, -1)

    per_layer = [grid(ig[f"layer{layer}"]) for layer in HIDDEN_LAYERS]
    attribution = np.concatenate(per_layer, axis=2)
    rate = grid(ig["rate"])
    drive = rate - ig["baseline_rate"][None, :, None]
    error = np.stack([values.sum(axis=2) - drive for values in per_layer])
    importance = np.abs(attribution).sum(axis=(0, 3))
    rank = _ranks_within_layers(importance, np.asarray(layers))
    relative = _completeness(error, drive, stimulus.attrs["phenomenon"], log)
    return xr.Dataset(
        {
            "attribution": (("condition", "cell", "channel", "time"), attribution, {"units": "Hz"}),
            "rate": (("condition", "cell", "time"), rate, {"units": "Hz"}),
            "baseline_rate": ("cell", ig["baseline_rate"], {"units": "Hz"}),
            "completeness_error": (("layer", "condition", "cell", "time"), error, {"units": "Hz"}),
            "importance": (("cell", "channel"), importance, {"units": "Hz bins"}),
            "rank": (("cell", "channel"), rank),
        },
        coords={
            "condition": stimulus["condition"].values,
            "time": stimulus["time"],
            "cell": cells,
            "channel": labels,
            "layer": list(HIDDEN_LAYERS),
            "channel_layer": ("channel", layers),
            "channel_index": ("channel", channels),
        },
        attrs={
            "phenomenon": stimulus.attrs["phenomenon"],
            "steps": steps,
            "baseline": f"all-grey window (pixel value {GREY:g}, zero contrast)",
            "max_completeness_error": float(np.abs(error).max()),
            "relative_completeness_error": relative,
            "samples_per_second": float(ig["samples_per_second"]),
            "device": str(device),
        },
    )
