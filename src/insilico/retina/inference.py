"""Running a trained retina model: load it from its file, predict rates for any movie.

Evaluation, the paper's analyses and the mechanisms branch use these without importing the
trainer, so editing the training loop reruns training and what depends on its models only.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from insilico.core.io import load_torch
from insilico.retina.models import build_model
from insilico.retina.windows import ModelInputs, WindowSampler, standardised_on_device


@torch.no_grad()
def predict_windows(
    model: torch.nn.Module, inputs: ModelInputs, ends: torch.Tensor, batch_size: int
) -> torch.Tensor:
    """Eval-mode rates ``(len(ends), n_cells)`` on the device, full precision."""
    model.eval()
    return torch.cat([model(*inputs(chunk)).float() for chunk in ends.split(batch_size)])


def load_model(model_path: str | os.PathLike) -> tuple[torch.nn.Module, dict]:
    """Rebuild a model written by :func:`train_model`: (model on CPU in eval mode, metadata)."""
    payload = load_torch(model_path)
    meta = {key: value for key, value in payload.items() if key != "state_dict"}
    hparams = {key: value for key, value in meta["model_params"].items() if key != "history"}
    model = build_model(
        meta["kind"], history=meta["history"], size=meta["size"], n_cells=meta["n_cells"], **hparams
    )
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, meta


def predict(
    model: torch.nn.Module,
    meta: dict,
    stimulus_uint8: np.ndarray,
    batch_size: int = 1024,
    *,
    samples: int = 100,
    seed: int = 0,
) -> np.ndarray:
    """Rates ``(n_cells, T - history + 1)`` for bins ``history - 1 .. T - 1`` of a uint8 movie.

    Runs on the model's device (move the model first to use a GPU), in eval mode. A model with a
    spike-history term (the GLM) cannot see recorded spikes of a new movie: its prediction is
    the mean rate of ``samples`` closed-loop simulated trials (its own Poisson spikes feed its
    history), drawn from a generator seeded with ``seed``.
    """
    history, size = meta["history"], meta["size"]
    if stimulus_uint8.ndim != 3 or stimulus_uint8.shape[1:] != (size, size):
        raise ValueError(f"stimulus must be (T, {size}, {size}), got {stimulus_uint8.shape}")
    if len(stimulus_uint8) < history:
        raise ValueError(f"stimulus has {len(stimulus_uint8)} frames, fewer than history {history}")
    device = next(model.parameters()).device
    stimulus = standardised_on_device(
        stimulus_uint8, meta["stimulus_mean"], meta["stimulus_std"], device
    )
    ends = torch.arange(history - 1, len(stimulus_uint8), device=device)
    was_training = model.training
    sampler = WindowSampler(stimulus, history)
    if getattr(model, "response_history", 0):
        model.eval()
        with torch.no_grad():
            drive = torch.cat(
                [model.stimulus_drive(sampler(chunk)) for chunk in ends.split(batch_size)]
            )
            generator = torch.Generator(device=device).manual_seed(seed)
            rates = model.closed_loop_rate(drive.float(), samples, generator)
    else:
        rates = predict_windows(model, ModelInputs(sampler), ends, batch_size)
    model.train(was_training)
    return rates.T.double().cpu().numpy()
