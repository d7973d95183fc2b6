"""Safe extraction of zip and tar archives: no member lands outside the extraction folder."""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from insilico.acquire.download import HASH_CHUNK_SIZE
from insilico.core.io import atomic_path


class UnsafeArchiveError(ValueError):
    """An archive member would land outside the extraction folder."""


def _member_error(archive: Path, name: str, why: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(f"refusing archive member {name!r} of {archive}: {why}")


def _safe_relative(archive: Path, name: str) -> str:
    """Normalised relative path of a member, or an error if it is absolute or climbs out."""
    unified = name.replace("\\", "/")
    if unified.startswith("/") or re.match(r"^[A-Za-z]:", unified):
        raise _member_error(archive, name, "absolute path")
    parts = [p for p in unified.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _member_error(archive, name, "'..' in the path")
    if not parts:
        raise _member_error(archive, name, "empty path")
    return "/".join(parts)


def _link_target(archive: Path, name: str, linkname: str, *, relative_to_member: bool) -> str:
    """Archive-internal path a link points to; refuses links that leave the archive tree."""
    if linkname.startswith("/") or re.match(r"^[A-Za-z]:", linkname):
        raise _member_error(archive, name, f"link to absolute path {linkname!r}")
    base = posixpath.dirname(name) if relative_to_member else ""
    target = posixpath.normpath(posixpath.join(base, linkname.replace("\\", "/")))
    if target == ".." or target.startswith("../"):
        raise _member_error(archive, name, f"link {linkname!r} escapes the destination")
    return target


class _Entry:
    """One member to extract: where it goes and how to read its bytes (None for a directory)."""

    def __init__(self, name: str, relative: str, opener):
        self.name, self.relative, self.opener = name, relative, opener


def _zip_entries(archive: Path, zf: zipfile.ZipFile) -> Iterator[_Entry]:
    for info in zf.infolist():
        relative = _safe_relative(archive, info.filename)
        mode = info.external_attr >> 16
        if info.is_dir():
            yield _Entry(info.filename, relative, None)
        elif stat.S_ISLNK(mode):
            # Links are materialised as copies of the member they point to: no link ever reaches
            # the disk, so nothing written later can be redirected through one.
            target = _link_target(
                archive, info.filename, zf.read(info).decode(), relative_to_member=True
            )
            try:
                target_info = zf.getinfo(target)
            except KeyError:
                raise _member_error(
                    archive, info.filename, f"link target {target!r} is not a file in the archive"
                ) from None
            yield _Entry(info.filename, relative, lambda t=target_info: zf.open(t))
        else:
            yield _Entry(info.filename, relative, lambda i=info: zf.open(i))


def _tar_entries(archive: Path, tf: tarfile.TarFile) -> Iterator[_Entry]:
    files = {posixpath.normpath(m.name): m for m in tf.getmembers() if m.isfile()}
    for member in tf.getmembers():
        relative = _safe_relative(archive, member.name)
        if member.isdir():
            yield _Entry(member.name, relative, None)
        elif member.issym() or member.islnk():
            target = _link_target(
                archive, member.name, member.linkname, relative_to_member=member.issym()
            )
            if target not in files:
                raise _member_error(
                    archive, member.name, f"link target {target!r} is not a file in the archive"
                )
            yield _Entry(member.name, relative, lambda m=files[target]: tf.extractfile(m))
        elif member.isfile():
            yield _Entry(member.name, relative, lambda m=member: tf.extractfile(m))
        else:
            raise _member_error(archive, member.name, "device, fifo or other special file")


def extract_members(
    archive: str | os.PathLike, dest_dir: str | os.PathLike, members: list[str] | None = None
) -> list[Path]:
    """Extract ``members`` (all when None) of a zip or tar(.gz/.bz2/.xz) into ``dest_dir``.

    Every selected member is checked before anything is written: absolute paths, ``..`` and links
    leaving the archive tree are refused with an error naming the member. Links inside the tree
    become plain copies. Each file is written atomically. Returns the extracted file paths.
    """
    archive, dest_dir = Path(archive), Path(dest_dir)
    if not archive.is_file():
        raise FileNotFoundError(f"archive {archive} does not exist")
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            return _extract(archive, dest_dir, list(_zip_entries(archive, zf)), members)
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive, "r:*") as tf:
            return _extract(archive, dest_dir, list(_tar_entries(archive, tf)), members)
    raise ValueError(f"{archive} is neither a zip nor a tar archive")


def _extract(
    archive: Path, dest_dir: Path, entries: list[_Entry], members: list[str] | None
) -> list[Path]:
    if members is not None:
        by_name = {e.name: e for e in entries} | {e.relative: e for e in entries}
        missing = [m for m in members if m not in by_name]
        if missing:
            raise KeyError(f"{archive} has no member(s) {missing}")
        entries = [by_name[m] for m in members]
    root = dest_dir.resolve()
    written = []
    for entry in entries:
        target = dest_dir / entry.relative
        if entry.opener is None:
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        # Guards against a folder inside dest_dir that is a pre-existing symlink to elsewhere.
        if not target.parent.resolve().is_relative_to(root):
            raise _member_error(archive, entry.name, f"{target.parent} leads outside {dest_dir}")
        with entry.opener() as src, atomic_path(target) as tmp, open(tmp, "wb") as out:
            shutil.copyfileobj(src, out, HASH_CHUNK_SIZE)
        written.append(target)
    return written
