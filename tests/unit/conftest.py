"""Fixtures shared by the unit tests of every branch."""

from __future__ import annotations

from pathlib import Path

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


@pytest.fixture
def drawn(monkeypatch, tmp_path):
    """Draw figures for real and keep them for inspection: ``figures = drawn(plots_module)``.

    The module's ``save_figure`` is replaced by one that still writes the PNG (at a low resolution:
    the tests read what was plotted, not pixels), checks it is one, and records the Figure under
    the file's stem, so a test can compare lines, images, texts and labels with its input data.
    """
    from insilico.core import io

    def capture(module) -> dict:
        figures = {}

        def save(fig, path) -> None:
            io.save_figure(fig, path, dpi=30)
            assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
            figures[Path(path).stem] = fig

        monkeypatch.setattr(module, "save_figure", save)
        return figures

    return capture
