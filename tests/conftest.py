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


def _write_brainscore_experiment(
    folder: Path,
    *,
    regions: tuple[str, ...] = ("V1", "V2"),
    averaged: bool = False,
    time_bins: bool = True,
    n_families: int = 5,
    samples: int = 6,
    repetitions: int = 4,
    neuroids_per_region: int = 8,
    image_size: int = 16,
    seed: int = 0,
) -> dict[str, Path]:
    """A FreemanZiemba2013-shaped experiment in Brain-Score's format, written into ``folder``.

    Stimuli: ``n_families`` texture families x ``texture_type`` (texture, noise) x ``samples``,
    with no ``object_name``/``category_name`` (the stratification key is ``texture_type``).
    Responses: per neuroid a fixed random linear filter of the image plus trial noise, in 10 ms
    bins from 0 to 250 ms (``time_bins``) or squeezed to one 50-200 ms average with scalar bin
    coordinates (as Brain-Score's benchmarks hold it); ``averaged``: the mean over repetitions,
    without a ``repetition`` coordinate. Returns the paths as ``data.local.it`` names them.
    """
    import pandas as pd
    import xarray as xr

    from insilico.it.assembly import write_assembly, write_stimulus_set

    rng = np.random.default_rng(seed)
    rows = [
        {
            "stimulus_id": f"fz_{family}_{kind}_{sample}",
            "texture_family": family,
            "texture_type": kind,
            "sample": sample,
            "resolution": 320,
        }
        for family in range(n_families)
        for kind in ("texture", "noise")
        for sample in range(samples)
    ]
    metadata = pd.DataFrame(rows)
    images = rng.integers(0, 256, size=(len(rows), image_size, image_size), dtype=np.uint8)
    n_neuroids = neuroids_per_region * len(regions)
    filters = rng.normal(size=(image_size * image_size, n_neuroids)) / image_size
    drive = (images.reshape(len(rows), -1) / 255.0 - 0.5) @ filters  # (stimuli, neuroids)
    starts = np.arange(0, 250, 10)
    profile = np.clip((starts - 40) / 40.0, 0, 1)  # responses rise after 40 ms
    trials = drive[None, :, :, None] * profile + 0.3 * rng.normal(
        size=(repetitions, len(rows), n_neuroids, len(starts))
    )
    ids = metadata["stimulus_id"].to_numpy()
    presentation = {
        "stimulus_id": ("presentation", np.tile(ids, repetitions)),
        "repetition": ("presentation", np.repeat(np.arange(repetitions), len(ids))),
    }
    values = trials.reshape(repetitions * len(ids), n_neuroids, len(starts))
    if averaged:
        values = trials.mean(axis=0)
        presentation = {"stimulus_id": ("presentation", ids)}
    coords = {
        **presentation,
        "neuroid_id": (
            "neuroid",
            [f"{r}_{i}" for r in regions for i in range(neuroids_per_region)],
        ),
        "region": ("neuroid", np.repeat(regions, neuroids_per_region)),
        "animal": ("neuroid", np.tile(["m1", "m2"], n_neuroids // 2)),
        "time_bin_start": ("time_bin", starts),
        "time_bin_end": ("time_bin", starts + 10),
    }
    assembly = xr.DataArray(
        values.astype(np.float32),
        dims=("presentation", "neuroid", "time_bin"),
        coords=coords,
        attrs={"identifier": "test.FreemanZiemba2013", "stimulus_set_identifier": "test.FZ"},
    )
    if not time_bins:  # Brain-Score's squeezed 50-200 ms average, scalar bin coordinates kept
        window = (starts >= 50) & (starts + 10 <= 200)
        assembly = assembly.isel(time_bin=window).mean("time_bin", keep_attrs=True)
        assembly = assembly.assign_coords(time_bin_start=50, time_bin_end=200)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "assembly": folder / "assy_test_FreemanZiemba2013.nc",
        "stimuli_csv": folder / "stimulus_test_FreemanZiemba2013.csv",
        "stimuli_zip": folder / "stimulus_test_FreemanZiemba2013.zip",
    }
    if time_bins:
        write_assembly(assembly, paths["assembly"])
    else:  # the writer wants time bins; BrainIO writes a squeezed assembly as it is
        dataset = assembly.rename("data").to_dataset()
        dataset.attrs = dict(assembly.attrs)
        dataset.to_netcdf(paths["assembly"], engine="h5netcdf")
    write_stimulus_set(images, metadata, paths["stimuli_csv"], paths["stimuli_zip"])
    return paths


@pytest.fixture(scope="session")
def brainscore_experiment():
    """``brainscore_experiment(folder, **shape)`` writes a FreemanZiemba2013-shaped assembly and
    stimulus set (V1/V2, stratified on ``texture_type``) and returns their paths."""
    return _write_brainscore_experiment
