"""Spike-triggered averages: the receptive field of a recorded (or modelled) cell.

Used by the GLM to place each cell's stimulus patch, and by the receptive-field analysis to compare
model and data; it lives here rather than in the GLM so that editing the GLM does not rerun the
analyses of the other models.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

# Window elements gathered per chunk when averaging over a movie (bounds device memory).
_CHUNK_ELEMENTS = 2**24


@torch.no_grad()
def spike_triggered_average(
    windows: Callable[[torch.Tensor], torch.Tensor], response: torch.Tensor, ends: torch.Tensor
) -> torch.Tensor:
    """Response-weighted average of the stimulus windows: ``(n_cells, history, H, W)``.

    ``windows(ends)`` gives the standardised stimulus windows ``(B, history, H, W)`` ending at
    ``ends``; ``response`` is ``(T, n_cells)`` (rates or counts). The response is centred on its
    mean over ``ends`` before weighting, so a stimulus with non-zero mean does not leak into the
    STA, and the sum is divided by the total response: ``sum_t (r_t - mean r) x_t / sum_t r_t``.
    Computed chunk by chunk on the device of the stimulus.
    """
    weights = response[ends].double()
    total = weights.sum(0)
    weights = (weights - weights.mean(0)).float()
    first = windows(ends[:1])
    chunk = max(1, _CHUNK_ELEMENTS // first[0].numel())
    sta = torch.zeros(
        (response.shape[1], *first.shape[1:]), dtype=torch.float64, device=ends.device
    )
    for index in torch.arange(len(ends), device=ends.device).split(chunk):
        # float32 products per chunk, float64 sum over chunks: fast and accurate on long movies
        sta += torch.einsum("bc,bhxy->chxy", weights[index], windows(ends[index])).double()
    return (
        sta / torch.where(total > 0, total, torch.ones_like(total))[:, None, None, None]
    ).float()


def receptive_field_centres(sta: torch.Tensor) -> torch.Tensor:
    """(row, col) of each cell's receptive field: the pixel of largest summed squared STA."""
    energy = sta.square().sum(1).flatten(1)  # (n_cells, H * W)
    width = sta.shape[-1]
    peak = energy.argmax(1)
    return torch.stack([peak // width, peak % width], dim=1)
