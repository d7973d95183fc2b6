"""One downloader you can trust: resumed transfers, retries of transient failures, checksums.

A file appears under its final name only when it is complete and verified (see also
:mod:`insilico.acquire.archives`, :mod:`insilico.acquire.local` and
:mod:`insilico.acquire.provenance`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from pathlib import Path

import requests

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


class _TransientError(Exception):
    """A failure worth retrying (server hiccup, truncated body, inconsistent range answer)."""


def file_digest(path: str | os.PathLike, algorithm: str, chunk_size: int = HASH_CHUNK_SIZE) -> str:
    """Hex digest of a file, read in chunks so multi-GB recordings never sit in memory."""
    hasher = hashlib.new(check_algorithm(algorithm))
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            hasher.update(chunk)
    return hasher.hexdigest()


def check_algorithm(algorithm: str) -> str:
    if algorithm not in ALGORITHMS:
        raise ValueError(
            f"unsupported checksum algorithm {algorithm!r}; use one of {sorted(ALGORITHMS)}"
        )
    return algorithm


def _normalise_checksum(checksum: str, algorithm: str, url: str) -> str:
    """Catch config typos (wrong algorithm, truncated digest) before any byte is transferred."""
    digest = (checksum or "").strip().lower()
    length = ALGORITHMS[check_algorithm(algorithm)]
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
