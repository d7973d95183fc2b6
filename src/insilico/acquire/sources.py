"""Bring a data file into ``resources/`` from any source: downloaded or local, validated, with provenance.

Simulated, downloaded and local data end up as the same files with the same sidecar, so every later
rule is indifferent to where the data came from.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from pathlib import Path

from insilico.acquire.download import download
from insilico.acquire.local import link_or_copy
from insilico.acquire.provenance import write_provenance

CHECKSUM_ALGORITHMS = ("md5", "sha1", "sha256")


def parse_checksum(spec: str, key: str) -> tuple[str, str]:
    """Split ``'sha256:<hex>'`` into (algorithm, digest); ``key`` names the config entry in errors."""
    algorithm, _, digest = spec.partition(":")
    if algorithm not in CHECKSUM_ALGORITHMS or not digest:
        raise ValueError(
            f"checksum of {key!r} must look like '<{'|'.join(CHECKSUM_ALGORITHMS)}>:<hex>', got {spec!r}"
        )
    return algorithm, digest.lower()


def validator(module: str, kind: str) -> Callable[[Path], object]:
    """The check of a file of ``kind`` before it enters ``resources/``: ``validator(kind)`` of the
    branch's reader ``module`` (``insilico.retina.recording``, ``insilico.it.assembly``).

    Loaded by name, so that acquiring a retina recording never loads the IT code and back; the
    rule declares the module as code (``code(script, module)``), so only its own branch's reader
    reruns its acquisition.
    """
    return importlib.import_module(module).validator(kind)


def acquire_remote(
    url: str,
    dest: str | Path,
    checksum: str,
    *,
    validate: Callable[[Path], object],
    retries: int,
    timeout: float,
    log: logging.Logger,
) -> Path:
    """Download ``url`` to ``dest`` (resumable, checksum-verified), check its layout, record provenance."""
    algorithm, digest = parse_checksum(checksum, url)
    path = download(
        url, dest, checksum=digest, algorithm=algorithm, retries=retries, timeout=timeout, log=log
    )
    validate(path)
    write_provenance(
        path,
        source="remote",
        url_or_path=url,
        checksum={"algorithm": algorithm, "digest": digest},
        extra={},
    )
    return path


def acquire_local(
    source: str | Path, dest: str | Path, *, validate: Callable[[Path], object], log: logging.Logger
) -> Path:
    """Check the user's file with the same reader as every other source, then link it into place."""
    source = Path(source)
    validate(source)
    path = link_or_copy(source, dest)
    log.info("linked %s -> %s", source, path)
    write_provenance(
        path, source="local", url_or_path=str(source.resolve()), checksum=None, extra={}
    )
    return path
