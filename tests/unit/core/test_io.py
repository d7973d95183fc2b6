"""Atomic writers: permissions from the umask; readers: one line naming an unreadable file."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
import xarray as xr

from insilico.core.io import UnreadableFileError, read_netcdf, write_json, write_netcdf


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
    assert str(path) in message and "delete it and rerun" in message
    assert "\n" not in message


def test_a_missing_file_is_still_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_netcdf(tmp_path / "absent.nc")
