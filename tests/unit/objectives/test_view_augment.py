"""Views: integer shifts move the image, zero filled; augmentation is reproducible per generator."""

from __future__ import annotations

import pytest
import torch

from insilico.objectives.augment import make_views, shift_images

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_shift_moves_pixels_and_fills_with_zero():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    shifted = shift_images(x, torch.tensor([1.0]), torch.tensor([-1.0]), pad=2)
    expected = torch.zeros(4, 4)
    expected[1:, :3] = x[0, 0, :3, 1:]
    torch.testing.assert_close(shifted[0, 0], expected)


def test_views_are_reproducible_and_shaped():
    x = torch.randn(3, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    kwargs = {"shift": 2, "flip": True, "contrast": (0.5, 1.5)}
    a = make_views(x, 4, torch.Generator().manual_seed(1), **kwargs)
    b = make_views(x, 4, torch.Generator().manual_seed(1), **kwargs)
    assert a.shape == (3, 4, 1, 8, 8)
    torch.testing.assert_close(a, b)
    same = make_views(x, 2, torch.Generator(), shift=0, flip=False, contrast=(1.0, 1.0))
    torch.testing.assert_close(same[:, 0], x)
