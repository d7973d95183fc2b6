"""The stimulus as the retina models read it: one standardised movie on the device, windows by index.

Data stay on the device for a whole run: a movie is standardised once into a single float32
``(T, H, W)`` tensor and every batch gathers its history windows from it by index arithmetic.
Materialising all windows would copy the movie ``history`` times (40x, tens of GB for one
recording); the per-batch gather costs one small copy per batch instead. Training
(:mod:`insilico.retina.train`), inference (:mod:`insilico.retina.inference`) and the mechanisms
branch share these helpers.

The last ``val_fraction`` of the training bins is a contiguous validation block; windows that would
straddle the boundary are dropped, so no training window shares a frame with a validation window.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

_FRAMES_PER_CHUNK = 4096  # movie frames moved to the device at a time (bounds host memory)


class WindowSampler:
    """History windows ending at given bins, gathered per batch from one ``(T, H, W)`` tensor.

    ``sampler(ends)`` returns ``(len(ends), history, H, W)`` with window ``i`` holding frames
    ``ends[i] - history + 1 .. ends[i]``; only that batch is copied. The windows are gathered where
    the stimulus lives and handed out on ``device`` (default: the same), so a movie too large for
    the GPU can stay in host memory while the model trains on the GPU.
    """

    def __init__(
        self, stimulus: torch.Tensor, history: int, device: torch.device | None = None
    ) -> None:
        self.stimulus = stimulus
        self.device = stimulus.device if device is None else torch.device(device)
        self.offsets = torch.arange(1 - history, 1, device=stimulus.device)

    def __call__(self, ends: torch.Tensor) -> torch.Tensor:
        windows = self.stimulus[ends.to(self.stimulus.device)[:, None] + self.offsets]
        return windows.to(self.device, non_blocking=True)


def movie_device(n_bytes: int, device: torch.device, log: logging.Logger) -> torch.device:
    """Where the standardised training movie is kept: on the training device when it fits.

    On a GPU "fits" means at most half of the free memory (the rest is for the model, its
    activations and other jobs); a larger movie stays in host memory and each batch of windows
    is gathered there and copied over, slower but without running out of GPU memory.
    """
    if device.type != "cuda":
        return device
    free, _ = torch.cuda.mem_get_info(device)
    if n_bytes <= free / 2:
        return device
    log.warning(
        "training movie (%.1f GB) exceeds half the free GPU memory (%.1f GB): keeping it in host "
        "memory and copying each batch",
        n_bytes / 1e9,
        free / 1e9,
    )
    return torch.device("cpu")


class ModelInputs:
    """Everything a model reads for the bins ``ends``, as the positional arguments of ``forward``.

    The stimulus windows always; for a model with a ``response_history`` also the recorded
    responses ``(B, response_history, n_cells)`` of the bins just before each end bin.
    """

    def __init__(self, windows: WindowSampler, past: WindowSampler | None = None) -> None:
        self.windows, self.past = windows, past

    def __call__(self, ends: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if self.past is None:
            return (self.windows(ends),)
        return self.windows(ends), self.past(ends - 1)


def stimulus_moments(stimulus: np.ndarray) -> tuple[float, float]:
    """Exact mean and std of a uint8 movie from its 256-bin histogram, in chunks of frames.

    ``stimulus.std()`` would build a float64 copy of the whole movie (8x its size).
    """
    if stimulus.dtype != np.uint8:
        raise ValueError(f"stimulus must be uint8, got {stimulus.dtype}")
    counts = np.zeros(256, dtype=np.int64)
    for start in range(0, len(stimulus), _FRAMES_PER_CHUNK):
        counts += np.bincount(stimulus[start : start + _FRAMES_PER_CHUNK].ravel(), minlength=256)
    values = np.arange(256, dtype=np.float64)
    mean = float(counts @ values / counts.sum())
    std = float(np.sqrt(counts @ (values - mean) ** 2 / counts.sum()))
    if std == 0:
        raise ValueError("stimulus is constant (std 0): cannot standardise it")
    return mean, std


def standardised_on_device(
    stimulus: np.ndarray, mean: float, std: float, device: torch.device
) -> torch.Tensor:
    """The movie as one float32 tensor on ``device``, ``(x - mean) / std``, filled chunk by chunk."""
    out = torch.empty(stimulus.shape, dtype=torch.float32, device=device)
    for start in range(0, len(stimulus), _FRAMES_PER_CHUNK):
        chunk = torch.from_numpy(np.ascontiguousarray(stimulus[start : start + _FRAMES_PER_CHUNK]))
        out[start : start + len(chunk)] = (chunk.to(device).float() - mean) / std
    return out


def split_bins(
    n_bins: int, history: int, val_fraction: float, train_fraction: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Window end bins for training and validation.

    Validation is the last ``val_fraction`` of the bins; training uses the first
    ``train_fraction`` of the bins before it (the same validation block for every fraction).
    Only windows of ``history`` bins lying wholly inside one block are kept, which drops
    ``history - 1`` windows at the start of each block.
    """
    n_val = round(n_bins * val_fraction)
    n_train = round((n_bins - n_val) * train_fraction)
    val_ends = np.arange(n_bins - n_val + history - 1, n_bins)
    train_ends = np.arange(history - 1, n_train)
    if len(val_ends) < 2 or len(train_ends) < 2:
        raise ValueError(
            f"{n_bins} bins with history {history}, val_fraction {val_fraction} and "
            f"train_fraction {train_fraction} leave {len(train_ends)} training and "
            f"{len(val_ends)} validation windows; need at least 2 each"
        )
    return train_ends, val_ends
