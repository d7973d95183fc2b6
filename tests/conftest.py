"""Fixtures shared by the unit and the workflow tests."""

from __future__ import annotations

import functools
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """No test reaches the internet: a proxy set in the environment must not intercept the
    loopback servers the download tests talk to (Snakemake subprocesses inherit this)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


@contextmanager
def _serve(folder: Path):
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def file_server():
    """``with file_server(folder) as url:`` serves ``folder`` over HTTP on 127.0.0.1."""
    return _serve


def _bars(ax) -> list[np.ndarray]:
    """Heights of each ``ax.bar`` call on ``ax``, in drawing order."""
    from matplotlib.container import BarContainer

    return [
        np.array([p.get_height() for p in c]) for c in ax.containers if isinstance(c, BarContainer)
    ]


def _points(ax) -> list[np.ndarray]:
    """The (x, y) offsets of each scatter call on ``ax``, in drawing order."""
    from matplotlib.collections import PathCollection

    return [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]


def _errorbars(ax) -> list:
    """The data line of each ``ax.errorbar`` call (its label stays on the container)."""
    from matplotlib.container import ErrorbarContainer

    return [c.lines[0] for c in ax.containers if isinstance(c, ErrorbarContainer)]


def _labelled(ax, suffix: str) -> list:
    return [line for line in ax.get_lines() if line.get_label().endswith(suffix)]


def _ticks(ax, axis: str = "x") -> list[str]:
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [label.get_text() for label in labels]


@pytest.fixture(scope="session")
def artists():
    """Readers of what a matplotlib Axes shows, for the figure tests: ``artists.bars(ax)``,
    ``points``, ``errorbars``, ``labelled(ax, suffix)`` and ``ticks(ax, "x" | "y")``."""
    return SimpleNamespace(
        bars=_bars, points=_points, errorbars=_errorbars, labelled=_labelled, ticks=_ticks
    )
