"""Retina CNN after McIntosh et al. 2016, with the optional batch norm of the later BN-CNN.

The ``history`` frames are the input channels of the first convolution, so the first layer's
filters are spatiotemporal (``conv1.weight`` is ``(c1, history, k1, k1)``: the "bipolar-like"
layer that attribution analyses dissect). Convolutions are unpadded ("valid").
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from insilico.retina.models.ln import inverse_softplus, non_negative_number

# torch-deep-retina's batch-norm settings (PyTorch momentum 0.01 = Keras momentum 0.99).
BATCHNORM_EPS = 1e-3
BATCHNORM_MOMENTUM = 0.01


def _int_pair(name: str, value: Any) -> tuple[int, int]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise ValueError(f"{name} must be a list of 2 positive integers, got {value!r}")
    return value[0], value[1]


class GaussianNoise(nn.Module):
    """Additive Gaussian noise during training only (a regulariser, as in the 2016 paper)."""

    def __init__(self, std: float) -> None:
        super().__init__()
        self.std = std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.std > 0:
            return x + self.std * torch.randn_like(x)
        return x

    def extra_repr(self) -> str:
        return f"std={self.std}"


class FlatBatchNorm(nn.Module):
    """Batch norm with one mean/variance per unit (channel x position), as in the BN-CNN."""

    def __init__(self, shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.shape = shape
        self.norm = nn.BatchNorm1d(
            shape[0] * shape[1] * shape[2], eps=BATCHNORM_EPS, momentum=BATCHNORM_MOMENTUM
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.flatten(1)).view(-1, *self.shape)


class RetinaCNN(nn.Module):
    """conv -> [BN] -> noise -> ReLU, twice; linear readout -> [BN] -> softplus.

    ``regularization(rates)`` returns ``l2 * sum(readout.weight**2)`` plus
    ``l1_activity * mean over the batch of sum over cells of |rate|``: the Keras conventions of
    the original model (weight L2 summed; activity L1 summed per sample, averaged over the batch).
    """

    DEFAULT_HPARAMS: dict[str, Any] = {
        "channels": [8, 8],
        "kernels": [15, 11],
        "noise_std": 0.05,
        "batchnorm": True,
        "l2": 1e-3,
        "l1_activity": 1e-3,
    }

    def __init__(
        self,
        *,
        history: int,
        size: int,
        n_cells: int,
        channels: list[int],
        kernels: list[int],
        noise_std: float,
        batchnorm: bool,
        l2: float,
        l1_activity: float,
    ) -> None:
        super().__init__()
        c1, c2 = _int_pair("channels", channels)
        k1, k2 = _int_pair("kernels", kernels)
        if not isinstance(batchnorm, bool):
            raise ValueError(f"batchnorm must be true or false, got {batchnorm!r}")
        self.l2 = non_negative_number("l2", l2)
        self.l1_activity = non_negative_number("l1_activity", l1_activity)
        noise_std = non_negative_number("noise_std", noise_std)
        size1 = size - k1 + 1
        size2 = size1 - k2 + 1
        if size1 < 1 or size2 < 1:
            raise ValueError(
                f"kernels {[k1, k2]} do not fit a {size}x{size} stimulus: unpadded convolutions "
                f"need k1 + k2 - 1 <= {size} (here {k1 + k2 - 1}); use smaller kernels or a larger "
                "stimulus"
            )

        def norm(shape: tuple[int, ...]) -> nn.Module:
            if not batchnorm:
                return nn.Identity()
            if len(shape) == 1:
                return nn.BatchNorm1d(shape[0], eps=BATCHNORM_EPS, momentum=BATCHNORM_MOMENTUM)
            return FlatBatchNorm(shape)

        # A bias right before batch norm is cancelled by it, so leave it out.
        self.conv1 = nn.Conv2d(history, c1, k1, bias=not batchnorm)
        self.norm1 = norm((c1, size1, size1))
        self.noise1 = GaussianNoise(noise_std)
        self.act1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c1, c2, k2, bias=not batchnorm)
        self.norm2 = norm((c2, size2, size2))
        self.noise2 = GaussianNoise(noise_std)
        self.act2 = nn.ReLU()
        self.readout = nn.Linear(c2 * size2 * size2, n_cells, bias=not batchnorm)
        self.norm_out = norm((n_cells,))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = self.act1(self.noise1(self.norm1(self.conv1(x))))
        hidden = self.act2(self.noise2(self.norm2(self.conv2(hidden))))
        return F.softplus(self.norm_out(self.readout(hidden.flatten(1))))

    def regularization(self, rates: torch.Tensor) -> torch.Tensor:
        weight_penalty = self.l2 * self.readout.weight.square().sum()
        return weight_penalty + self.l1_activity * rates.abs().sum(dim=1).mean()

    def output_affine(self) -> list[nn.Parameter]:
        """Per-cell gain and offset in Hz before the softplus (the trainer may speed them up)."""
        if isinstance(self.norm_out, nn.BatchNorm1d):
            return [self.norm_out.weight, self.norm_out.bias]
        return [self.readout.bias]

    @torch.no_grad()
    def init_output_bias(self, mean_rate: torch.Tensor) -> None:
        bias = self.readout.bias if self.readout.bias is not None else self.norm_out.bias
        bias.copy_(inverse_softplus(mean_rate))
