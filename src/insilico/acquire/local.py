"""Local data: the user's own file brought into ``resources/`` without ever writing to it."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from insilico.core.io import atomic_path


def link_or_copy(src: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Make ``dest`` hold the bytes of the user's ``src`` without ever writing to ``src``.

    A hardlink costs nothing on the same filesystem; elsewhere (or where links are not allowed)
    the file is copied to a temporary sibling and renamed. Pipeline writers replace files by
    rename, so they never write through the shared inode into the user's file.
    """
    src, dest = Path(src), Path(dest)
    if not src.exists():
        raise FileNotFoundError(
            f"local data file {src} does not exist (check data.local in the config)"
        )
    if not src.is_file():
        raise ValueError(f"local data path {src} is not a regular file")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() and os.path.samefile(src, dest):
        return dest
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.link")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES):
            raise
        with atomic_path(dest) as tmp_copy:
            shutil.copyfile(src, tmp_copy)
    return dest


class LocalDataError(ValueError):
    """A local data file that the run cannot use; one line naming the config key and the file."""


def check_local_files(checks: Iterable[tuple[str, str | os.PathLike, Callable]]) -> None:
    """Run each (config key, file, check) before any job, the check being its branch's reader (on
    metadata where files may be large): a fault then stops the run in one line naming the key
    and the file, before a job has run or an output of an earlier run has been removed."""
    for key, path, check in checks:
        try:
            check(Path(path))
        except (OSError, ValueError) as error:
            raise LocalDataError(f"config key {key!r}: {error}") from None
