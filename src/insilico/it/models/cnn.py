"""Feedforward CNN for object categorisation (IT branch).

The IT models (this one and :class:`insilico.it.models.convrnn.ConvRNN`) share one small protocol, so
that training and activation extraction have no model-specific branches:

- ``forward(x)``: standardised grey images ``(B, 1, size, size)`` -> category logits ``(B, n_classes)``;
  ``step_logits(x)``: the logits of every trained step ``(steps, B, n_classes)`` (one for a CNN),
  which the training loss averages over.
- ``features(x, n_steps, image_on_steps)``: ``{layer: tensor}`` of every scored layer; a feedforward
  model ignores the step arguments and returns ``(B, C, H, W)``, a ConvRNN returns
  ``(n_steps, B, C, H, W)`` (``temporal = True``).
- ``layer_names``: the scored layers, bottom to top: ``conv1`` ... (each block's pooled output)
  and ``avgpool`` (the top block's spatial mean, which the linear readout classifies).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F


def pooled_convs(
    size: int, channels: list[int], kernels: list[int], conv: type[nn.Module] = nn.Conv2d
) -> nn.ModuleList:
    """The convolutions of the IT models (each followed by ReLU and a 2x2 max-pool), shared by
    :class:`ItCNN` and the ConvRNN so that the two differ only in recurrence; ``conv`` is the
    layer class (the learning-rule branch's untied convolution)."""
    if len(channels) != len(kernels) or not channels:
        raise ValueError(f"channels {channels} and kernels {kernels} must be equally long lists")
    if size % 2 ** len(channels):
        raise ValueError(
            f"image size {size} must be divisible by 2**{len(channels)} (one pooling per layer)"
        )
    inputs = [1, *channels[:-1]]
    return nn.ModuleList(
        conv(c_in, c_out, k, padding=k // 2)
        for c_in, c_out, k in zip(inputs, channels, kernels, strict=True)
    )


def block_features(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every block's output of a CNN laid out as :class:`ItCNN` (``convs``, their residual
    ``extra`` convolutions, ``layer_names``), by name, and the spatial average of the last."""
    out = {}
    for name, conv, extra in zip(model.layer_names[:-1], model.convs, model.extra, strict=True):
        x = F.relu(conv(x))
        for residual in extra:
            x = x + F.relu(residual(x))
        x = F.max_pool2d(x, 2)
        out[name] = x
    out["avgpool"] = x.mean(dim=(2, 3))
    return out


class ItCNN(nn.Module):
    """conv -> ReLU -> 2x2 max-pool per layer; linear readout of the top layer's spatial mean.

    The same convolutions, pooling and readout as :class:`ConvRNN` without the recurrent cells,
    so the two differ only in recurrence. Deeper CNNs (``block_convs > 1``) add ``block_convs - 1``
    residual 3x3 convolutions (``x + relu(conv(x))``) to every block before its pooling: the scored
    layers stay one per block, and depth grows without the training trouble of plain deep stacks.
    ``conv_layer`` and ``linear_layer`` are the layer classes a subclass may replace (the
    learning-rule branch's untied layers), keeping the forward pass and the parameter names.
    """

    temporal = False
    conv_layer: type[nn.Module] = nn.Conv2d
    linear_layer: type[nn.Module] = nn.Linear
    DEFAULT_HPARAMS: dict[str, Any] = {
        "channels": [8, 16, 32, 32],
        "kernels": [5, 3, 3, 3],
        "block_convs": 1,
    }

    def __init__(
        self,
        *,
        size: int,
        n_classes: int,
        channels: list[int],
        kernels: list[int],
        block_convs: int,
    ) -> None:
        super().__init__()
        if block_convs < 1:
            raise ValueError(f"block_convs must be >= 1, got {block_convs}")
        self.convs = pooled_convs(size, channels, kernels, self.conv_layer)
        self.extra = nn.ModuleList(
            nn.ModuleList(self.conv_layer(c, c, 3, padding=1) for _ in range(block_convs - 1))
            for c in channels
        )
        self.readout = self.linear_layer(channels[-1], n_classes)
        self.layer_names = [f"conv{i + 1}" for i in range(len(channels))] + ["avgpool"]

    def features(
        self, x: torch.Tensor, n_steps: int | None = None, image_on_steps: int | None = None
    ) -> dict[str, torch.Tensor]:
        return block_features(self, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.features(x)["avgpool"])

    def step_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self(x)[None]
