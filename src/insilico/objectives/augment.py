"""Views of an image batch: random shifts (pad-and-crop), horizontal flips and contrast changes.

SimCLR and MMCR learn what the views of one image share; the augmentations set what the network
is asked to ignore. Images are standardised ``(B, 1, H, W)`` tensors; a crop of the padded image
shifts it by up to ``shift`` pixels (edges filled with the mean, zero), a flip mirrors it with
probability 1/2, and the contrast is scaled by a factor uniform in ``contrast`` (brightness is
removed by the standardisation).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def shift_images(x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, pad: int) -> torch.Tensor:
    """Each image shifted by its own integer ``(dy, dx)`` (|d| <= pad), zero filled."""
    size = x.shape[-1]
    padded = F.pad(x, (pad, pad, pad, pad))
    rows = (torch.arange(size, device=x.device)[None, :] + pad - dy[:, None]).long()
    cols = (torch.arange(size, device=x.device)[None, :] + pad - dx[:, None]).long()
    batch = torch.arange(len(x), device=x.device)[:, None, None]
    return padded[:, 0][batch, rows[:, :, None], cols[:, None, :]][:, None]


def make_views(
    x: torch.Tensor,
    n_views: int,
    generator: torch.Generator,
    *,
    shift: int,
    flip: bool,
    contrast: tuple[float, float],
) -> torch.Tensor:
    """``(B, 1, H, W)`` -> ``(B, V, 1, H, W)``: ``n_views`` independent augmentations per image."""
    repeated = x.repeat_interleave(n_views, dim=0)
    n = len(repeated)

    def draw(*shape):
        return torch.rand(*shape, generator=generator).to(x.device)

    dy = (draw(n) * (2 * shift + 1)).floor() - shift
    dx = (draw(n) * (2 * shift + 1)).floor() - shift
    views = shift_images(repeated, dy, dx, shift) if shift > 0 else repeated
    if flip:
        mirrored = draw(n) < 0.5
        views = torch.where(mirrored[:, None, None, None], views.flip(-1), views)
    low, high = contrast
    views = views * (low + (high - low) * draw(n))[:, None, None, None]
    return views.reshape(len(x), n_views, *x.shape[1:])
