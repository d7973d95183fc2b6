"""Bring a data file into ``resources/`` from any source: downloaded or local, validated, with provenance.

Simulated, downloaded and local data end up as the same files with the same sidecar, so every later
rule is indifferent to where the data came from.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from insilico.data.download import download, link_or_copy, read_provenance, write_provenance

CHECKSUM_ALGORITHMS = ("md5", "sha1", "sha256")


def parse_checksum(spec: str, key: str) -> tuple[str, str]:
    """Split ``'sha256:<hex>'`` into (algorithm, digest); ``key`` names the config entry in errors."""
    algorithm, _, digest = spec.partition(":")
    if algorithm not in CHECKSUM_ALGORITHMS or not digest:
        raise ValueError(
            f"checksum of {key!r} must look like '<{'|'.join(CHECKSUM_ALGORITHMS)}>:<hex>', got {spec!r}"
        )
    return algorithm, digest.lower()


def validator(kind: str) -> Callable[[Path], object]:
    """The reader that checks a file of ``kind`` before it enters ``resources/``: ``retina`` (a
    recording in the deep-retina layout) or a kind of IT file (see :func:`assembly.validator`).

    Imported on demand, so that acquiring a retina recording never loads the IT code and back.
    """
    if kind == "retina":
        from insilico.data.retina_h5 import read_recording

        return read_recording
    from insilico.data.assembly import validator as it_validator

    return it_validator(kind)


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


def provenance_table(data_paths: list[str | Path]) -> pd.DataFrame:
    """One row per acquired file: where it came from and the digest it had, for the report."""
    rows = []
    for path in data_paths:
        record = read_provenance(path)
        extra = record.get("extra", {})
        origin = record.get("url") or record.get("path")
        if record["source"] == "simulated":
            origin = (
                f"insilico simulator {extra.get('simulator_version')} (seed {extra.get('seed')})"
            )
        rows.append(
            {
                "file": str(path),
                "source": record["source"],
                "origin": origin,
                "sha256": record["checksums"]["sha256"],
                "verified_against_config": record.get("expected_checksum") is not None,
                "size_bytes": record["size_bytes"],
                "acquired_utc": record["acquired_utc"],
            }
        )
    return pd.DataFrame(rows)
