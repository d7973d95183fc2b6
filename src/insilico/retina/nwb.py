"""Retina recordings from NWB files, converted to the deep-retina layout on acquisition.

Retina labs share recordings as NWB (Neurodata Without Borders, read with ``pynwb``; DANDI hosts
them). One file holds one experiment and stimulus class, laid out as follows (the names of the two
stimulus series are settings, ``data.local.retina.nwb``):

- ``units``: one row per cell, with ``spike_times`` in seconds; rows become ``cell01``,
  ``cell02``, ... in table order (the unit ids are kept in the converted file's attributes);
- ``stimulus``: two ``ImageSeries`` (or ``OpticalSeries``), the training movie and the test movie,
  each either stored in the file (``data``, frames ``(T, H, W)``) or as external files
  (``external_file``: ``.npy`` stacks of frames or one image per file, paths relative to the NWB
  file, with ``starting_frame``), with frame onsets as ``timestamps`` or ``starting_time`` + ``rate``;
- presentations: rows of the ``trials`` table whose ``stimulus`` column names a series, or
  ``epochs`` whose ``tags`` contain its name. The training movie is shown once (without a row, at
  its own timestamps); each presentation of the test movie is one repeat (at least two).

The conversion bins spikes at 10 ms from each presentation's start, shows in each bin the frame on
screen at its start, and writes rates as deep-retina does (counts / 10 ms, smoothed by a 1-bin
Gaussian), so every downstream rule runs unchanged. A file that does not follow the layout stops
with one line naming the file and the missing table or series.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from insilico.core.units import BIN_SECONDS
from insilico.retina.recording import smoothed_rate, write_recording


class NwbLayoutError(ValueError):
    """An NWB file that does not hold what the conversion needs; the message names file and part."""


@dataclass(frozen=True)
class Presentation:
    """A movie as the retina saw it: frames, their onsets relative to the first, and start times."""

    frames: np.ndarray
    offsets: np.ndarray
    starts: np.ndarray

    @property
    def n_bins(self) -> int:
        step = np.median(np.diff(self.offsets)) if len(self.offsets) > 1 else BIN_SECONDS
        return int(np.floor((self.offsets[-1] + step) / BIN_SECONDS + 1e-9))

    def binned_frames(self) -> np.ndarray:
        """The frame on screen at the start of every 10 ms bin."""
        bin_starts = np.arange(self.n_bins) * BIN_SECONDS
        shown = np.searchsorted(self.offsets, bin_starts + 1e-9, side="right") - 1
        return self.frames[np.clip(shown, 0, len(self.frames) - 1)]

    def counts(self, spike_times: list[np.ndarray]) -> np.ndarray:
        """Spike counts ``(cells, presentations, bins)`` from each presentation's start."""
        edges = np.arange(self.n_bins + 1) * BIN_SECONDS
        return np.stack(
            [
                np.stack([np.histogram(spikes - start, edges)[0] for start in self.starts])
                for spikes in spike_times
            ]
        )


def _external_frames(series, folder: Path) -> np.ndarray:
    from PIL import Image

    stacks = []
    for name in series.external_file[:]:
        file = folder / str(name)
        if file.suffix == ".npy":
            stacks.append(np.load(file, allow_pickle=False))
        else:
            stacks.append(np.asarray(Image.open(file).convert("L"))[None])
    return np.concatenate(stacks)


def _stimulus_series(nwbfile, name: str, path: Path):
    """The stimulus series ``name``, its external files checked to exist."""
    if name not in nwbfile.stimulus:
        found = sorted(nwbfile.stimulus) or "none"
        raise NwbLayoutError(f"{path}: no stimulus series '{name}' (stimulus series: {found})")
    series = nwbfile.stimulus[name]
    for file in series.external_file[:] if series.external_file is not None else []:
        if not (path.parent / str(file)).is_file():
            raise NwbLayoutError(
                f"{path}: stimulus series '{name}' names {path.parent / str(file)}: no such file"
            )
    if series.external_file is None and len(series.data.shape) != 3:
        raise NwbLayoutError(
            f"{path}: stimulus series '{name}' has frames of shape {series.data.shape}, "
            "expected (T, H, W)"
        )
    return series


def _series(nwbfile, name: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Frames ``(T, H, W)`` and frame onsets (s) of the stimulus series ``name``."""
    series = _stimulus_series(nwbfile, name, path)
    if series.external_file is not None:
        frames = _external_frames(series, path.parent)
    else:
        frames = np.asarray(series.data[:])
    if frames.ndim != 3:
        raise NwbLayoutError(
            f"{path}: stimulus series '{name}' has frames of shape {frames.shape}, expected (T, H, W)"
        )
    if series.timestamps is not None:
        times = np.asarray(series.timestamps[:], float)
    else:
        times = series.starting_time + np.arange(len(frames)) / series.rate
    if len(times) != len(frames):
        raise NwbLayoutError(
            f"{path}: stimulus series '{name}' has {len(frames)} frames and {len(times)} timestamps"
        )
    return frames, times


def _presentation_starts(nwbfile, name: str) -> np.ndarray:
    """Start times of the trials (column ``stimulus``) or epochs (``tags``) that show ``name``."""
    trials = nwbfile.trials
    if trials is not None and "stimulus" in trials.colnames:
        shown = np.asarray(trials["stimulus"][:]).astype(str) == name
        return np.asarray(trials["start_time"][:], float)[shown]
    epochs = nwbfile.epochs
    if epochs is not None and "tags" in epochs.colnames:
        rows = [i for i in range(len(epochs)) if name in list(epochs["tags"][i])]
        return np.asarray(epochs["start_time"][:], float)[rows]
    return np.array([])


def _counted_starts(nwbfile, name: str, path: Path, repeated: bool) -> np.ndarray:
    """The presentations of ``name``: at least two of the test movie, at most one of the training
    movie (none: shown at its own timestamps)."""
    starts = _presentation_starts(nwbfile, name)
    if repeated and len(starts) < 2:
        raise NwbLayoutError(
            f"{path}: the test movie '{name}' needs at least two presentations (rows of the trials "
            f"table with stimulus '{name}', or epochs tagged '{name}'), found {len(starts)}"
        )
    if not repeated and len(starts) > 1:
        raise NwbLayoutError(
            f"{path}: the training movie '{name}' is presented {len(starts)} times, expected once"
        )
    return starts


def _presentation(nwbfile, name: str, path: Path, repeated: bool) -> Presentation:
    frames, times = _series(nwbfile, name, path)
    starts = _counted_starts(nwbfile, name, path, repeated)
    return Presentation(frames, times - times[0], starts if len(starts) else times[:1])


def _units(nwbfile, path: Path):
    units = nwbfile.units
    if units is None or len(units) == 0 or "spike_times" not in units.colnames:
        raise NwbLayoutError(f"{path}: no Units table with spike_times (the cells' spikes)")
    return units


def _spike_times(nwbfile, path: Path) -> tuple[list[np.ndarray], list[int]]:
    units = _units(nwbfile, path)
    spikes = [np.asarray(units["spike_times"][i], float) for i in range(len(units))]
    return spikes, [int(i) for i in units.id[:]]


def _as_uint8(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """The layout's uint8 frames: uint8 kept, anything else rescaled by the common min and max."""
    if train.dtype == np.uint8 and test.dtype == np.uint8:
        return train, test, "uint8 as stored"
    low = float(min(train.min(), test.min()))
    high = float(max(train.max(), test.max()))
    scale = 255.0 / (high - low) if high > low else 0.0
    rescale = lambda movie: np.rint((movie - low) * scale).astype(np.uint8)  # noqa: E731
    return rescale(train), rescale(test), f"rescaled from [{low:g}, {high:g}] to [0, 255]"


@contextlib.contextmanager
def _opened(path: Path):
    """The NWB file at ``path``, read lazily, closed on exit; one line if it cannot be read."""
    from pynwb import NWBHDF5IO

    try:
        io = NWBHDF5IO(str(path), "r")
        nwbfile = io.read()
    except Exception as error:  # h5py, hdmf and pynwb raise many kinds for a broken file
        raise NwbLayoutError(f"{path}: not a readable NWB file ({error})") from None
    with io:
        yield nwbfile


def check_nwb(source: str | os.PathLike, settings: dict, cells: list[int] | None = None) -> None:
    """What :func:`convert_nwb` needs is in the file (and the 1-based ``cells``, in unit order),
    checked without reading frames or spikes: the up-front check before any job."""
    path = Path(source)
    if not path.is_file():
        raise NwbLayoutError(f"{path}: no such file")
    with _opened(path) as nwbfile:
        n_units = len(_units(nwbfile, path))
        missing = sorted(set(cells or []) - set(range(1, n_units + 1)))
        if missing:
            raise NwbLayoutError(
                f"{path}: cells {missing} are not in the recording; available cells: "
                f"{list(range(1, n_units + 1))} (the units table's rows, in order)"
            )
        for name, repeated in ((settings["train_series"], False), (settings["test_series"], True)):
            _stimulus_series(nwbfile, name, path)
            _counted_starts(nwbfile, name, path, repeated)


def convert_nwb(source: str | os.PathLike, dest: str | os.PathLike, settings: dict) -> dict:
    """Convert one NWB recording to the deep-retina layout at ``dest``; returns what was done.

    ``settings``: ``train_series`` and ``test_series``, the names of the two stimulus series.
    """
    path = Path(source)
    with _opened(path) as nwbfile:
        spikes, unit_ids = _spike_times(nwbfile, path)
        train = _presentation(nwbfile, settings["train_series"], path, repeated=False)
        test = _presentation(nwbfile, settings["test_series"], path, repeated=True)
        train_frames, test_frames = train.binned_frames(), test.binned_frames()
        if train_frames.shape[1:] != test_frames.shape[1:]:
            raise NwbLayoutError(
                f"{path}: training frames {train_frames.shape[1:]} and test frames "
                f"{test_frames.shape[1:]} differ in size"
            )
        train_frames, test_frames, pixels = _as_uint8(train_frames, test_frames)
        train_counts = train.counts(spikes)[:, 0]
        test_counts = test.counts(spikes)
        info = {
            "source_format": "nwb",
            "nwb_identifier": str(nwbfile.identifier),
            "session_description": str(nwbfile.session_description),
            "unit_ids": unit_ids,
            "pixels": pixels,
            "test_repeats": int(test_counts.shape[1]),
        }
    write_recording(
        dest,
        train_stimulus=train_frames,
        train_rate=smoothed_rate(train_counts),
        test_stimulus=test_frames,
        test_repeats=smoothed_rate(test_counts),
        attrs=info,
        train_counts=train_counts,
    )
    return info
