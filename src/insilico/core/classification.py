"""Image classifiers' shared pipeline: uint8 images to a standardised tensor, and accuracy.

The IT task trainer and the retinal-bottleneck networks both categorise rendered uint8 images;
one standardisation and one accuracy keep their numbers comparable.
"""

from __future__ import annotations

import numpy as np
import torch

_EVAL_BATCH = 512  # images per forward pass when scoring (bounds memory)


def standardise(images: np.ndarray, mean: float, std: float, device: torch.device) -> torch.Tensor:
    """uint8 ``(n, h, w)`` -> float32 ``(n, 1, h, w)`` on ``device``, ``(x / 255 - mean) / std``."""
    x = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    return ((x.float() / 255.0 - mean) / std)[:, None]


@torch.no_grad()
def accuracy(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of correctly categorised images (eval mode, full precision)."""
    was_training = model.training
    model.eval()
    correct = sum(
        int((model(chunk).argmax(1) == target).sum())
        for chunk, target in zip(images.split(_EVAL_BATCH), labels.split(_EVAL_BATCH), strict=True)
    )
    model.train(was_training)
    return correct / len(labels)
