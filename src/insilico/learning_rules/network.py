"""The IT branch's feedforward CNN (:class:`insilico.it.models.cnn.ItCNN`) built from untied layers.

Same blocks (conv -> ReLU -> [residual 3x3 convs] -> 2x2 max-pool), same global mean pool and
linear readout, same parameter names: the forward pass is the IT model's, only the backward pass
differs. :func:`it_state_dict` drops the feedback buffers, so a trained network is saved as an
IT-branch ``cnn`` and scored by the IT branch's activation and predictivity code unchanged.
"""

from __future__ import annotations

import torch

from insilico.it.models.cnn import ItCNN
from insilico.learning_rules.layers import UntiedConv2d, UntiedLinear


class UntiedCNN(ItCNN):
    """:class:`insilico.it.models.cnn.ItCNN` with every convolution and the readout untied."""

    conv_layer = UntiedConv2d
    linear_layer = UntiedLinear


def it_state_dict(model: UntiedCNN) -> dict[str, torch.Tensor]:
    """The state dict of the equivalent IT-branch ``ItCNN`` (feedback buffers dropped)."""
    return {
        key: value.detach().cpu()
        for key, value in model.state_dict().items()
        if not key.endswith("feedback")
    }
