"""Brain-Score style NeuroidAssembly and StimulusSet files: write, read, validate, trial-average.

One reader serves simulated, downloaded and local data, so the formats are the ones of BrainIO,
for any of Brain-Score's neural assemblies (MajajHong2015 V4/IT, FreemanZiemba2013 V1/V2, ...):

- **NeuroidAssembly**: a netCDF-4 (HDF5) file holding one data variable with dimensions
  ``presentation``, ``neuroid`` and, optionally, ``time_bin`` (any order on disk; read back as
  ``presentation x neuroid x time_bin``). Coordinates are plain (MultiIndex levels reset, as BrainIO
  writes them): ``presentation`` needs ``stimulus_id`` (legacy name ``image_id``) and
  ``repetition``; ``neuroid`` needs ``neuroid_id`` and ``region`` (V1, V2, V4, IT...: the regions
  scored are the ones present); ``time_bin`` needs ``time_bin_start`` and ``time_bin_end`` (ms).
  Two Brain-Score shapes are completed on reading: an assembly without a ``time_bin`` dimension
  (squeezed, as Brain-Score's benchmarks hold it) gets one bin, from its scalar
  ``time_bin_start``/``time_bin_end`` coordinates or, lacking them, :data:`DEFAULT_WINDOW_MS`
  (attribute ``time_window_assumed``); an assembly averaged over repetitions (no ``repetition``
  and every stimulus presented once) gets ``repetition`` 0 and attribute ``averaged_repetitions``
  (no split-half ceiling can be computed from it). Global attributes ``identifier`` and
  ``stimulus_set_identifier``. Other coordinates (``object_name``, ``animal``, ``arr``...) are kept.
- **StimulusSet**: a csv with one row per stimulus (``stimulus_id`` or legacy ``image_id``,
  ``filename`` and any metadata) and a zip holding the images under their ``filename``. Images are
  read as grey-scale uint8. The cross-validation splits are stratified on one metadata column
  (``stratify_by``: ``object_name`` for MajajHong2015, ``texture_type`` for FreemanZiemba2013);
  read with ``stratify_by``, the table's ``object_name`` holds those labels (the csv's own
  ``object_name``, if another key is chosen, is kept as ``csv_object_name``) and a missing
  ``category_name`` (the decoded label) is the same labels.

Every problem raises :class:`AssemblyFormatError` naming the file and what is missing or wrong.
Real assemblies are large (the temporal MajajHong2015 file holds ~148k presentations x 256
neuroids x its time bins), so :func:`trial_average` and :func:`split_half_consistency` read them
a few time bins at a time from a lazily opened file.
"""

from __future__ import annotations

import contextlib
import io
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from insilico.core.io import DataFileError, atomic_path
from insilico.core.stats import pearson

DIMS = ("presentation", "neuroid", "time_bin")
# The response window assumed for an assembly that carries no time information at all
# (Brain-Score's standard 70-170 ms); recorded in the attribute ``time_window_assumed``.
DEFAULT_WINDOW_MS = (70, 170)
REQUIRED_COORDS = {
    "presentation": ("stimulus_id", "repetition"),
    "neuroid": ("neuroid_id", "region"),
    "time_bin": ("time_bin_start", "time_bin_end"),
}
REQUIRED_COLUMNS = ("stimulus_id", "filename")
# Labels the protocol reads from a StimulusSet: ``object_name`` (the stratification labels) and
# ``category_name`` (the decoded labels); filled from ``stratify_by`` where the csv lacks them.
LABEL_COLUMNS = ("object_name", "category_name")
LEGACY_NAMES = {"image_id": "stimulus_id"}
DATA_VARIABLE = "data"
# Fixed zip member timestamps: the same images always give the same bytes (and sha1).
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_BINS_PER_CHUNK = 2  # time bins read at once: ~0.6 GB of float64 for a real assembly


class AssemblyFormatError(DataFileError):
    """A NeuroidAssembly or StimulusSet file that does not follow the format; names the file."""


# --- NeuroidAssembly ---------------------------------------------------------------------------


def write_assembly(assembly: xr.DataArray, path: str | os.PathLike) -> None:
    """Write a NeuroidAssembly atomically as BrainIO does: plain coordinates, compressed data.

    The array is validated first, so an incomplete assembly never reaches the disk.
    """
    assembly = validate_assembly(assembly, path)
    for key in ("identifier", "stimulus_set_identifier"):
        if not isinstance(assembly.attrs.get(key), str):
            raise AssemblyFormatError(f"{path}: assembly attribute {key!r} must be a string")
    dataset = assembly.rename(DATA_VARIABLE).to_dataset()
    dataset.attrs = dict(assembly.attrs)
    encoding = {DATA_VARIABLE: {"zlib": True, "complevel": 1}}
    with atomic_path(path) as tmp:
        dataset.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)


def validate_assembly(assembly: xr.DataArray, path: str | os.PathLike = "<memory>") -> xr.DataArray:
    """Check dims and coordinates; return it as ``presentation x neuroid x time_bin``.

    The legacy coordinate ``image_id`` is renamed ``stimulus_id``; index coordinates on the
    dimensions themselves (a MultiIndex) are reset to plain coordinates. An assembly without time
    bins gets one, an assembly averaged over repetitions gets ``repetition`` 0 (module docstring).
    """
    missing_dims = [dim for dim in DIMS[:2] if dim not in assembly.dims]
    extra_dims = [dim for dim in assembly.dims if dim not in DIMS]
    if missing_dims or extra_dims:
        raise AssemblyFormatError(
            f"{path}: a NeuroidAssembly has dimensions {list(DIMS)} (time_bin optional); found "
            f"{list(assembly.dims)}"
            + (f" (missing {missing_dims})" if missing_dims else "")
            + (f" (unexpected {extra_dims})" if extra_dims else "")
        )
    indexes = [name for name in assembly.indexes if name in assembly.dims]
    if indexes:
        assembly = assembly.reset_index(indexes)
    for legacy, name in LEGACY_NAMES.items():
        if name not in assembly.coords and legacy in assembly.coords:
            assembly = assembly.rename({legacy: name})
    if "time_bin" not in assembly.dims:
        assembly = _one_time_bin(assembly)
    if "repetition" not in assembly.coords and "stimulus_id" in assembly.coords:
        assembly = _averaged_repetitions(assembly)
    for dim, names in REQUIRED_COORDS.items():
        missing = [name for name in names if name not in assembly.coords]
        if missing:
            raise AssemblyFormatError(
                f"{path}: NeuroidAssembly lacks coordinate(s) {missing} on dimension {dim!r}"
            )
        wrong = [name for name in names if assembly[name].dims != (dim,)]
        if wrong:
            raise AssemblyFormatError(
                f"{path}: coordinate(s) {wrong} must lie along dimension {dim!r}"
            )
    if not np.issubdtype(assembly.dtype, np.number):
        raise AssemblyFormatError(f"{path}: data must be numeric, got {assembly.dtype}")
    return assembly.transpose(*DIMS)


def _one_time_bin(assembly: xr.DataArray) -> xr.DataArray:
    """A squeezed (time-averaged) assembly with its one bin back: from its scalar bin coordinates
    where it kept them, else :data:`DEFAULT_WINDOW_MS`, recorded as assumed."""
    bounds = []
    for name, default in zip(("time_bin_start", "time_bin_end"), DEFAULT_WINDOW_MS, strict=True):
        scalar = name in assembly.coords and assembly[name].ndim == 0
        bounds.append(int(assembly[name].values) if scalar else default)
        if name in assembly.coords:
            assembly = assembly.drop_vars(name)
    if bounds == list(DEFAULT_WINDOW_MS):
        assembly = assembly.assign_attrs(time_window_assumed=f"{bounds[0]}-{bounds[1]} ms")
    return assembly.expand_dims("time_bin", axis=-1).assign_coords(
        time_bin_start=("time_bin", [bounds[0]]), time_bin_end=("time_bin", [bounds[1]])
    )


def _averaged_repetitions(assembly: xr.DataArray) -> xr.DataArray:
    """An assembly averaged over repetitions (each stimulus once) as repetition 0; one with
    repeated stimuli and no ``repetition`` is left for the caller to refuse."""
    ids = np.asarray(assembly["stimulus_id"].values)
    if assembly["stimulus_id"].dims != ("presentation",) or len(np.unique(ids)) != len(ids):
        return assembly
    assembly = assembly.assign_coords(repetition=("presentation", np.zeros(len(ids), np.int64)))
    return assembly.assign_attrs(averaged_repetitions="true")


@contextlib.contextmanager
def open_assembly(path: str | os.PathLike) -> Iterator[xr.DataArray]:
    """A validated NeuroidAssembly whose data stay on disk until indexed (for large files)."""
    path = Path(path)
    if not path.is_file():
        raise AssemblyFormatError(f"{path}: no such NeuroidAssembly file")
    try:
        dataset = xr.open_dataset(path, engine="h5netcdf")
    except Exception as error:  # h5py/h5netcdf raise many types for a damaged file
        raise AssemblyFormatError(f"{path}: not a readable netCDF-4 file ({error})") from error
    with dataset:
        names = list(dataset.data_vars)
        if len(names) != 1:
            raise AssemblyFormatError(
                f"{path}: a NeuroidAssembly file holds exactly one data variable, found {names}"
            )
        assembly = dataset[names[0]]
        assembly.attrs = {**dataset.attrs, **assembly.attrs}
        yield validate_assembly(assembly, path)


def read_assembly(path: str | os.PathLike) -> xr.DataArray:
    """A validated NeuroidAssembly loaded into memory (``presentation x neuroid x time_bin``)."""
    with open_assembly(path) as assembly:
        return assembly.load()


def trial_average(
    assembly: xr.DataArray, stimulus_ids: list[str] | np.ndarray, path: str | os.PathLike = ""
) -> np.ndarray:
    """Mean over repetitions per stimulus, ``(len(stimulus_ids), neuroid, time_bin)`` float64.

    Read a few time bins at a time, so a lazily opened file is never loaded whole. Stimuli
    without any presentation give an error naming them.
    """
    index = _stimulus_index(assembly, stimulus_ids, path)
    counts = np.bincount(index[index >= 0], minlength=len(stimulus_ids))
    absent = np.flatnonzero(counts == 0)
    if absent.size:
        names = [str(stimulus_ids[i]) for i in absent[:5]]
        raise AssemblyFormatError(
            f"{path}: {absent.size} stimulus(es) have no presentation, e.g. {names}"
        )
    out = np.zeros((len(stimulus_ids), assembly.sizes["neuroid"], assembly.sizes["time_bin"]))
    for bins, values in _time_chunks(assembly):
        out[:, :, bins] = _group_sum(values, index, len(stimulus_ids)) / counts[:, None, None]
    return out


def split_half_consistency(
    assembly: xr.DataArray,
    stimulus_ids: list[str] | np.ndarray,
    n_splits: int,
    seed: int,
    path: str | os.PathLike = "",
) -> np.ndarray:
    """Brain-Score's internal consistency: ``(n_splits, neuroid, time_bin)``.

    Per split, half of the ``repetition`` values (drawn from ``np.random.default_rng(seed)``)
    form one half and the rest the other; each half is averaged per stimulus, the two are
    correlated per neuroid over the stimuli present in both (Pearson), and Spearman-Brown
    corrected to the full number of repetitions, ``2 r / (1 + r)``.
    """
    repetitions = np.asarray(assembly["repetition"].values)
    values = np.unique(repetitions)
    if len(values) < 2:
        raise AssemblyFormatError(
            f"{path}: the split-half ceiling needs at least 2 repetitions, found {len(values)}"
        )
    rng = np.random.default_rng(seed)
    halves = [
        np.isin(repetitions, rng.choice(values, len(values) // 2, replace=False))
        for _ in range(n_splits)
    ]
    index = _stimulus_index(assembly, stimulus_ids, path)
    n = len(stimulus_ids)
    out = np.full((n_splits, assembly.sizes["neuroid"], assembly.sizes["time_bin"]), np.nan)
    for bins, chunk in _time_chunks(assembly):
        for split, half in enumerate(halves):
            index_a, index_b = np.where(half, index, -1), np.where(half, -1, index)
            count_a = np.bincount(index_a[index_a >= 0], minlength=n)
            count_b = np.bincount(index_b[index_b >= 0], minlength=n)
            both = (count_a > 0) & (count_b > 0)
            mean_a = _group_sum(chunk, index_a, n)[both] / count_a[both, None, None]
            mean_b = _group_sum(chunk, index_b, n)[both] / count_b[both, None, None]
            r = pearson(mean_a, mean_b, axis=0)  # over stimuli, per (neuroid, bin)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[split, :, bins] = 2 * r / (1 + r)
    return out


def _stimulus_index(assembly: xr.DataArray, stimulus_ids, path) -> np.ndarray:
    """Position of each presentation's stimulus in ``stimulus_ids`` (-1 if not listed)."""
    lookup = pd.Index(np.asarray(stimulus_ids).astype(str))
    if not lookup.is_unique:
        raise AssemblyFormatError(f"{path}: stimulus ids to average over are not unique")
    return lookup.get_indexer(np.asarray(assembly["stimulus_id"].values).astype(str))


def _time_chunks(assembly: xr.DataArray) -> Iterator[tuple[slice, np.ndarray]]:
    n_bins = assembly.sizes["time_bin"]
    for start in range(0, n_bins, _BINS_PER_CHUNK):
        bins = slice(start, min(start + _BINS_PER_CHUNK, n_bins))
        yield bins, np.asarray(assembly.isel(time_bin=bins).values, dtype=np.float64)


def _group_sum(values: np.ndarray, index: np.ndarray, n: int) -> np.ndarray:
    """Sum of ``values[p]`` over presentations ``p`` per group ``index[p]`` (< 0 ignored).

    A sparse (groups x presentations) indicator times the values: fast for the ~150k
    presentations of a real assembly, where ``np.add.at`` would take minutes.
    """
    from scipy import sparse

    keep = np.flatnonzero(index >= 0)
    indicator = sparse.csr_matrix((np.ones(len(keep)), (index[keep], keep)), shape=(n, len(index)))
    flat = values.reshape(len(index), -1)
    return np.asarray(indicator @ flat).reshape(n, *values.shape[1:])


# --- StimulusSet -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StimulusSet:
    """Stimulus metadata (one row per stimulus, in file order) and the grey-scale images."""

    metadata: pd.DataFrame
    images: np.ndarray  # (n_stimuli, height, width) uint8

    @property
    def stimulus_ids(self) -> np.ndarray:
        return self.metadata["stimulus_id"].to_numpy().astype(str)


def write_stimulus_set(
    images: np.ndarray,
    metadata: pd.DataFrame,
    csv_path: str | os.PathLike,
    zip_path: str | os.PathLike,
) -> None:
    """Write the csv and a zip of PNGs named ``<stimulus_id>.png`` (column ``filename``).

    Byte-identical for identical input: fixed member timestamps, PNGs without metadata.
    """
    from PIL import Image

    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 3 or len(images) != len(metadata):
        raise ValueError(
            f"images must be uint8 (n, height, width) with one row of metadata each; got "
            f"{images.dtype} {images.shape} for {len(metadata)} rows"
        )
    table = metadata.copy()
    table["filename"] = [f"{stimulus_id}.png" for stimulus_id in table["stimulus_id"]]
    missing = [column for column in REQUIRED_COLUMNS if column not in table]
    if missing:
        raise AssemblyFormatError(f"{csv_path}: stimulus metadata lacks column(s) {missing}")
    with atomic_path(zip_path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
        for image, name in zip(images, table["filename"], strict=True):
            buffer = io.BytesIO()
            Image.fromarray(image, mode="L").save(buffer, format="PNG")
            archive.writestr(zipfile.ZipInfo(name, date_time=_ZIP_DATE), buffer.getvalue())
    with atomic_path(csv_path) as tmp:
        table.to_csv(tmp, index=False)


def read_stimulus_metadata(
    csv_path: str | os.PathLike, stratify_by: str = "object_name"
) -> pd.DataFrame:
    """The stimulus table of a StimulusSet csv, validated (unique ``stimulus_id``, required columns,
    the stratification column ``stratify_by``), with the protocol's labels (module docstring)."""
    return stimulus_labels(_read_stimulus_table(csv_path), stratify_by, csv_path)


def _read_stimulus_table(csv_path: str | os.PathLike) -> pd.DataFrame:
    """The csv as it is, checked for the columns every StimulusSet has (no labels added)."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise AssemblyFormatError(f"{csv_path}: no such StimulusSet csv")
    try:
        table = pd.read_csv(csv_path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
        raise AssemblyFormatError(f"{csv_path}: not a readable csv ({error})") from error
    for legacy, name in LEGACY_NAMES.items():
        if name not in table and legacy in table:
            table = table.rename(columns={legacy: name})
    missing = [column for column in REQUIRED_COLUMNS if column not in table]
    if missing:
        raise AssemblyFormatError(f"{csv_path}: StimulusSet csv lacks column(s) {missing}")
    table["stimulus_id"] = table["stimulus_id"].astype(str)
    if not table["stimulus_id"].is_unique:
        raise AssemblyFormatError(f"{csv_path}: column 'stimulus_id' has repeated values")
    return table


def stimulus_labels(
    table: pd.DataFrame, stratify_by: str, path: str | os.PathLike = "<memory>"
) -> pd.DataFrame:
    """``table`` with ``object_name`` = the ``stratify_by`` labels and a ``category_name``.

    A missing column fails in one line naming the file and the key (and the columns it has).
    """
    if stratify_by not in table:
        raise AssemblyFormatError(
            f"{path}: no stratification column {stratify_by!r} (the stratify_by key of the IT "
            f"data's config); its columns are {sorted(map(str, table.columns))}"
        )
    table = table.copy()
    if stratify_by != "object_name":
        if "object_name" in table:
            table = table.rename(columns={"object_name": "csv_object_name"})
        table["object_name"] = table[stratify_by]
    if "category_name" not in table:
        table["category_name"] = table["object_name"]
    for column in LABEL_COLUMNS:
        table[column] = table[column].astype(str)
    return table


def read_stimulus_set(
    csv_path: str | os.PathLike,
    zip_path: str | os.PathLike,
    size: int | None = None,
    stratify_by: str = "object_name",
) -> StimulusSet:
    """Metadata (:func:`read_stimulus_metadata`) and images (grey-scale uint8, resized to
    ``size`` x ``size`` if given)."""
    from PIL import Image, UnidentifiedImageError

    table = read_stimulus_metadata(csv_path, stratify_by)
    zip_path = Path(zip_path)
    if not zipfile.is_zipfile(zip_path):
        raise AssemblyFormatError(f"{zip_path}: not a zip archive of stimuli")
    images = []
    with zipfile.ZipFile(zip_path) as archive:
        members = set(archive.namelist())
        absent = [name for name in table["filename"] if name not in members]
        if absent:
            raise AssemblyFormatError(
                f"{zip_path}: {len(absent)} file(s) named in {Path(csv_path).name} are missing, "
                f"e.g. {absent[:3]}"
            )
        for name in table["filename"]:
            try:
                image = Image.open(io.BytesIO(archive.read(name))).convert("L")
            except (UnidentifiedImageError, OSError) as error:
                raise AssemblyFormatError(f"{zip_path}: member {name!r} is not an image") from error
            if size is not None and image.size != (size, size):
                image = image.resize((size, size), Image.Resampling.BOX)
            images.append(np.asarray(image, dtype=np.uint8))
    shapes = {image.shape for image in images}
    if len(shapes) > 1:
        raise AssemblyFormatError(f"{zip_path}: images differ in size {sorted(shapes)}; pass size=")
    return StimulusSet(metadata=table, images=np.stack(images))


def region_validator(region: str):
    """A check that an assembly file holds neuroids of ``region`` (its coordinates only, lazily),
    raising :class:`AssemblyFormatError` naming the file and the regions it has."""

    def check(path):
        with open_assembly(path) as assembly:
            regions = sorted({str(name) for name in assembly["region"].values})
        if region not in regions:
            raise AssemblyFormatError(
                f"{path}: no neuroids of region {region!r}; its regions are {regions}"
            )

    return check


def validator(kind: str):
    """A check for one file of an experiment (``assembly``, ``temporal_assembly``, ``stimuli_csv``,
    ``stimuli_zip``), raising :class:`AssemblyFormatError` naming the file; for acquisition."""

    def check_assembly(path):
        with open_assembly(path):
            pass

    def check_zip(path):
        if not zipfile.is_zipfile(path):
            raise AssemblyFormatError(f"{path}: not a zip archive of stimuli")

    checks = {
        "assembly": check_assembly,
        "temporal_assembly": check_assembly,
        "stimuli_csv": _read_stimulus_table,  # the stratify_by key is checked with the config
        "stimuli_zip": check_zip,
    }
    if kind not in checks:
        raise ValueError(f"unknown IT file kind {kind!r}; one of {sorted(checks)}")
    return checks[kind]
