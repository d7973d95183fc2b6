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

import numpy as np
import torch

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


def circuit_cnn(retina: rs.SimulatedRetina, history: int, cells: list[int] | None = None):
    """The control CNN for ``cells`` of ``retina`` (default all) and its metadata.

    Returns ``(model, meta)`` like :func:`insilico.retina.inference.load_model` (``cells`` 0-based),
    with channel order
    ``retina.bipolar_types`` in layer 1 and bipolar types then ``retina.amacrine_types`` in
    layer 2, and the input standardised to Weber contrast.
    """
    cells = list(range(retina.n_cells)) if cells is None else list(cells)
    k1, k2 = CONTROL_KERNELS
    bipolars, amacrines = list(retina.bipolar_types), list(retina.amacrine_types)
    n_bip, n_ama = len(bipolars), len(amacrines)
    hparams = {
        "channels": [n_bip, n_bip + n_ama],
        "kernels": [k1, k2],
        "noise_std": 0.0,
        "batchnorm": False,
        "l2": 0.0,
        "l1_activity": 0.0,
    }
    model = build_model("cnn", history=history, size=retina.size, n_cells=len(cells), **hparams)
    conv1 = np.stack([_bipolar_kernel(retina, b, history, k1) for b in bipolars])
    conv2 = np.zeros((n_bip + n_ama, n_bip, k2, k2))
    for b in range(n_bip):
        conv2[b, b, k2 // 2, k2 // 2] = 1.0
    pool = _gaussian(_centred_grid(k2), np.zeros(2), rs.AMACRINE_SIGMA_PX).reshape(k2, k2)
    poly_pool = _gaussian(_centred_grid(k2), np.zeros(2), rs.POLYAXONAL_DENDRITE_SIGMA_PX)
    for a, amacrine_type in enumerate(amacrines):
        inputs = rs.AMACRINE_INPUTS[amacrine_type]
        kernel = poly_pool.reshape(k2, k2) if amacrine_type == rs.POLYAXONAL else pool
        for bipolar_type in inputs:
            conv2[n_bip + a, bipolars.index(bipolar_type)] = kernel / kernel.sum() / len(inputs)
    readout = _readout(retina, cells, retina.size - k1 - k2 + 2, (k1 + k2 - 2) / 2)
    with torch.no_grad():
        model.conv1.weight.copy_(torch.as_tensor(conv1, dtype=torch.float32))
        model.conv1.bias.fill_(-rs.BIPOLAR_THRESHOLD)
        model.conv2.weight.copy_(torch.as_tensor(conv2, dtype=torch.float32))
        model.conv2.bias.zero_()
        model.readout.weight.copy_(torch.as_tensor(readout, dtype=torch.float32))
        model.readout.bias.zero_()
    model.eval()
    _calibrate(model, retina, history)
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
    return model, meta


def control_payload(retina: rs.SimulatedRetina, history: int, cells: list[int] | None = None):
    """The control in the format of a trained model file (:func:`insilico.retina.inference.load_model`
    rebuilds it), so the pipeline's mechanism stages dissect it like any fitted CNN."""
    model, meta = circuit_cnn(retina, history, cells)
    return {**meta, "state_dict": model.state_dict()}


def _readout(retina, cells: list[int], n_out: int, offset: float) -> np.ndarray:
    """Readout weights ``(cell, channel * n_out * n_out)`` from the true wiring.

    Each cell's drive is its centre Gaussian on its bipolar channels minus its mean surround
    strength times the surround Gaussian on its amacrine channels; layer-2 unit ``(i, j)`` sits
    at pixel ``(i + offset, j + offset)``.
    """
    bipolars, amacrines = list(retina.bipolar_types), list(retina.amacrine_types)
    coords = np.arange(n_out) + offset
    points = np.stack(np.meshgrid(coords, coords, indexing="ij"), axis=-1).reshape(-1, 2)
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


@torch.no_grad()
def _calibrate(model: torch.nn.Module, retina, history: int) -> None:
    """Scale and shift the readout as the simulator calibrates its cells: on seeded white
    noise, the drive quantile CALIBRATION_THRESHOLD_QUANTILE sits at the softplus knee and
    CALIBRATION_PEAK_QUANTILE fires at about ``max_rate`` (softplus is ~linear above the knee)."""
    rng = np.random.default_rng([retina.seed, rs._stream("control calibration")])
    n_frames = int(round(rs.CALIBRATION_SECONDS / rs.DT))
    movie = rs.white_noise_movie(n_frames, retina.size, rng).astype(np.float32)
    x = torch.as_tensor((movie - rs.GREY) / rs.GREY)
    windows = x.unfold(0, history, 1).permute(0, 3, 1, 2)  # (T - history + 1, history, H, W)
    hidden = model.act2(model.conv2(model.act1(model.conv1(windows))))
    drive = model.readout(hidden.flatten(1)).numpy()
    threshold = np.quantile(drive, rs.CALIBRATION_THRESHOLD_QUANTILE, axis=0)
    peak = np.quantile(drive, rs.CALIBRATION_PEAK_QUANTILE, axis=0)
    gain = retina.max_rate / np.maximum(peak - threshold, 1e-9)
    model.readout.weight.mul_(torch.as_tensor(gain, dtype=torch.float32)[:, None])
    model.readout.bias.copy_(torch.as_tensor(-gain * threshold, dtype=torch.float32))
