"""The IT branch's feedforward CNN (:class:`insilico.it.models.cnn.ItCNN`) built from untied layers.

Same blocks (conv -> ReLU -> [residual 3x3 convs] -> 2x2 max-pool), same global mean pool and
linear readout, same parameter names: the forward pass is the IT model's, only the backward pass
differs. :func:`it_state_dict` drops the feedback buffers, so a trained network is saved as an
IT-branch ``cnn`` and scored by the IT branch's activation and predictivity code unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from insilico.it.models.cnn import block_features
from insilico.learning_rules.layers import UntiedConv2d, UntiedLinear


class UntiedCNN(nn.Module):
    """:class:`insilico.it.models.cnn.ItCNN` with every convolution and the readout untied."""

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
        if size % 2 ** len(channels):
            raise ValueError(f"image size {size} must be divisible by 2**{len(channels)}")
        inputs = [1, *channels[:-1]]
        self.convs = nn.ModuleList(
            UntiedConv2d(c_in, c_out, k, padding=k // 2)
            for c_in, c_out, k in zip(inputs, channels, kernels, strict=True)
        )
        self.extra = nn.ModuleList(
            nn.ModuleList(UntiedConv2d(c, c, 3, padding=1) for _ in range(block_convs - 1))
            for c in channels
        )
        self.readout = UntiedLinear(channels[-1], n_classes)
        self.layer_names = [f"conv{i + 1}" for i in range(len(channels))] + ["avgpool"]

    def features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return block_features(self, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.features(x)["avgpool"])


def it_state_dict(model: UntiedCNN) -> dict[str, torch.Tensor]:
    """The state dict of the equivalent IT-branch ``ItCNN`` (feedback buffers dropped)."""
    return {
        key: value.detach().cpu()
        for key, value in model.state_dict().items()
        if not key.endswith("feedback")
    }
