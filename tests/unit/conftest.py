"""Fixtures shared by the unit tests of every branch."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny tensors: one thread is fastest, and far faster on a machine shared with other jobs.

    Opt in per module with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``; torch is
    imported only by the modules that ask, so tests of torch-free code stay torch-free.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
