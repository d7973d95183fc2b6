"""Data acquisition you can trust: one downloader, safe archive extraction, local links, provenance.

Every rule that fetches, unpacks or links raw data goes through this module so that a file under
its final name under ``resources/`` is always complete and verified, and carries a provenance
record saying where it came from.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import logging
import os
import posixpath
import re
import shutil
import stat
import tarfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from insilico import __version__
from insilico.io import atomic_path, write_json

logger = logging.getLogger(__name__)

ALGORITHMS = {"md5": 32, "sha1": 40, "sha256": 64}  # algorithm -> length of its hex digest
SOURCES = ("simulated", "remote", "local")
# A dropped connection loses the chunk being read, so chunks stay small; hashing reads bigger ones.
CHUNK_SIZE = 1 << 16
HASH_CHUNK_SIZE = 1 << 20
# 408 and 429 are client errors that go away by themselves; every other 4xx is final.
TRANSIENT_CLIENT_STATUSES = {408, 429}
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class DownloadError(RuntimeError):
    """A download that cannot succeed (4xx) or that ran out of retries; the message names the URL."""


class ChecksumMismatchError(DownloadError):
    """The transferred bytes are not the file the config asked for."""

    def __init__(self, url: str, algorithm: str, expected: str, actual: str):
        super().__init__(
            f"checksum mismatch for {url}: expected {algorithm} {expected}, got {actual}; "
            "the partial file was deleted"
        )
        self.url, self.algorithm, self.expected, self.actual = url, algorithm, expected, actual


class UnsafeArchiveError(ValueError):
    """An archive member would land outside the extraction folder."""


class _TransientError(Exception):
    """A failure worth retrying (server hiccup, truncated body, inconsistent range answer)."""


def file_digest(path: str | os.PathLike, algorithm: str, chunk_size: int = HASH_CHUNK_SIZE) -> str:
    """Hex digest of a file, read in chunks so multi-GB recordings never sit in memory."""
    hasher = hashlib.new(_check_algorithm(algorithm))
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            hasher.update(chunk)
    return hasher.hexdigest()


def _check_algorithm(algorithm: str) -> str:
    if algorithm not in ALGORITHMS:
        raise ValueError(
            f"unsupported checksum algorithm {algorithm!r}; use one of {sorted(ALGORITHMS)}"
        )
    return algorithm


def _normalise_checksum(checksum: str, algorithm: str, url: str) -> str:
    """Catch config typos (wrong algorithm, truncated digest) before any byte is transferred."""
    digest = (checksum or "").strip().lower()
    length = ALGORITHMS[_check_algorithm(algorithm)]
    if not re.fullmatch(rf"[0-9a-f]{{{length}}}", digest):
        raise ValueError(
            f"checksum {checksum!r} for {url} is not a {algorithm} digest ({length} hex characters)"
        )
    return digest


def _human_bytes(n: float) -> str:
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    power = 0
    while n >= 1024 and power < len(units) - 1:
        n /= 1024
        power += 1
    return f"{int(n)} B" if power == 0 else f"{n:.1f} {units[power]}"


class _Progress:
    """Logs bytes, percentage and rate at most every ``interval`` seconds, and once at the end."""

    def __init__(self, url: str, offset: int, total: int | None, interval: float, log):
        self.url, self.done, self.total, self.interval, self.log = url, offset, total, interval, log
        self.start_bytes = offset
        self.start = self.last = time.monotonic()

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            self._report(now)

    def finish(self) -> None:
        self._report(time.monotonic())

    def _report(self, now: float) -> None:
        rate = (self.done - self.start_bytes) / max(now - self.start, 1e-9)
        if self.total:
            amount = f"{_human_bytes(self.done)} / {_human_bytes(self.total)} ({100 * self.done / self.total:.1f}%)"
        else:
            amount = f"{_human_bytes(self.done)} (size unknown)"
        self.log.info("%s: %s at %s/s", self.url, amount, _human_bytes(rate))


def download(
    url: str,
    dest: str | os.PathLike,
    *,
    checksum: str,
    algorithm: str,
    retries: int = 5,
    backoff: float = 2.0,
    max_backoff: float = 120.0,
    timeout: float = 60.0,
    progress_interval: float = 10.0,
    log: logging.Logger = logger,
) -> Path:
    """Fetch ``url`` to ``dest`` and return ``dest``; the file appears only once its checksum matches.

    Bytes go to ``<dest>.part`` in the same folder, which survives failures so that the next attempt
    (or the next run) resumes with an HTTP Range request; a server that answers 200 instead of 206
    makes us start again from zero. Connection errors, timeouts, truncated bodies, 5xx, 408 and 429
    are retried ``retries`` times, waiting ``backoff * 2**k`` seconds (at most ``max_backoff``);
    any other 4xx fails at once. A checksum mismatch deletes the partial file and raises
    :class:`ChecksumMismatchError`. If ``dest`` already holds the right bytes nothing is fetched.
    """
    dest = Path(dest)
    expected = _normalise_checksum(checksum, algorithm, url)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")

    if dest.exists():
        actual = file_digest(dest, algorithm)
        if actual == expected:
            log.info("%s already present with the expected %s, not downloading", dest, algorithm)
            return dest
        log.warning(
            "%s exists with %s %s instead of %s; fetching it again",
            dest,
            algorithm,
            actual,
            expected,
        )
        dest.unlink()

    with requests.Session() as session:
        for attempt in range(retries + 1):
            try:
                _fetch_once(session, url, part, timeout, progress_interval, log)
                break
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
                _TransientError,
            ) as exc:
                if attempt == retries:
                    raise DownloadError(
                        f"giving up on {url} after {retries + 1} attempts; last error: {exc}. "
                        f"{part.name} is kept so that the next run resumes"
                    ) from exc
                delay = min(backoff * 2**attempt, max_backoff)
                log.warning(
                    "%s: attempt %d/%d failed (%s); retrying in %.3g s",
                    url,
                    attempt + 1,
                    retries + 1,
                    exc,
                    delay,
                )
                time.sleep(delay)

    actual = file_digest(part, algorithm)
    if actual != expected:
        part.unlink(missing_ok=True)
        raise ChecksumMismatchError(url, algorithm, expected, actual)
    os.replace(part, dest)
    log.info("%s -> %s verified (%s %s)", url, dest, algorithm, actual)
    return dest


def _fetch_once(
    session: requests.Session, url: str, part: Path, timeout: float, progress_interval: float, log
) -> None:
    """One HTTP request that appends to (206) or rewrites (200) ``part``; raises on any failure."""
    offset = part.stat().st_size if part.exists() else 0
    # identity: byte offsets of a Range request must refer to the bytes we store, not a gzip stream.
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    with session.get(url, headers=headers, stream=True, timeout=timeout) as response:
        status = response.status_code
        if status == 416 and offset:
            # The part may already be complete (interrupted before the rename); the checksum decides.
            total = _total_from_unsatisfied_range(response.headers.get("Content-Range"))
            if total == offset:
                log.info("%s: %s is already complete (%d bytes)", url, part.name, offset)
                return
            part.unlink()
            raise _TransientError(
                f"HTTP 416 for a resume at byte {offset} (size {total}); starting again from zero"
            )
        if status >= 500 or status in TRANSIENT_CLIENT_STATUSES:
            raise _TransientError(f"HTTP {status} {response.reason} from {url}")
        if status >= 400:
            raise DownloadError(f"cannot download {url}: HTTP {status} {response.reason}")
        if status == 206:
            match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
            if not match or int(match.group(1)) != offset:
                part.unlink()
                raise _TransientError(
                    f"{url} answered a range request for byte {offset} with Content-Range "
                    f"{response.headers.get('Content-Range')!r}; starting again from zero"
                )
            total = None if match.group(3) == "*" else int(match.group(3))
            mode = "ab"
            log.info("%s: resuming at byte %d", url, offset)
        elif status == 200:
            if offset:
                log.info(
                    "%s: server does not resume (HTTP 200 to a Range request); starting from zero",
                    url,
                )
            offset, mode = 0, "wb"
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        else:
            raise DownloadError(
                f"cannot download {url}: unexpected HTTP {status} {response.reason}"
            )

        progress = _Progress(url, offset, total, progress_interval, log)
        with open(part, mode) as fh:
            for chunk in response.iter_content(chunk_size=CHUNK_SIZE):
                fh.write(chunk)
                progress.update(len(chunk))
            fh.flush()
            os.fsync(fh.fileno())
        progress.finish()
        if total is not None and progress.done != total:
            raise _TransientError(f"body of {url} ended at byte {progress.done} of {total}")


def _total_from_unsatisfied_range(header: str | None) -> int | None:
    match = re.fullmatch(r"bytes \*/(\d+)", (header or "").strip())
    return int(match.group(1)) if match else None


# --- archives -------------------------------------------------------------------------------


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


# --- local data -----------------------------------------------------------------------------


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


# --- provenance -----------------------------------------------------------------------------


def provenance_path(data_path: str | os.PathLike) -> Path:
    """Where the provenance record of ``data_path`` lives: ``<data_path>.provenance.json``."""
    data_path = Path(data_path)
    return data_path.with_name(data_path.name + ".provenance.json")


def write_provenance(
    data_path: str | os.PathLike,
    *,
    source: str,
    url_or_path: str | None,
    checksum: dict | None,
    extra: dict,
) -> Path:
    """Record where ``data_path`` came from, next to it, and return the record's path.

    ``checksum`` is the configured ``{"algorithm": ..., "digest": ...}`` (or None); the digests in
    the record are computed from the file itself (sha256 always, plus the configured algorithm),
    and a file that does not match the configured digest is refused rather than documented.
    """
    data_path = Path(data_path)
    if source not in SOURCES:
        raise ValueError(f"provenance source must be one of {SOURCES}, got {source!r}")
    if not data_path.is_file():
        raise FileNotFoundError(f"cannot record provenance of {data_path}: no such file")
    algorithms = {"sha256"}
    expected = None
    if checksum is not None:
        if set(checksum) != {"algorithm", "digest"}:
            raise ValueError(
                f"checksum for {data_path} must be {{'algorithm': ..., 'digest': ...}}, got {checksum!r}"
            )
        algorithm = _check_algorithm(checksum["algorithm"])
        expected = {"algorithm": algorithm, "digest": str(checksum["digest"]).strip().lower()}
        algorithms.add(algorithm)
    digests = {alg: file_digest(data_path, alg) for alg in sorted(algorithms)}
    if expected and digests[expected["algorithm"]] != expected["digest"]:
        raise ChecksumMismatchError(
            str(url_or_path or data_path),
            expected["algorithm"],
            expected["digest"],
            digests[expected["algorithm"]],
        )
    record: dict[str, Any] = {
        "file": data_path.name,
        "source": source,
        "url": url_or_path if source == "remote" else None,
        "path": url_or_path if source != "remote" else None,
        "expected_checksum": expected,
        "checksums": digests,
        "size_bytes": data_path.stat().st_size,
        "acquired_utc": dt.datetime.now(dt.UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z"),
        "insilico_version": __version__,
        "extra": extra,
    }
    out = provenance_path(data_path)
    write_json(record, out)
    return out


def read_provenance(data_path: str | os.PathLike) -> dict[str, Any]:
    """The provenance record written by :func:`write_provenance` for ``data_path``."""
    path = provenance_path(data_path)
    if not path.is_file():
        raise FileNotFoundError(f"no provenance record {path} for {data_path}")
    return json.loads(path.read_text())
