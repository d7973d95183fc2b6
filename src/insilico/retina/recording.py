"""Read and write retina recordings in the deep-retina HDF5 layout.

Real (Stanford) and simulated recordings go through the same reader, so every model and analysis
sees one format. The reader is strict: a file that does not match the layout is refused with a
message naming the file and the dataset at fault, instead of training on misaligned data.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from scipy.ndimage import gaussian_filter1d

from insilico.core.io import DataFileError, atomic_path
from insilico.core.units import BIN_SECONDS

TRAIN_STIMULUS = "train/stimulus"
TRAIN_RATE = "train/response/firing_rate_10ms"
TRAIN_COUNTS = "train/response/binned"
TEST_STIMULUS = "test/stimulus"
TEST_REPEATS = "test/repeats"
TRUE_TEST_RATE = "groundtruth/test_rate"
# The test sets a file may hold: (movie, repeats group, noiseless rate). ``heldout`` is a second
# repeated test movie that simulated recordings add, drawn from a seed no modelling choice saw;
# the reported numbers use it where a file has one (recordings hold only ``test``).
TEST_SETS = {
    "test": (TEST_STIMULUS, TEST_REPEATS, TRUE_TEST_RATE),
    "heldout": ("heldout/stimulus", "heldout/repeats", "groundtruth/heldout_rate"),
}


SMOOTHING_SIGMA_BINS = 1.0  # firing_rate_10ms = counts / 0.01 s smoothed by this Gaussian


def smoothed_rate(counts: np.ndarray) -> np.ndarray:
    """firing_rate_10ms as in deep-retina: counts / 0.01 s smoothed by a 1-bin Gaussian."""
    return gaussian_filter1d(np.asarray(counts) / BIN_SECONDS, SMOOTHING_SIGMA_BINS, axis=-1)


class RetinaFileError(DataFileError):
    """A recording that cannot be used as it is; the message names the file and the dataset."""


@dataclass(frozen=True)
class RetinaRecording:
    """One experiment and stimulus class: training movie once, test movie with repeats."""

    path: Path
    train_stimulus: np.ndarray
    train_rate: np.ndarray
    test_stimulus: np.ndarray
    test_repeats: np.ndarray
    cell_names: tuple[str, ...]
    true_test_rate: np.ndarray | None
    # Spike counts per training bin (train/response/binned), unsmoothed; None if the file has none.
    # Models with a spike-history term need them (see insilico.retina.models.glm).
    train_counts: np.ndarray | None = None
    # Which of TEST_SETS the test_* fields hold.
    test_set: str = "test"

    @property
    def test_rate(self) -> np.ndarray:
        """Trial-averaged test response, the target that models are scored against."""
        return self.test_repeats.mean(axis=1)


def cell_name(cell_id: int) -> str:
    """Dataset name of a 1-based cell id, as deep-retina spells it (cell01, cell02, ...)."""
    return f"cell{cell_id:02d}"


def read_recording(
    path: str | os.PathLike, cells: list[int] | None = None, test_set: str = "test"
) -> RetinaRecording:
    """Read a recording, keeping only ``cells`` (1-based ids as in ``cellNN``; None = all).

    ``test_set`` picks the test movie (:data:`TEST_SETS`): ``heldout`` reads the held-out movie
    where the file has one and falls back to ``test`` where it has not (recordings);
    ``RetinaRecording.test_set`` says which was read.
    """
    if test_set not in TEST_SETS:
        raise ValueError(f"test_set must be one of {sorted(TEST_SETS)}, got {test_set!r}")
    with _open(path) as (h5, path):
        if test_set == "heldout" and TEST_SETS["heldout"][0] not in h5:
            test_set = "test"
        return _read_layout(_layout(h5, path, cells, test_set), path)


def check_recording(path: str | os.PathLike, cells: list[int] | None = None) -> list[int]:
    """Check a recording from its metadata alone (layout, shapes, cells; no data are read) and
    return the cell ids it holds: cheap enough for every file before any job starts. HDF5 checks
    that each dataset it opens lies inside the file, so a cut file is found too."""
    with _open(path) as (h5, path):
        return _layout(h5, path, cells).available


def validator(kind: str = "recording"):
    """The check of an acquired file (the acquisition's interface, as ``insilico.it.assembly``'s):
    a recording must read in the deep-retina layout, raising :class:`RetinaFileError` naming it."""
    if kind != "recording":
        raise ValueError(f"unknown retina file kind {kind!r}; one of ['recording']")
    return read_recording


@contextlib.contextmanager
def _open(path: str | os.PathLike):
    """An open HDF5 file; every way it can fail to open or read ends in one error naming it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such retina recording (the file does not exist)")
    try:
        h5 = h5py.File(path, "r")
    except OSError as err:
        raise RetinaFileError(f"{path} is not a readable HDF5 file ({err})") from err
    try:
        with h5:
            yield h5, path
    except (OSError, KeyError, RuntimeError) as err:
        # A cut file may open fine and fail only when a link or dataset is opened (h5py raises
        # RuntimeError or KeyError: "address of object past end of allocation", "invalid dataset
        # size, likely file corruption") or read (OSError).
        raise RetinaFileError(f"{path} is not a readable HDF5 file ({err})") from err


@dataclass(frozen=True)
class _Layout:
    """The datasets of a recording, checked against each other, and the cells asked for."""

    train_stimulus: h5py.Dataset
    train_rate: h5py.Dataset
    test_stimulus: h5py.Dataset
    repeats: tuple[h5py.Dataset, ...]
    available: list[int]
    ids: list[int]
    truth: h5py.Dataset | None
    counts: h5py.Dataset | None
    test_set: str = "test"


def _layout(h5: h5py.File, path: Path, cells: list[int] | None, test_set: str = "test") -> _Layout:
    test_stimulus, test_repeats, true_test_rate = TEST_SETS[test_set]
    train_stim = _dataset(h5, path, TRAIN_STIMULUS)
    train_rate = _dataset(h5, path, TRAIN_RATE)
    test_stim = _dataset(h5, path, test_stimulus)
    repeats_group = _group(h5, path, test_repeats)

    for ds in (train_stim, test_stim):
        if ds.ndim != 3:
            raise RetinaFileError(
                f"{path}: {ds.name.lstrip('/')} has shape {ds.shape}, expected (frames, height, width)"
            )
        if ds.dtype != np.uint8:
            raise RetinaFileError(
                f"{path}: {ds.name.lstrip('/')} has dtype {ds.dtype}, expected uint8 movie frames"
            )
    n_train, height, width = train_stim.shape
    n_test = test_stim.shape[0]
    if test_stim.shape[1:] != (height, width):
        raise RetinaFileError(
            f"{path}: {test_stimulus} frames are {test_stim.shape[1:]}, expected {(height, width)} "
            f"as in {TRAIN_STIMULUS}"
        )
    if train_rate.ndim != 2 or train_rate.shape[1] != n_train:
        raise RetinaFileError(
            f"{path}: {TRAIN_RATE} has shape {train_rate.shape}, expected (n_cells, {n_train}) "
            f"to match the {n_train} frames of {TRAIN_STIMULUS}"
        )

    n_cells = train_rate.shape[0]
    available = [i for i in range(1, n_cells + 1) if cell_name(i) in repeats_group]
    ids = available if cells is None else [int(c) for c in cells]
    for cell_id in ids:
        if cell_id not in available:
            raise RetinaFileError(
                f"{path}: cell {cell_id} ({cell_name(cell_id)}) is not in the recording; "
                f"available cells: {available} ({TRAIN_RATE} rows with a {test_repeats}/cellNN)"
            )
    if not ids:
        raise RetinaFileError(f"{path}: no cells to read (found no {test_repeats}/cellNN)")

    repeats = tuple(_repeats(repeats_group, path, i, n_test, test_set) for i in ids)
    if len({r.shape[0] for r in repeats}) != 1:
        found = {cell_name(i): r.shape for i, r in zip(ids, repeats, strict=True)}
        raise RetinaFileError(
            f"{path}: {test_repeats}/cellNN differ in their number of repeats: {found}"
        )

    truth = h5.get(true_test_rate)
    if truth is not None and (
        truth.ndim != 2 or truth.shape[0] != n_cells or truth.shape[1] not in (n_test, n_test + 1)
    ):
        raise RetinaFileError(
            f"{path}: {true_test_rate} has shape {truth.shape}, expected ({n_cells}, {n_test})"
        )
    counts = _dataset(h5, path, TRAIN_COUNTS) if TRAIN_COUNTS in h5 else None
    if counts is not None and counts.shape != train_rate.shape:
        raise RetinaFileError(
            f"{path}: {TRAIN_COUNTS} has shape {counts.shape}, expected {train_rate.shape} "
            f"as {TRAIN_RATE}"
        )
    return _Layout(
        train_stim, train_rate, test_stim, repeats, available, ids, truth, counts, test_set
    )


def _read_layout(layout: _Layout, path: Path) -> RetinaRecording:
    """Read the checked datasets: the asked cells' rows, in the order asked."""
    ids = layout.ids
    n_test = layout.test_stimulus.shape[0]
    # h5py point selection needs increasing, unique indices; reorder afterwards.
    unique_ids = sorted(set(ids))
    order = [unique_ids.index(i) for i in ids]
    rows = [i - 1 for i in unique_ids]

    def cell_rows(ds: h5py.Dataset, columns: int | None = None) -> np.ndarray:
        return _read(ds, path, rows)[order, :columns].astype(np.float64)

    # The recorded test response may have one bin more than the test movie: align on the movie.
    repeats = [_read(ds, path)[:, :n_test].astype(np.float64) for ds in layout.repeats]
    return RetinaRecording(
        path=path,
        train_stimulus=_read(layout.train_stimulus, path),
        train_rate=cell_rows(layout.train_rate),
        test_stimulus=_read(layout.test_stimulus, path),
        test_repeats=np.stack(repeats),
        cell_names=tuple(cell_name(i) for i in ids),
        true_test_rate=None if layout.truth is None else cell_rows(layout.truth, n_test),
        train_counts=None if layout.counts is None else cell_rows(layout.counts),
        test_set=layout.test_set,
    )


def _repeats(
    group: h5py.Group, path: Path, cell_id: int, n_test: int, test_set: str = "test"
) -> h5py.Dataset:
    ds = group[cell_name(cell_id)]
    movie, repeats, _ = TEST_SETS[test_set]
    where = f"{repeats}/{cell_name(cell_id)}"
    if not isinstance(ds, h5py.Dataset) or ds.ndim != 2:
        shape = getattr(ds, "shape", "a group")
        raise RetinaFileError(f"{path}: {where} is {shape}, expected (n_repeats, {n_test})")
    if ds.shape[1] not in (n_test, n_test + 1):
        raise RetinaFileError(
            f"{path}: {where} has shape {ds.shape}, expected (n_repeats, {n_test}) to match the "
            f"{n_test} frames of {movie} (one extra bin is tolerated)"
        )
    return ds


def _read(ds: h5py.Dataset, path: Path, rows: list[int] | None = None) -> np.ndarray:
    try:
        return ds[()] if rows is None else ds[rows]
    except OSError as err:
        raise RetinaFileError(
            f"{path} is not a readable HDF5 file: reading {ds.name.lstrip('/')} failed ({err})"
        ) from err


def _dataset(h5: h5py.File, path: Path, name: str) -> h5py.Dataset:
    node = _node(h5, path, name)
    if not isinstance(node, h5py.Dataset):
        raise RetinaFileError(f"{path}: {name} is a group, expected a dataset")
    return node


def _group(h5: h5py.File, path: Path, name: str) -> h5py.Group:
    node = _node(h5, path, name)
    if not isinstance(node, h5py.Group):
        raise RetinaFileError(f"{path}: {name} is a dataset, expected a group of cellNN datasets")
    return node


def _node(h5: h5py.File, path: Path, name: str):
    """Walk ``name`` one level at a time so that the error can list what the file does hold."""
    node = h5
    walked = ""
    for part in name.split("/"):
        if not isinstance(node, h5py.Group) or part not in node:
            found = sorted(node.keys()) if isinstance(node, h5py.Group) else []
            level = walked or "/"
            raise RetinaFileError(
                f"{path}: missing dataset '{name}' (not in the deep-retina layout); "
                f"found at '{level}': {found}"
            )
        node = node[part]
        walked = f"{walked}/{part}" if walked else part
    return node


def write_recording(
    path: str | os.PathLike,
    *,
    train_stimulus: np.ndarray,
    train_rate: np.ndarray,
    test_stimulus: np.ndarray,
    test_repeats: np.ndarray,
    attrs: dict,
    groundtruth: dict[str, np.ndarray] | None = None,
    train_counts: np.ndarray | None = None,
    heldout: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """Write a recording in the deep-retina layout, atomically.

    ``heldout`` (movie, repeats) adds a second repeated test movie under ``heldout/``, laid out as
    ``test/`` (its noiseless rate, if any, is ``groundtruth/heldout_rate``).
    ``train_counts`` (n_cells, T) are the spike counts per bin behind ``train_rate``; when given,
    ``train/response/binned`` and ``spikes/cellNN`` (spike times in s, spread evenly inside their
    bin) are written too. ``attrs`` go to the root (provenance); dicts and lists become JSON.
    """
    train_stimulus = np.asarray(train_stimulus)
    test_stimulus = np.asarray(test_stimulus)
    train_rate = np.asarray(train_rate, dtype=np.float64)
    test_repeats = np.asarray(test_repeats, dtype=np.float64)
    _check_layout(train_stimulus, train_rate, test_stimulus, test_repeats, train_counts)
    n_cells = train_rate.shape[0]

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as h5:
        for key, value in attrs.items():
            h5.attrs[key] = json.dumps(value) if isinstance(value, dict | list | tuple) else value
        h5["train/stimulus"] = train_stimulus
        h5["train/time"] = np.arange(train_stimulus.shape[0]) * BIN_SECONDS
        h5["train/response/firing_rate_10ms"] = train_rate
        _write_test_set(h5, "test", test_stimulus, test_repeats)
        if heldout is not None:
            movie, repeats = np.asarray(heldout[0]), np.asarray(heldout[1], dtype=np.float64)
            _check_layout(train_stimulus, train_rate, movie, repeats, train_counts)
            _write_test_set(h5, "heldout", movie, repeats)
        if train_counts is not None:
            counts = np.asarray(train_counts).astype(np.int64)
            h5["train/response/binned"] = counts.astype(np.float64)
            for i in range(n_cells):
                h5[f"spikes/{cell_name(i + 1)}"] = _spike_times(counts[i])
        for key, value in (groundtruth or {}).items():
            value = np.asarray(value)
            if value.dtype.kind in "US":
                value = value.astype(object).astype(h5py.string_dtype())
            h5[f"groundtruth/{key}"] = value


def _write_test_set(h5: h5py.File, group: str, movie: np.ndarray, repeats: np.ndarray) -> None:
    """A repeated test movie: frames, times, trial-averaged rate and the repeats per cell."""
    h5[f"{group}/stimulus"] = movie
    h5[f"{group}/time"] = np.arange(movie.shape[0]) * BIN_SECONDS
    h5[f"{group}/response/firing_rate_10ms"] = repeats.mean(axis=1)
    for i in range(repeats.shape[0]):
        h5[f"{group}/repeats/{cell_name(i + 1)}"] = repeats[i]


def _spike_times(counts: np.ndarray) -> np.ndarray:
    """Spike times (s) for counts per bin: k spikes in a bin sit at its (j + 0.5) / k fractions."""
    bins = np.repeat(np.arange(counts.size), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    rank = np.arange(bins.size) - first
    return (bins + (rank + 0.5) / counts[bins]) * BIN_SECONDS


def _check_layout(train_stimulus, train_rate, test_stimulus, test_repeats, train_counts) -> None:
    for name, movie in (("train_stimulus", train_stimulus), ("test_stimulus", test_stimulus)):
        if movie.dtype != np.uint8 or movie.ndim != 3:
            raise ValueError(
                f"{name} must be a uint8 (T, H, W) movie, got {movie.dtype} {movie.shape}"
            )
    if test_stimulus.shape[1:] != train_stimulus.shape[1:]:
        raise ValueError(
            f"test frames {test_stimulus.shape[1:]} differ from train frames {train_stimulus.shape[1:]}"
        )
    if train_rate.ndim != 2 or train_rate.shape[1] != train_stimulus.shape[0]:
        raise ValueError(
            f"train_rate has shape {train_rate.shape}, expected (n_cells, {train_stimulus.shape[0]})"
        )
    if test_repeats.ndim != 3 or test_repeats.shape[::2] != (
        train_rate.shape[0],
        test_stimulus.shape[0],
    ):
        raise ValueError(
            f"test_repeats has shape {test_repeats.shape}, expected "
            f"({train_rate.shape[0]}, n_repeats, {test_stimulus.shape[0]})"
        )
    if train_counts is not None and np.shape(train_counts) != train_rate.shape:
        raise ValueError(
            f"train_counts has shape {np.shape(train_counts)}, expected {train_rate.shape}"
        )
