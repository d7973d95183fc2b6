"""Positive control for attribution: a CNN whose hidden channels are the true pathways.

The mechanism stages (integrated gradients, reduction, the ground-truth check) claim to find which
interneurons carry a phenomenon. A low recovery score on a fitted CNN can mean that the method
fails or that the CNN learned another circuit; this control separates the two. Its weights are
written down from the simulated retina's own circuit (:mod:`insilico.retina.simulator`), not
trained, so each hidden channel *is* one true interneuron type by construction:

- layer 1, one channel per bipolar type: the type's dendritic field (centre minus the
  horizontal-cell surround) times its temporal filter over the model's history, threshold-linear
  at the simulator's bipolar threshold (the rectified linear bipolar drive; the simulator's
  depression and gain control act over longer times than a window and are left out);
- layer 2, the bipolar channels passed through unchanged, plus one channel per amacrine type
  pooling its bipolar input types with the amacrine's Gaussian (no delay: a window has no time
  axis left after layer 1); with OMS cells, the polyaxonal channel pools the rectified fast OFF
  bipolar channel with the polyaxonal dendritic Gaussian;
- readout, per cell: its centre weights on its bipolar channels minus its surround weights on its
  amacrine channels (the nominal Gaussians, without the simulator's per-synapse jitter; for OMS
  cells the polyaxonal annulus times its strength on the polyaxonal channel), then a
  softplus whose threshold and gain are calibrated as the simulator's are (drive quantiles on a
  seeded white-noise movie), so the control fires at similar rates.

The same stimuli, attribution, reduction and ground-truth code then run on it as on a fitted CNN;
attribution must recover the wiring here (``>= 90 %`` of (phenomenon, layer) cases) before a low
score on a fitted CNN says anything about the CNN.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from insilico.mechanisms.attribution import HIDDEN_LAYERS, probe
from insilico.retina import simulator as rs
from insilico.retina.models import build_model

CONTROL_KERNELS = (7, 5)  # layer-1 field (the bipolar's dendrites and surround), layer-2 pool


def _centred_grid(kernel: int) -> np.ndarray:
    """(kernel * kernel, 2) pixel offsets from the kernel centre, row-major."""
    offsets = np.arange(kernel) - (kernel - 1) / 2
    return np.stack(np.meshgrid(offsets, offsets, indexing="ij"), axis=-1).reshape(-1, 2)


def _gaussian(points: np.ndarray, centre: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(-((points - centre) ** 2).sum(-1) / (2 * sigma**2))


def _bipolar_kernel(retina: rs.SimulatedRetina, bipolar_type: str, history: int, k: int):
    """(history, k, k) weights: dendritic field x temporal filter, oldest frame first."""
    points = _centred_grid(k)
    spacing = float(retina.params["subunit_spacing"])
    centre = _gaussian(points, np.zeros(2), rs.BIPOLAR_SIGMA_SPACINGS * spacing)
    surround = _gaussian(points, np.zeros(2), rs.HORIZONTAL_SIGMA_PX)
    field = centre - rs.HORIZONTAL_STRENGTH * surround * centre.sum() / surround.sum()
    field /= np.linalg.norm(field)
    temporal = rs.impulse_response(*retina.bipolar_filters[bipolar_type])[:history]
    temporal = np.pad(temporal, (0, history - len(temporal)))
    return temporal[::-1, None, None] * field.reshape(k, k)[None]


def circuit_cnn(
    retina: rs.SimulatedRetina,
    history: int,
    cells: list[int] | None = None,
    channels: tuple[int, int] = (0, 0),
):
    """The control CNN for ``cells`` of ``retina`` (default all) and its metadata.

    Returns ``(model, meta)`` like :func:`insilico.retina.inference.load_model` (``cells`` 0-based),
    with channel order ``retina.bipolar_types`` in layer 1 and bipolar types then
    ``retina.amacrine_types`` in layer 2, and the input standardised to Weber contrast.
    ``channels``: the layers' channel counts, as a fitted CNN's (at least the true types): the
    channels past the true types are seeded random filters (layer 1) and random mixtures of
    layer 1 (layer 2) that no cell reads out, as a fitted CNN's unused channels. They give the
    identity-label permutation test as many relabellings as on a fitted CNN (three channels
    have only six, never below p = 0.05).
    """
    cells = list(range(retina.n_cells)) if cells is None else list(cells)
    k1, k2 = CONTROL_KERNELS
    bipolars, amacrines = list(retina.bipolar_types), list(retina.amacrine_types)
    n_bip, n_ama = len(bipolars), len(amacrines)
    c1, c2 = max(channels[0], n_bip), max(channels[1], n_bip + n_ama)
    hparams = {
        "channels": [c1, c2],
        "kernels": [k1, k2],
        "noise_std": 0.0,
        "batchnorm": False,
        "l2": 0.0,
        "l1_activity": 0.0,
    }
    model = build_model("cnn", history=history, size=retina.size, n_cells=len(cells), **hparams)
    rng = np.random.default_rng([retina.seed, rs._stream("control extra channels")])
    conv1 = np.stack([_bipolar_kernel(retina, b, history, k1) for b in bipolars])
    extra = rng.normal(size=(c1 - n_bip, history, k1, k1))
    scale = np.linalg.norm(conv1.reshape(n_bip, -1), axis=1).mean()
    norm = np.sqrt((extra**2).sum(axis=(1, 2, 3), keepdims=True))
    extra *= scale / np.maximum(norm, 1e-12)
    conv1 = np.concatenate([conv1, extra])
    conv2 = np.zeros((c2, c1, k2, k2))
    for b in range(n_bip):
        conv2[b, b, k2 // 2, k2 // 2] = 1.0
    pool = _gaussian(_centred_grid(k2), np.zeros(2), rs.AMACRINE_SIGMA_PX).reshape(k2, k2)
    poly_pool = _gaussian(_centred_grid(k2), np.zeros(2), rs.POLYAXONAL_DENDRITE_SIGMA_PX)
    for a, amacrine_type in enumerate(amacrines):
        inputs = rs.AMACRINE_INPUTS[amacrine_type]
        kernel = poly_pool.reshape(k2, k2) if amacrine_type == rs.POLYAXONAL else pool
        for bipolar_type in inputs:
            conv2[n_bip + a, bipolars.index(bipolar_type)] = kernel / kernel.sum() / len(inputs)
    conv2[n_bip + n_ama :, :, k2 // 2, k2 // 2] = rng.normal(size=(c2 - n_bip - n_ama, c1)) / c1
    n_out = retina.size - k1 - k2 + 2
    readout = _readout(retina, cells, n_out, (k1 + k2 - 2) / 2)
    readout = np.pad(readout, ((0, 0), (0, (c2 - n_bip - n_ama) * n_out * n_out)))
    with torch.no_grad():
        model.conv1.weight.copy_(torch.as_tensor(conv1, dtype=torch.float32))
        model.conv1.bias.fill_(-rs.BIPOLAR_THRESHOLD)
        model.conv2.weight.copy_(torch.as_tensor(conv2, dtype=torch.float32))
        model.conv2.bias.zero_()
        model.readout.weight.copy_(torch.as_tensor(readout, dtype=torch.float32))
        model.readout.bias.zero_()
    model.eval()
    meta = {
        "history": history,
        "size": retina.size,
        "n_cells": len(cells),
        "cell_names": [f"cell{c + 1:02d}" for c in cells],
        "stimulus_mean": rs.GREY,
        "stimulus_std": rs.GREY,
        "kind": "cnn",
        "model_params": {"history": history, **hparams},
        "control": "circuit",
    }
    calibrate_output(model, probe_windows(retina, meta), retina.max_rate)
    return model, meta


def _unit_points(n_out: int, offset: float) -> np.ndarray:
    """Pixel positions ``(n_out * n_out, 2)`` of the layer-2 units, row-major."""
    coords = np.arange(n_out) + offset
    return np.stack(np.meshgrid(coords, coords, indexing="ij"), axis=-1).reshape(-1, 2)


def _readout(retina, cells: list[int], n_out: int, offset: float) -> np.ndarray:
    """Readout weights ``(cell, channel * n_out * n_out)`` from the true wiring.

    Each cell's drive is its centre Gaussian on its bipolar channels minus its mean surround
    strength times the surround Gaussian on its amacrine channels; layer-2 unit ``(i, j)`` sits
    at pixel ``(i + offset, j + offset)``.
    """
    bipolars, amacrines = list(retina.bipolar_types), list(retina.amacrine_types)
    points = _unit_points(n_out, offset)
    surround = float(np.mean(rs.SURROUND_STRENGTH))
    weights = np.zeros((len(cells), len(bipolars) + len(amacrines), n_out * n_out))
    for i, cell in enumerate(cells):
        cell_type, centre = retina.cell_types[cell], retina.cell_centres[cell]
        for bipolar_type in rs.GANGLION_BIPOLARS[cell_type]:
            w = _gaussian(points, centre, rs.CENTRE_SIGMA_PX)
            weights[i, bipolars.index(bipolar_type)] = w / w.sum()
        for amacrine_type in rs.GANGLION_AMACRINES[cell_type]:
            channel = len(bipolars) + amacrines.index(amacrine_type)
            if amacrine_type == rs.POLYAXONAL:  # the OMS cell's peripheral annulus
                w = rs.inhibition_weights(amacrine_type, points, centre)
                weights[i, channel] = -rs.inhibition_strength(amacrine_type) * w
                continue
            w = _gaussian(points, centre, rs.AMACRINE_SIGMA_PX)
            weights[i, channel] = -surround * w / w.sum()
    return weights.reshape(len(cells), -1)


def probe_windows(retina: rs.SimulatedRetina, meta: dict) -> torch.Tensor:
    """Windows ``(T - history + 1, history, H, W)`` of the simulator's seeded calibration-length
    white noise, standardised as ``meta``'s model expects its input."""
    rng = np.random.default_rng([retina.seed, rs._stream("control calibration")])
    n_frames = int(round(rs.CALIBRATION_SECONDS / rs.DT))
    movie = rs.white_noise_movie(n_frames, retina.size, rng).astype(np.float32)
    x = torch.as_tensor((movie - meta["stimulus_mean"]) / meta["stimulus_std"], dtype=torch.float32)
    return x.unfold(0, meta["history"], 1).permute(0, 3, 1, 2)


def _hidden(model: torch.nn.Module, windows: torch.Tensor) -> torch.Tensor:
    """The last hidden layer's activity ``(windows, channels, units)``, what the readout reads."""
    with probe(model) as activity:
        model(windows)
    return activity[max(HIDDEN_LAYERS)].flatten(2)


@torch.no_grad()
def calibrate_output(model: torch.nn.Module, windows: torch.Tensor, max_rate: float) -> None:
    """Scale and shift the output drive as the simulator calibrates its cells: on the probe, the
    drive quantile CALIBRATION_THRESHOLD_QUANTILE sits at the softplus knee and
    CALIBRATION_PEAK_QUANTILE fires at about ``max_rate`` (softplus is ~linear above the knee)."""
    drive = model.norm_out(model.readout(_hidden(model, windows).flatten(1))).numpy()
    threshold = np.quantile(drive, rs.CALIBRATION_THRESHOLD_QUANTILE, axis=0)
    peak = np.quantile(drive, rs.CALIBRATION_PEAK_QUANTILE, axis=0)
    gain = torch.as_tensor(max_rate / np.maximum(peak - threshold, 1e-9), dtype=torch.float32)
    shift = -gain * torch.as_tensor(threshold, dtype=torch.float32)
    if isinstance(model.norm_out, torch.nn.BatchNorm1d):
        scaled, bias = model.norm_out.weight, model.norm_out.bias
    else:
        scaled, bias = model.readout.weight, model.readout.bias
    scaled.mul_(gain.reshape(-1, *[1] * (scaled.dim() - 1)))
    bias.copy_(gain * bias + shift)


@torch.no_grad()
def channel_contributions(model: torch.nn.Module, windows: torch.Tensor) -> np.ndarray:
    """``(cell, channel)``: the standard deviation over the probe of each last-layer channel's
    part of the cell's readout drive (how strongly the channel reaches the cell)."""
    hidden = _hidden(model, windows)
    weight = model.readout.weight.reshape(model.readout.out_features, hidden.shape[1], -1)
    return torch.einsum("wcu,kcu->wkc", hidden, weight).std(0).numpy()


def distractor_levels(model: torch.nn.Module, meta: dict, retina) -> tuple[np.ndarray, np.ndarray]:
    """A fitted CNN's off-pathway connections: each (cell, channel) contribution relative to the
    cell's strongest channel, every channel but the strongest, and the sign of its weights.

    Which channels a fitted CNN uses is unknown; every channel but each cell's strongest stands
    for its off-pathway weights (an upper bound on the distractors it holds).
    """
    model.eval()
    contributions = channel_contributions(model, probe_windows(retina, meta))
    relative = contributions / np.maximum(contributions.max(1, keepdims=True), 1e-12)
    weight = model.readout.weight.detach().reshape(*contributions.shape, -1).sum(-1).numpy()
    off = np.ones_like(relative, dtype=bool)
    off[np.arange(len(off)), contributions.argmax(1)] = False
    return relative[off], np.where(weight[off] < 0, -1.0, 1.0)


def dense_control(
    retina, history: int, levels, strength: float, seed: int, cells=None, channels=(0, 0)
):
    """The circuit control plus a connection from every channel to every cell it is not wired to.

    Each added connection is the cell's centre Gaussian on the channel, its sign and size drawn
    (seeded) from a fitted CNN's off-pathway connections ``levels`` (:func:`distractor_levels`):
    its contribution is ``strength`` times the drawn relative level times the cell's strongest
    true contribution, so ``strength`` 1 holds the fitted CNN's distractors and 0 is the circuit
    control. The output is calibrated again. Returns ``(model, meta)`` as :func:`circuit_cnn`.
    """
    model, meta = circuit_cnn(retina, history, cells, channels)
    windows = probe_windows(retina, meta)
    true = channel_contributions(model, windows)
    relative, signs = levels
    n_cells, n_channels = true.shape
    n_out = int(round(np.sqrt(model.readout.in_features // n_channels)))
    points = _unit_points(n_out, (sum(CONTROL_KERNELS) - 2) / 2)
    weight = model.readout.weight.detach().reshape(n_cells, n_channels, -1)
    off = weight.abs().sum(-1) == 0
    draw = np.random.default_rng(seed).integers(0, len(relative), (n_cells, n_channels))
    cells = range(retina.n_cells) if cells is None else cells
    with torch.no_grad():
        for i, cell in enumerate(cells):
            w = _gaussian(points, retina.cell_centres[cell], rs.CENTRE_SIGMA_PX)
            for c in np.flatnonzero(off[i].numpy()):
                weight[i, c] = torch.as_tensor(signs[draw[i, c]] * w / w.sum())
        unit = channel_contributions(model, windows)
        target = strength * relative[draw] * true.max(1, keepdims=True)
        scale = np.divide(target, unit, out=np.zeros_like(unit), where=off.numpy() & (unit > 0))
        weight.mul_(
            torch.as_tensor(np.where(off.numpy(), scale, 1.0), dtype=torch.float32)[..., None]
        )
    calibrate_output(model, windows, retina.max_rate)
    return model, {**meta, "control": "dense", "strength": float(strength)}


# Elements of the circuit control that a phenomenon's mechanism may rest on, removable by zeroing
# the readout weights of the layer-2 channels that carry them (no new calibration: a block, as
# with a drug, not a retina that grew without them). The control has no depression, gain control
# or slow adaptation (a window is feedforward), so mechanisms built on those have no element here.
ELEMENTS = ("amacrine", "polyaxonal")


def element_channels(retina, element: str) -> list[int]:
    """The circuit control's layer-2 channels that carry ``element``: ``amacrine``, the narrow-field
    amacrine surround (every amacrine type but the polyaxonal); ``polyaxonal``, the OMS cells'
    polyaxonal inhibition (none without OMS cells)."""
    n_bip, amacrines = len(retina.bipolar_types), list(retina.amacrine_types)
    if element == "amacrine":
        return [n_bip + a for a, name in enumerate(amacrines) if name != rs.POLYAXONAL]
    if element == "polyaxonal":
        return [n_bip + amacrines.index(rs.POLYAXONAL)] if rs.POLYAXONAL in amacrines else []
    raise ValueError(f"unknown element {element!r}; known: {list(ELEMENTS)}")


def without_element(model: torch.nn.Module, meta: dict, retina, element: str):
    """A copy of the circuit control with ``element`` removed: the readout weights of its channels
    (:func:`element_channels`) zeroed. Returns ``(model, meta)``, or None when the retina has no
    such element."""
    channels = element_channels(retina, element)
    if not channels:
        return None
    ablated = copy.deepcopy(model)
    n_channels = ablated.conv2.out_channels
    with torch.no_grad():
        weight = ablated.readout.weight.view(ablated.readout.out_features, n_channels, -1)
        weight[:, channels] = 0.0
    ablated.eval()
    return ablated, {**meta, "control": f"circuit without {element}"}


def untrained_cnn(retina, fitted_meta: dict, seed: int):
    """The fitted CNN's architecture at a seeded random initialisation, its output calibrated
    like the simulator's cells so that it responds: the negative control."""
    hparams = {key: value for key, value in fitted_meta["model_params"].items() if key != "history"}
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = build_model(
            fitted_meta["kind"],
            history=fitted_meta["history"],
            size=fitted_meta["size"],
            n_cells=fitted_meta["n_cells"],
            **hparams,
        )
    model.eval()
    calibrate_output(model, probe_windows(retina, fitted_meta), retina.max_rate)
    return model, {**fitted_meta, "control": "untrained"}


def payload(model: torch.nn.Module, meta: dict) -> dict:
    """A control in the format of a trained model file (:func:`insilico.retina.inference.load_model`
    rebuilds it), so the pipeline's mechanism stages dissect it like any fitted CNN."""
    return {**meta, "state_dict": model.state_dict()}
