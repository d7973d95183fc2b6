"""Atomic writers for every file the pipeline produces, and the readers of the shared formats.

A job that dies half-way must never leave a file under its final name that looks complete, so
every writer goes through :func:`atomic_path`: write to a temporary sibling, then rename. Files get
the permissions the user's umask gives (on a shared project space, group members must be able to
read the results). A file that cannot be read all the same (cut short by a full disk, a copy
interrupted) raises :class:`UnreadableFileError`, one line naming the file and what to do.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class UnreadableFileError(OSError):
    """An intermediate file exists but cannot be read (truncated or corrupt)."""

    def __init__(self, path: str | os.PathLike, error: BaseException):
        super().__init__(
            f"{path} is unreadable ({type(error).__name__}: {error}); it is probably truncated: "
            "delete it and rerun"
        )
        self.path = Path(path)


def _umask() -> int:
    """The process's umask (reading it means setting it; it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)  # mkdir applies the umask itself
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates the file 0600 whatever the umask; a plain open() would give 0666 & ~umask.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def write_netcdf(dataset, path: str | os.PathLike) -> None:
    """Write an xarray Dataset/DataArray as netCDF-4 (h5netcdf engine), atomically."""
    with atomic_path(path) as tmp:
        dataset.to_netcdf(tmp, engine="h5netcdf")


def read_netcdf(path: str | os.PathLike):
    """Open a netCDF file written by :func:`write_netcdf` fully into memory (no file handle kept)."""
    import xarray as xr

    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return ds.load()
    except FileNotFoundError:
        raise
    except Exception as error:  # h5py, h5netcdf and xarray raise many types for a damaged file
        raise UnreadableFileError(path, error) from error


def save_torch(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` atomically; ``obj`` must hold only tensors, containers and primitives.

    Saving through a file handle keeps the random temporary name out of the archive, so the same
    content always gives the same bytes.
    """
    import torch

    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        torch.save(obj, handle)


def load_torch(path: str | os.PathLike) -> Any:
    """Load a checkpoint written by :func:`save_torch` without unpickling arbitrary objects."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except (OSError, RuntimeError, EOFError) as error:  # not UnpicklingError: a refused object
        raise UnreadableFileError(path, error) from error


def write_json(obj: Any, path: str | os.PathLike) -> None:
    """Write JSON atomically, keys sorted so that identical content gives identical bytes."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def save_figure(fig, path: str | os.PathLike, dpi: int = 150) -> None:
    """Save a matplotlib figure atomically (format from the suffix of ``path``) and close it."""
    import matplotlib.pyplot as plt

    final = Path(path)
    with atomic_path(final) as tmp:
        fig.savefig(tmp, format=final.suffix.lstrip("."), dpi=dpi, bbox_inches="tight")
    plt.close(fig)
