"""Atomic writers for every file the pipeline produces, and the readers of the shared formats.

A job that dies half-way must never leave a file under its final name that looks complete, so
every writer goes through :func:`atomic_path`: write to a temporary sibling, then rename. Files get
the permissions the user's umask gives (on a shared project space, group members must be able to
read the results). A file that cannot be read all the same (cut short by a full disk, a copy
interrupted) raises :class:`UnreadableFileError`, and an output that cannot be written (disk full,
no permission, read-only file system) :class:`OutputWriteError`: one line naming the file and
what to do, which :func:`insilico.core.logs.job_logger` prints without a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shlex
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def rebuild_advice(path: str | os.PathLike) -> str:
    """The command that rebuilds ``path`` and everything made from it. Deleting the file is not
    enough: Snakemake does not remake a missing intermediate whose downstream files exist."""
    return (
        f"rebuild it and what is made from it with `snakemake --forcerun {shlex.quote(str(path))}` "
        "(plus this run's options, e.g. --configfile)"
    )


class DataFileError(ValueError):
    """A data file (the user's, or its copy in resources/) that cannot be used as it is; the
    message names the file and the fault, so a job prints it alone (each reader subclasses it)."""


class UnreadableFileError(OSError):
    """An intermediate file exists but cannot be read (truncated or corrupt)."""

    def __init__(self, path: str | os.PathLike, error: BaseException):
        super().__init__(
            f"{path} is unreadable ({type(error).__name__}: {error}); it is probably truncated: "
            + rebuild_advice(path)
        )
        self.path = Path(path)


# Why an output could not be written, by the errno of the failure.
WRITE_FAILURES = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EACCES: "no permission to write there",
    errno.EPERM: "no permission to write there",
    errno.EROFS: "the file system is read-only",
}


class OutputWriteError(OSError):
    """An output could not be written for a reason outside the pipeline (disk full, permissions).

    The write went to a temporary file, so the output's previous version, and every other file
    computed before, are intact; the message says so, and names the output and the cause.
    """

    def __init__(self, path: str | os.PathLike, code: int, error: BaseException):
        super().__init__(
            f"cannot write {path}: {WRITE_FAILURES[code]} ({type(error).__name__}: {error}); "
            "nothing computed before was lost: make room or fix the permissions and rerun"
        )
        self.errno = code
        self.path = Path(path)


def _write_failure(error: BaseException, folder: Path) -> int | None:
    """The errno of ``WRITE_FAILURES`` behind a failed write into ``folder``, if any.

    Libraries report a full disk in their own ways (torch: RuntimeError "file write failed",
    h5py: OSError without errno), so the folder's file system is asked when the error does not say.
    """
    code = getattr(error, "errno", None)
    if code in WRITE_FAILURES:
        return code
    try:
        fs = os.statvfs(folder)
    except OSError:
        return None
    if fs.f_flag & os.ST_RDONLY:
        return errno.EROFS
    if fs.f_bavail == 0:
        return errno.ENOSPC
    return None


def _umask() -> int:
    """The process's umask (reading it means setting it; it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds.

    A failure to write (disk full, no permission) becomes :class:`OutputWriteError` naming ``path``.
    """
    final = Path(path)
    tmp = None
    try:
        final.parent.mkdir(parents=True, exist_ok=True)  # mkdir applies the umask itself
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        yield tmp
        # mkstemp creates the file 0600 whatever the umask; a plain open() would give 0666 & ~umask.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, final)
    except (OSError, RuntimeError) as error:
        code = None if isinstance(error, OutputWriteError) else _write_failure(error, final.parent)
        if code is None or not _about(error, final):
            raise
        raise OutputWriteError(final, code, error) from error
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def _about(error: BaseException, final: Path) -> bool:
    """Whether ``error`` concerns the output's folder (not, say, an input read inside the block)."""
    name = getattr(error, "filename", None)
    return name is None or Path(name).parent == final.parent or Path(name) in final.parents


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
