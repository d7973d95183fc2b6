"""Atomic writers: permissions from the umask, one line naming an output that cannot be written
(nothing computed before lost); readers: one line naming an unreadable file."""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from insilico.core.io import (
    OutputWriteError,
    UnreadableFileError,
    atomic_path,
    read_netcdf,
    write_json,
    write_netcdf,
)


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it."""
    previous = os.umask(0o077)
    yield os.umask
    os.umask(previous)


@pytest.mark.parametrize(
    ("mask", "file_mode", "dir_mode"), [(0o002, 0o664, 0o775), (0o022, 0o644, 0o755)]
)
def test_outputs_get_the_permissions_of_the_umask(tmp_path, umask, mask, file_mode, dir_mode):
    umask(mask)
    path = tmp_path / "new" / "folder" / "table.json"
    write_json({"a": 1}, path)
    assert stat.S_IMODE(path.stat().st_mode) == file_mode
    assert stat.S_IMODE(path.parent.stat().st_mode) == dir_mode
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == dir_mode


def test_a_truncated_netcdf_gets_one_line_naming_it(tmp_path):
    path = tmp_path / "evaluation.nc"
    write_netcdf(xr.Dataset({"r": ("cell", np.arange(1000.0))}), path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(UnreadableFileError) as error:
        read_netcdf(path)
    message = str(error.value)
    assert str(path) in message and f"`snakemake --forcerun {path}`" in message
    assert "\n" not in message


def test_a_missing_file_is_still_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_netcdf(tmp_path / "absent.nc")


def _fail(error: BaseException):
    def fail(*args, **kwargs):
        raise error

    return fail


def _no_temporaries(folder) -> bool:
    return not [path for path in folder.iterdir() if path.name.endswith(".part")]


def test_a_full_disk_names_the_output_and_keeps_its_previous_version(tmp_path, monkeypatch):
    path = tmp_path / "summary.json"
    write_json({"epoch": 1}, path)
    full = OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(Path, "write_text", _fail(full))
    with pytest.raises(OutputWriteError) as error:
        write_json({"epoch": 2}, path)
    message = str(error.value)
    assert message.startswith(f"cannot write {path}: the disk is full") and "\n" not in message
    assert error.value.errno == errno.ENOSPC and error.value.path == path
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"epoch": 1}
    assert _no_temporaries(tmp_path)


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.EROFS, "the file system is read-only"), (errno.EACCES, "no permission to write")],
)
def test_a_folder_that_cannot_be_written_names_the_output(tmp_path, monkeypatch, code, reason):
    path = tmp_path / "results" / "table.json"
    monkeypatch.setattr(
        tempfile, "mkstemp", _fail(OSError(code, os.strerror(code), str(path.parent / ".x")))
    )
    with pytest.raises(OutputWriteError, match=rf"^cannot write {path}: {reason}"):
        write_json({}, path)


def test_a_folder_that_cannot_be_created_names_the_output(tmp_path, monkeypatch):
    path = tmp_path / "results" / "new" / "table.json"
    denied = PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "results"))
    monkeypatch.setattr(Path, "mkdir", _fail(denied))
    with pytest.raises(OutputWriteError, match=rf"^cannot write {path}: no permission"):
        write_json({}, path)


def test_a_library_error_on_a_full_disk_is_recognised(tmp_path, monkeypatch):
    """torch reports a full disk as RuntimeError("... file write failed"), without errno."""
    full = os.statvfs(tmp_path)
    values = list(full)
    values[4] = 0  # f_bavail: no block left for the user
    monkeypatch.setattr(os, "statvfs", lambda folder: os.statvfs_result(values))
    with (
        pytest.raises(OutputWriteError, match="the disk is full"),
        atomic_path(tmp_path / "model.pt"),
    ):
        raise RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed")
    assert _no_temporaries(tmp_path)


@pytest.mark.parametrize(
    "error",
    [
        PermissionError(errno.EACCES, "Permission denied", "/elsewhere/input.h5"),
        RuntimeError("a bug, not the disk"),
        ValueError("not a write failure"),
    ],
    ids=["an-input", "runtime", "value"],
)
def test_other_errors_inside_a_write_are_not_blamed_on_the_output(tmp_path, error):
    with pytest.raises(type(error)) as raised, atomic_path(tmp_path / "out.json"):
        raise error
    assert raised.value is error
    assert _no_temporaries(tmp_path)
