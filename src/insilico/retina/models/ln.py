"""Linear-nonlinear (LN) baseline: one spatiotemporal filter per cell, softplus output."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


def non_negative_number(name: str, value: Any) -> float:
    """Return ``value`` as a float, or say which hyperparameter is wrong.

    YAML reads ``1e-3`` (no dot) as a string, so this check catches a common config slip.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    return float(value)


def inverse_softplus(rate: torch.Tensor) -> torch.Tensor:
    """Pre-activation whose softplus is ``rate`` (clamped away from 0, where it diverges)."""
    rate = rate.clamp_min(1e-3)
    return rate + torch.log(-torch.expm1(-rate))


class LNModel(nn.Module):
    """rate = softplus(w . window + b), one filter ``w`` over history x H x W per cell.

    ``regularization(rates)`` returns ``l2 * sum(w**2)`` (the Keras L2 convention); the rates
    are not used but are accepted so that every model has the same interface.
    """

    DEFAULT_HPARAMS: dict[str, Any] = {"l2": 0.0}

    def __init__(self, *, history: int, size: int, n_cells: int, l2: float) -> None:
        super().__init__()
        self.l2 = non_negative_number("l2", l2)
        self.linear = nn.Linear(history * size * size, n_cells)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.softplus(self.linear(x.flatten(1)))

    def regularization(self, rates: torch.Tensor) -> torch.Tensor:
        return self.l2 * self.linear.weight.square().sum()

    @torch.no_grad()
    def init_output_bias(self, mean_rate: torch.Tensor) -> None:
        self.linear.bias.copy_(inverse_softplus(mean_rate))
