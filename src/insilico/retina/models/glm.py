"""Poisson GLM baseline (Pillow et al. 2008 style), as used by McIntosh et al. 2016.

Each cell has its own model: a spatiotemporal stimulus filter on a ``cutout x cutout`` patch around
the cell's receptive field, a spike-history filter over its own past ``spike_history`` bins, a bias,
and a softplus output in Hz. The cells share no parameter and the loss is a sum over cells, so
fitting all cells in one optimisation is the same as fitting each cell on its own.

The patch is placed from the data before training (:meth:`GLM.init_from_data`): at the peak of the
spatial energy (sum over lags of the squared STA) of the cell's spike-triggered average.

Spike history needs the recorded past response, which is why the trainer hands the model
``past`` responses (see ``response_history``) and fits it to spike counts rather than smoothed
rates: a smoothed rate at bin ``t - 1`` already contains the spikes of bin ``t``, the target. On a
new stimulus the recorded past is unknown; :meth:`GLM.closed_loop_rate` then simulates the model
with its own sampled spikes, the standard way to predict a GLM's trial-averaged response.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from insilico.core.sta import receptive_field_centres, spike_triggered_average
from insilico.core.units import BIN_SECONDS
from insilico.retina.models.ln import inverse_softplus, non_negative_number

# Simulated rates are capped here: a history filter with net positive feedback would otherwise
# make a closed-loop simulation run away; 500 Hz is above any ganglion cell's sustained rate.
MAX_RATE_HZ = 500.0


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


class GLM(nn.Module):
    """rate_c = softplus(k_c . patch_c(window) + h_c . past_c + b_c), one GLM per cell ``c``.

    ``stimulus_filter`` is ``(n_cells, history, cutout, cutout)``, the filter on each cell's patch;
    ``corner`` (a buffer, saved with the weights) is the patch's top-left pixel. ``history_filter``
    ``(n_cells, spike_history)`` weighs the past spike counts, oldest bin first. ``forward`` takes
    ``past`` as responses in Hz (as the trainer stores them) and converts them to counts per bin.
    ``regularization`` is ``l2`` times the summed squares of both filters.
    """

    DEFAULT_HPARAMS: dict[str, Any] = {"cutout": 14, "spike_history": 20, "l2": 1e-3}

    def __init__(
        self, *, history: int, size: int, n_cells: int, cutout: int, spike_history: int, l2: float
    ) -> None:
        super().__init__()
        cutout = _positive_int("cutout", cutout)
        self.cutout = min(cutout, size)
        self.size = size
        self.response_history = _positive_int("spike_history", spike_history)
        self.l2 = non_negative_number("l2", l2)
        self.stimulus_filter = nn.Parameter(torch.zeros(n_cells, history, self.cutout, self.cutout))
        self.history_filter = nn.Parameter(torch.zeros(n_cells, self.response_history))
        self.bias = nn.Parameter(torch.zeros(n_cells))
        # Until the data place them, every patch sits in the middle of the image.
        middle = (size - self.cutout) // 2
        self.register_buffer("corner", torch.full((n_cells, 2), middle, dtype=torch.long))

    @staticmethod
    def response_history_of(hparams: dict) -> int:
        return _positive_int("spike_history", hparams["spike_history"])

    def _pixels(self) -> torch.Tensor:
        """Flat pixel index ``(n_cells, cutout * cutout)`` of every patch, row-major."""
        offsets = torch.arange(self.cutout, device=self.corner.device)
        rows = self.corner[:, :1] + offsets  # (n_cells, cutout)
        cols = self.corner[:, 1:] + offsets
        return (rows[:, :, None] * self.size + cols[:, None, :]).flatten(1)

    def full_filter(self) -> torch.Tensor:
        """The stimulus filters placed in the full frame, zero outside each patch."""
        n_cells, history = self.stimulus_filter.shape[:2]
        index = self._pixels()[:, None, :].expand(n_cells, history, -1)
        full = self.stimulus_filter.new_zeros(n_cells, history, self.size * self.size)
        full = full.scatter(2, index, self.stimulus_filter.flatten(2))
        return full.view(n_cells, history, self.size, self.size)

    def stimulus_drive(self, x: torch.Tensor) -> torch.Tensor:
        """Filtered stimulus plus bias, ``(B, n_cells)``: the input to the nonlinearity without history."""
        return x.flatten(1) @ self.full_filter().flatten(1).T + self.bias

    def history_drive(self, past_counts: torch.Tensor) -> torch.Tensor:
        """Spike-history term ``(B, n_cells)`` from past counts ``(B, spike_history, n_cells)``."""
        return torch.einsum("bkc,ck->bc", past_counts, self.history_filter)

    def forward(self, x: torch.Tensor, past: torch.Tensor) -> torch.Tensor:
        """Rates ``(B, n_cells)``; ``past`` is ``(B, spike_history, n_cells)`` responses in Hz."""
        drive = self.stimulus_drive(x) + self.history_drive(past * BIN_SECONDS)
        return F.softplus(drive)

    def regularization(self, rates: torch.Tensor) -> torch.Tensor:
        return self.l2 * (self.stimulus_filter.square().sum() + self.history_filter.square().sum())

    @torch.no_grad()
    def init_output_bias(self, mean_rate: torch.Tensor) -> None:
        self.bias.copy_(inverse_softplus(mean_rate))

    @torch.no_grad()
    def init_from_data(
        self,
        windows: Callable[[torch.Tensor], torch.Tensor],
        response: torch.Tensor,
        ends: torch.Tensor,
    ) -> None:
        """Centre each cell's patch on its receptive field, found from the STA over ``ends``."""
        centres = receptive_field_centres(spike_triggered_average(windows, response, ends))
        self.corner.copy_((centres - self.cutout // 2).clamp(0, self.size - self.cutout))

    @torch.no_grad()
    def closed_loop_rate(
        self, stimulus_drive: torch.Tensor, n_samples: int, generator: torch.Generator
    ) -> torch.Tensor:
        """Expected rate ``(T, n_cells)`` when the model runs on its own spikes.

        ``stimulus_drive`` is :meth:`stimulus_drive` for consecutive bins ``(T, n_cells)``. For
        ``n_samples`` independent trials (all starting with no spikes in the history window), each
        bin's rate is computed from the trial's own sampled past spikes, a Poisson count is drawn
        from it, and the rates (not the spikes: the same mean with less sampling noise) are
        averaged over trials. Rates are capped at ``MAX_RATE_HZ``.
        """
        n_bins, n_cells = stimulus_drive.shape
        device = stimulus_drive.device
        past = torch.zeros(n_samples, self.response_history, n_cells, device=device)
        mean_rate = torch.empty(n_bins, n_cells, device=device)
        for t in range(n_bins):
            rate = F.softplus(stimulus_drive[t] + self.history_drive(past)).clamp_max(MAX_RATE_HZ)
            mean_rate[t] = rate.mean(0)
            spikes = torch.poisson(rate * BIN_SECONDS, generator=generator)
            past = torch.cat([past[:, 1:], spikes[:, None]], dim=1)
        return mean_rate
